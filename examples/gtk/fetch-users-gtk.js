// fetch-users-gtk.js: the seed scenario in a GTK 4 window, in GJS.
//
// A list of tasks shows each one's live status; a progress bar is bound to
// the group's "fraction" property. Six tasks run at once on the "sleep"
// plugin worker; "fetch user 3" and "slow report" outlive their timeouts.
//
//   gjs -m examples/gtk/fetch-users-gtk.js [--screenshot FILE]
//
// With --screenshot, the window renders itself to FILE (PNG) once every
// task has an outcome, prints each row and quits: the test suite runs it so
// under Xvfb.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Graphene from 'gi://Graphene';
import Gtk from 'gi://Gtk?version=4.0';
import Gather from 'gi://Gather?version=1';
import System from 'system';

const TASKS = [
    // label, milliseconds, timeout
    ['fetch user 1', 600, 1200],
    ['fetch user 2', 300, 1200],
    ['fetch user 3', 3000, 1200],
    ['fetch user 4', 900, 1200],
    ['slow report', 5000, 800],
    ['quick ping', 100, 1200],
];

const STATUS_TEXT = {
    [Gather.Status.OK]: 'done',
    [Gather.Status.ERROR]: 'failed',
    [Gather.Status.TIMEOUT]: 'timed out',
    [Gather.Status.CANCELLED]: 'cancelled',
};

const args = System.programArgs;
const screenshot = args.length === 2 && args[0] === '--screenshot' ? args[1] : null;
if (args.length !== 0 && !screenshot) {
    printerr('usage: fetch-users-gtk.js [--screenshot FILE]');
    System.exit(2);
}

Gtk.init();
const loop = new GLib.MainLoop(null, false);
const window = new Gtk.Window({title: 'gather: fetching users', default_width: 420});
window.connect('close-request', () => {
    loop.quit();
    return false;
});

const box = new Gtk.Box({
    orientation: Gtk.Orientation.VERTICAL, spacing: 12,
    margin_top: 12, margin_bottom: 12, margin_start: 12, margin_end: 12,
});
window.set_child(box);

const progress = new Gtk.ProgressBar({show_text: true});
box.append(progress);

const list = new Gtk.ListBox({selection_mode: Gtk.SelectionMode.NONE});
box.append(list);

// Sleeping tasks block a thread each: one thread per task.
const group = new Gather.Group({pool: new Gather.Pool({max_threads: TASKS.length})});
const statusLabels = [];

for (const [label, ms, timeout] of TASKS) {
    const parameters = new GLib.Variant('a{sv}', {
        ms: new GLib.Variant('u', ms),
        value: new GLib.Variant('s', label),
    });
    group.add_worker_task('sleep', parameters, label, timeout);

    const row = new Gtk.Box({spacing: 12, margin_top: 6, margin_bottom: 6, margin_start: 6, margin_end: 6});
    row.append(new Gtk.Label({label, xalign: 0, hexpand: true}));
    const status = new Gtk.Label({label: 'running', xalign: 1});
    status.add_css_class('dim-label');
    row.append(status);
    list.append(row);
    statusLabels.push(status);
}

// The progress bar follows the group; signals arrive on this thread.
group.bind_property('fraction', progress, 'fraction', GObject.BindingFlags.SYNC_CREATE);

group.connect('task-finished', (_group, outcome) => {
    let text = STATUS_TEXT[outcome.get_status()];
    if (outcome.get_status() === Gather.Status.OK)
        text = `done in ${((outcome.get_finish_time() - outcome.get_start_time()) / 1e6).toFixed(1)} s`;
    statusLabels[outcome.get_index()].label = text;
    progress.text = `${group.n_finished} of ${group.n_tasks}`;
});

group.connect('finished', () => {
    window.title = 'gather: every task has an outcome';
});

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

group.run_async(null, (_group, result) => {
    for (const outcome of group.run_finish(result))
        print(`${outcome.get_label()}: ${STATUS_TEXT[outcome.get_status()]}`);

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
