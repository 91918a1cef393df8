#!/usr/bin/python3
"""fetch-users.py: the seed scenario over HTTP in Python, with async tasks.

    /usr/bin/python3 examples/http/fetch-users.py URL     e.g. http://127.0.0.1:8080

Four users are fetched at once with libsoup, on the main loop, holding no
thread while they wait. Each has a 3 s timeout; user 3 takes 5 s, so its
request is cancelled at 3 s while the others carry on. Ctrl-C cancels the
run: every task still running ends CANCELLED, and the outcomes are printed.

SPDX-License-Identifier: LGPL-2.1-or-later
"""

import signal
import sys

import gi

gi.require_version("Gather", "1")
gi.require_version("Soup", "3.0")
from gi.repository import Gather, Gio, GLib, Soup  # noqa: E402

if len(sys.argv) != 2:
    sys.exit("usage: fetch-users.py URL")
url = sys.argv[1]

# libsoup opens 2 connections per host by default; fetch all at once.
session = Soup.Session(max_conns_per_host=8)


def fetch_user(completion, cancellable, user_id):
    """Runs on the main loop when the task starts."""
    message = Soup.Message.new("GET", f"{url}/user/{user_id}")

    def done(session, result):
        try:
            body = session.send_and_read_finish(result)
            if message.get_status() != Soup.Status.OK:
                raise GLib.Error.new_literal(Gio.io_error_quark(), f"HTTP {message.get_status()}",
                                             Gio.IOErrorEnum.FAILED)
            completion.return_value(GLib.Variant("s", body.get_data().decode()))
        except GLib.Error as error:
            completion.return_error(error)

    session.send_and_read_async(message, GLib.PRIORITY_DEFAULT, cancellable, done)


group = Gather.Group()
for i in range(1, 5):
    group.add_async_task(f"fetch user {i}", 3000, fetch_user, i)

# Ctrl-C cancels the run, which still returns every outcome: run() iterates
# the main context, where this source is attached.
cancellable = Gio.Cancellable()
GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, cancellable.cancel)

start = GLib.get_monotonic_time()
for outcome in group.run(cancellable):
    error = outcome.get_error()
    if error is None:
        print(f"{outcome.get_label()}: {outcome.get_result().unpack()}")
    elif error.matches(Gather.error_quark(), Gather.Error.TIMED_OUT):
        print(f"{outcome.get_label()}: timeout ({error.message})")
    else:
        print(f"{outcome.get_label()}: {error.message}")
print(f"finished in {(GLib.get_monotonic_time() - start) / 1e6:.1f} s")
