/* gather-plugin-file.c: what a registry checks before it loads a plugin.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * A plugin runs with all the rights of the process that loads it, so a
 * registry loads only what no other user could have written, and loads the
 * very file it checked:
 *
 * - Symlinks are followed, to a plugin file or to a search directory; what
 *   is judged is where they lead. The real paths are read back from open
 *   descriptors (/proc/self/fd/N), so a symlink from a safe directory into
 *   a directory others can write is judged by that directory.
 *
 * - A plugin file is opened with O_PATH (opening a FIFO or a device found
 *   where a plugin should be has no side effect), must be a regular file
 *   owned by root or by the effective user and writable by neither its
 *   group nor others. It is then reopened read-only through
 *   /proc/self/fd/N, which gives the same inode, never a new lookup of
 *   the path; the module loads that descriptor through /proc/self/fd/N as
 *   well. Renaming or replacing the path after the check changes nothing.
 *
 * - Directories, as ssh checks the directories above its keys: every
 *   directory from the one holding the plugin up to / must be owned by
 *   root or by the effective user. The directory holding a plugin, and each
 *   search directory, must not be writable by its group or by others, even
 *   with the sticky bit: others could add files there (a hard link to a
 *   root-owned file, say). A directory further up may be writable by others
 *   only if it has the sticky bit, like /tmp: there nobody can rename or
 *   remove an entry they do not own, so the path below stays as checked.
 *
 * - The ELF headers must describe a shared object for this process's word
 *   size, byte order and machine, and every segment, the program headers
 *   and the section headers must lie within the file. The dynamic loader
 *   maps segments with mmap: touching a page past the end of a truncated
 *   file raises SIGBUS in the loading process, which no error path can
 *   catch, so a truncated file must be refused before dlopen(). The file
 *   can only shrink after the check if root or the user shrinks it.
 *
 * @root, where it is a parameter, is where the walk up the directories
 * stops: NULL (meaning /) except in unit tests, which build directories
 * with chosen modes under a scratch directory whose own parents they do
 * not control.
 *
 * Linux only: this needs O_PATH and a mounted /proc.
 */

#define _GNU_SOURCE   /* O_PATH, dladdr() */

#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gmodule.h>

#include "gather-error.h"
#include "gather-plugin-file-private.h"

void
gather_plugin_file_clear (GatherPluginFile *file)
{
  if (file->fd >= 0)
    close (file->fd);
  file->fd = -1;
  g_clear_pointer (&file->real_path, g_free);
}

/* "Cannot read plugin “PATH”: REASON", or with "plugin directory". */
static void
set_io_error (GError     **error,
              int          saved_errno,
              const char  *what,
              const char  *path)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "Cannot read %s “%s”: %s", what, path, g_strerror (saved_errno));
}

/* The real path of what @fd is open on, as the kernel has it. */
static char *
fd_real_path (int          fd,
              const char  *path,
              GError     **error)
{
  g_autofree char *proc = g_strdup_printf ("/proc/self/fd/%d", fd);
  g_autoptr(GError) local_error = NULL;
  char *real = g_file_read_link (proc, &local_error);

  if (real == NULL)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE,
                   "Cannot check “%s”: %s (plugins are only loaded with /proc mounted)",
                   path, local_error->message);
      return NULL;
    }

  if (!g_path_is_absolute (real))
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE,
                   "Cannot check “%s”: it is not in the file system (“%s”)", path, real);
      g_free (real);
      return NULL;
    }

  return real;
}

typedef enum
{
  ENTRY_SELF,       /* the plugin file, or a search directory */
  ENTRY_HOLDER,     /* the directory a plugin file really is in */
  ENTRY_ANCESTOR,   /* a directory above */
} EntryKind;

/* Checks the owner and mode of one file or directory. */
static gboolean
check_entry (const char         *what,
             const char         *path,
             EntryKind           kind,
             const char         *entry,
             const struct stat  *st,
             GError            **error)
{
  guint mode = st->st_mode & 07777;
  const char *writers = (mode & S_IWOTH) ? "every user" : "its group";
  g_autofree char *subject = NULL;

  switch (kind)
    {
    case ENTRY_SELF:
      subject = g_strdup ("it");
      break;
    case ENTRY_HOLDER:
      subject = g_strdup_printf ("the directory it is in, “%s”,", entry);
      break;
    case ENTRY_ANCESTOR:
    default:
      subject = g_strdup_printf ("the directory “%s” above it", entry);
      break;
    }

  if (st->st_uid != 0 && st->st_uid != geteuid ())
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE,
                   "Refusing to load %s “%s”: %s belongs to another user (uid %u)",
                   what, path, subject, (guint) st->st_uid);
      return FALSE;
    }

  if ((mode & (S_IWGRP | S_IWOTH)) == 0)
    return TRUE;

  if (kind == ENTRY_ANCESTOR)
    {
      if (mode & S_ISVTX)
        return TRUE;

      g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE,
                   "Refusing to load %s “%s”: %s is writable by %s (mode %04o) "
                   "without the sticky bit", what, path, subject, writers, mode);
      return FALSE;
    }

  g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE,
               "Refusing to load %s “%s”: %s is writable by %s (mode %04o)%s",
               what, path, subject, writers, mode,
               (mode & S_ISVTX) && S_ISDIR (st->st_mode)
                 ? "; the sticky bit is not enough for a directory that holds plugins" : "");
  return FALSE;
}

/*
 * gather_plugin_file_check_directories:
 * @what: "plugin" or "plugins from directory", for messages
 * @path: the plugin or directory as the search path names it, for messages
 * @directory: an absolute path without symlinks: the directory holding
 *   the plugin (checked as such), or the parent of a search directory
 *   (checked as a directory above it)
 * @holder: whether @directory holds the plugin
 * @root: (nullable): where to stop going up; `NULL` for /
 *
 * Checks @directory and every directory above it, up to @root.
 */
gboolean
gather_plugin_file_check_directories (const char  *what,
                                      const char  *path,
                                      const char  *directory,
                                      gboolean     holder,
                                      const char  *root,
                                      GError     **error)
{
  g_autofree char *current = g_strdup (directory);
  EntryKind kind = holder ? ENTRY_HOLDER : ENTRY_ANCESTOR;

  if (root == NULL)
    root = "/";

  for (;;)
    {
      struct stat st;
      char *parent;

      if (lstat (current, &st) != 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Cannot check %s “%s”: “%s”: %s",
                       what, path, current, g_strerror (saved_errno));
          return FALSE;
        }

      /* The path came from the kernel a moment ago: if a part of it is
       * no longer a directory, it changed, and this is not what we opened. */
      if (!S_ISDIR (st.st_mode))
        {
          g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE,
                       "Refusing to load %s “%s”: “%s” changed while it was checked",
                       what, path, current);
          return FALSE;
        }

      if (!check_entry (what, path, kind, current, &st, error))
        return FALSE;

      if (g_str_equal (current, root) || g_str_equal (current, "/"))
        return TRUE;

      parent = g_path_get_dirname (current);
      g_free (current);
      current = parent;
      kind = ENTRY_ANCESTOR;
    }
}

/*
 * gather_plugin_file_open_directory:
 * @directory: an absolute path from the search path
 * @root: (nullable): where the walk up stops; `NULL` for /
 * @real_directory: (out): where @directory really is
 *
 * Opens a search directory and checks it and the directories above it.
 * Errors are `G_IO_ERROR`s for a directory that cannot be opened (so
 * `G_IO_ERROR_NOT_FOUND` for a missing one), or
 * `GATHER_ERROR_PLUGIN_INSECURE`.
 *
 * Returns: an `O_DIRECTORY` descriptor, or -1
 */
int
gather_plugin_file_open_directory (const char  *directory,
                                   const char  *root,
                                   char       **real_directory,
                                   GError     **error)
{
  g_autofree char *real = NULL;
  struct stat st;
  int fd;

  fd = open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      int saved_errno = errno;

      if (saved_errno == ENOTDIR)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                     "Plugin directory “%s” is not a directory", directory);
      else
        set_io_error (error, saved_errno, "plugin directory", directory);
      return -1;
    }

  if (fstat (fd, &st) != 0)
    {
      set_io_error (error, errno, "plugin directory", directory);
      goto fail;
    }

  if (!check_entry ("plugins from directory", directory, ENTRY_SELF, NULL, &st, error))
    goto fail;

  real = fd_real_path (fd, directory, error);
  if (real == NULL)
    goto fail;

  if (!g_str_equal (real, "/"))
    {
      g_autofree char *parent = g_path_get_dirname (real);

      if (!gather_plugin_file_check_directories ("plugins from directory", directory, parent, FALSE, root, error))
        goto fail;
    }

  *real_directory = g_steal_pointer (&real);
  return fd;

fail:
  close (fd);
  return -1;
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

/*
 * gather_plugin_file_list_directory:
 * @dir_fd: a directory opened by gather_plugin_file_open_directory()
 *
 * Lists the `gather-*.so` names in a directory, sorted, so that the
 * first of two plugins with the same worker name is the same on every run.
 *
 * Returns: (transfer full) (element-type utf8): the names
 */
GPtrArray *
gather_plugin_file_list_directory (int          dir_fd,
                                   const char  *directory,
                                   GError     **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  struct dirent *entry;
  int fd;
  DIR *dir;

  /* closedir() closes the descriptor fdopendir() takes: give it a copy
   * with its own offset, rewound. */
  fd = openat (dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || (dir = fdopendir (fd)) == NULL)
    {
      int saved_errno = errno;

      if (fd >= 0)
        close (fd);
      set_io_error (error, saved_errno, "plugin directory", directory);
      return NULL;
    }

  while ((entry = readdir (dir)) != NULL)
    if (g_str_has_prefix (entry->d_name, "gather-") &&
        g_str_has_suffix (entry->d_name, "." G_MODULE_SUFFIX))
      g_ptr_array_add (names, g_strdup (entry->d_name));

  closedir (dir);
  g_ptr_array_sort (names, compare_names);

  return g_steal_pointer (&names);
}

static gboolean
read_head (int          fd,
           guint8      *buffer,
           gsize        length,
           const char  *path,
           GError     **error)
{
  gsize done = 0;

  while (done < length)
    {
      ssize_t n = pread (fd, buffer + done, length - done, (off_t) done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_io_error (error, errno, "plugin", path);
          return FALSE;
        }
      if (n == 0)
        {
          g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                       "Could not load plugin “%s”: it shrank while it was read", path);
          return FALSE;
        }
      done += (gsize) n;
    }

  return TRUE;
}

/*
 * gather_plugin_file_open:
 * @dir_fd: the search directory, from gather_plugin_file_open_directory()
 * @real_directory: where the search directory really is
 * @path: the plugin's path in the search directory, for messages
 * @name: its name in @dir_fd
 * @root: (nullable): where the walk up stops; `NULL` for /
 * @file: (out caller-allocates): the open, checked file
 *
 * Opens a plugin file and checks it (see the top of this file). On
 * success, @file holds a read-only descriptor on the inode that was
 * checked, and the file's real path.
 */
gboolean
gather_plugin_file_open (int                dir_fd,
                         const char        *real_directory,
                         const char        *path,
                         const char        *name,
                         const char        *root,
                         GatherPluginFile  *file,
                         GError           **error)
{
  g_autofree guint8 *head = NULL;
  g_autofree char *real = NULL;
  g_autofree char *holder = NULL;
  g_autofree char *proc = NULL;
  struct stat st, reopened, again;
  gsize head_len;
  int path_fd, fd = -1;

  g_return_val_if_fail (file->fd < 0 && file->real_path == NULL, FALSE);

  path_fd = openat (dir_fd, name, O_PATH | O_CLOEXEC);
  if (path_fd < 0)
    {
      set_io_error (error, errno, "plugin", path);
      return FALSE;
    }

  if (fstat (path_fd, &st) != 0)
    {
      set_io_error (error, errno, "plugin", path);
      goto fail;
    }

  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                   "Plugin “%s” is not a regular file", path);
      goto fail;
    }

  if (!check_entry ("plugin", path, ENTRY_SELF, NULL, &st, error))
    goto fail;

  real = fd_real_path (path_fd, path, error);
  if (real == NULL)
    goto fail;

  /* Reached through a symlink: judge where it leads. */
  holder = g_path_get_dirname (real);
  if (!g_str_equal (holder, real_directory) &&
      !gather_plugin_file_check_directories ("plugin", path, holder, TRUE, root, error))
    goto fail;

  /* The same inode, read-only: opening /proc/self/fd/N does not look the
   * path up again. */
  proc = g_strdup_printf ("/proc/self/fd/%d", path_fd);
  fd = open (proc, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      set_io_error (error, errno, "plugin", path);
      goto fail;
    }

  if (fstat (fd, &reopened) != 0 || reopened.st_dev != st.st_dev || reopened.st_ino != st.st_ino)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE,
                   "Refusing to load plugin “%s”: it changed while it was checked", path);
      goto fail;
    }

  /* So that the path reported is the file loaded: moved or removed since
   * it was opened (by root or the user: nobody else can), it is not. */
  if (lstat (real, &again) != 0 || again.st_dev != st.st_dev || again.st_ino != st.st_ino)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                   "Could not load plugin “%s”: it was moved or removed while it was checked",
                   path);
      goto fail;
    }

  head_len = (gsize) MIN ((guint64) reopened.st_size, (guint64) GATHER_PLUGIN_FILE_HEAD_SIZE);
  head = g_malloc (MAX (head_len, 1));
  if (!read_head (fd, head, head_len, path, error) ||
      !gather_plugin_file_check_elf (head, head_len, (guint64) reopened.st_size, path, error))
    goto fail;

  close (path_fd);
  file->fd = fd;
  file->real_path = g_steal_pointer (&real);
  return TRUE;

fail:
  close (path_fd);
  if (fd >= 0)
    close (fd);
  return FALSE;
}

/* ---- ELF headers ---- */

#define HOST_ELF_CLASS (sizeof (void *) == 8 ? ELFCLASS64 : ELFCLASS32)
#define HOST_ELF_DATA  (G_BYTE_ORDER == G_LITTLE_ENDIAN ? ELFDATA2LSB : ELFDATA2MSB)

/* The machine of this process: that of the ELF header libgather itself
 * was loaded from, which its first segment maps. EM_NONE if unknown. */
static guint16
host_machine (void)
{
  static gsize initialized;
  static guint16 machine;

  if (g_once_init_enter (&initialized))
    {
      Dl_info info;
      guint16 found = EM_NONE;

      if (dladdr ((void *) gather_plugin_file_check_elf, &info) != 0 && info.dli_fbase != NULL &&
          memcmp (info.dli_fbase, ELFMAG, SELFMAG) == 0)
        memcpy (&found, (const guint8 *) info.dli_fbase + offsetof (ElfW(Ehdr), e_machine),
                sizeof found);
      machine = found;
      g_once_init_leave (&initialized, 1);
    }

  return machine;
}

G_GNUC_PRINTF (3, 4)
static gboolean
elf_error (GError     **error,
           const char  *path,
           const char  *format,
           ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
               "Could not load plugin “%s”: %s", path, reason);
  return FALSE;
}

/* Whether [offset, offset + size) lies within a file of @file_size bytes;
 * *end is where it ends, saturated. */
static gboolean
within_file (guint64  offset,
             guint64  size,
             guint64  file_size,
             guint64 *end)
{
  *end = offset + size < offset ? G_MAXUINT64 : offset + size;
  return offset <= file_size && size <= file_size - offset;
}

/*
 * gather_plugin_file_check_elf:
 * @head: the first bytes of the file
 * @head_len: how many: the whole file, or GATHER_PLUGIN_FILE_HEAD_SIZE
 * @file_size: the size of the file
 * @path: the file, for messages
 *
 * Checks that the file is a shared object this process can load whose
 * headers all lie within the file. Reads nothing outside @head.
 */
gboolean
gather_plugin_file_check_elf (const guint8  *head,
                              gsize          head_len,
                              guint64        file_size,
                              const char    *path,
                              GError       **error)
{
  ElfW(Ehdr) ehdr;
  guint64 end;
  guint16 machine;
  guint n_load = 0;

  g_return_val_if_fail (head != NULL || head_len == 0, FALSE);
  g_return_val_if_fail (head_len <= file_size, FALSE);

  if (head_len < SELFMAG || memcmp (head, ELFMAG, SELFMAG) != 0)
    return elf_error (error, path, "it is not a shared object (it has no ELF header)");

  if (head_len < sizeof ehdr)
    return elf_error (error, path,
                      "the file is truncated: %" G_GUINT64_FORMAT " bytes, "
                      "too few for an ELF header", file_size);

  memcpy (&ehdr, head, sizeof ehdr);

  if (ehdr.e_ident[EI_CLASS] != HOST_ELF_CLASS)
    return elf_error (error, path, "it is a %s shared object; this process is %u-bit",
                      ehdr.e_ident[EI_CLASS] == ELFCLASS32 ? "32-bit" :
                      ehdr.e_ident[EI_CLASS] == ELFCLASS64 ? "64-bit" : "damaged",
                      (guint) sizeof (void *) * 8);

  if (ehdr.e_ident[EI_DATA] != HOST_ELF_DATA)
    return elf_error (error, path, "it is for a machine of another byte order");

  if (ehdr.e_type != ET_DYN)
    return elf_error (error, path, "it is not a shared object (ELF type %u)",
                      (guint) ehdr.e_type);

  machine = host_machine ();
  if (machine != EM_NONE && ehdr.e_machine != machine)
    return elf_error (error, path,
                      "it was built for another machine (ELF machine %u; this process is %u)",
                      (guint) ehdr.e_machine, (guint) machine);

  if (ehdr.e_phentsize != sizeof (ElfW(Phdr)) || ehdr.e_phnum == 0 || ehdr.e_phnum == PN_XNUM)
    return elf_error (error, path,
                      "its ELF header is damaged (%u program headers of %u bytes)",
                      (guint) ehdr.e_phnum, (guint) ehdr.e_phentsize);

  if (!within_file (ehdr.e_phoff, (guint64) ehdr.e_phnum * sizeof (ElfW(Phdr)), file_size, &end))
    return elf_error (error, path,
                      "the file is truncated: its program headers end at byte %"
                      G_GUINT64_FORMAT ", past its end (%" G_GUINT64_FORMAT " bytes)",
                      end, file_size);

  if (end > head_len)
    return elf_error (error, path,
                      "its program headers are %" G_GUINT64_FORMAT " bytes into the file, "
                      "not near its start", (guint64) ehdr.e_phoff);

  for (guint i = 0; i < ehdr.e_phnum; i++)
    {
      ElfW(Phdr) phdr;

      memcpy (&phdr, head + ehdr.e_phoff + (gsize) i * sizeof phdr, sizeof phdr);

      if (phdr.p_filesz > 0 && !within_file (phdr.p_offset, phdr.p_filesz, file_size, &end))
        return elf_error (error, path,
                          "the file is truncated: segment %u ends at byte %"
                          G_GUINT64_FORMAT ", past its end (%" G_GUINT64_FORMAT " bytes)",
                          i, end, file_size);

      if (phdr.p_type == PT_LOAD)
        {
          if (phdr.p_filesz > phdr.p_memsz)
            return elf_error (error, path,
                              "its segment %u is damaged (%" G_GUINT64_FORMAT " bytes in "
                              "the file, %" G_GUINT64_FORMAT " in memory)",
                              i, (guint64) phdr.p_filesz, (guint64) phdr.p_memsz);
          n_load++;
        }
    }

  if (ehdr.e_shnum != 0 && ehdr.e_shoff != 0)
    {
      if (ehdr.e_shentsize != sizeof (ElfW(Shdr)))
        return elf_error (error, path,
                          "its ELF header is damaged (section headers of %u bytes)",
                          (guint) ehdr.e_shentsize);

      /* The loader does not read section headers, but they are at the end
       * of the file: a file that lacks them lacks its end. */
      if (!within_file (ehdr.e_shoff, (guint64) ehdr.e_shnum * sizeof (ElfW(Shdr)),
                        file_size, &end))
        return elf_error (error, path,
                          "the file is truncated: its section headers end at byte %"
                          G_GUINT64_FORMAT ", past its end (%" G_GUINT64_FORMAT " bytes)",
                          end, file_size);
    }

  if (n_load == 0)
    return elf_error (error, path, "it has nothing to load (no PT_LOAD segment)");

  return TRUE;
}
