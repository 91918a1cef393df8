#!/usr/bin/python3
"""fetch-users.py: the seed scenario in Python, with PyGObject.

Four users are fetched at once by the "sleep" plugin worker: 2 s each,
except user 3, which takes 5 s and has a 3 s timeout. User 3 times out, the
others carry on, and the run takes about 3 s. It runs twice: with the
blocking run, then with the asynchronous one.

    /usr/bin/python3 examples/fetch-users.py

SPDX-License-Identifier: LGPL-2.1-or-later
"""

import gi

gi.require_version("Gather", "1")
from gi.repository import Gather, GLib, GObject  # noqa: E402


class Progress(GObject.Object):
    """Something to bind the group's progress to, as a progress bar would be."""

    fraction = GObject.Property(type=float, default=0.0)


def new_group():
    # Sleeping tasks block a thread each: one thread per task.
    group = Gather.Group(pool=Gather.Pool(max_threads=4))
    for i in range(1, 5):
        parameters = GLib.Variant("a{sv}", {
            "ms": GLib.Variant("u", 5000 if i == 3 else 2000),
            "value": GLib.Variant("s", f"user_{i}"),
        })
        group.add_worker_task("sleep", parameters, f"fetch user {i}", 3000)

    progress = Progress()
    group.bind_property("fraction", progress, "fraction", GObject.BindingFlags.SYNC_CREATE)
    progress.connect("notify::fraction", lambda p, _: print(f"progress: {p.props.fraction:.0%}"))
    group.connect("task-finished", lambda g, outcome: print(f"done: {outcome.get_label()}"))
    group.connect("finished", lambda g, outcomes: print(f"all {len(outcomes)} tasks have an outcome"))
    group.keep_progress = progress
    return group


def show(outcomes, start):
    for outcome in outcomes:
        if outcome.get_status() == Gather.Status.OK:
            print(f"{outcome.get_label()}: {outcome.get_result().unpack()}")
        elif outcome.get_error().matches(Gather.error_quark(), Gather.Error.TIMED_OUT):
            print(f"{outcome.get_label()}: timeout ({outcome.get_error().message})")
        else:
            print(f"{outcome.get_label()}: {outcome.get_error().message}")
    print(f"finished in {(GLib.get_monotonic_time() - start) / 1e6:.1f} s")


# The blocking run: it iterates the main context itself.
start = GLib.get_monotonic_time()
show(new_group().run(None), start)

# The asynchronous run, on a main loop.
loop = GLib.MainLoop()


def done(group, result):
    show(group.run_finish(result), start)
    loop.quit()


start = GLib.get_monotonic_time()
new_group().run_async(None, done)
loop.run()
