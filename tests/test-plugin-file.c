/* test-plugin-file.c: what the registry checks before it loads a plugin
 * file (private API, so linked to the internal static library). These
 * tests walk up the directories only as far as a scratch directory of
 * their own, so they do not depend on where the build or the temporary
 * directory is; test-registry checks the same rules through the public
 * API, up to /.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "gather-error.h"
#include "gather-plugin-file-private.h"

/* A scratch directory, mode 0700: the root of the walk in these tests. */
static char *
scratch_new (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("gather-plugin-file-XXXXXX", &error);

  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (dir, 0700), ==, 0);

  return dir;
}

static char *
make_dir (const char *parent,
          const char *name,
          guint       mode)
{
  char *dir = g_build_filename (parent, name, NULL);

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_cmpint (g_chmod (dir, mode), ==, 0);

  return dir;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;
  struct stat st;

  g_assert_cmpint (lstat (path, &st), ==, 0);
  if (S_ISDIR (st.st_mode))
    {
      dir = g_dir_open (path, 0, NULL);
      g_assert_nonnull (dir);
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
      g_assert_cmpint (g_rmdir (path), ==, 0);
      return;
    }

  g_assert_cmpint (g_unlink (path), ==, 0);
}

static char *
built_plugin (const char *name)
{
  const char *dir = g_getenv ("GATHER_TEST_BAD_PLUGINS");

  if (dir == NULL)
    g_error ("GATHER_TEST_BAD_PLUGINS is not set: run the tests with meson test");

  return g_build_filename (dir, name, NULL);
}

/* Copies a test plugin to @dir/@name, mode 0644. */
static char *
install_plugin (const char *dir,
                const char *name)
{
  g_autofree char *from = built_plugin ("gather-misbehave.so");
  char *to = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;

  g_file_get_contents (from, &contents, &length, &error);
  g_assert_no_error (error);
  g_file_set_contents_full (to, contents, length, G_FILE_SET_CONTENTS_NONE, 0644, &error);
  g_assert_no_error (error);

  return to;
}

static void
assert_message_has (const GError *error,
                    const char   *part)
{
  g_assert_nonnull (error);
  if (strstr (error->message, part) == NULL)
    g_error ("“%s” is not in the message “%s”", part, error->message);
}

/* Checks @directory as the one holding a plugin, up to @root. */
static void
assert_directories (const char *directory,
                    gboolean    holder,
                    const char *root,
                    const char *named,
                    const char *reason)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = gather_plugin_file_check_directories ("plugin", "/the/plugin.so", directory, holder,
                                             root, &error);
  if (reason == NULL)
    {
      g_assert_no_error (error);
      g_assert_true (ok);
      return;
    }

  g_assert_false (ok);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE);
  assert_message_has (error, "Refusing to load plugin “/the/plugin.so”");
  assert_message_has (error, named);
  assert_message_has (error, reason);
}

static void
test_plugin_file_directories (void)
{
  g_autofree char *root = scratch_new ();
  g_autofree char *open_dir = make_dir (root, "open", 0777);
  g_autofree char *group_dir = make_dir (root, "group", 0775);
  g_autofree char *sticky_dir = make_dir (root, "sticky", 01777);
  g_autofree char *sticky_group_dir = make_dir (root, "sticky-group", 01770);
  g_autofree char *safe_dir = make_dir (root, "safe", 0755);
  g_autofree char *in_open = make_dir (open_dir, "plugins", 0755);
  g_autofree char *in_group = make_dir (group_dir, "plugins", 0755);
  g_autofree char *in_sticky = make_dir (sticky_dir, "plugins", 0755);
  g_autofree char *in_sticky_group = make_dir (sticky_group_dir, "plugins", 0755);
  g_autofree char *in_safe = make_dir (safe_dir, "plugins", 0700);
  g_autofree char *deep = make_dir (in_sticky, "deeper", 0755);

  g_test_summary ("Each directory from a plugin's up to the root must be the "
                  "user's or root's and not writable by others; above the "
                  "plugin's own directory, the sticky bit makes it safe");
  g_test_bug ("10");

  assert_directories (in_safe, TRUE, root, NULL, NULL);
  assert_directories (in_open, TRUE, root, open_dir,
                      "the directory “");
  assert_directories (in_open, TRUE, root, open_dir,
                      "above it is writable by every user (mode 0777) without the sticky bit");
  assert_directories (in_group, TRUE, root, group_dir,
                      "is writable by its group (mode 0775) without the sticky bit");
  assert_directories (in_sticky, TRUE, root, NULL, NULL);
  assert_directories (in_sticky_group, TRUE, root, NULL, NULL);
  assert_directories (deep, TRUE, root, NULL, NULL);

  /* The directory that holds the plugin: the sticky bit is not enough. */
  assert_directories (sticky_dir, TRUE, root, sticky_dir,
                      "the directory it is in, “");
  assert_directories (sticky_dir, TRUE, root, sticky_dir,
                      "is writable by every user (mode 1777); the sticky bit is not enough");
  assert_directories (group_dir, TRUE, root, group_dir, "writable by its group (mode 0775)");

  /* As the parent of a search directory, it is a directory above. */
  assert_directories (sticky_dir, FALSE, root, NULL, NULL);
  assert_directories (open_dir, FALSE, root, open_dir, "without the sticky bit");

  /* The walk includes the root and stops there. */
  g_assert_cmpint (g_chmod (root, 0777), ==, 0);
  assert_directories (in_safe, TRUE, root, root, "without the sticky bit");
  assert_directories (in_safe, TRUE, safe_dir, NULL, NULL);
  g_assert_cmpint (g_chmod (root, 0700), ==, 0);

  /* Owned by someone else: only root can set that up. */
  if (geteuid () == 0)
    {
      g_assert_cmpint (chown (safe_dir, 65534, 65534), ==, 0);
      assert_directories (in_safe, TRUE, root, safe_dir, "belongs to another user (uid 65534)");
      assert_directories (safe_dir, TRUE, root, safe_dir, "belongs to another user (uid 65534)");
      g_assert_cmpint (chown (safe_dir, 0, 0), ==, 0);
    }
  else
    {
      g_test_message ("Not checking a directory owned by another user: only root can chown one");
    }

  remove_tree (root);
}

/* Opens @name in the search directory @directory, walking up to @root. */
static gboolean
open_plugin (const char        *directory,
             const char        *name,
             const char        *root,
             GatherPluginFile  *file,
             GError           **error)
{
  g_autofree char *real_directory = NULL;
  g_autofree char *path = g_build_filename (directory, name, NULL);
  gboolean ok;
  int dir_fd;

  dir_fd = gather_plugin_file_open_directory (directory, root, &real_directory, error);
  g_assert_cmpint (dir_fd, >=, 0);
  ok = gather_plugin_file_open (dir_fd, real_directory, path, name, root, file, error);
  close (dir_fd);

  return ok;
}

static void
test_plugin_file_open (void)
{
  g_autofree char *root = scratch_new ();
  g_autofree char *plugins = make_dir (root, "plugins", 0755);
  g_autofree char *open_dir = make_dir (root, "open", 0777);
  g_autofree char *elsewhere = make_dir (root, "elsewhere", 0700);
  g_autofree char *real = install_plugin (plugins, "gather-real.so");
  g_autofree char *in_open = install_plugin (open_dir, "gather-x.so");
  g_autofree char *target = install_plugin (elsewhere, "gather-target.so");
  g_autofree char *fifo = g_build_filename (plugins, "gather-fifo.so", NULL);
  g_autofree char *bad_link = g_build_filename (plugins, "gather-open.so", NULL);
  g_autofree char *good_link = g_build_filename (plugins, "gather-link.so", NULL);
  g_autofree char *dangling = g_build_filename (plugins, "gather-dangling.so", NULL);
  g_autofree char *dir_link = g_build_filename (root, "linked", NULL);
  g_autofree char *dir_plugin = make_dir (plugins, "gather-dir.so", 0755);
  GatherPluginFile file = GATHER_PLUGIN_FILE_INIT;
  g_autoptr(GError) error = NULL;
  struct stat by_fd, by_path;

  g_test_summary ("A plugin file is opened without side effects, judged by "
                  "where symlinks lead, and handed over open");
  g_test_bug ("10");

  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  g_assert_cmpint (symlink (in_open, bad_link), ==, 0);
  g_assert_cmpint (symlink (target, good_link), ==, 0);
  g_assert_cmpint (symlink ("/nonexistent/gather-x.so", dangling), ==, 0);

  /* A plain file: open, on that file, with its real path. */
  g_assert_true (open_plugin (plugins, "gather-real.so", root, &file, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (file.real_path, ==, real);
  g_assert_cmpint (fstat (file.fd, &by_fd), ==, 0);
  g_assert_cmpint (stat (real, &by_path), ==, 0);
  g_assert_true (by_fd.st_ino == by_path.st_ino && by_fd.st_dev == by_path.st_dev);
  g_assert_cmpint (fcntl (file.fd, F_GETFD) & FD_CLOEXEC, !=, 0);
  g_assert_cmpint (fcntl (file.fd, F_GETFL) & O_ACCMODE, ==, O_RDONLY);
  gather_plugin_file_clear (&file);
  g_assert_cmpint (file.fd, ==, -1);

  /* Through a symlink into a safe directory: reported where it is. */
  g_assert_true (open_plugin (plugins, "gather-link.so", root, &file, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (file.real_path, ==, target);
  gather_plugin_file_clear (&file);

  /* Through a symlink into a directory everyone can write: refused. */
  g_assert_false (open_plugin (plugins, "gather-open.so", root, &file, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE);
  assert_message_has (error, bad_link);
  assert_message_has (error, open_dir);
  g_clear_error (&error);
  g_assert_cmpint (file.fd, ==, -1);

  /* A FIFO is not opened for reading (that would block), just refused. */
  g_assert_false (open_plugin (plugins, "gather-fifo.so", root, &file, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN);
  assert_message_has (error, "is not a regular file");
  g_clear_error (&error);

  g_assert_false (open_plugin (plugins, "gather-dir.so", root, &file, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN);
  assert_message_has (error, "is not a regular file");
  g_clear_error (&error);

  g_assert_false (open_plugin (plugins, "gather-dangling.so", root, &file, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  assert_message_has (error, dangling);
  g_clear_error (&error);

  /* A search directory reached through a symlink is judged where it is:
   * here in a directory everyone can write. */
  {
    g_autofree char *open_plugins = make_dir (open_dir, "plugins", 0755);
    g_autofree char *real_directory = NULL;

    g_assert_cmpint (symlink (open_plugins, dir_link), ==, 0);
    g_assert_cmpint (gather_plugin_file_open_directory (dir_link, root, &real_directory, &error),
                     ==, -1);
    g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE);
    assert_message_has (error, "Refusing to load plugins from directory “");
    assert_message_has (error, open_dir);
    g_clear_error (&error);

    g_assert_cmpint (gather_plugin_file_open_directory (real, root, &real_directory, &error),
                     ==, -1);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
    g_clear_error (&error);
  }

  remove_tree (root);
}

/* The bytes of a built plugin. */
static GBytes *
plugin_bytes (void)
{
  g_autofree char *path = built_plugin ("gather-misbehave.so");
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) mapped = g_mapped_file_new (path, FALSE, &error);

  g_assert_no_error (error);

  return g_mapped_file_get_bytes (mapped);
}

/* Checks the first @length bytes of @data as a whole file. */
static gboolean
check (const guint8  *data,
       gsize          length,
       GError       **error)
{
  return gather_plugin_file_check_elf (data, MIN (length, GATHER_PLUGIN_FILE_HEAD_SIZE),
                                       length, "/p/gather-x.so", error);
}

static void
assert_refused (const guint8 *data,
                gsize         length,
                const char   *reason)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (check (data, length, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN);
  assert_message_has (error, "Could not load plugin “/p/gather-x.so”: ");
  assert_message_has (error, reason);
}

static void
test_plugin_file_elf (void)
{
  g_autoptr(GBytes) bytes = plugin_bytes ();
  gsize size;
  const guint8 *original = g_bytes_get_data (bytes, &size);
  g_autofree guint8 *data = g_memdup2 (original, size);
  g_autoptr(GError) error = NULL;
  ElfW(Ehdr) *ehdr = (ElfW(Ehdr) *) data;

  g_test_summary ("A plugin whose ELF headers describe more than the file "
                  "holds, or that is for another machine, is refused");
  g_test_bug ("10");

  g_assert_true (check (data, size, &error));
  g_assert_no_error (error);

  /* Cut anywhere: refused. The section headers are at the end. */
  for (gsize length = 0; length < size; length += (length < 4096 ? 1 : 97))
    {
      g_autoptr(GError) cut = NULL;

      g_assert_false (check (data, length, &cut));
      g_assert_error (cut, GATHER_ERROR, GATHER_ERROR_PLUGIN);
    }

  assert_refused (data, 0, "it is not a shared object (it has no ELF header)");
  assert_refused (data, 40, "the file is truncated: 40 bytes, too few for an ELF header");
  assert_refused (data, 2000, "the file is truncated: segment 0 ends at byte");
  assert_refused (data, 2000, "past its end (2000 bytes)");
  assert_refused ((const guint8 *) "#!/bin/sh\n", 10, "it has no ELF header");

  /* One field at a time. */
  if (sizeof (void *) == 8)
    {
      data[EI_CLASS] = ELFCLASS32;
      assert_refused (data, size, "it is a 32-bit shared object; this process is 64-bit");
    }
  else
    {
      data[EI_CLASS] = ELFCLASS64;
      assert_refused (data, size, "it is a 64-bit shared object; this process is 32-bit");
    }
  data[EI_CLASS] = original[EI_CLASS];

  data[EI_DATA] = ELFDATA2MSB;
  assert_refused (data, size, "it is for a machine of another byte order");
  data[EI_DATA] = original[EI_DATA];

  ehdr->e_type = ET_EXEC;
  assert_refused (data, size, "it is not a shared object (ELF type 2)");
  ehdr->e_type = ET_DYN;

  ehdr->e_machine = 0x1234;
  assert_refused (data, size, "it was built for another machine (ELF machine 4660;");
  memcpy (data, original, sizeof *ehdr);

  ehdr->e_phentsize = 3;
  assert_refused (data, size, "its ELF header is damaged");
  memcpy (data, original, sizeof *ehdr);

  ehdr->e_phoff = G_MAXUINT64 - 8;
  assert_refused (data, size, "its program headers end at byte 18446744073709551615");
  memcpy (data, original, sizeof *ehdr);

  ehdr->e_shoff = size - 10;
  assert_refused (data, size, "its section headers end at byte");
  memcpy (data, original, sizeof *ehdr);

  /* A segment claiming more than the file holds. */
  {
    ElfW(Phdr) *phdr = (ElfW(Phdr) *) (data + ehdr->e_phoff);

    phdr[0].p_filesz = G_MAXUINT64;
    assert_refused (data, size, "segment 0 ends at byte 18446744073709551615");
    memcpy (data, original, size);
  }

  g_assert_true (check (data, size, &error));
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_bug_base ("gather issue #%s");

  g_test_add_func ("/gather/plugin-file/directories", test_plugin_file_directories);
  g_test_add_func ("/gather/plugin-file/open", test_plugin_file_open);
  g_test_add_func ("/gather/plugin-file/elf", test_plugin_file_elf);

  return g_test_run ();
}
