// model-frames.js: is the owner's context responsive while a GtkColumnView
// follows 1e4 tasks finishing? Prints a Markdown table of frame-to-frame
// gaps, median and range over the runs, for a window with the column view
// over the group's task model and for the same window without it.
//
//   GATHER_PLUGIN_PATH=_build/default/plugins GI_TYPELIB_PATH=_build/default/lib \
//   LD_LIBRARY_PATH=_build/default/lib GSK_RENDERER=cairo \
//   xvfb-run -a -s "-screen 0 1024x768x24" gjs -m benchmarks/model-frames.js [TASKS [RUNS]]
//
// Tasks are "sleep" plugin workers of 1 ms on 4 pool threads, so they
// finish at about 3,000 a second and every main-loop iteration has
// outcomes to record and tasks to notify. A tick callback on the window
// records the frame clock's frame times while the group runs; the view
// scrolls with the progress, so rows (and their task objects) keep being
// created. The frame clock asks for 60 frames a second: gaps much above
// 16.7 ms are frames the main loop could not serve in time.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gtk from 'gi://Gtk?version=4.0';
import Gather from 'gi://Gather?version=1';
import System from 'system';

const nTasks = Number(System.programArgs[0] ?? 10000);
const nRuns = Math.max(5, Number(System.programArgs[1] ?? 5));

Gtk.init();

function percentile(sorted, p) {
    return sorted[Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)))];
}

function median(values) {
    const sorted = [...values].sort((a, b) => a - b);
    const n = sorted.length;
    return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

function runOnce(withView) {
    return new Promise(resolve => {
        const window = new Gtk.Window({default_width: 600, default_height: 500});
        const box = new Gtk.Box({orientation: Gtk.Orientation.VERTICAL});
        const progress = new Gtk.ProgressBar();
        const group = new Gather.Group({pool: new Gather.Pool({max_threads: 4})});
        const parameters = new GLib.Variant('a{sv}', {ms: new GLib.Variant('u', 1)});
        for (let i = 0; i < nTasks; i++)
            group.add_worker_task('sleep', parameters, `task ${i}`, 0);

        box.append(progress);
        group.bind_property('fraction', progress, 'fraction', GObject.BindingFlags.SYNC_CREATE);

        let scrolled = null;
        if (withView) {
            const item = Gtk.PropertyExpression.new(Gtk.ListItem, null, 'item');
            const column = (title, expression) => {
                const factory = new Gtk.SignalListItemFactory();
                factory.connect('setup', (_f, listItem) => {
                    const label = new Gtk.Label({xalign: 0});
                    listItem.child = label;
                    expression.bind(label, 'label', listItem);
                });
                return new Gtk.ColumnViewColumn({title, factory, expand: true});
            };
            const prop = name => Gtk.PropertyExpression.new(Gather.Task, item, name);
            const view = new Gtk.ColumnView({model: new Gtk.NoSelection({model: group.tasks})});
            view.append_column(column('Task', prop('label')));
            view.append_column(column('State', Gtk.ClosureExpression.new(GObject.TYPE_STRING,
                (_this, state) => String(state), [prop('state')])));
            view.append_column(column('Elapsed', Gtk.ClosureExpression.new(GObject.TYPE_STRING,
                (_this, us) => (us / 1e3).toFixed(1), [prop('elapsed')])));
            scrolled = new Gtk.ScrolledWindow({child: view, vexpand: true});
            box.append(scrolled);
        }
        window.set_child(box);
        window.present();

        const frames = [];
        let running = false;
        window.add_tick_callback((_widget, clock) => {
            if (running) {
                frames.push(clock.get_frame_time());
                if (scrolled) {
                    // Follow the progress down the table.
                    const adj = scrolled.vadjustment;
                    adj.value = group.fraction * (adj.upper - adj.page_size);
                }
            }
            return GLib.SOURCE_CONTINUE;
        });

        // Let the window map and settle before the run.
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, 300, () => {
            running = true;
            const start = GLib.get_monotonic_time();
            group.run_async(null, (_group, result) => {
                group.run_finish(result);
                running = false;
                const seconds = (GLib.get_monotonic_time() - start) / 1e6;
                const gaps = [];
                for (let i = 1; i < frames.length; i++)
                    gaps.push((frames[i] - frames[i - 1]) / 1000);
                gaps.sort((a, b) => a - b);
                window.destroy();
                resolve({
                    seconds, frames: frames.length,
                    median: percentile(gaps, 0.5), p99: percentile(gaps, 0.99), max: gaps[gaps.length - 1],
                });
            });
            return GLib.SOURCE_REMOVE;
        });
    });
}

const loop = new GLib.MainLoop(null, false);

async function main() {
    const [load] = GLib.file_get_contents('/proc/loadavg').slice(1);
    print(`<!-- load average before: ${new TextDecoder().decode(load).trim()} -->`);
    print(`\n## Frame gaps while ${nTasks} tasks finish (ms between frames; median and range of ${nRuns} runs each)\n`);
    print('| window | run (s) | frames | median gap | p99 gap | max gap |');
    print('|---|---|---|---|---|---|');
    const results = {true: [], false: []};
    // Interleaved, so both see the same machine.
    for (let r = 0; r < nRuns; r++)
        for (const withView of [true, false])
            results[withView].push(await runOnce(withView));
    for (const withView of [true, false]) {
        const rs = results[withView];
        const cell = key => {
            const values = rs.map(x => x[key]);
            const digits = key === 'frames' ? 0 : 1;
            return `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
        };
        print(`| ${withView ? 'GtkColumnView over the task model' : 'progress bar only'} | ${cell('seconds')} | ${cell('frames')} | ${cell('median')} | ${cell('p99')} | ${cell('max')} |`);
    }
    const [load2] = GLib.file_get_contents('/proc/loadavg').slice(1);
    print(`\n<!-- load average after: ${new TextDecoder().decode(load2).trim()} -->`);
    loop.quit();
}

main().catch(e => {
    logError(e);
    System.exit(1);
});
loop.run();
