// fetch-users.js: the seed scenario in GJS.
//
// Four users are fetched at once by the "sleep" plugin worker: 2 s each,
// except user 3, which takes 5 s and has a 3 s timeout. User 3 times out,
// the others carry on, and the run takes about 3 s.
//
//   gjs -m examples/fetch-users.js
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import Gather from 'gi://Gather?version=1';

// run_async() returns a Promise when called without a callback.
Gio._promisify(Gather.Group.prototype, 'run_async', 'run_finish');

// Something to bind the group's progress to, as a GTK progress bar would be.
const Progress = GObject.registerClass({
    Properties: {
        fraction: GObject.ParamSpec.double('fraction', '', '', GObject.ParamFlags.READWRITE, 0, 1, 0),
    },
}, class Progress extends GObject.Object {});

// Sleeping tasks block a thread each: one thread per task.
const group = new Gather.Group({pool: new Gather.Pool({max_threads: 4})});

for (const id of [1, 2, 3, 4]) {
    const parameters = new GLib.Variant('a{sv}', {
        ms: new GLib.Variant('u', id === 3 ? 5000 : 2000),
        value: new GLib.Variant('s', `user_${id}`),
    });
    group.add_worker_task('sleep', parameters, `fetch user ${id}`, 3000);
}

const progress = new Progress();
group.bind_property('fraction', progress, 'fraction', GObject.BindingFlags.SYNC_CREATE);
progress.connect('notify::fraction', () => print(`progress: ${Math.round(progress.fraction * 100)}%`));
group.connect('task-finished', (_group, outcome) => print(`done: ${outcome.get_label()}`));
group.connect('finished', (_group, outcomes) => print(`all ${outcomes.length} tasks have an outcome`));

const loop = new GLib.MainLoop(null, false);
const start = GLib.get_monotonic_time();

group.run_async(null).then(outcomes => {
    for (const outcome of outcomes) {
        if (outcome.get_status() === Gather.Status.OK)
            print(`${outcome.get_label()}: ${outcome.get_result().recursiveUnpack()}`);
        else if (outcome.get_error().matches(Gather.Error, Gather.Error.TIMED_OUT))
            print(`${outcome.get_label()}: timeout (${outcome.get_error().message})`);
        else
            print(`${outcome.get_label()}: ${outcome.get_error().message}`);
    }
    print(`finished in ${((GLib.get_monotonic_time() - start) / 1e6).toFixed(1)} s`);
}).catch(logError).finally(() => loop.quit());

loop.run();
