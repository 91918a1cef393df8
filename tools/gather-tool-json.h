/* gather-tool-json.h: a strict JSON reader and a JSON writer for the
 * gather command.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The deepest nesting of arrays and objects a task file may have: the
 * whole file counts, so tasks in { "tasks": [ { "parameters": ... } ] }
 * start at depth 4. Deeper input is refused before it can exhaust the
 * stack. */
#define GATHER_JSON_MAX_DEPTH 64

#define GATHER_JSON_ERROR (gather_json_error_quark ())

typedef enum
{
  GATHER_JSON_ERROR_SYNTAX,     /* not JSON */
  GATHER_JSON_ERROR_ENCODING,   /* not UTF-8, a lone surrogate, a NUL */
  GATHER_JSON_ERROR_DEPTH,      /* nested deeper than allowed */
  GATHER_JSON_ERROR_DUPLICATE,  /* the same key twice in an object */
} GatherJsonError;

typedef enum
{
  GATHER_JSON_NULL,
  GATHER_JSON_BOOLEAN,
  GATHER_JSON_NUMBER,
  GATHER_JSON_STRING,
  GATHER_JSON_ARRAY,
  GATHER_JSON_OBJECT,
} GatherJsonKind;

typedef struct _GatherJsonNode GatherJsonNode;

typedef struct
{
  char           *name;      /* UTF-8 without NUL */
  guint           line;      /* where the key starts */
  guint           column;
  GatherJsonNode *value;
} GatherJsonMember;

/* One JSON value. Strings are valid UTF-8 without NUL characters: the
 * reader refuses the rest. Numbers keep their text, so that each
 * consumer converts them exactly, to the type it needs. */
struct _GatherJsonNode
{
  GatherJsonKind kind;
  guint          line;      /* where the value starts, from 1 */
  guint          column;    /* in characters, from 1 */
  gboolean       boolean;
  char          *text;      /* NUMBER: as written; STRING: the string */
  gboolean       integer;   /* NUMBER: no fraction, no exponent */
  GPtrArray     *elements;  /* ARRAY: GatherJsonNode */
  GPtrArray     *members;   /* OBJECT: GatherJsonMember, in order */
};

GQuark          gather_json_error_quark  (void);

GatherJsonNode *gather_json_parse        (const char      *data,
                                          gsize            length,
                                          guint            max_depth,
                                          GError         **error);
void            gather_json_node_free    (GatherJsonNode  *node);
GatherJsonNode *gather_json_object_get   (GatherJsonNode  *object,
                                          const char      *name);
const char     *gather_json_kind_name    (GatherJsonKind   kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GatherJsonNode, gather_json_node_free)

/* Writing: every function appends valid JSON to @out, whatever its input. */
void            gather_json_append_string  (GString          *out,
                                            const char       *text,
                                            gssize            length);
void            gather_json_append_double  (GString          *out,
                                            double            value);
void            gather_json_append_variant (GString          *out,
                                            GVariant         *value);
void            gather_json_append_error   (GString          *out,
                                            const GError     *error);

G_END_DECLS
