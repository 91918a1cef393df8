/* fetch-users.vala: the seed scenario over HTTP in Vala, with async tasks.
 *
 *   fetch-users-http-vala URL     e.g. http://127.0.0.1:8080
 *
 * Four users are fetched at once with libsoup by an async method, on the
 * main loop, holding no thread while they wait. Each has a 3 s timeout;
 * user 3 takes 5 s, so its request is cancelled at 3 s while the others
 * carry on.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

async string fetch_user (Soup.Session session, string url, uint id,
                         Cancellable cancellable) throws Error {
    var message = new Soup.Message ("GET", "%s/user/%u".printf (url, id));
    var body = yield session.send_and_read_async (message, Priority.DEFAULT, cancellable);
    if (message.get_status () != Soup.Status.OK)
        throw new IOError.FAILED ("HTTP %u", message.get_status ());
    return (string) body.get_data ();
}

async int run (string url) {
    // libsoup opens 2 connections per host by default; fetch all at once.
    var session = new Soup.Session.with_options ("max-conns-per-host", 8);
    var group = new Gather.Group ();

    for (uint id = 1; id <= 4; id++) {
        var user = id;
        try {
            // Runs on the main loop when the task starts.
            group.add_async_task ("fetch user %u".printf (user), 3000, (completion, cancellable) => {
                fetch_user.begin (session, url, user, cancellable, (obj, res) => {
                    try {
                        completion.return_value (new Variant.string (fetch_user.end (res)));
                    } catch (Error e) {
                        completion.return_error (e);
                    }
                });
            });
        } catch (Error e) {
            printerr ("%s\n", e.message);
            return 1;
        }
    }

    var start = get_monotonic_time ();
    try {
        var outcomes = yield group.run ();
        show (outcomes);
    } catch (Error e) {
        printerr ("%s\n", e.message);
        return 1;
    }
    print ("finished in %.1f s\n", (get_monotonic_time () - start) / 1e6);
    return 0;
}

void show (GenericArray<weak Gather.Outcome> outcomes) {
    foreach (var outcome in outcomes) {
        unowned Error? error = outcome.get_error ();
        if (error == null)
            print ("%s: %s\n", outcome.get_label (), outcome.get_result ().get_string ());
        else if (error.matches (Gather.Error.quark (), Gather.Error.TIMED_OUT))
            print ("%s: timeout (%s)\n", outcome.get_label (), error.message);
        else
            print ("%s: %s\n", outcome.get_label (), error.message);
    }
}

int main (string[] args) {
    Intl.setlocale (LocaleCategory.ALL, "");
    if (args.length != 2) {
        printerr ("usage: %s URL\n", args[0]);
        return 2;
    }

    var loop = new MainLoop ();
    int status = 0;
    run.begin (args[1], (obj, res) => {
        status = run.end (res);
        loop.quit ();
    });
    loop.run ();
    return status;
}
