// SPDX-License-Identifier: LGPL-2.1-or-later
/* vsva: inspect and check the vsva kernel module. */
#include <cerrno>
#include <cstdio>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "tool.h"

namespace vsva::tool {

const char* device_path = "/dev/vsva";

int report(const Error& e) {
    fmt::print(stderr, "vsva: {}\n", e);
    switch (e.code()) {
    case ENOENT:
    case ENXIO:
    case ENODEV:
    case EACCES:
    case EPERM:
        return e.op() == "open" ? kExitNoDevice : kExitFail;
    default:
        return kExitFail;
    }
}

} // namespace vsva::tool

namespace {

void usage(std::FILE* out) {
    fmt::print(out, "usage: vsva [--device PATH] COMMAND [OPTIONS]\n"
                    "\n"
                    "commands:\n"
                    "  info [--json]          module version, UAPI and payload versions,\n"
                    "                         capabilities and limits of /dev/vsva\n"
                    "  stat [--json]          per-VM state from /sys/kernel/debug/vsva/\n"
                    "  selftest [--rid RID]   quick end-to-end check (open, domain, map,\n"
                    "                         attach, PASID, bind, invalidate, unbind, close)\n"
                    "  version                the library's version\n"
                    "\n"
                    "exit status: 0 ok, 1 failure, 2 usage, 3 module not loaded / no access\n");
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.size() >= 2 && args[0] == "--device") {
        vsva::tool::device_path = argv[2];
        args.erase(args.begin(), args.begin() + 2);
    }
    if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
        usage(args.empty() ? stderr : stdout);
        return args.empty() ? vsva::tool::kExitUsage : 0;
    }
    const std::string_view cmd = args[0];
    std::span<const std::string_view> rest(args.data() + 1, args.size() - 1);
    if (cmd == "info")
        return vsva::tool::cmd_info(rest);
    if (cmd == "stat")
        return vsva::tool::cmd_stat(rest);
    if (cmd == "selftest")
        return vsva::tool::cmd_selftest(rest);
    if (cmd == "version") {
        fmt::print("vsva tool and libvsva {}\n", vsva::library_version());
        return 0;
    }
    fmt::print(stderr, "vsva: unknown command '{}'\n", cmd);
    usage(stderr);
    return vsva::tool::kExitUsage;
}
