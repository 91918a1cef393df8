// fetch-users.js: the seed scenario over HTTP in GJS, with async tasks.
//
//   gjs -m examples/http/fetch-users.js URL     e.g. http://127.0.0.1:8080
//
// Four users are fetched at once with libsoup, on the main loop, holding no
// thread while they wait. Each has a 3 s timeout; user 3 takes 5 s, so its
// request is cancelled at 3 s while the others carry on.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Soup from 'gi://Soup?version=3.0';
import Gather from 'gi://Gather?version=1';
import System from 'system';

Gio._promisify(Gather.Group.prototype, 'run_async', 'run_finish');
Gio._promisify(Soup.Session.prototype, 'send_and_read_async', 'send_and_read_finish');

const [url] = ARGV;
if (!url) {
    printerr('usage: fetch-users.js URL');
    System.exit(2);
}

// libsoup opens 2 connections per host by default; fetch all at once.
const session = new Soup.Session({max_conns_per_host: 8});

async function fetchUser(id, cancellable) {
    const message = Soup.Message.new('GET', `${url}/user/${id}`);
    const bytes = await session.send_and_read_async(message, GLib.PRIORITY_DEFAULT, cancellable);
    if (message.get_status() !== Soup.Status.OK)
        throw new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED, `HTTP ${message.get_status()}`);
    return new TextDecoder().decode(bytes.toArray());
}

const group = new Gather.Group();
for (const id of [1, 2, 3, 4]) {
    // Runs on the main loop when the task starts; the task's own
    // cancellable is cancelled at its 3 s timeout.
    group.add_async_task(`fetch user ${id}`, 3000, async (completion, cancellable) => {
        try {
            completion.return_value(new GLib.Variant('s', await fetchUser(id, cancellable)));
        } catch (e) {
            completion.return_error(e);
        }
    });
}

const start = GLib.get_monotonic_time();
const loop = new GLib.MainLoop(null, false);
group.run_async(null).then(outcomes => {
    for (const outcome of outcomes) {
        const error = outcome.get_error();
        if (!error)
            print(`${outcome.get_label()}: ${outcome.get_result().recursiveUnpack()}`);
        else if (error.matches(Gather.Error, Gather.Error.TIMED_OUT))
            print(`${outcome.get_label()}: timeout (${error.message})`);
        else
            print(`${outcome.get_label()}: ${error.message}`);
    }
    print(`finished in ${((GLib.get_monotonic_time() - start) / 1e6).toFixed(1)} s`);
}).finally(() => loop.quit());
loop.run();
