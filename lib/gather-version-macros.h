/* gather-version-macros.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "gather-version.h"

#ifndef _GATHER_EXTERN
# define _GATHER_EXTERN extern
#endif

/**
 * GATHER_VERSION_CUR_STABLE:
 *
 * The current stable version of libgather as a major-minor pair, encoded with
 * `G_ENCODE_VERSION()`. Compare with `GATHER_VERSION_MIN_REQUIRED`.
 *
 * Since: 1.0
 */
#define GATHER_VERSION_CUR_STABLE \
  (G_ENCODE_VERSION (GATHER_MAJOR_VERSION, GATHER_MINOR_VERSION))

/**
 * GATHER_VERSION_1_0:
 *
 * The version 1.0 of libgather, for `GATHER_VERSION_MIN_REQUIRED` and
 * `GATHER_VERSION_MAX_ALLOWED`.
 *
 * Since: 1.0
 */
#define GATHER_VERSION_1_0 (G_ENCODE_VERSION (1, 0))

/**
 * GATHER_VERSION_1_2:
 *
 * The version 1.2 of libgather, for `GATHER_VERSION_MIN_REQUIRED` and
 * `GATHER_VERSION_MAX_ALLOWED`.
 *
 * Since: 1.0
 */
#define GATHER_VERSION_1_2 (G_ENCODE_VERSION (1, 2))

/**
 * GATHER_VERSION_MIN_REQUIRED:
 *
 * Define this before including `libgather.h` to the oldest libgather version
 * your code supports, such as `GATHER_VERSION_1_0`: symbols deprecated
 * after it do not warn. Defaults to `GATHER_VERSION_CUR_STABLE`.
 *
 * Since: 1.0
 */
#ifndef GATHER_VERSION_MIN_REQUIRED
# define GATHER_VERSION_MIN_REQUIRED (GATHER_VERSION_CUR_STABLE)
#endif

/**
 * GATHER_VERSION_MAX_ALLOWED:
 *
 * Define this before including `libgather.h` to the newest libgather version
 * your code may use: symbols added after it warn. Defaults to
 * `GATHER_VERSION_CUR_STABLE`.
 *
 * Since: 1.0
 */
#ifndef GATHER_VERSION_MAX_ALLOWED
# if GATHER_VERSION_MIN_REQUIRED > GATHER_VERSION_CUR_STABLE
#  define GATHER_VERSION_MAX_ALLOWED (GATHER_VERSION_MIN_REQUIRED)
# else
#  define GATHER_VERSION_MAX_ALLOWED (GATHER_VERSION_CUR_STABLE)
# endif
#endif

#if GATHER_VERSION_MAX_ALLOWED < GATHER_VERSION_MIN_REQUIRED
# error "GATHER_VERSION_MAX_ALLOWED must be >= GATHER_VERSION_MIN_REQUIRED"
#endif
#if GATHER_VERSION_MIN_REQUIRED < GATHER_VERSION_1_0
# error "GATHER_VERSION_MIN_REQUIRED must be >= GATHER_VERSION_1_0"
#endif

/**
 * GATHER_AVAILABLE_IN_ALL:
 *
 * Marks a symbol exported by libgather in every version.
 *
 * Since: 1.0
 */
#define GATHER_AVAILABLE_IN_ALL                _GATHER_EXTERN

/**
 * GATHER_DEPRECATED:
 *
 * Marks a deprecated symbol: using it warns.
 *
 * Since: 1.0
 */
#define GATHER_DEPRECATED                      G_DEPRECATED _GATHER_EXTERN

/**
 * GATHER_DEPRECATED_FOR:
 * @f: the symbol to use instead
 *
 * Marks a symbol deprecated in favour of @f: using it warns.
 *
 * Since: 1.0
 */
#define GATHER_DEPRECATED_FOR(f)               G_DEPRECATED_FOR (f) _GATHER_EXTERN

/**
 * GATHER_UNAVAILABLE:
 * @maj: the major version that added the symbol
 * @min: the minor version that added the symbol
 *
 * Marks a symbol added after `GATHER_VERSION_MAX_ALLOWED`: using it
 * warns.
 *
 * Since: 1.0
 */
#define GATHER_UNAVAILABLE(maj,min)            G_UNAVAILABLE (maj, min) _GATHER_EXTERN

/**
 * GATHER_AVAILABLE_IN_1_0:
 *
 * Marks a symbol added in libgather 1.0.
 *
 * Since: 1.0
 */
#define GATHER_AVAILABLE_IN_1_0                _GATHER_EXTERN

/**
 * GATHER_DEPRECATED_IN_1_2:
 *
 * Marks a symbol deprecated in libgather 1.2: it warns when
 * `GATHER_VERSION_MIN_REQUIRED` is 1.2 or later.
 *
 * Since: 1.0
 */

/**
 * GATHER_DEPRECATED_IN_1_2_FOR:
 * @f: the symbol to use instead
 *
 * Marks a symbol deprecated in libgather 1.2 in favour of @f: it warns when
 * `GATHER_VERSION_MIN_REQUIRED` is 1.2 or later.
 *
 * Since: 1.0
 */
#if GATHER_VERSION_MIN_REQUIRED >= GATHER_VERSION_1_2
# define GATHER_DEPRECATED_IN_1_2              GATHER_DEPRECATED
# define GATHER_DEPRECATED_IN_1_2_FOR(f)       GATHER_DEPRECATED_FOR (f)
#else
# define GATHER_DEPRECATED_IN_1_2              _GATHER_EXTERN
# define GATHER_DEPRECATED_IN_1_2_FOR(f)       _GATHER_EXTERN
#endif

/**
 * GATHER_AVAILABLE_IN_1_2:
 *
 * Marks a symbol added in libgather 1.2: it warns when
 * `GATHER_VERSION_MAX_ALLOWED` is older.
 *
 * Since: 1.0
 */
#if GATHER_VERSION_MAX_ALLOWED < GATHER_VERSION_1_2
# define GATHER_AVAILABLE_IN_1_2               GATHER_UNAVAILABLE (1, 2)
#else
# define GATHER_AVAILABLE_IN_1_2               _GATHER_EXTERN
#endif
