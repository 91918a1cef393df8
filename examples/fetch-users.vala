/* fetch-users.vala: the seed scenario in Vala.
 *
 * Four users are fetched at once by the "sleep" plugin worker: 2 s each,
 * except user 3, which takes 5 s and has a 3 s timeout. User 3 times out,
 * the others carry on, and the run takes about 3 s.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Something to bind the group's progress to, as a progress bar would be. */
class Progress : Object {
    public double fraction { get; set; }
}

async void fetch_users (MainLoop loop) {
    /* Sleeping tasks block a thread each: one thread per task. */
    var group = new Gather.Group ();
    group.pool = new Gather.Pool (4);

    try {
        for (uint id = 1; id <= 4; id++) {
            var parameters = new VariantBuilder (VariantType.VARDICT);
            parameters.add ("{sv}", "ms", new Variant.uint32 (id == 3 ? 5000 : 2000));
            parameters.add ("{sv}", "value", new Variant.string ("user_%u".printf (id)));
            group.add_worker_task ("sleep", parameters.end (), "fetch user %u".printf (id), 3000);
        }
    } catch (Error e) {
        printerr ("%s\n", e.message);
        loop.quit ();
        return;
    }

    var progress = new Progress ();
    group.bind_property ("fraction", progress, "fraction", BindingFlags.SYNC_CREATE);
    progress.notify["fraction"].connect (() => print ("progress: %.0f%%\n", progress.fraction * 100));
    group.task_finished.connect ((outcome) => print ("done: %s\n", outcome.get_label ()));
    group.finished.connect ((outcomes) => print ("all %u tasks have an outcome\n", outcomes.length));

    var start = get_monotonic_time ();
    try {
        var outcomes = yield group.run ();

        foreach (var outcome in outcomes) {
            if (outcome.get_status () == Gather.Status.OK)
                print ("%s: %s\n", outcome.get_label (), outcome.get_result ().get_variant ().get_string ());
            else if (outcome.get_error () is Gather.Error.TIMED_OUT)
                print ("%s: timeout (%s)\n", outcome.get_label (), outcome.get_error ().message);
            else
                print ("%s: %s\n", outcome.get_label (), outcome.get_error ().message);
        }
    } catch (Error e) {
        printerr ("%s\n", e.message);
    }
    print ("finished in %.1f s\n", (get_monotonic_time () - start) / 1e6);

    loop.quit ();
}

int main () {
    var loop = new MainLoop ();

    Intl.setlocale (LocaleCategory.ALL, "");
    fetch_users.begin (loop);
    loop.run ();

    return 0;
}
