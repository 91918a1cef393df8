/* gather-checksum-plugin.c: the "checksum" worker, which hashes a file in
 * chunks and stops between two chunks once cancelled.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libgather.h>

/* Bytes hashed between two looks at the cancellable: well under a
 * millisecond of work for every algorithm. */
#define CHUNK_SIZE (64 * 1024)

#define DEFAULT_ALGORITHM "sha256"

#define CHECKSUM_TYPE_WORKER (checksum_worker_get_type ())
G_DECLARE_FINAL_TYPE (ChecksumWorker, checksum_worker, CHECKSUM, WORKER, GObject)

struct _ChecksumWorker
{
  GObject parent_instance;
};

static void checksum_worker_iface_init (GatherWorkerInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (ChecksumWorker, checksum_worker, G_TYPE_OBJECT, G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (GATHER_TYPE_WORKER,
                                                               checksum_worker_iface_init))

static const GatherParameter checksum_parameters[] = {
  { "path", "ay", "The file to hash: a byte string, as GLib keeps file names, so that "
                  "names that are not UTF-8 work too", GATHER_PARAMETER_REQUIRED },
  { "algorithm", "s", "md5, sha1, sha256, sha384 or sha512; sha256 by default",
    GATHER_PARAMETER_NONE },
};

typedef struct
{
  const char    *name;
  GChecksumType  type;
} ChecksumAlgorithm;

static const ChecksumAlgorithm checksum_algorithms[] = {
  { "md5", G_CHECKSUM_MD5 },
  { "sha1", G_CHECKSUM_SHA1 },
  { "sha256", G_CHECKSUM_SHA256 },
  { "sha384", G_CHECKSUM_SHA384 },
  { "sha512", G_CHECKSUM_SHA512 },
};

/* Finds the algorithm called @name; the error lists the accepted names. */
static gboolean
lookup_algorithm (const char     *name,
                  GChecksumType  *out_type,
                  GError        **error)
{
  g_autoptr(GString) names = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (checksum_algorithms); i++)
    {
      if (g_str_equal (checksum_algorithms[i].name, name))
        {
          *out_type = checksum_algorithms[i].type;
          return TRUE;
        }
    }

  names = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (checksum_algorithms); i++)
    g_string_append_printf (names, "%s%s", i > 0 ? ", " : "", checksum_algorithms[i].name);

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "Unknown checksum algorithm “%s” (accepted: %s)", name, names->str);
  return FALSE;
}

static void
set_error_from_errno (GError     **error,
                      int          errsv,
                      const char  *what,
                      const char  *path)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
               "Cannot %s “%s”: %s", what, path, g_strerror (errsv));
}

/* The file name in a byte string parameter, with or without the
 * terminating NUL that g_variant_new_bytestring() adds (bindings often
 * leave it out). A NUL inside would cut the name short: refused. */
static char *
dup_file_name (GVariant    *value,
               GError     **error)
{
  gsize length = 0;
  const char *bytes = g_variant_get_fixed_array (value, &length, 1);

  if (length > 0 && bytes[length - 1] == '\0')
    length--;
  if (length == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Parameter “path” of worker “checksum” is empty: give a file name");
      return NULL;
    }
  if (memchr (bytes, '\0', length) != NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
                           "Parameter “path” of worker “checksum” holds a NUL byte, "
                           "which no file name can");
      return NULL;
    }

  return g_strndup (bytes, length);
}

/* Opens the regular file @filename (bytes, as the system takes them) for
 * reading; @path is its name as text, for messages. Returns a file
 * descriptor, or -1 with @error set to a message that names @path. */
static int
open_regular_file (const char  *filename,
                   const char  *path,
                   GError     **error)
{
  struct stat buf;
  int flags;
  int fd;

  /* O_NONBLOCK so that opening a FIFO cannot wait for a writer, which
   * nothing could cancel; only regular files are hashed, and the flag is
   * cleared once the file is known to be one. */
  do
    fd = open (filename, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  while (fd < 0 && errno == EINTR);

  if (fd < 0)
    {
      set_error_from_errno (error, errno, "open", path);
      return -1;
    }

  if (fstat (fd, &buf) != 0)
    {
      int errsv = errno;

      close (fd);
      set_error_from_errno (error, errsv, "examine", path);
      return -1;
    }

  /* Devices, FIFOs and sockets can block or never end: refused. */
  if (!S_ISREG (buf.st_mode))
    {
      close (fd);
      if (S_ISDIR (buf.st_mode))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY,
                     "Cannot hash “%s”: it is a directory", path);
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                     "Cannot hash “%s”: it is not a regular file", path);
      return -1;
    }

  flags = fcntl (fd, F_GETFL);
  if (flags < 0 || fcntl (fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
    {
      int errsv = errno;

      close (fd);
      set_error_from_errno (error, errsv, "open", path);
      return -1;
    }

  return fd;
}

/* Feeds what is left of @fd to @checksum, CHUNK_SIZE bytes at a time,
 * looking at @cancellable before each chunk. */
static gboolean
hash_fd (int            fd,
         const char    *path,
         GChecksum     *checksum,
         GCancellable  *cancellable,
         guint64       *out_size,
         GError       **error)
{
  g_autofree guchar *buffer = g_malloc (CHUNK_SIZE);
  guint64 size = 0;

  for (;;)
    {
      gssize n;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      n = read (fd, buffer, CHUNK_SIZE);
      if (n < 0)
        {
          int errsv = errno;

          if (errsv == EINTR)
            continue;
          set_error_from_errno (error, errsv, "read", path);
          return FALSE;
        }
      if (n == 0)
        break;

      g_checksum_update (checksum, buffer, n);
      size += (guint64) n;
    }

  *out_size = size;
  return TRUE;
}

/* Any thread, several at once: all state is on the stack. */
static GVariant *
checksum_worker_run (GatherWorker  *worker,
                     GVariant      *parameters,
                     GCancellable  *cancellable,
                     GError       **error)
{
  g_autoptr(GChecksum) checksum = NULL;
  g_autoptr(GVariant) path_value = NULL;
  g_autofree char *filename = NULL;
  g_autofree char *path = NULL;
  const char *algorithm = DEFAULT_ALGORITHM;
  GChecksumType type;
  GVariantBuilder builder;
  guint64 size = 0;
  gboolean ok;
  int fd;

  g_variant_lookup (parameters, "algorithm", "&s", &algorithm);
  path_value = g_variant_lookup_value (parameters, "path", G_VARIANT_TYPE_BYTESTRING);
  if (path_value == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "The parameter “path” is required");
      return NULL;
    }

  filename = dup_file_name (path_value, error);
  if (filename == NULL)
    return NULL;
  /* Text for messages and the result: bytes that are not UTF-8 show as
   * U+FFFD. */
  path = g_filename_display_name (filename);

  if (!lookup_algorithm (algorithm, &type, error))
    return NULL;

  fd = open_regular_file (filename, path, error);
  if (fd < 0)
    return NULL;

  checksum = g_checksum_new (type);
  ok = hash_fd (fd, path, checksum, cancellable, &size, error);
  close (fd);
  if (!ok)
    return NULL;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  /* The file's name as text: the parameter holds its bytes. */
  g_variant_builder_add (&builder, "{sv}", "path", g_variant_new_string (path));
  g_variant_builder_add (&builder, "{sv}", "algorithm", g_variant_new_string (algorithm));
  g_variant_builder_add (&builder, "{sv}", "digest",
                         g_variant_new_string (g_checksum_get_string (checksum)));
  g_variant_builder_add (&builder, "{sv}", "size", g_variant_new_uint64 (size));

  return g_variant_builder_end (&builder);
}

static void
checksum_worker_iface_init (GatherWorkerInterface *iface)
{
  iface->name = "checksum";
  iface->description = "Hashes a file (MD5 or SHA), stopping within a chunk "
                       "of being cancelled";
  iface->parameter_type = "a{sv}";
  iface->parameters = checksum_parameters;
  iface->n_parameters = G_N_ELEMENTS (checksum_parameters);
  iface->result_type = "a{sv}";
  iface->run = checksum_worker_run;
}

static void
checksum_worker_class_init (ChecksumWorkerClass *klass)
{
}

static void
checksum_worker_class_finalize (ChecksumWorkerClass *klass)
{
}

static void
checksum_worker_init (ChecksumWorker *self)
{
}

static void
checksum_register (GatherPluginModule *module)
{
  checksum_worker_register_type (G_TYPE_MODULE (module));
  gather_plugin_module_add_worker (module, CHECKSUM_TYPE_WORKER);
}

GATHER_PLUGIN_DEFINE (checksum, "Hashes files with MD5 or SHA", checksum_register)
