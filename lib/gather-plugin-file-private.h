/* gather-plugin-file-private.h: opening and checking a plugin file before
 * it is loaded.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <sys/stat.h>

#include <glib.h>

G_BEGIN_DECLS

/* The bytes at the start of a plugin file that the ELF check reads: the
 * ELF header and the program headers must lie within them. */
#define GATHER_PLUGIN_FILE_HEAD_SIZE 65536

/* A plugin file that passed every check, open. */
typedef struct
{
  int   fd;          /* O_RDONLY | O_CLOEXEC, on the file that was checked */
  char *real_path;   /* where the file is, read back from the descriptor */
} GatherPluginFile;

#define GATHER_PLUGIN_FILE_INIT { -1, NULL }

void     gather_plugin_file_clear              (GatherPluginFile   *file);

int      gather_plugin_file_open_directory     (const char         *directory,
                                                const char         *root,
                                                char              **real_directory,
                                                GError            **error);
GPtrArray *gather_plugin_file_list_directory  (int                 dir_fd,
                                                const char         *directory,
                                                GError            **error);
gboolean gather_plugin_file_open               (int                 dir_fd,
                                                const char         *real_directory,
                                                const char         *path,
                                                const char         *name,
                                                const char         *root,
                                                GatherPluginFile   *file,
                                                GError            **error);

gboolean gather_plugin_file_check_directories  (const char         *what,
                                                const char         *path,
                                                const char         *directory,
                                                gboolean            holder,
                                                const char         *root,
                                                GError            **error);
gboolean gather_plugin_file_check_elf          (const guint8       *head,
                                                gsize               head_len,
                                                guint64             file_size,
                                                const char         *path,
                                                GError            **error);

G_END_DECLS
