// test-gjs.js: libgather from GJS, through GObject-introspection.
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Prints TAP. Needs GATHER_PLUGIN_PATH (see with-plugins.sh) and runs with
// G_DEBUG=fatal-criticals: any critical aborts the test.

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import Soup from 'gi://Soup?version=3.0';
import Gather from 'gi://Gather?version=1';

Gio._promisify(Gather.Group.prototype, 'run_async', 'run_finish');
Gio._promisify(Soup.Session.prototype, 'send_and_read_async', 'send_and_read_finish');
Gio._promisify(Gio.File.prototype, 'load_contents_async', 'load_contents_finish');
Gio._promisify(Gio.DataInputStream.prototype, 'read_line_async', 'read_line_finish_utf8');

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


function delay(ms) {
    return new Promise(resolve => GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
        resolve();
        return GLib.SOURCE_REMOVE;
    }));
}

test('async tasks: promises and async functions complete their tasks', async () => {
    const group = new Gather.Group();
    group.add_async_task('promise', 5000, (completion, cancellable) => {
        delay(20).then(() => completion.return_value(new GLib.Variant('s', 'from a promise')));
    });
    group.add_async_task('await', 5000, async (completion, cancellable) => {
        try {
            const [bytes] = await Gio.File.new_for_path('/nonexistent/file').load_contents_async(cancellable);
            completion.return_value(new GLib.Variant('ay', bytes));
        } catch (e) {
            completion.return_error(e);
        }
    });
    group.add_async_task('js error', 5000, (completion, cancellable) => {
        try {
            null.property;
        } catch (e) {
            completion.return_error(new GLib.Error(Gather.Error, Gather.Error.FAILED, `${e}`));
        }
    });

    const outcomes = await group.run_async(null);

    assertEqual(outcomes[0].get_result().recursiveUnpack(), 'from a promise', 'promise value');
    assert(outcomes[1].get_error().matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND), 'file error');
    assert(outcomes[2].get_error().matches(Gather.Error, Gather.Error.FAILED), 'JS error');
    assert(outcomes[2].get_error().message.includes('TypeError'), 'JS error message');
});

test('an async task times out: its cancellable is cancelled here, its outcome at once', async () => {
    const group = new Gather.Group();
    let cancelled = 0;
    group.add_async_task('slow', 100, (completion, cancellable) => {
        cancellable.connect(() => cancelled++);
        delay(2000).then(() => completion.return_value(new GLib.Variant('s', 'late')));
    });

    const start = GLib.get_monotonic_time();
    const [outcome] = await group.run_async(null);
    const elapsed = (GLib.get_monotonic_time() - start) / 1000;

    assertEqual(outcome.get_status(), Gather.Status.TIMEOUT, 'status');
    assert(outcome.get_error().matches(Gather.Error, Gather.Error.TIMED_OUT), 'TIMED_OUT');
    assertEqual(cancelled, 1, 'cancelled handler ran once, on this thread');
    assert(elapsed >= 100 && elapsed < 1500, `finished in ${elapsed} ms, not about 100`);
});

async function startUsersServer() {
    const server = Gio.Subprocess.new([GLib.getenv('USERS_SERVER')],
        Gio.SubprocessFlags.STDIN_PIPE | Gio.SubprocessFlags.STDOUT_PIPE);
    const lines = Gio.DataInputStream.new(server.get_stdout_pipe());
    const [line] = await lines.read_line_async(GLib.PRIORITY_DEFAULT, null);
    assert(line?.startsWith('PORT '), `server said ${line}`);
    return [server, lines, `http://127.0.0.1:${line.split(' ')[1]}`];
}

async function readUntil(lines, wanted, timeoutMs) {
    const seen = [];
    const deadline = GLib.get_monotonic_time() + timeoutMs * 1000;
    while (!seen.includes(wanted) && GLib.get_monotonic_time() < deadline) {
        const line = await Promise.race([
            lines.read_line_async(GLib.PRIORITY_DEFAULT, null).then(([l]) => l),
            delay(timeoutMs).then(() => undefined),
        ]);
        if (line === null || line === undefined)
            break;
        seen.push(line);
    }
    return seen;
}

test('the seed over real HTTP: user 3 is cancelled at 3 s and the server sees it closed', async () => {
    const [server, lines, url] = await startUsersServer();
    const session = new Soup.Session({max_conns_per_host: 8});
    session.set_proxy_resolver(null);  // hermetic: no proxy from the environment
    const group = new Gather.Group();
    for (const id of [1, 2, 3, 4]) {
        group.add_async_task(`fetch user ${id}`, 3000, async (completion, cancellable) => {
            try {
                const message = Soup.Message.new('GET', `${url}/user/${id}`);
                const bytes = await session.send_and_read_async(message, GLib.PRIORITY_DEFAULT, cancellable);
                completion.return_value(new GLib.Variant('s', new TextDecoder().decode(bytes.toArray())));
            } catch (e) {
                completion.return_error(e);
            }
        });
    }

    const start = GLib.get_monotonic_time();
    const outcomes = await group.run_async(null);
    const elapsed = (GLib.get_monotonic_time() - start) / 1000;

    assertEqual(JSON.stringify(outcomes.map(o => o.get_result()?.recursiveUnpack() ?? null)),
        JSON.stringify(['user_1', 'user_2', null, 'user_4']), 'values');
    assert(outcomes[2].get_error().matches(Gather.Error, Gather.Error.TIMED_OUT), 'user 3 timed out');
    assert(elapsed >= 3000 && elapsed < 4500, `finished in ${elapsed} ms, not about 3000`);
    // This process is still alive: only the cancelled request closes it.
    const seen = await readUntil(lines, 'CLOSED /user/3', 1500);
    assert(seen.includes('CLOSED /user/3'), `server said ${seen}`);
    server.get_stdin_pipe().close(null);
    server.wait(null);
});

test('n-running is a property notified on the main thread', async () => {
    const group = newGroup();
    for (let i = 0; i < 3; i++)
        group.add_worker_task('sleep', sleepTask(100), null, 0);
    const values = [];
    group.connect('notify::n-running', () => values.push(group.n_running));

    await group.run_async(null);

    assert(values.length > 0, 'notified');
    assert(Math.max(...values) >= 1, `values ${values}`);
    assertEqual(group.n_running, 0, 'none running after the run');
});

test('isolated worker tasks run in helper processes; an async task cannot be isolated', async () => {
    // A grace period a loaded machine can meet (the default, 100 ms, may
    // not be): "not killed" then means the helper relayed the cancellation.
    const group = new Gather.Group({pool: new Gather.Pool({max_threads: 2}), isolate_workers: true,
        grace_period: 2000});
    assert(group.isolate_workers, 'isolate-workers is set');
    group.add_worker_task('sleep', sleepTask(1, 'isolated'), 'isolated', 0);
    group.add_worker_task('sleep', sleepTask(20000), 'slow', 100);
    const index = group.add_async_task('here', 0, (completion, cancellable) => {
        completion.return_value(new GLib.Variant('s', 'async'));
    });
    let thrown = null;
    try {
        group.set_task_isolated(index, true);
    } catch (e) {
        thrown = e;
    }
    assert(thrown !== null && thrown.matches(Gather.Error, Gather.Error.NOT_ISOLATABLE),
        `set_task_isolated threw NOT_ISOLATABLE: ${thrown}`);

    const outcomes = await group.run_async(null);
    assertEqual(outcomes[0].get_result().recursiveUnpack(), 'isolated', 'isolated result');
    assertEqual(outcomes[1].get_status(), Gather.Status.TIMEOUT, 'status of the slow task');
    assertEqual(outcomes[1].get_killed(), false, 'a task that returned when cancelled is not killed');
    assertEqual(outcomes[2].get_result().recursiveUnpack(), 'async', 'async result');
});

// ---- Run them, on a main loop ----

// ---- The task model, open groups, retries, priorities ----

test('the task model: items-changed and notifications on the main thread, in order', async () => {
    const group = newGroup(2);
    const model = group.tasks;
    const log = [];
    let offThread = 0;
    const onMain = () => {
        if (!GLib.MainContext.default().is_owner())
            offThread++;
    };
    const watch = task => task.connect('notify', (t, pspec) => {
        onMain();
        log.push(`${t.index} ${pspec.get_name()} ${pspec.get_name() === 'state' ? t.state : ''}`);
    });
    model.connect('items-changed', (m, position, removed, added) => {
        onMain();
        log.push(`items-changed ${position} ${added}`);
        for (let i = position; i < position + added; i++)
            watch(m.get_item(i));
    });
    group.connect('task-finished', (_group, outcome) => {
        onMain();
        const task = model.get_item(outcome.get_index());
        assertEqual(task.state, Gather.TaskState.OK + outcome.get_status(), 'final state before task-finished');
        log.push(`task-finished ${outcome.get_index()}`);
    });

    group.add_worker_task('sleep', sleepTask(50, 'slept'), 'worker', 0);
    group.add_async_task('async', 0, (completion, cancellable) => {
        delay(30).then(() => completion.return_value(new GLib.Variant('s', 'async')));
    });
    group.add_worker_task('sleep', sleepTask(5000), 'too slow', 100);

    const outcomes = await group.run_async(null);

    assertEqual(offThread, 0, 'signals on another thread');
    assertEqual(model.get_n_items(), 3, 'items');
    assertEqual(log[0], 'items-changed 0 1', 'first item added first');
    for (let i = 0; i < 3; i++) {
        const task = model.get_item(i);
        const states = log.filter(l => l.startsWith(`${i} state `)).map(l => Number(l.split(' ')[2]));
        assert(states.every((s, k) => k === 0 || s > states[k - 1]), `task ${i} states only forward: ${states}`);
        assert(log.indexOf(`task-finished ${i}`) > log.lastIndexOf(`${i} state ${task.state}`), `task ${i} final before task-finished`);
        assert(task.outcome === outcomes[i] || task.outcome.get_index() === i, 'the outcome from the task');
        assert(task.finished, `task ${i} finished`);
    }
    assertEqual(model.get_item(0).kind, Gather.TaskKind.WORKER, 'worker kind');
    assertEqual(model.get_item(1).kind, Gather.TaskKind.ASYNC, 'async kind');
    assertEqual(model.get_item(0).result.recursiveUnpack(), 'slept', 'worker result');
    assertEqual(model.get_item(1).result.recursiveUnpack(), 'async', 'async result');
    assertEqual(model.get_item(2).state, Gather.TaskState.TIMEOUT, 'timed out');
    assert(model.get_item(2).error.matches(Gather.Error, Gather.Error.TIMED_OUT), 'timeout error');
    assert(model.get_item(0).elapsed >= 50000, `elapsed ${model.get_item(0).elapsed} µs`);
});

test('an open group: a crawler adds tasks from task-finished until 1000 ran', async () => {
    const group = new Gather.Group({open: true, max_concurrent: 8});
    let added = 0;
    const add = page => {
        group.add_async_task(`page ${page}`, 5000, completion => {
            GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
                completion.return_value(new GLib.Variant('u', page));
                return GLib.SOURCE_REMOVE;
            });
        });
        if (++added === 1000)
            group.close();
    };
    group.connect('task-finished', (_group, outcome) => {
        const page = outcome.get_result().unpack();
        for (const child of [2 * page + 1, 2 * page + 2])
            if (added < 1000)
                add(child);
    });
    add(0);

    const outcomes = await group.run_async(null);
    assertEqual(outcomes.length, 1000, 'outcomes');
    assertEqual(group.n_tasks, 1000, 'n-tasks');
    assertEqual(group.fraction, 1, 'fraction');
    assert(outcomes.every((o, i) => o.get_index() === i && o.get_status() === Gather.Status.OK), 'all ok, in order');
    assertEqual(new Set(outcomes.map(o => o.get_result().unpack())).size, 1000, 'distinct pages');

    try {
        group.add_async_task('too late', 0, () => {});
        throw new Error('adding to a finished group did not throw');
    } catch (e) {
        assert(e.matches?.(Gather.Error, Gather.Error.ALREADY_STARTED), `ALREADY_STARTED, not ${e}`);
    }
});

test('retries: counted exactly, the task object shows each attempt', async () => {
    const group = new Gather.Group({
        retry_policy: new Gather.RetryPolicy({max_attempts: 4, delay: 10, max_delay: 20}),
    });
    let calls = 0;
    group.add_async_task('flaky', 0, completion => {
        calls++;
        if (calls < 3)
            completion.return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED, `call ${calls} failed`));
        else
            completion.return_value(new GLib.Variant('u', calls));
    });
    let calls2 = 0;
    group.add_async_task('hopeless', 0, completion => {
        calls2++;
        completion.return_error(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED, `try ${calls2}`));
    });
    const task = group.get_task(0);
    const attempts = [];
    task.connect('notify::attempt', () => attempts.push(task.attempt));

    const [flaky, hopeless] = await group.run_async(null);
    assertEqual(calls, 3, 'calls');
    assertEqual(flaky.get_attempts(), 3, 'attempts');
    assertEqual(flaky.get_result().unpack(), 3, 'result of attempt 3');
    assertEqual(task.attempt, 3, 'task attempt');
    assert(attempts.length >= 1 && attempts[attempts.length - 1] === 3, `attempt notifications ${attempts}`);
    assertEqual(calls2, 4, 'hopeless calls');
    assertEqual(hopeless.get_attempts(), 4, 'hopeless attempts');
    assertEqual(hopeless.get_error().message, 'try 4', 'the last error is kept');
    const [min, max] = group.retry_policy.get_delay_range(2);
    assertEqual(min, 10, 'lower bound after attempt 2');
    assertEqual(max, 20, 'upper bound after attempt 2, capped');
});

test('priorities: with max-concurrent 1, higher first, then in order', async () => {
    const group = new Gather.Group({max_concurrent: 1});
    const started = [];
    const priorities = [0, 5, -1, 5, 0, 9];
    priorities.forEach((priority, i) => {
        group.add_async_task(`p${priority}`, 0, completion => {
            started.push(i);
            completion.return_value(new GLib.Variant('u', i));
        });
        group.get_task(i).priority = priority;
    });

    await group.run_async(null);
    assertEqual(JSON.stringify(started), JSON.stringify([5, 1, 3, 0, 4, 2]), 'start order');
});

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
