"""test-python.py: libgather from PyGObject, through GObject-introspection.

Prints TAP. Needs GATHER_PLUGIN_PATH (see with-plugins.sh) and runs with
G_DEBUG=fatal-criticals: any critical aborts the test.

SPDX-License-Identifier: LGPL-2.1-or-later
"""

import sys
import threading
import traceback

import gi

gi.require_version("Gather", "1")
from gi.repository import Gather, Gio, GLib, GObject  # noqa: E402

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
