// test-gjs.js: libgather from GJS, through GObject-introspection.
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Prints TAP. Needs GATHER_PLUGIN_PATH (see with-plugins.sh) and runs with
// G_DEBUG=fatal-criticals: any critical aborts the test.

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import Gather from 'gi://Gather?version=1';

Gio._promisify(Gather.Group.prototype, 'run_async', 'run_finish');

// ---- A little TAP harness ----

const tests = [];
function test(name, fn) {
    tests.push([name, fn]);
}
function assert(condition, what) {
    if (!condition)
        throw new Error(`assertion failed: ${what}`);
}
function assertEqual(actual, expected, what) {
    if (actual !== expected)
        throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function sleepTask(ms, value) {
    const params = {ms: new GLib.Variant('u', ms)};
    if (value !== undefined)
        params.value = new GLib.Variant('s', value);
    return new GLib.Variant('a{sv}', params);
}

function newGroup(threads = 4) {
    return new Gather.Group({pool: new Gather.Pool({max_threads: threads})});
}

// ---- Tests ----

test('seed scenario: statuses, order, values, and well under the slow task', async () => {
    const group = newGroup();
    for (const id of [1, 2, 3, 4])
        group.add_worker_task('sleep', sleepTask(id === 3 ? 800 : 200, `user_${id}`), `fetch user ${id}`, 400);

    const start = GLib.get_monotonic_time();
    const outcomes = await group.run_async(null);
    const elapsed = (GLib.get_monotonic_time() - start) / 1000;

    assertEqual(outcomes.length, 4, 'number of outcomes');
    outcomes.forEach((outcome, i) => {
        assertEqual(outcome.get_index(), i, 'index');
        assertEqual(outcome.get_label(), `fetch user ${i + 1}`, 'label');
        if (i === 2) {
            assertEqual(outcome.get_status(), Gather.Status.TIMEOUT, 'status of user 3');
            assertEqual(outcome.get_result(), null, 'result of a timeout');
        } else {
            assertEqual(outcome.get_status(), Gather.Status.OK, `status of user ${i + 1}`);
            assertEqual(outcome.get_result().recursiveUnpack(), `user_${i + 1}`, 'value');
            assertEqual(outcome.get_error(), null, 'error of a success');
        }
    });
    assert(elapsed >= 400 && elapsed < 750, `finished in ${elapsed} ms, not about 400`);
});

test('errors: a timeout and a failure carry their domain and code', async () => {
    const group = newGroup();
    group.add_worker_task('sleep', sleepTask(10000), 'slow', 100);
    group.add_worker_task('checksum', new GLib.Variant('a{sv}', {path: new GLib.Variant('ay', new TextEncoder().encode('/nonexistent/file'))}), null, 0);
    const [slow, checksum] = await group.run_async(null);

    const timeout = slow.get_error();
    assert(timeout.matches(Gather.Error, Gather.Error.TIMED_OUT), 'the timeout is Gather.Error.TIMED_OUT');
    assertEqual(timeout.message, 'Task “slow” timed out after 100 ms', 'timeout message');
    assertEqual(checksum.get_status(), Gather.Status.ERROR, 'checksum status');
    assert(checksum.get_error().matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND), 'missing file is NOT_FOUND');

    try {
        slow.propagate_result();
        assert(false, 'propagate_result() throws for a timeout');
    } catch (e) {
        assert(e.matches(Gather.Error, Gather.Error.TIMED_OUT), 'propagate_result() throws the task error');
    }
});

test('bad parameters and unknown workers throw Gather.Error before anything is queued', () => {
    const group = newGroup();
    const cases = [
        [() => group.add_worker_task('no-such-worker', null, null, 0), Gather.Error.UNKNOWN_WORKER],
        [() => group.add_worker_task('sleep', new GLib.Variant('a{sv}', {ms: new GLib.Variant('s', 'soon')}), null, 0),
            Gather.Error.INVALID_PARAMETERS],
        [() => group.add_worker_task('sleep', null, null, 0), Gather.Error.INVALID_PARAMETERS],
    ];
    for (const [call, code] of cases) {
        let thrown = null;
        try {
            call();
        } catch (e) {
            thrown = e;
        }
        assert(thrown !== null, 'an exception');
        assert(thrown.matches(Gather.Error, code), `Gather.Error code ${code}, got: ${thrown.message}`);
    }
    assertEqual(group.n_tasks, 0, 'nothing queued');
});

test('signals and notifications reach JavaScript on the main thread', async () => {
    // GJS refuses to run a callback from another thread (it logs a critical,
    // fatal here, and drops the call): counting the calls proves where they ran.
    const group = newGroup();
    for (let i = 0; i < 20; i++)
        group.add_worker_task('compute', new GLib.Variant('a{sv}', {n: new GLib.Variant('t', 1000 * i)}), null, 0);

    const completed = [];
    let finished = null, notifications = 0, stale = false;
    group.connect('task-finished', (_group, outcome) => completed.push(outcome.get_index()));
    group.connect('finished', (_group, outcomes) => {
        finished = outcomes.map(o => o.get_index());
    });
    group.connect('notify::n-finished', () => {
        notifications++;
        if (group.fraction !== group.n_finished / group.n_tasks)
            stale = true;
    });

    const outcomes = await group.run_async(null);

    assertEqual(completed.length, 20, 'task-finished calls');
    assertEqual(new Set(completed).size, 20, 'each task once');
    assertEqual(JSON.stringify(finished), JSON.stringify([...Array(20).keys()]), 'finished carries all, in order');
    assert(notifications >= 1, 'n-finished was notified');
    assert(!stale, 'fraction agrees with n-finished when notified');
    assertEqual(outcomes[19].get_result().unpack(), 2158, 'primes below 19000');
});

test('a bound progress property follows the group to 1.0', async () => {
    const Progress = GObject.registerClass({
        Properties: {
            fraction: GObject.ParamSpec.double('fraction', '', '', GObject.ParamFlags.READWRITE, 0, 1, 0),
        },
    }, class Progress extends GObject.Object {});

    const group = newGroup();
    const progress = new Progress();
    const seen = [];
    group.bind_property('fraction', progress, 'fraction', GObject.BindingFlags.SYNC_CREATE);
    progress.connect('notify::fraction', () => seen.push(progress.fraction));
    for (let i = 0; i < 4; i++)
        group.add_worker_task('sleep', sleepTask(50 * i), null, 0);

    await group.run_async(null);

    assertEqual(progress.fraction, 1, 'final fraction');
    assert(seen.length >= 1, 'notified');
    for (let i = 1; i < seen.length; i++)
        assert(seen[i] > seen[i - 1], 'fraction only grows');
});

test('cancelling from JavaScript cancels the unfinished tasks', async () => {
    const group = newGroup(1);
    const cancellable = new Gio.Cancellable();
    group.add_worker_task('sleep', sleepTask(5), 'quick', 0);
    group.add_worker_task('sleep', sleepTask(20000), 'running', 0);
    group.add_worker_task('sleep', sleepTask(5), 'queued', 0);
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, 200, () => {
        cancellable.cancel();
        return GLib.SOURCE_REMOVE;
    });

    const start = GLib.get_monotonic_time();
    const outcomes = await group.run_async(cancellable);
    assert(GLib.get_monotonic_time() - start < 3000000, 'cancelled long before 20 s');

    assertEqual(outcomes[0].get_status(), Gather.Status.OK, 'quick');
    for (const outcome of outcomes.slice(1)) {
        assertEqual(outcome.get_status(), Gather.Status.CANCELLED, outcome.get_label());
        assert(outcome.get_error().matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED), 'G_IO_ERROR_CANCELLED');
    }
});

test('a group runs once: the second run rejects with ALREADY_STARTED', async () => {
    const group = newGroup();
    group.add_worker_task('sleep', sleepTask(1), null, 0);
    await group.run_async(null);
    try {
        await group.run_async(null);
        assert(false, 'the second run rejects');
    } catch (e) {
        assert(e.matches(Gather.Error, Gather.Error.ALREADY_STARTED), `ALREADY_STARTED, got: ${e.message}`);
    }
});

test('the registry lists workers and their parameters', () => {
    const registry = Gather.Registry.get_default();
    const names = registry.list_workers().map(w => w.get_name());
    for (const name of ['checksum', 'compute', 'sleep', 'spawn'])
        assert(names.includes(name), `${name} is listed`);

    const sleep = registry.lookup_worker('sleep');
    assertEqual(sleep.get_result_type(), 'v', 'result type');
    const params = sleep.list_parameters();
    assertEqual(params[0].name, 'ms', 'first parameter');
    assertEqual(params[0].type, 'u', 'its type');
    assertEqual(params[0].flags, Gather.ParameterFlags.REQUIRED, 'required');
    assert(sleep.get_plugin_path().endsWith('gather-sleep.so'), 'plugin path');
    assertEqual(registry.list_failures().length, 0, 'no failures');
});

// ---- Run them, on a main loop ----

const loop = new GLib.MainLoop(null, false);
let failures = 0;

async function main() {
    print(`1..${tests.length}`);
    for (const [i, [name, fn]] of tests.entries()) {
        try {
            await fn();
            print(`ok ${i + 1} - ${name}`);
        } catch (e) {
            failures++;
            print(`not ok ${i + 1} - ${name}`);
            for (const line of `${e}\n${e.stack ?? ''}`.split('\n'))
                print(`# ${line}`);
        }
    }
    loop.quit();
}

main();
loop.run();
imports.system.exit(failures > 0 ? 1 : 0);
