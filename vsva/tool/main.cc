// SPDX-License-Identifier: LGPL-2.1-or-later
/* vsva: inspect and check the vsva kernel module. */
#include <cerrno>
#include <cstdio>
#include <span>
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
    fmt::print(out,
               "usage: vsva [--device PATH] COMMAND [OPTIONS]\n"
               "\n"
               "commands (vsva COMMAND --help for each):\n"
               "  info [--json]          module version, UAPI and payload versions,\n"
               "                         capabilities and limits of /dev/vsva\n"
               "  stat [--json] [--ctx ID]\n"
               "                         every VM using vsva: owner process, pinned memory,\n"
               "                         PASIDs, bindings, devices, cache hit rates, faults\n"
               "  topo [--json]          endpoints, IOMMU groups, owners, which VM holds each\n"
               "  trace [--count N] [--timeout S] [--events LIST]\n"
               "                         print the module's trace events live\n"
               "  selftest [--rid RID]   quick end-to-end check (open, domain, map,\n"
               "                         attach, PASID, bind, invalidate, unbind, close)\n"
               "  version                the library's version\n"
               "\n"
               "stat, topo and trace read debugfs/tracefs: run them as root.  info and\n"
               "selftest open /dev/vsva: root or a member of its group (kvm).\n"
               "\n"
               "exit status: 0 ok, 1 failure, 2 usage, 3 module not loaded / no access\n");
}

constexpr const char* kInfoHelp =
        "usage: vsva [--device PATH] info [--json]\n"
        "\n"
        "Open /dev/vsva (or PATH) and print what the loaded module offers: its\n"
        "version, the UAPI and payload versions, features, which cache x granularity\n"
        "invalidations it takes, PASID and address widths, the PASID quota of one VM\n"
        "and how much memory the caller may pin (RLIMIT_MEMLOCK).  Works for any user\n"
        "who may open the device (root, or group kvm with the packaged udev rule).\n"
        "\n"
        "  --json   the same as one JSON object\n";

constexpr const char* kSelftestHelp =
        "usage: vsva [--device PATH] selftest [--rid RID]\n"
        "\n"
        "Run a short end-to-end check against the module: open, allocate a domain,\n"
        "map memory, attach an endpoint, allocate a PASID, bind, invalidate, unbind\n"
        "and close, printing ok/FAIL per step.  RID is the endpoint's requester id as\n"
        "a number (e.g. 0x10 for 00:02.0); default: the first PASID-capable endpoint\n"
        "of the topology (vsva topo), or 00:02.0.  Exit status 1 if a step fails.\n";

bool wants_help(std::span<const std::string_view> rest) {
    for (auto a : rest)
        if (a == "-h" || a == "--help")
            return true;
    return false;
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
    if (cmd == "info") {
        if (wants_help(rest)) {
            fmt::print("{}", kInfoHelp);
            return 0;
        }
        return vsva::tool::cmd_info(rest);
    }
    if (cmd == "stat")
        return vsva::tool::cmd_stat(rest);
    if (cmd == "topo")
        return vsva::tool::cmd_topo(rest);
    if (cmd == "trace")
        return vsva::tool::cmd_trace(rest);
    if (cmd == "selftest") {
        if (wants_help(rest)) {
            fmt::print("{}", kSelftestHelp);
            return 0;
        }
        return vsva::tool::cmd_selftest(rest);
    }
    if (cmd == "version") {
        fmt::print("vsva tool and libvsva {}\n", vsva::library_version());
        return 0;
    }
    fmt::print(stderr, "vsva: unknown command '{}'\n", cmd);
    usage(stderr);
    return vsva::tool::kExitUsage;
}
