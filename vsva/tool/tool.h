// SPDX-License-Identifier: LGPL-2.1-or-later
/* The vsva command-line tool: subcommands. */
#ifndef VSVA_TOOL_TOOL_H
#define VSVA_TOOL_TOOL_H

#include <span>
#include <string_view>

#include <vsva/vsva.h>

namespace vsva::tool {

/** Exit codes: 0 ok, 1 failure, 2 usage, 3 module missing / no access. */
inline constexpr int kExitFail = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNoDevice = 3;

/** The device node (--device PATH; default /dev/vsva). */
extern const char* device_path;

/** Print "vsva: <error>" to stderr; return the matching exit code. */
int report(const Error& e);

int cmd_info(std::span<const std::string_view> args);
int cmd_stat(std::span<const std::string_view> args);
int cmd_selftest(std::span<const std::string_view> args);
int cmd_topo(std::span<const std::string_view> args);
int cmd_trace(std::span<const std::string_view> args);

} // namespace vsva::tool

#endif // VSVA_TOOL_TOOL_H
