/* test-vala.vala: libgather from Vala, through libgather-1.vapi.
 *
 * Prints TAP. Needs GATHER_PLUGIN_PATH (see with-plugins.sh).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

class Progress : Object {
    public double fraction { get; set; }
}

Variant sleep_task (uint ms, string? value = null) {
    var builder = new VariantBuilder (VariantType.VARDICT);
    builder.add ("{sv}", "ms", new Variant.uint32 (ms));
    if (value != null)
        builder.add ("{sv}", "value", new Variant.string (value));
    return builder.end ();
}

Gather.Group new_group (uint threads = 4) {
    var group = new Gather.Group ();
    group.pool = new Gather.Pool (threads);
    return group;
}

errordomain TestError {
    FAILED
}

void check (bool condition, string what) throws TestError {
    if (!condition)
        throw new TestError.FAILED ("assertion failed: %s", what);
}

/* The seed scenario with "yield": statuses, order, values. */
async void test_seed () throws Error {
    var group = new_group ();
    for (uint id = 1; id <= 4; id++)
        group.add_worker_task ("sleep", sleep_task (id == 3 ? 800 : 200, "user_%u".printf (id)),
                               "fetch user %u".printf (id), 400);

    var start = get_monotonic_time ();
    var outcomes = yield group.run ();
    var elapsed = (get_monotonic_time () - start) / 1000;

    check (outcomes.length == 4, "four outcomes");
    for (uint i = 0; i < 4; i++) {
        var outcome = outcomes[i];
        check (outcome.get_index () == i, "index");
        check (outcome.get_label () == "fetch user %u".printf (i + 1), "label");
        if (i == 2) {
            check (outcome.get_status () == Gather.Status.TIMEOUT, "user 3 timed out");
            check (outcome.get_error () is Gather.Error.TIMED_OUT, "TIMED_OUT error");
        } else {
            check (outcome.get_status () == Gather.Status.OK, "user %u ok".printf (i + 1));
            check (outcome.get_result ().get_variant ().get_string () == "user_%u".printf (i + 1), "value");
        }
    }
    check (elapsed >= 400 && elapsed < 750, "finished in %lld ms, not about 400".printf (elapsed));
}

/* Signals, the bound progress property and the blocking run. */
async void test_signals_and_progress () throws Error {
    var group = new_group ();
    var progress = new Progress ();
    uint task_finished = 0, finished = 0;
    var thread = Thread.self<void> ();
    bool elsewhere = false;

    group.bind_property ("fraction", progress, "fraction", BindingFlags.SYNC_CREATE);
    group.task_finished.connect ((outcome) => {
        task_finished++;
        elsewhere |= Thread.self<void> () != thread;
    });
    group.finished.connect ((outcomes) => {
        finished++;
        elsewhere |= Thread.self<void> () != thread;
    });
    for (uint i = 0; i < 10; i++)
        group.add_worker_task ("sleep", sleep_task (10 * i), null, 0);

    yield group.run ();

    check (task_finished == 10, "task-finished for each task");
    check (finished == 1, "finished once");
    check (!elsewhere, "signals on this thread");
    check (progress.fraction == 1.0, "progress at 1.0");
}

/* Errors thrown by add_worker_task, and cancellation. */
async void test_errors_and_cancel () throws Error {
    var group = new_group (1);

    try {
        group.add_worker_task ("no-such-worker", null, null, 0);
        check (false, "unknown worker throws");
    } catch (Gather.Error e) {
        check (e is Gather.Error.UNKNOWN_WORKER, "UNKNOWN_WORKER");
    }

    var cancellable = new Cancellable ();
    group.add_worker_task ("sleep", sleep_task (20000), "running", 0);
    group.add_worker_task ("sleep", sleep_task (5), "queued", 0);
    Timeout.add (200, () => {
        cancellable.cancel ();
        return Source.REMOVE;
    });
    var outcomes = yield group.run (cancellable);
    foreach (var outcome in outcomes) {
        check (outcome.get_status () == Gather.Status.CANCELLED, "%s cancelled".printf (outcome.get_label ()));
        check (outcome.get_error () is IOError.CANCELLED, "IOError.CANCELLED");
    }

    var blocking = new_group ();
    blocking.add_worker_task ("compute", new Variant.parsed ("{'n': <@t 1000>}"), null, 0);
    var results = blocking.run_sync ();
    check (results[0].get_result ().get_uint64 () == 168, "blocking run_sync ()");
}

async int run_tests () {
    string[] names = { "seed scenario with yield", "signals and bound progress on this thread",
                       "errors and cancellation" };
    int failures = 0;

    print ("1..%d\n", names.length);
    for (int i = 0; i < names.length; i++) {
        try {
            switch (i) {
            case 0: yield test_seed (); break;
            case 1: yield test_signals_and_progress (); break;
            default: yield test_errors_and_cancel (); break;
            }
            print ("ok %d - %s\n", i + 1, names[i]);
        } catch (Error e) {
            failures++;
            print ("not ok %d - %s\n# %s\n", i + 1, names[i], e.message);
        }
    }
    return failures;
}

int main () {
    var loop = new MainLoop ();
    int failures = 0;

    run_tests.begin ((obj, res) => {
        failures = run_tests.end (res);
        loop.quit ();
    });
    loop.run ();

    return failures > 0 ? 1 : 0;
}
