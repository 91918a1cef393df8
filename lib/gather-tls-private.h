/* gather-tls-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

/*
 * GATHER_TLS: a thread-local variable in the initial-exec model.
 *
 * The initial-exec model makes each access one load from the thread
 * pointer instead of a call to __tls_get_addr() (about 35 instructions per
 * task). A library loaded with dlopen(), as GJS and PyGObject load this
 * one, takes such variables from glibc's reserve of static TLS, which
 * our few bytes fit easily.
 */
#define GATHER_TLS __thread __attribute__ ((tls_model ("initial-exec")))
