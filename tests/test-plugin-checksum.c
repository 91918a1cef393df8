/* test-plugin-checksum.c: the "checksum" worker of the shipped plugins.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __linux__
# include <linux/capability.h>
# include <sys/syscall.h>
#endif

#include <glib/gstdio.h>

#include "test-util.h"

/* Bytes of the file that every algorithm hashes: several of the worker's
 * 64 KiB chunks, and not a whole number of them. */
#define VARIED_SIZE (300 * 1024 + 123)

/* A sparse file that would take seconds to hash. */
#define HUGE_SIZE (G_GINT64_CONSTANT (4) << 30)

#define UNREADABLE_PROBE_PATH "/gather/plugin/checksum/unreadable/subprocess/probe"
#define UNREADABLE_RUN_PATH "/gather/plugin/checksum/unreadable/subprocess/run"

#define assert_status(outcome, expected) \
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, (expected))

typedef struct
{
  char *dir;   /* a temporary directory of the test's files */
} Fixture;

/* Loaded once per process: a plugin file can only be loaded from one
 * directory in a process. Main thread only. */
static GatherRegistry *shipped_registry;
static char *shipped_dir;

static const char *algorithms[] = { "md5", "sha1", "sha256", "sha384", "sha512" };
static const GChecksumType algorithm_types[] = {
  G_CHECKSUM_MD5, G_CHECKSUM_SHA1, G_CHECKSUM_SHA256, G_CHECKSUM_SHA384, G_CHECKSUM_SHA512,
};

static GatherRegistry *
get_registry (void)
{
  if (shipped_registry == NULL)
    shipped_registry = test_registry_new ("shipped", &shipped_dir);

  return shipped_registry;
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("gather-checksum-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  test_remove_tree (fixture->dir);
  g_free (fixture->dir);
}

static char *
write_file (Fixture    *fixture,
            const char *name,
            const void *contents,
            gsize       length)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (fixture->dir, name, NULL);

  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);

  return path;
}

/* Bytes that vary, the same on every run. */
static guchar *
varied_bytes (gsize length)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240229);
  guchar *bytes = g_malloc (length);

  for (gsize i = 0; i < length; i++)
    bytes[i] = (guchar) g_rand_int_range (rand, 0, 256);

  return bytes;
}

/* A file of @size bytes that takes no room on disk. */
static char *
make_sparse_file (Fixture *fixture,
                  gint64   size)
{
  char *path = g_build_filename (fixture->dir, "huge", NULL);
  int fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) size), ==, 0);
  g_assert_true (g_close (fd, NULL));

  return path;
}

/* Floating parameters for the worker; @algorithm may be NULL. */
static GVariant *
checksum_parameters (const char *path,
                     const char *algorithm)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "path", "^ay", path);
  if (algorithm != NULL)
    g_variant_dict_insert (&dict, "algorithm", "s", algorithm);

  return g_variant_dict_end (&dict);
}

static GatherOutcome *
run_checksum (const char *path,
              const char *algorithm)
{
  return test_run_worker (get_registry (), "checksum",
                          checksum_parameters (path, algorithm), 0);
}

static void
assert_result (GatherOutcome *outcome,
               const char    *path,
               const char    *algorithm,
               const char    *digest,
               guint64        size)
{
  GVariant *result;
  const char *string;
  guint64 number;

  assert_status (outcome, GATHER_STATUS_OK);
  g_assert_null (gather_outcome_get_error (outcome));
  result = gather_outcome_get_result (outcome);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "a{sv}");
  g_assert_cmpuint (g_variant_n_children (result), ==, 4);

  g_assert_true (g_variant_lookup (result, "path", "&s", &string));
  g_assert_cmpstr (string, ==, path);
  g_assert_true (g_variant_lookup (result, "algorithm", "&s", &string));
  g_assert_cmpstr (string, ==, algorithm);
  g_assert_true (g_variant_lookup (result, "digest", "&s", &string));
  g_assert_cmpstr (string, ==, digest);
  g_assert_true (g_variant_lookup (result, "size", "t", &number));
  g_assert_cmpuint (number, ==, size);
}

/* @outcome failed with the G_IO_ERROR @code, naming @path. */
static void
assert_io_error (GatherOutcome *outcome,
                 gint           code,
                 const char    *path)
{
  GError *error = gather_outcome_get_error (outcome);

  assert_status (outcome, GATHER_STATUS_ERROR);
  g_assert_null (gather_outcome_get_result (outcome));
  g_assert_error (error, G_IO_ERROR, code);
  test_assert_message_has (error, path);
}

static void
test_checksum_worker (void)
{
  GatherWorker *worker = gather_registry_lookup_worker (get_registry (), "checksum");
  g_autoptr(GPtrArray) parameters = NULL;
  GatherParameter *parameter;

  g_test_summary ("The checksum worker is shipped and declares its "
                  "parameters and result type");

  g_assert_nonnull (worker);
  g_assert_cmpstr (gather_worker_get_name (worker), ==, "checksum");
  g_assert_nonnull (gather_worker_get_description (worker));
  g_assert_null (strchr (gather_worker_get_description (worker), '\n'));
  g_assert_cmpstr (gather_worker_get_parameter_type (worker), ==, "a{sv}");
  g_assert_cmpstr (gather_worker_get_result_type (worker), ==, "a{sv}");

  parameters = gather_worker_list_parameters (worker);
  g_assert_cmpuint (parameters->len, ==, 2);
  parameter = g_ptr_array_index (parameters, 0);
  g_assert_cmpstr (parameter->name, ==, "path");
  g_assert_cmpstr (parameter->type, ==, "ay");
  g_assert_cmpint (parameter->flags, ==, GATHER_PARAMETER_REQUIRED);
  parameter = g_ptr_array_index (parameters, 1);
  g_assert_cmpstr (parameter->name, ==, "algorithm");
  g_assert_cmpstr (parameter->type, ==, "s");
  g_assert_cmpint (parameter->flags, ==, GATHER_PARAMETER_NONE);
}

static void
test_checksum_abc (Fixture       *fixture,
                   gconstpointer  data)
{
  static const char *sha256_abc =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  g_autofree char *path = write_file (fixture, "abc", "abc", 3);
  g_autoptr(GatherOutcome) outcome = NULL;
  g_autoptr(GatherOutcome) by_default = NULL;

  g_test_summary ("The SHA-256 of \"abc\" is the one of FIPS 180-2, and "
                  "SHA-256 is the default algorithm");

  outcome = run_checksum (path, "sha256");
  assert_result (outcome, path, "sha256", sha256_abc, 3);

  by_default = run_checksum (path, NULL);
  assert_result (by_default, path, "sha256", sha256_abc, 3);
}

static void
test_checksum_algorithms (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autofree guchar *bytes = varied_bytes (VARIED_SIZE);
  g_autofree char *path = write_file (fixture, "varied", bytes, VARIED_SIZE);

  g_test_summary ("Every algorithm agrees with GChecksum over a file of "
                  "several chunks, and counts its bytes");

  for (guint i = 0; i < G_N_ELEMENTS (algorithms); i++)
    {
      g_autofree char *expected = g_compute_checksum_for_data (algorithm_types[i],
                                                               bytes, VARIED_SIZE);
      g_autoptr(GatherOutcome) outcome = run_checksum (path, algorithms[i]);

      assert_result (outcome, path, algorithms[i], expected, VARIED_SIZE);
    }
}

static void
test_checksum_empty (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *path = write_file (fixture, "empty", "", 0);

  g_test_summary ("An empty file hashes to the digest of no bytes, size 0");

  for (guint i = 0; i < G_N_ELEMENTS (algorithms); i++)
    {
      g_autofree char *expected = g_compute_checksum_for_data (algorithm_types[i],
                                                               (const guchar *) "", 0);
      g_autoptr(GatherOutcome) outcome = run_checksum (path, algorithms[i]);

      assert_result (outcome, path, algorithms[i], expected, 0);
    }
}

static void
test_checksum_parallel (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autofree guchar *bytes = varied_bytes (VARIED_SIZE);
  g_autofree char *path = write_file (fixture, "varied", bytes, VARIED_SIZE);
  g_autoptr(GatherPool) pool = gather_pool_new (4);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  const guint n_tasks = 4 * G_N_ELEMENTS (algorithms);

  g_test_summary ("Tasks of the worker run on several threads at once and "
                  "each gets its own right digest");

  gather_group_set_pool (group, pool);
  gather_group_set_registry (group, get_registry ());
  for (guint i = 0; i < n_tasks; i++)
    {
      const char *algorithm = algorithms[i % G_N_ELEMENTS (algorithms)];

      g_assert_cmpuint (gather_group_add_worker_task (group, "checksum",
                                                      checksum_parameters (path, algorithm),
                                                      algorithm, 0, &error), ==, i);
      g_assert_no_error (error);
    }

  outcomes = test_run_and_wait (group, NULL, 30000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, n_tasks);

  for (guint i = 0; i < n_tasks; i++)
    {
      guint a = i % G_N_ELEMENTS (algorithms);
      g_autofree char *expected = g_compute_checksum_for_data (algorithm_types[a],
                                                               bytes, VARIED_SIZE);

      assert_result (test_outcome (outcomes, i), path, algorithms[a], expected, VARIED_SIZE);
    }
}

static void
test_checksum_unknown_algorithm (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autofree char *path = write_file (fixture, "abc", "abc", 3);
  g_autoptr(GatherOutcome) outcome = NULL;
  GError *error;

  g_test_summary ("An unknown algorithm is an invalid argument whose "
                  "message lists the accepted names");

  outcome = run_checksum (path, "sha3-256");
  assert_status (outcome, GATHER_STATUS_ERROR);
  error = gather_outcome_get_error (outcome);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  test_assert_message_has (error, "sha3-256");
  for (guint i = 0; i < G_N_ELEMENTS (algorithms); i++)
    test_assert_message_has (error, algorithms[i]);
}

static void
test_checksum_missing (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "no-such-file", NULL);
  g_autoptr(GatherOutcome) outcome = NULL;

  g_test_summary ("A missing file is G_IO_ERROR_NOT_FOUND, naming the path");

  outcome = run_checksum (path, NULL);
  assert_io_error (outcome, G_IO_ERROR_NOT_FOUND, path);
}

static void
test_checksum_directory (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GatherOutcome) outcome = NULL;

  g_test_summary ("A directory is G_IO_ERROR_IS_DIRECTORY, naming the path");

  outcome = run_checksum (fixture->dir, NULL);
  assert_io_error (outcome, G_IO_ERROR_IS_DIRECTORY, fixture->dir);
}

static void
test_checksum_fifo (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "fifo", NULL);
  g_autoptr(GatherOutcome) outcome = NULL;

  g_test_summary ("A FIFO without a writer is refused at once as not a "
                  "regular file, rather than blocking the worker");

  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  outcome = run_checksum (path, NULL);
  assert_io_error (outcome, G_IO_ERROR_NOT_REGULAR_FILE, path);
}

/* Creates a file of mode 0000 in a new directory, which goes to *@out_dir. */
static char *
make_unreadable_file (char **out_dir)
{
  g_autoptr(GError) error = NULL;
  char *path;

  *out_dir = g_dir_make_tmp ("gather-checksum-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (*out_dir, "unreadable", NULL);
  g_file_set_contents (path, "secret", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0), ==, 0);

  return path;
}

/* Whether this process can open @path for reading whatever its mode. */
static gboolean
can_open (const char *path)
{
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);

  if (fd < 0)
    {
      g_assert_cmpint (errno, ==, EACCES);
      return FALSE;
    }

  g_assert_true (g_close (fd, NULL));
  return TRUE;
}

/* Hashes a file of mode 0000 if this process cannot read it: the worker
 * must fail with G_IO_ERROR_PERMISSION_DENIED. Returns FALSE, having
 * checked nothing, if this process can read it anyway. */
static gboolean
check_unreadable (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = make_unreadable_file (&dir);
  gboolean checked = FALSE;

  if (!can_open (path))
    {
      outcome = run_checksum (path, NULL);
      assert_io_error (outcome, G_IO_ERROR_PERMISSION_DENIED, path);
      checked = TRUE;
    }

  test_remove_tree (dir);

  return checked;
}

/* Drops, from this thread and the threads it creates from now on, the
 * capabilities that let root read any file. */
static gboolean
drop_read_override (void)
{
#ifdef __linux__
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];

  memset (caps, 0, sizeof caps);
  if (syscall (SYS_capget, &header, caps) != 0)
    return FALSE;
  caps[CAP_TO_INDEX (CAP_DAC_OVERRIDE)].effective &= ~CAP_TO_MASK (CAP_DAC_OVERRIDE);
  caps[CAP_TO_INDEX (CAP_DAC_READ_SEARCH)].effective &= ~CAP_TO_MASK (CAP_DAC_READ_SEARCH);

  return syscall (SYS_capset, &header, caps) == 0;
#else
  return FALSE;
#endif
}

/* In a subprocess: passes if dropping the capabilities makes mode 0000
 * count. Runs no worker, so that a failing worker fails the test rather
 * than skipping it. */
static void
test_checksum_unreadable_probe (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = make_unreadable_file (&dir);

  g_test_summary ("Subprocess of /gather/plugin/checksum/unreadable: whether "
                  "dropping capabilities makes file permissions apply");

  g_assert_true (drop_read_override ());
  g_assert_false (can_open (path));
  test_remove_tree (dir);
}

/* In a subprocess: the check, without the capabilities. They are per
 * thread, inherited by threads created later: drop them before the first
 * group starts any. */
static void
test_checksum_unreadable_run (void)
{
  g_test_summary ("Subprocess of /gather/plugin/checksum/unreadable: the "
                  "check, without the capabilities that bypass permissions");

  g_assert_true (drop_read_override ());
  g_assert_true (check_unreadable ());
}

static void
test_checksum_unreadable (void)
{
  guint64 timeout = (guint64) 30 * G_USEC_PER_SEC * test_slowdown ();

  g_test_summary ("A file this process may not read is "
                  "G_IO_ERROR_PERMISSION_DENIED, naming the path; as root, "
                  "checked in a subprocess without CAP_DAC_OVERRIDE");

  if (check_unreadable ())
    return;

  /* Root, or a process with CAP_DAC_OVERRIDE: try without it. The
   * capabilities are per thread, and the pool's threads exist already
   * here, so it is done in a fresh process. */
  g_test_trap_subprocess (UNREADABLE_PROBE_PATH, timeout, G_TEST_SUBPROCESS_DEFAULT);
  if (!g_test_trap_has_passed ())
    {
      g_test_skip ("This process reads files whatever their permissions (it "
                   "runs as root or with CAP_DAC_OVERRIDE) and cannot drop "
                   "that privilege");
      return;
    }

  g_test_message ("Reads ignore file permissions here: checking in a "
                  "subprocess without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH");
  g_test_trap_subprocess (UNREADABLE_RUN_PATH, timeout, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

typedef struct
{
  GatherWorker *worker;
  GVariant     *parameters;     /* owned */
  GCancellable *cancellable;    /* owned */
  GMainContext *context;        /* owned: woken when done */
  GVariant     *result;         /* owned; written by the thread */
  GError       *error;          /* owned; written by the thread */
  gint64        cancel_time;    /* written by the main thread */
  gint64        return_time;    /* written by the thread */
  gboolean      done;           /* atomic */
} HashThread;

static gpointer
hash_thread_run (gpointer data)
{
  HashThread *hash = data;

  hash->result = gather_worker_run (hash->worker, hash->parameters,
                                    hash->cancellable, &hash->error);
  hash->return_time = g_get_monotonic_time ();
  g_atomic_int_set (&hash->done, TRUE);
  g_main_context_wakeup (hash->context);

  return NULL;
}

static gboolean
cancel_hash (gpointer data)
{
  HashThread *hash = data;

  hash->cancel_time = g_get_monotonic_time ();
  g_cancellable_cancel (hash->cancellable);

  return G_SOURCE_REMOVE;
}

static void
test_checksum_cancel (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *path = make_sparse_file (fixture, HUGE_SIZE);
  HashThread hash = { NULL };
  GThread *thread;
  GSource *source;
  gint64 latency;

  g_test_summary ("Cancelling the worker in the middle of a huge file "
                  "makes it return G_IO_ERROR_CANCELLED promptly, not once "
                  "it has read the whole file");

  hash.worker = gather_registry_lookup_worker (get_registry (), "checksum");
  hash.parameters = g_variant_ref_sink (checksum_parameters (path, "sha512"));
  hash.cancellable = g_cancellable_new ();
  hash.context = g_main_context_ref_thread_default ();

  source = g_timeout_source_new (20);
  g_source_set_callback (source, cancel_hash, &hash, NULL);
  g_source_attach (source, hash.context);

  thread = g_thread_new ("checksum", hash_thread_run, &hash);
  g_assert_true (test_iterate_until (&hash.done, 10000));
  g_thread_join (thread);

  g_assert_null (hash.result);
  g_assert_error (hash.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (hash.cancel_time, >, 0);
  latency = hash.return_time - hash.cancel_time;
  g_test_message ("Returned %" G_GINT64_FORMAT " us after the cancellation", latency);
  /* A few milliseconds, but the thread may be preempted on a loaded
   * machine; hashing the whole 4 GiB takes seconds. */
  g_assert_cmpint (latency, <, (gint64) 500 * 1000 * test_slowdown ());

  g_source_destroy (source);
  g_source_unref (source);
  g_clear_error (&hash.error);
  g_main_context_unref (hash.context);
  g_object_unref (hash.cancellable);
  g_variant_unref (hash.parameters);
}

static void
test_checksum_cancelled_before (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autofree char *path = write_file (fixture, "abc", "abc", 3);
  GatherWorker *worker = gather_registry_lookup_worker (get_registry (), "checksum");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GVariant) parameters = g_variant_ref_sink (checksum_parameters (path, NULL));
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("A worker whose cancellable is cancelled already hashes "
                  "nothing and returns G_IO_ERROR_CANCELLED");

  g_cancellable_cancel (cancellable);
  result = gather_worker_run (worker, parameters, cancellable, &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_checksum_timeout (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *path = make_sparse_file (fixture, HUGE_SIZE);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  GatherOutcome *outcome;
  gint64 start;
  gint64 elapsed;

  g_test_summary ("Hashing a huge file under a 50 ms task timeout ends as "
                  "a timeout, the worker returning within the grace period, "
                  "in about a second at most, not the seconds the whole file "
                  "takes");

  /* A grace period a loaded machine can meet (the default, 100 ms, is
   * not), still far shorter than hashing the whole file. */
  gather_group_set_registry (group, get_registry ());
  gather_group_set_grace_period (group, 1000 * test_slowdown ());
  gather_group_add_worker_task (group, "checksum", checksum_parameters (path, NULL),
                                NULL, 50, &error);
  g_assert_no_error (error);

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (group, NULL, 60000, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_no_error (error);
  outcome = test_outcome (outcomes, 0);

  assert_status (outcome, GATHER_STATUS_TIMEOUT);
  g_assert_error (gather_outcome_get_error (outcome), GATHER_ERROR, GATHER_ERROR_TIMED_OUT);
  g_assert_null (gather_outcome_get_result (outcome));
  g_assert_false (gather_outcome_get_abandoned (outcome));
  g_test_message ("The run took %" G_GINT64_FORMAT " us", elapsed);
  g_assert_cmpint (elapsed, <, (gint64) 1000 * 1000 * test_slowdown ());
}

static void
test_checksum_latin1_name (Fixture       *fixture,
                           gconstpointer  data)
{
  /* "café" in Latin-1: a real-world file name that is not UTF-8. */
  g_autofree char *path = g_build_filename (fixture->dir, "caf\xe9", NULL);
  g_autofree char *shown = g_filename_display_name (path);
  g_autoptr(GatherOutcome) outcome = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("A file name that is not UTF-8 is hashed: the path is a byte "
                  "string; the result shows it as a display name");
  g_test_bug ("9");

  g_file_set_contents (path, "abc", -1, &error);
  g_assert_no_error (error);

  outcome = run_checksum (path, "md5");
  assert_result (outcome, shown, "md5", "900150983cd24fb0d6963f7d28e17f72", 3);
  g_assert_true (g_utf8_validate (shown, -1, NULL));
}

static void
test_checksum_bytestring_forms (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "abc", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GatherOutcome) unterminated = NULL;
  g_autoptr(GatherOutcome) nul_inside = NULL;
  g_autoptr(GatherOutcome) empty = NULL;
  g_autofree char *with_nul = NULL;
  GVariantDict dict;

  g_test_summary ("A path without the terminating NUL (as bindings make byte "
                  "strings) works; one with a NUL inside, or an empty one, is refused");
  g_test_bug ("9");

  g_file_set_contents (path, "abc", -1, &error);
  g_assert_no_error (error);

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert_value (&dict, "path", g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, path,
                                                                         strlen (path), 1));
  unterminated = test_run_worker (get_registry (), "checksum", g_variant_dict_end (&dict), 0);
  assert_result (unterminated, path, "sha256",
                 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 3);

  /* "PATH\0zzz": hashing PATH would be a different request. */
  with_nul = g_strconcat (path, "?zzz", NULL);
  with_nul[strlen (path)] = '\0';
  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert_value (&dict, "path", g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, with_nul,
                                                                         strlen (path) + 4, 1));
  nul_inside = test_run_worker (get_registry (), "checksum", g_variant_dict_end (&dict), 0);
  assert_status (nul_inside, GATHER_STATUS_ERROR);
  g_assert_error (gather_outcome_get_error (nul_inside), G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME);
  test_assert_message_has (gather_outcome_get_error (nul_inside), "NUL byte");

  empty = run_checksum ("", NULL);
  assert_status (empty, GATHER_STATUS_ERROR);
  g_assert_error (gather_outcome_get_error (empty), G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  test_assert_message_has (gather_outcome_get_error (empty), "empty");
}

static void
add_test (const char *path,
          void (*func) (Fixture *, gconstpointer))
{
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/gather/plugin/checksum/worker", test_checksum_worker);
  add_test ("/gather/plugin/checksum/abc", test_checksum_abc);
  add_test ("/gather/plugin/checksum/algorithms", test_checksum_algorithms);
  add_test ("/gather/plugin/checksum/empty", test_checksum_empty);
  add_test ("/gather/plugin/checksum/parallel", test_checksum_parallel);
  add_test ("/gather/plugin/checksum/unknown-algorithm", test_checksum_unknown_algorithm);
  add_test ("/gather/plugin/checksum/missing", test_checksum_missing);
  add_test ("/gather/plugin/checksum/directory", test_checksum_directory);
  add_test ("/gather/plugin/checksum/fifo", test_checksum_fifo);
  add_test ("/gather/plugin/checksum/latin1-name", test_checksum_latin1_name);
  add_test ("/gather/plugin/checksum/bytestring-forms", test_checksum_bytestring_forms);
  g_test_add_func ("/gather/plugin/checksum/unreadable", test_checksum_unreadable);
  g_test_add_func (UNREADABLE_PROBE_PATH, test_checksum_unreadable_probe);
  g_test_add_func (UNREADABLE_RUN_PATH, test_checksum_unreadable_run);
  add_test ("/gather/plugin/checksum/cancel", test_checksum_cancel);
  add_test ("/gather/plugin/checksum/cancelled-before", test_checksum_cancelled_before);
  add_test ("/gather/plugin/checksum/timeout", test_checksum_timeout);

  ret = g_test_run ();

  g_clear_object (&shipped_registry);
  if (shipped_dir != NULL)
    test_remove_tree (shipped_dir);
  g_free (shipped_dir);

  return ret;
}
