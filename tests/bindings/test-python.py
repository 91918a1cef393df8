"""test-python.py: libgather from PyGObject, through GObject-introspection.

Prints TAP. Needs GATHER_PLUGIN_PATH (see with-plugins.sh) and runs with
G_DEBUG=fatal-criticals: any critical aborts the test.

SPDX-License-Identifier: LGPL-2.1-or-later
"""

import os
import shutil
import signal
import sys
import tempfile
import threading
import traceback

import gi

gi.require_version("Gather", "1")
gi.require_version("Soup", "3.0")
from gi.repository import Gather, Gio, GLib, GObject, Soup  # noqa: E402

GATHER_ERROR = Gather.error_quark()
TESTS = []


def test(function):
    TESTS.append(function)
    return function


def sleep_task(ms, value=None):
    params = {"ms": GLib.Variant("u", ms)}
    if value is not None:
        params["value"] = GLib.Variant("s", value)
    return GLib.Variant("a{sv}", params)


def new_group(threads=4):
    return Gather.Group(pool=Gather.Pool(max_threads=threads))


def run_async(group, cancellable=None):
    """Runs the group with run_async() on a main loop; returns the outcomes."""
    loop = GLib.MainLoop()
    result = {}

    def done(source, res):
        try:
            result["outcomes"] = source.run_finish(res)
        except GLib.Error as e:
            result["error"] = e
        loop.quit()

    group.run_async(cancellable, done)
    loop.run()
    if "error" in result:
        raise result["error"]
    return result["outcomes"]


@test
def seed_blocking():
    """the seed scenario with the blocking run: statuses, order, values"""
    group = new_group()
    for i in range(1, 5):
        group.add_worker_task("sleep", sleep_task(800 if i == 3 else 200, f"user_{i}"), f"fetch user {i}", 400)

    start = GLib.get_monotonic_time()
    outcomes = group.run(None)
    elapsed = (GLib.get_monotonic_time() - start) / 1000

    assert len(outcomes) == 4
    for i, outcome in enumerate(outcomes):
        assert outcome.get_index() == i
        assert outcome.get_label() == f"fetch user {i + 1}"
        if i == 2:
            assert outcome.get_status() == Gather.Status.TIMEOUT
            assert outcome.get_result() is None
            assert outcome.get_error().matches(GATHER_ERROR, Gather.Error.TIMED_OUT)
        else:
            assert outcome.get_status() == Gather.Status.OK
            assert outcome.get_result().unpack() == f"user_{i + 1}"
            assert outcome.get_error() is None
    assert 400 <= elapsed < 750, f"finished in {elapsed} ms, not about 400"


@test
def seed_async():
    """the seed scenario with run_async() and a callback"""
    group = new_group()
    for i in range(1, 5):
        group.add_worker_task("sleep", sleep_task(800 if i == 3 else 200, f"user_{i}"), f"fetch user {i}", 400)

    outcomes = run_async(group)

    statuses = [o.get_status() for o in outcomes]
    assert statuses == [Gather.Status.OK, Gather.Status.OK, Gather.Status.TIMEOUT, Gather.Status.OK], statuses
    assert [o.get_result() and o.get_result().unpack() for o in outcomes] == ["user_1", "user_2", None, "user_4"]


@test
def errors():
    """bad parameters, unknown workers and failures raise GLib.Error with domain and code"""
    group = new_group()
    for call, code in [
        (lambda: group.add_worker_task("no-such-worker", None, None, 0), Gather.Error.UNKNOWN_WORKER),
        (lambda: group.add_worker_task("sleep", GLib.Variant("a{sv}", {"ms": GLib.Variant("s", "x")}), None, 0),
         Gather.Error.INVALID_PARAMETERS),
    ]:
        try:
            call()
        except GLib.Error as e:
            assert e.matches(GATHER_ERROR, code), e.message
        else:
            raise AssertionError("no exception")
    assert group.props.n_tasks == 0

    group.add_worker_task("checksum", GLib.Variant("a{sv}", {"path": GLib.Variant("ay", b"/nonexistent/file")}), None, 0)
    (outcome,) = group.run(None)
    assert outcome.get_status() == Gather.Status.ERROR
    assert outcome.get_error().matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND)
    try:
        outcome.propagate_result()
    except GLib.Error as e:
        assert e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND)
    else:
        raise AssertionError("propagate_result() did not raise")


@test
def main_thread():
    """signals and notifications run on the thread of the group's context"""
    main = threading.get_ident()
    threads = set()
    group = new_group()
    for i in range(20):
        group.add_worker_task("compute", GLib.Variant("a{sv}", {"n": GLib.Variant("t", 1000 * i)}), None, 0)
    completed = []
    group.connect("task-finished", lambda g, o: (threads.add(threading.get_ident()), completed.append(o.get_index())))
    group.connect("notify::fraction", lambda g, p: threads.add(threading.get_ident()))
    finished = []
    group.connect("finished", lambda g, outcomes: (threads.add(threading.get_ident()),
                                                   finished.extend(o.get_index() for o in outcomes)))

    outcomes = run_async(group)

    assert threads == {main}, threads
    assert sorted(completed) == list(range(20))
    assert finished == list(range(20))
    assert outcomes[19].get_result().unpack() == 2158


@test
def progress_binding():
    """a progress property bound to the group's fraction reaches 1.0"""

    class Progress(GObject.Object):
        fraction = GObject.Property(type=float, default=0.0)

    group = new_group()
    progress = Progress()
    seen = []
    group.bind_property("fraction", progress, "fraction", GObject.BindingFlags.SYNC_CREATE)
    progress.connect("notify::fraction", lambda p, s: seen.append(p.props.fraction))
    for i in range(4):
        group.add_worker_task("sleep", sleep_task(50 * i), None, 0)

    run_async(group)

    assert progress.props.fraction == 1.0
    assert seen == sorted(seen) and seen[-1] == 1.0, seen


@test
def cancel():
    """cancelling from Python cancels the running and queued tasks"""
    group = new_group(threads=1)
    cancellable = Gio.Cancellable()
    group.add_worker_task("sleep", sleep_task(5), "quick", 0)
    group.add_worker_task("sleep", sleep_task(20000), "running", 0)
    group.add_worker_task("sleep", sleep_task(5), "queued", 0)
    GLib.timeout_add(200, lambda: cancellable.cancel() or GLib.SOURCE_REMOVE)

    outcomes = run_async(group, cancellable)

    assert outcomes[0].get_status() == Gather.Status.OK
    for outcome in outcomes[1:]:
        assert outcome.get_status() == Gather.Status.CANCELLED, outcome.get_label()
        assert outcome.get_error().matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)
    assert outcomes[1].get_start_time() > 0
    assert outcomes[2].get_start_time() == 0


@test
def runs_once():
    """running a group twice raises ALREADY_STARTED"""
    group = new_group()
    group.add_worker_task("sleep", sleep_task(1), None, 0)
    group.run(None)
    try:
        group.run(None)
    except GLib.Error as e:
        assert e.matches(GATHER_ERROR, Gather.Error.ALREADY_STARTED), e.message
    else:
        raise AssertionError("no exception")


@test
def registry():
    """the registry lists workers and their parameters"""
    registry = Gather.Registry.get_default()
    names = [w.get_name() for w in registry.list_workers()]
    assert {"checksum", "compute", "sleep", "spawn"} <= set(names), names
    sleep = registry.lookup_worker("sleep")
    params = sleep.list_parameters()
    assert (params[0].name, params[0].type, params[0].flags) == ("ms", "u", Gather.ParameterFlags.REQUIRED)
    assert sleep.get_plugin_path().endswith("gather-sleep.so")
    assert len(registry.list_failures()) == 0


@test
def own_thread_body():
    """add_task() runs a Python function on a pool thread; its result or error comes back"""
    main = threading.get_ident()
    ran_on = []

    def body(cancellable, n):
        ran_on.append(threading.get_ident())
        return GLib.Variant("u", n * n)

    def failing(cancellable):
        raise GLib.Error.new_literal(Gio.io_error_quark(), "no luck", Gio.IOErrorEnum.FAILED)

    def stubborn(cancellable):
        while not cancellable.is_cancelled():
            GLib.usleep(1000)
        cancellable.set_error_if_cancelled()

    group = new_group()
    assert group.add_task("square", 0, body, 7) == 0
    group.add_task("failing", 0, failing)
    group.add_task("timed out", 100, stubborn)
    outcomes = group.run(None)

    assert outcomes[0].get_result().unpack() == 49
    assert ran_on and ran_on[0] != main, "the body ran on the main thread"
    assert outcomes[1].get_error().matches(Gio.io_error_quark(), Gio.IOErrorEnum.FAILED)
    assert outcomes[1].get_error().message == "no luck"
    assert outcomes[2].get_status() == Gather.Status.TIMEOUT

    try:
        group.add_task("late", 0, body, 1)
    except GLib.Error as e:
        assert e.matches(GATHER_ERROR, Gather.Error.ALREADY_STARTED), e.message
    else:
        raise AssertionError("adding to a group that ran did not raise")


@test
def async_tasks():
    """add_async_task() starts operations on the main thread; a timeout cancels there"""
    main = threading.get_ident()
    seen = []

    def later(completion, cancellable, msec, value):
        seen.append(("start", threading.get_ident()))
        cancellable.connect(lambda *args: seen.append(("cancelled", threading.get_ident())))

        def complete():
            if value is None:
                completion.return_error(GLib.Error.new_literal(Gio.io_error_quark(), "failed",
                                                               Gio.IOErrorEnum.FAILED))
            else:
                completion.return_value(GLib.Variant("s", value))
            return GLib.SOURCE_REMOVE

        GLib.timeout_add(msec, complete)

    group = new_group()
    group.add_async_task("ok", 5000, later, 20, "fine")
    group.add_async_task("failing", 5000, later, 10, None)
    group.add_async_task("slow", 100, later, 2000, "late")
    outcomes = run_async(group)

    assert [o.get_status() for o in outcomes] == [Gather.Status.OK, Gather.Status.ERROR, Gather.Status.TIMEOUT]
    assert outcomes[0].get_result().unpack() == "fine"
    assert outcomes[1].get_error().matches(Gio.io_error_quark(), Gio.IOErrorEnum.FAILED)
    assert {thread for _, thread in seen} == {main}, seen
    assert ("cancelled", main) in seen


def start_users_server():
    """Starts the seed's HTTP server; returns it, its output and its URL."""
    server = Gio.Subprocess.new([os.environ["USERS_SERVER"]],
                                Gio.SubprocessFlags.STDIN_PIPE | Gio.SubprocessFlags.STDOUT_PIPE)
    lines = Gio.DataInputStream.new(server.get_stdout_pipe())
    line, _ = lines.read_line_utf8(None)
    assert line is not None and line.startswith("PORT "), line
    return server, lines, f"http://127.0.0.1:{line.split()[1]}"


def read_until(lines, wanted, timeout_ms):
    """Reads the server's lines on a main loop until `wanted`; returns those read."""
    loop = GLib.MainLoop()
    seen = []

    def got(stream, result):
        line, _ = stream.read_line_finish_utf8(result)
        if line is not None:
            seen.append(line)
        if line is None or line == wanted:
            loop.quit()
        else:
            stream.read_line_async(GLib.PRIORITY_DEFAULT, None, got)

    lines.read_line_async(GLib.PRIORITY_DEFAULT, None, got)
    timeout = GLib.timeout_add(timeout_ms, lambda: loop.quit() or GLib.SOURCE_REMOVE)
    loop.run()
    if wanted in seen:
        GLib.source_remove(timeout)
    return seen


@test
def seed_over_http():
    """the seed over real HTTP: user 3's request is cancelled at 3 s and the server sees it closed"""
    server, lines, url = start_users_server()
    session = Soup.Session(max_conns_per_host=8)
    session.set_proxy_resolver(None)  # hermetic: no proxy from the environment

    def fetch(completion, cancellable, user_id):
        message = Soup.Message.new("GET", f"{url}/user/{user_id}")

        def done(session, result):
            try:
                completion.return_value(GLib.Variant("s", session.send_and_read_finish(result).get_data().decode()))
            except GLib.Error as error:
                completion.return_error(error)

        session.send_and_read_async(message, GLib.PRIORITY_DEFAULT, cancellable, done)

    group = Gather.Group()
    for i in range(1, 5):
        group.add_async_task(f"fetch user {i}", 3000, fetch, i)

    start = GLib.get_monotonic_time()
    outcomes = run_async(group)
    elapsed = (GLib.get_monotonic_time() - start) / 1000

    assert [o.get_result() and o.get_result().unpack() for o in outcomes] == ["user_1", "user_2", None, "user_4"]
    assert outcomes[2].get_error().matches(GATHER_ERROR, Gather.Error.TIMED_OUT)
    assert 3000 <= elapsed < 4500, f"finished in {elapsed} ms, not about 3000"
    # This process is still alive: only the cancelled request closes it.
    seen = read_until(lines, "CLOSED /user/3", 1500)
    assert "CLOSED /user/3" in seen, seen
    server.get_stdin_pipe().close()
    server.wait()


@test
def worker_from_python_is_refused():
    """a Gather.Worker implemented in Python is refused with an error, not a critical"""

    class Mine(GObject.Object, Gather.Worker):
        def do_run(self, parameters, cancellable):
            return GLib.Variant("s", "never")

    for call in (lambda w: Gather.Registry.new().add_worker(w),
                 lambda w: w.run(GLib.Variant("a{sv}", {}), None)):
        try:
            call(Mine())
        except GLib.Error as e:
            assert e.matches(GATHER_ERROR, Gather.Error.PLUGIN), e.message
            assert "written in C" in e.message
        else:
            raise AssertionError("no exception")


@test
def n_running_property():
    """n-running is a property, notified on the main thread as tasks start and end"""
    main = threading.get_ident()
    values = []
    group = new_group()
    for _ in range(3):
        group.add_worker_task("sleep", sleep_task(100), None, 0)
    group.connect("notify::n-running", lambda g, p: values.append((threading.get_ident(), g.props.n_running)))

    run_async(group)

    assert values, "n-running was never notified"
    assert {thread for thread, _ in values} == {main}
    assert max(n for _, n in values) >= 1
    assert group.props.n_running == 0


@test
def ctrl_c_cancels_a_blocking_run():
    """the documented Ctrl-C pattern: SIGINT stops the blocking run() at once, with every outcome"""
    group = new_group()
    for _ in range(4):
        group.add_worker_task("sleep", sleep_task(20000), None, 0)
    cancellable = Gio.Cancellable()
    # cancel() returns None: the source is removed after the first SIGINT,
    # and a second Ctrl-C stops the program as usual.
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, cancellable.cancel)
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()

    start = GLib.get_monotonic_time()
    outcomes = group.run(cancellable)
    elapsed = (GLib.get_monotonic_time() - start) / 1000

    assert elapsed < 3000, f"run() returned {elapsed} ms after start, not soon after SIGINT"
    assert [o.get_status() for o in outcomes] == [Gather.Status.CANCELLED] * 4


@test
def task_model_and_retries():
    """the task model, an open group and retries from Python (own thread bodies)"""
    main = threading.get_ident()
    group = Gather.Group(
        open=True,
        retry_policy=Gather.RetryPolicy(max_attempts=3, delay=5, max_delay=5),
        pool=Gather.Pool(max_threads=2),
    )
    model = group.props.tasks
    seen = {"off_thread": 0, "states": {}}
    calls = {}

    def on_notify(task, pspec):
        if threading.get_ident() != main:
            seen["off_thread"] += 1
        if pspec.name == "state":
            seen["states"].setdefault(task.props.index, []).append(task.props.state)

    def on_items_changed(m, position, removed, added):
        if threading.get_ident() != main:
            seen["off_thread"] += 1
        for i in range(position, position + added):
            m.get_item(i).connect("notify", on_notify)

    def body(cancellable, index):
        # Runs on a pool thread: fails its first attempt.
        calls[index] = calls.get(index, 0) + 1
        if calls[index] == 1:
            raise GLib.Error("first attempt fails")
        return GLib.Variant("u", index)

    def add(index):
        group.add_task(f"task {index}", 0, lambda c: body(c, index))

    def on_task_finished(g, outcome):
        index = outcome.get_index()
        if index + 1 < 10:
            add(index + 1)
        else:
            g.close()

    model.connect("items-changed", on_items_changed)
    group.connect("task-finished", on_task_finished)
    add(0)
    outcomes = run_async(group)

    assert len(outcomes) == 10, len(outcomes)
    assert seen["off_thread"] == 0, "signals on a pool thread"
    for i, outcome in enumerate(outcomes):
        assert outcome.get_status() == Gather.Status.OK, outcome.get_error()
        assert outcome.get_attempts() == 2, outcome.get_attempts()
        assert outcome.get_result().unpack() == i
        task = model.get_item(i)
        assert task.props.state == Gather.TaskState.OK
        assert task.props.attempt == 2
        assert seen["states"][i][-1] == Gather.TaskState.OK
    assert calls == {i: 2 for i in range(10)}, calls


def isolation_plugins():
    """A private directory (0700) holding the isolation fixture as gather-isolate.so."""
    directory = tempfile.mkdtemp(prefix="gather-python-")
    target = os.path.join(directory, "gather-isolate.so")
    shutil.copyfile(os.path.join(os.environ["GATHER_TEST_BAD_PLUGINS"], "fixture-isolate.so"), target)
    os.chmod(target, 0o644)
    return directory


@test
def isolated_tasks():
    """isolate-workers runs worker tasks in helper processes; a hung one is killed, and says so"""
    directory = isolation_plugins()
    try:
        registry = Gather.Registry()
        registry.add_search_path(directory)
        registry.load()
        group = Gather.Group(pool=Gather.Pool(max_threads=2), registry=registry,
                             isolate_workers=True, grace_period=20)
        assert group.props.isolate_workers
        group.add_worker_task("isolate-pid", None, "pid", 0)
        group.add_worker_task("isolate-hang", None, "hang", 50)
        limited = group.add_worker_task("isolate-allocate", GLib.Variant("a{sv}", {"mb": GLib.Variant("u", 256)}),
                                        "greedy", 0)
        group.set_task_limits(limited, 64 * 1024 * 1024, 0)

        outcomes = run_async(group)

        assert outcomes[0].get_status() == Gather.Status.OK
        assert outcomes[0].get_result().unpack() != os.getpid()
        assert outcomes[1].get_status() == Gather.Status.TIMEOUT
        assert outcomes[2].get_status() == Gather.Status.ERROR
        assert outcomes[2].get_error().matches(GATHER_ERROR, Gather.Error.LIMIT_EXCEEDED), \
            outcomes[2].get_error().message
        # Marked once the helper and its processes are gone.
        context = GLib.MainContext.default()
        deadline = GLib.get_monotonic_time() + 30 * 1000 * 1000
        tick = GLib.timeout_add(5, lambda: GLib.SOURCE_CONTINUE)
        while not outcomes[1].get_killed() and GLib.get_monotonic_time() < deadline:
            context.iteration(True)
        GLib.source_remove(tick)
        assert outcomes[1].get_killed()
        assert not outcomes[1].get_abandoned()
    finally:
        shutil.rmtree(directory)


@test
def not_isolatable():
    """a Python task body cannot be isolated: GLib.Error NOT_ISOLATABLE"""
    group = new_group()
    index = group.add_task("body", 0, lambda cancellable: GLib.Variant("s", "here"))
    try:
        group.set_task_isolated(index, True)
    except GLib.Error as e:
        assert e.matches(GATHER_ERROR, Gather.Error.NOT_ISOLATABLE), e.message
        assert "“body”" in e.message, e.message
    else:
        raise AssertionError("no exception")
    outcomes = group.run(None)
    assert outcomes[0].get_result().unpack() == "here"


@test
def isolated_registry():
    """an isolated registry loads the plugins in a helper; its workers run there"""
    registry = Gather.Registry(isolated=True)
    registry.add_default_search_paths()
    registry.load()
    assert registry.props.isolated
    sleep = registry.lookup_worker("sleep")
    assert sleep.get_plugin_path().endswith("gather-sleep.so")
    assert len(registry.list_plugins()) == 0
    try:
        sleep.run(sleep_task(1, "here"), None)
    except GLib.Error as e:
        assert e.matches(GATHER_ERROR, Gather.Error.NOT_ISOLATABLE), e.message
    else:
        raise AssertionError("no exception")
    group = Gather.Group(pool=Gather.Pool(max_threads=2), registry=registry)
    group.add_worker_task("sleep", sleep_task(1, "there"), None, 0)
    outcomes = group.run(None)
    assert outcomes[0].get_result().unpack() == "there"



def main():
    print(f"1..{len(TESTS)}")
    failures = 0
    for number, function in enumerate(TESTS, 1):
        name = function.__doc__.strip()
        try:
            function()
            print(f"ok {number} - {name}")
        except Exception:  # noqa: BLE001 - report every failure as TAP
            failures += 1
            print(f"not ok {number} - {name}")
            for line in traceback.format_exc().splitlines():
                print(f"# {line}")
        sys.stdout.flush()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
