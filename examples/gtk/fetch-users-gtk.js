// fetch-users-gtk.js: the seed scenario in a GTK 4 window, in GJS.
//
// A GtkColumnView shows the group's tasks (Gather.Group:tasks, a list model
// of live Gather.Task objects): each cell is a property expression over its
// row's task, so the table follows the tasks with no code of ours. A
// progress bar is bound to the group's "fraction"; Cancel cancels the run.
//
// Six tasks run at once on the "sleep" plugin worker; "fetch user 3" and
// "slow report" outlive their timeouts. Given the URL of the examples' HTTP
// server (examples/http/users-server.c), two real fetches run beside them
// as async tasks with libsoup: user 1 answers in 2 s; user 3 takes 5 s and
// is cancelled at its 3 s timeout.
//
//   gjs -m examples/gtk/fetch-users-gtk.js [--screenshot FILE] [URL]
//
// With --screenshot, the window renders itself to FILE (PNG) once every
// task has an outcome, prints each row of the model and quits: the test
// suite runs it so under Xvfb.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import Graphene from 'gi://Graphene';
import Gtk from 'gi://Gtk?version=4.0';
import Soup from 'gi://Soup?version=3.0';
import Gather from 'gi://Gather?version=1';
import System from 'system';

Gio._promisify(Soup.Session.prototype, 'send_and_read_async', 'send_and_read_finish');

const TASKS = [
    // label, milliseconds, timeout
    ['fetch user 1', 600, 1200],
    ['fetch user 2', 300, 1200],
    ['fetch user 3', 3000, 1200],
    ['fetch user 4', 900, 1200],
    ['slow report', 5000, 800],
    ['quick ping', 100, 1200],
];

const KIND_TEXT = {
    [Gather.TaskKind.THREAD]: 'thread',
    [Gather.TaskKind.WORKER]: 'worker',
    [Gather.TaskKind.ASYNC]: 'async',
    [Gather.TaskKind.ISOLATED]: 'isolated',
};

const STATE_TEXT = {
    [Gather.TaskState.QUEUED]: 'queued',
    [Gather.TaskState.RUNNING]: 'running',
    [Gather.TaskState.WAITING]: 'waiting to retry',
    [Gather.TaskState.OK]: 'done',
    [Gather.TaskState.ERROR]: 'failed',
    [Gather.TaskState.TIMEOUT]: 'timed out',
    [Gather.TaskState.CANCELLED]: 'cancelled',
};

let screenshot = null, url = null;
for (let i = 0, args = System.programArgs; i < args.length; i++) {
    if (args[i] === '--screenshot' && i + 1 < args.length)
        screenshot = args[++i];
    else if (!args[i].startsWith('-') && url === null)
        url = args[i];
    else {
        printerr('usage: fetch-users-gtk.js [--screenshot FILE] [URL]');
        System.exit(2);
    }
}

Gtk.init();
const loop = new GLib.MainLoop(null, false);
const window = new Gtk.Window({title: 'gather: fetching users', default_width: 560});
window.connect('close-request', () => {
    loop.quit();
    return false;
});

// ---- The group ----

// Sleeping tasks block a thread each: one thread per task.
const group = new Gather.Group({pool: new Gather.Pool({max_threads: TASKS.length})});
const cancellable = new Gio.Cancellable();

for (const [label, ms, timeout] of TASKS) {
    const parameters = new GLib.Variant('a{sv}', {
        ms: new GLib.Variant('u', ms),
        value: new GLib.Variant('s', label),
    });
    group.add_worker_task('sleep', parameters, label, timeout);
}

if (url) {
    const session = new Soup.Session({max_conns_per_host: 8});
    for (const id of [1, 3]) {
        group.add_async_task(`GET /user/${id}`, 3000, async (completion, taskCancellable) => {
            try {
                const message = Soup.Message.new('GET', `${url}/user/${id}`);
                const bytes = await session.send_and_read_async(message, GLib.PRIORITY_DEFAULT, taskCancellable);
                if (message.get_status() !== Soup.Status.OK)
                    throw new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED, `HTTP ${message.get_status()}`);
                completion.return_value(new GLib.Variant('s', new TextDecoder().decode(bytes.toArray())));
            } catch (e) {
                completion.return_error(e);
            }
        });
    }
}

// ---- The window: a progress bar, a Cancel button, the table ----

const box = new Gtk.Box({
    orientation: Gtk.Orientation.VERTICAL, spacing: 12,
    margin_top: 12, margin_bottom: 12, margin_start: 12, margin_end: 12,
});
window.set_child(box);

const bar = new Gtk.Box({spacing: 12});
const progress = new Gtk.ProgressBar({show_text: true, hexpand: true, valign: Gtk.Align.CENTER});
const cancel = new Gtk.Button({label: 'Cancel'});
bar.append(progress);
bar.append(cancel);
box.append(bar);

group.bind_property('fraction', progress, 'fraction', GObject.BindingFlags.SYNC_CREATE);
cancel.connect('clicked', () => cancellable.cancel());

// Each cell: a label whose text is an expression over the row's task. The
// expressions watch the properties they read, so the cells follow the
// tasks as the group notifies them.
const item = Gtk.PropertyExpression.new(Gtk.ListItem, null, 'item');
const property = name => Gtk.PropertyExpression.new(Gather.Task, item, name);
const format = (fn, ...names) =>
    Gtk.ClosureExpression.new(GObject.TYPE_STRING, (_this, ...values) => fn(...values), names.map(property));

function column(title, expression, expand = false) {
    const factory = new Gtk.SignalListItemFactory();
    factory.connect('setup', (_factory, listItem) => {
        const label = new Gtk.Label({xalign: 0});
        listItem.child = label;
        expression.bind(label, 'label', listItem);
    });
    return new Gtk.ColumnViewColumn({title, factory, expand});
}

const view = new Gtk.ColumnView({model: new Gtk.NoSelection({model: group.tasks}), show_column_separators: true});
view.append_column(column('Task', property('label'), true));
view.append_column(column('Kind', format(kind => KIND_TEXT[kind] ?? 'other', 'kind')));
view.append_column(column('State', format(state => STATE_TEXT[state], 'state')));
view.append_column(column('Elapsed', format(us => (us / 1e6).toFixed(1) + ' s', 'elapsed')));
view.append_column(column('Result', format((result, error) => {
    if (result)
        return String(result.recursiveUnpack());
    return error ? error.message.replace(/^Task “[^”]*” /, '') : '';
}, 'result', 'error'), true));
box.append(view);

// ---- Run ----

function saveScreenshot() {
    const width = window.get_width(), height = window.get_height();
    const paintable = new Gtk.WidgetPaintable({widget: window});
    const snapshot = new Gtk.Snapshot();
    paintable.snapshot(snapshot, width, height);
    const texture = window.get_native().get_renderer().render_texture(
        snapshot.to_node(), new Graphene.Rect().init(0, 0, width, height));
    if (!texture.save_to_png(screenshot))
        throw new Error(`Could not save ${screenshot}`);
    print(`screenshot: ${screenshot} (${width}x${height})`);
}

group.run_async(cancellable, (_group, result) => {
    group.run_finish(result);
    window.title = 'gather: every task has an outcome';
    cancel.sensitive = false;

    // The rows, as the model has them now.
    const tasks = group.tasks;
    for (let i = 0; i < tasks.get_n_items(); i++) {
        const task = tasks.get_item(i);
        print(`${task.label} [${KIND_TEXT[task.kind]}]: ${STATE_TEXT[task.state]}`);
    }

    if (screenshot) {
        // Let the last updates draw, then take the picture.
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, 300, () => {
            try {
                saveScreenshot();
            } catch (e) {
                logError(e);
                System.exit(1);
            }
            loop.quit();
            return GLib.SOURCE_REMOVE;
        });
    }
});

window.present();
loop.run();
