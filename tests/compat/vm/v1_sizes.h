// SPDX-License-Identifier: GPL-2.0
#ifndef VSVA_COMPAT_V1_SIZES_H
#define VSVA_COMPAT_V1_SIZES_H
#include <cstddef>
namespace compat {
// sizeof the release-1 argument of @cmd: the minimum argsz the module must
// accept for it for ever (0 for a command release 1 did not have).
size_t v1_size_of(unsigned long cmd);
} // namespace compat
#endif
