// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * VSVA_EXPORT: what libvsva.so exports.  The library is built with
 * -fvisibility=hidden and a version script (vsva/libvsva.map); only
 * declarations marked VSVA_EXPORT are visible, each under a symbol version
 * (VSVA_0.1 ...).  Internal code (namespace vsva::detail, src/) is never
 * marked.  Users of the static library see no difference.
 */
#ifndef VSVA_EXPORT_H
#define VSVA_EXPORT_H

#if __cplusplus < 202002L
#error "libvsva's headers need C++20 (compile with -std=c++20 or later; vsva.pc does not add it)"
#endif

#if defined(__GNUC__)
#define VSVA_EXPORT __attribute__((visibility("default")))
#else
#define VSVA_EXPORT
#endif

#endif // VSVA_EXPORT_H
