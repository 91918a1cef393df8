/* gather-helper-protocol-private.h: what the host and its helper
 * processes say to each other.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * The helper protocol. Private: the host and the helper program come from
 * the same build, and the version is checked both ways (the host passes it
 * on the helper's command line, the helper repeats it in its HELLO).
 *
 * A socketpair (SOCK_STREAM) carries frames. A frame is an 8-byte header,
 * the payload's length and GATHER_HELPER_FRAME_MAGIC as 32-bit
 * little-endian words, then the payload: a GVariant of type (yuv)
 * serialized in normal form (little-endian; built and read by hand, see
 * gather-helper-protocol.c): the message kind, the serial
 * of the task it is about (0 for none), and the body, whose type the kind
 * fixes (see gather_helper_message_body_type()). The header's size keeps
 * the payload 8-aligned in the sender's buffer.
 *
 *   helper -> host  HELLO    0       (ut)   protocol version, the worker
 *                                           process's pid
 *   host -> helper  RUN      serial  (aysvttu)  plugin path, worker name,
 *                                           parameters, memory limit in
 *                                           bytes, the digest of the
 *                                           worker's declaration as the
 *                                           host knows it (see
 *                                           gather_worker_declaration_digest()),
 *                                           CPU-time limit in seconds
 *   helper -> host  RESULT   serial  *      the task's result
 *   helper -> host  ERROR    serial  (sis)  the task's error: domain, code,
 *                                           message
 *   host -> helper  LOAD     serial  (a(ayb)a(ay(sis)))  search path
 *                                           (directory, required), files
 *                                           not to open (path, the error
 *                                           to list them with)
 *   helper -> host  LOADING  serial  ay     the plugin file it opens next
 *   helper -> host  CATALOG  serial  (a(ssssa(sssu)ay)a(ay(sis))a(ayay))
 *                                           workers (name, description,
 *                                           parameter type, result type,
 *                                           parameters, plugin path),
 *                                           failures (path, error),
 *                                           shadowed files (path, by)
 *
 * Requests queue: the host may send a helper further RUN frames while it
 * runs a task (at most GATHER_HELPER_MAX_QUEUED), and the helper starts
 * each when the one before it has replied, without waiting for the host.
 * So that the host can take back a request the helper has not started,
 * host and helper share a word (a sealed memfd, the helper's descriptor
 * GATHER_HELPER_SHARED_FD, mapped by both): the serial of the last RUN
 * the helper took. Serials of RUN frames grow, one helper at a time. The
 * helper takes a RUN of serial s only by moving the word from a value
 * below s to s (an atomic compare-and-exchange), after it wrote the reply
 * of the task before; the host takes back every request not started yet
 * by exchanging the word for the highest serial it has given a RUN (sent,
 * or about to be), and so learns which ones the helper had taken. A RUN the helper cannot take is
 * dropped unanswered. Without the shared word (a helper used to load the
 * catalog), a helper takes every RUN.
 *
 * Cancellation is not a frame: the host sends the worker process
 * GATHER_HELPER_CANCEL_SIGNAL with the task's serial as its value (through
 * a pidfd), so that the helper reads frames on one thread, between tasks,
 * and a task that runs is still told at once.
 *
 * The host trusts nothing a helper sends: a frame that is too long, not a
 * normal-form (yuv), of an unknown kind, of a kind it does not expect now,
 * with a body of the wrong type, or about another serial, is a crash of
 * that helper, which is killed.
 */

#define GATHER_HELPER_PROTOCOL_VERSION 3

#define GATHER_HELPER_HEADER_SIZE 8
#define GATHER_HELPER_FRAME_MAGIC 0x31485447u   /* "GTH1" */

/* The smallest payload that can be a (yuv): a byte, three of padding, a
 * uint32 and at least a variant's separator. */
#define GATHER_HELPER_MIN_FRAME 9u

/* The largest payload either side accepts; a result that does not fit is
 * an error of its task. */
#define GATHER_HELPER_MAX_FRAME (16u * 1024u * 1024u)

/* The helper's end of the socketpair, the supervisor's status pipe, and
 * the shared word (see above), if any. */
#define GATHER_HELPER_SOCKET_FD 3
#define GATHER_HELPER_STATUS_FD 4
#define GATHER_HELPER_SHARED_FD 5
/* The shared mapping's size. */
#define GATHER_HELPER_SHARED_SIZE 4096
/* RUN frames a helper may have been sent beyond the task it runs. */
#define GATHER_HELPER_MAX_QUEUED 3

#define GATHER_HELPER_CANCEL_SIGNAL SIGUSR1

typedef enum
{
  GATHER_HELPER_HELLO   = 1,
  GATHER_HELPER_RUN     = 2,
  GATHER_HELPER_RESULT  = 3,
  GATHER_HELPER_ERROR   = 4,
  GATHER_HELPER_LOAD    = 5,
  GATHER_HELPER_LOADING = 6,
  GATHER_HELPER_CATALOG = 7,
} GatherHelperMessage;

#define GATHER_HELPER_N_MESSAGES 8

const GVariantType *gather_helper_message_body_type (GatherHelperMessage  kind);
const char         *gather_helper_message_name      (GatherHelperMessage  kind);

/* A frame ready to write: the length prefix and the payload. */
GBytes   *gather_helper_frame_encode   (GatherHelperMessage  kind,
                                        guint32              serial,
                                        GVariant            *body);

/* A RUN frame, with serial 0. */
GBytes   *gather_helper_run_frame_new  (const char          *plugin_path,
                                        const char          *worker_name,
                                        GVariant            *parameters,
                                        guint64              declaration,
                                        guint64              memory_limit,
                                        guint32              cpu_limit);

/* What a RUN frame asks for (its body taken apart by the helper). */
typedef struct
{
  const char *plugin_path;   /* in the body */
  const char *worker_name;   /* in the body */
  GVariant   *parameters;    /* owned */
  guint64     memory_limit;  /* bytes, 0 for none */
  guint64     declaration;   /* the host's digest of the worker's declaration */
  guint32     cpu_limit;     /* seconds, 0 for none */
} GatherHelperRequest;

gboolean  gather_helper_run_parse      (GVariant            *body,
                                        GatherHelperRequest *request,
                                        GError             **error);
void      gather_helper_request_clear  (GatherHelperRequest *request);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GatherHelperRequest, gather_helper_request_clear)

/* Appends @frame to @out with its serial set to @serial: a RUN frame is
 * encoded once, with serial 0, and gets its serial when it is sent. */
void      gather_helper_frame_append   (GByteArray          *out,
                                        GBytes              *frame,
                                        guint32              serial);

/*
 * GatherFrameReader: bytes read from a helper's socket, cut into frames.
 * One thread uses it at a time.
 */
typedef struct
{
  guint8  *data;
  gsize    len;     /* bytes held */
  gsize    size;    /* allocated */
  gboolean trusted; /* the peer is the host, read by its helper: its frames
                     * are GLib's own serialization, not checked again */
} GatherFrameReader;

void      gather_frame_reader_clear    (GatherFrameReader   *reader);
guint8   *gather_frame_reader_reserve  (GatherFrameReader   *reader,
                                        gsize               *available);
void      gather_frame_reader_commit   (GatherFrameReader   *reader,
                                        gsize                n_read);
int       gather_frame_reader_next     (GatherFrameReader   *reader,
                                        GatherHelperMessage *kind,
                                        guint32             *serial,
                                        GVariant           **body,
                                        GError             **error);

const char *gather_helper_path_of       (GVariant      *bytestring);
gboolean    gather_helper_catalog_check (GVariant      *body,
                                         GError       **error);

/* The error a task's outcome gets from an ERROR body; never fails. */
GError   *gather_helper_error_from_variant (GVariant *body);
GVariant *gather_helper_error_to_variant   (const GError *error);

G_END_DECLS
