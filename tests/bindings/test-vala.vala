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


/* Own work: a Vala function on a pool thread, and an async method. */
async void test_own_work () throws Error {
    var group = new_group ();
    Thread<void*>? main_thread = Thread.self<void*> ();
    bool on_main = true;

    group.add_task ("square", 0, (cancellable) => {
        on_main = Thread.self<void*> () == main_thread;
        return new Variant.uint32 (7 * 7);
    });
    group.add_task ("failing", 0, (cancellable) => {
        throw new IOError.FAILED ("no luck");
    });
    group.add_async_task ("async", 5000, (completion, cancellable) => {
        wait_then.begin (20, "from an async method", cancellable, (obj, res) => {
            try {
                completion.return_value (new Variant.string (wait_then.end (res)));
            } catch (Error e) {
                completion.return_error (e);
            }
        });
    });
    group.add_async_task ("timed out", 100, (completion, cancellable) => {
        wait_then.begin (5000, "late", cancellable, (obj, res) => {
            try {
                completion.return_value (new Variant.string (wait_then.end (res)));
            } catch (Error e) {
                completion.return_error (e);
            }
        });
    });

    var outcomes = yield group.run ();

    check (outcomes[0].get_result ().get_uint32 () == 49, "thread body result");
    check (!on_main, "the body ran on a pool thread");
    check (outcomes[1].get_error () is IOError.FAILED, "thread body error");
    check (outcomes[2].get_result ().get_string () == "from an async method", "async result");
    check (outcomes[3].get_status () == Gather.Status.TIMEOUT, "async timeout");
}

/* Waits on the main loop, cancellably, like any GIO operation. */
async string wait_then (uint ms, string value, Cancellable cancellable) throws Error {
    uint id = 0;
    ulong handler = cancellable.connect (() => {
        Source.remove (id);
        Idle.add (wait_then.callback);
    });
    id = Timeout.add (ms, () => {
        id = 0;
        wait_then.callback ();
        return Source.REMOVE;
    });
    yield;
    cancellable.disconnect (handler);
    cancellable.set_error_if_cancelled ();
    return value;
}

/* The seed over real HTTP, against the test server. */
async void test_seed_over_http () throws Error {
    var server = new Subprocess.newv ({ Environment.get_variable ("USERS_SERVER") },
                                      SubprocessFlags.STDIN_PIPE | SubprocessFlags.STDOUT_PIPE);
    var lines = new DataInputStream (server.get_stdout_pipe ());
    var port_line = yield lines.read_line_utf8_async ();
    check (port_line != null && port_line.has_prefix ("PORT "), "server port");
    var url = "http://127.0.0.1:%s".printf (port_line.substring (5));

    var session = new Soup.Session.with_options ("max-conns-per-host", 8);
    session.set_proxy_resolver (null);  /* hermetic: no proxy from the environment */
    var group = new Gather.Group ();
    for (uint id = 1; id <= 4; id++) {
        var user = id;
        group.add_async_task ("fetch user %u".printf (user), 3000, (completion, cancellable) => {
            fetch.begin (session, "%s/user/%u".printf (url, user), cancellable, (obj, res) => {
                try {
                    completion.return_value (new Variant.string (fetch.end (res)));
                } catch (Error e) {
                    completion.return_error (e);
                }
            });
        });
    }

    var start = get_monotonic_time ();
    var outcomes = yield group.run ();
    var elapsed = (get_monotonic_time () - start) / 1000;

    check (outcomes[0].get_result ().get_string () == "user_1", "user 1");
    check (outcomes[1].get_result ().get_string () == "user_2", "user 2");
    check (outcomes[2].get_error () is Gather.Error.TIMED_OUT, "user 3 timed out");
    check (outcomes[3].get_result ().get_string () == "user_4", "user 4");
    check (elapsed >= 3000 && elapsed < 4500, "finished in %lld ms, not about 3000".printf (elapsed));

    /* This process is still alive: only the cancelled request closes it. */
    bool closed = false;
    var deadline = get_monotonic_time () + 1500 * 1000;
    while (!closed && get_monotonic_time () < deadline) {
        var line = yield lines.read_line_utf8_async ();
        if (line == null)
            break;
        closed = line == "CLOSED /user/3";
    }
    check (closed, "the server saw user 3's connection closed");
    server.get_stdin_pipe ().close ();
    yield server.wait_async ();
}

async string fetch (Soup.Session session, string url, Cancellable cancellable) throws Error {
    var message = new Soup.Message ("GET", url);
    var body = yield session.send_and_read_async (message, Priority.DEFAULT, cancellable);
    return (string) body.get_data ();
}

async int run_tests () {
    string[] names = { "seed scenario with yield", "signals and bound progress on this thread",
                       "errors and cancellation", "own work: a thread body and an async method",
                       "the seed over real HTTP: user 3 cancelled, the server sees it closed" };
    int failures = 0;

    print ("1..%d\n", names.length);
    for (int i = 0; i < names.length; i++) {
        try {
            switch (i) {
            case 0: yield test_seed (); break;
            case 1: yield test_signals_and_progress (); break;
            case 2: yield test_errors_and_cancel (); break;
            case 3: yield test_own_work (); break;
            default: yield test_seed_over_http (); break;
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
