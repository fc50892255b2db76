// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vsva topo: the emulated IOMMU's endpoints (kmod/topology.c), their IOMMU
 * groups and capabilities, the owner root assigned to each group, and
 * which VM (context, its process) holds each endpoint now.
 */
#include <map>

#include <fmt/format.h>

#include "state.h"
#include "tool.h"

namespace vsva::tool {

namespace {

constexpr const char* kTopoHelp =
        "usage: vsva topo [--json] [--root DIR]\n"
        "\n"
        "List the endpoints (PCI requester ids BB:DD.F) the vsva module emulates:\n"
        "their IOMMU group, capabilities (pasid, ats, pri), the owner the group is\n"
        "assigned to (uid/gid: only that user or group may attach it) and the VM\n"
        "that has it attached now (context id, pid and command of its VMM, domain).\n"
        "Reads /sys/kernel/debug/vsva/: run as root.\n"
        "\n"
        "options:\n"
        "  --json      one JSON object: {\"endpoints\": [...]}\n"
        "  --root DIR  read DIR instead of /sys/kernel/debug/vsva\n"
        "\n"
        "Change the topology or the owners (root, while nothing is attached):\n"
        "  echo '00:02.0/1/pasid+ats+pri/uid=1000' >/sys/kernel/debug/vsva/topology\n"
        "or the module parameter topology= (see vsva(4)).\n";

std::string owner(const Endpoint& e) {
    std::string s;
    if (e.owner_uid >= 0)
        s += fmt::format("uid {}", e.owner_uid);
    if (e.owner_gid >= 0)
        s += fmt::format("{}gid {}", s.empty() ? "" : " ", e.owner_gid);
    return s.empty() ? "-" : s;
}

std::string caps(const Endpoint& e, const char* sep) {
    std::string s;
    for (const std::string& c : e.caps)
        s += (s.empty() ? "" : sep) + c;
    return s;
}

} // namespace

int cmd_topo(std::span<const std::string_view> args) {
    bool json = false;
    std::string root = kDebugfsRoot;
    for (std::size_t i = 0; i < args.size(); i++) {
        if (args[i] == "--json") {
            json = true;
        } else if (args[i] == "--root" && i + 1 < args.size()) {
            root = std::string(args[++i]);
        } else if (args[i] == "-h" || args[i] == "--help") {
            fmt::print("{}", kTopoHelp);
            return 0;
        } else {
            fmt::print(stderr, "vsva topo: unknown option '{}'\n{}", args[i], kTopoHelp);
            return kExitUsage;
        }
    }
    if (int rc = check_root(root, "topo"))
        return rc;
    auto text = slurp(root + "/topology");
    if (!text) {
        fmt::print(stderr, "vsva topo: cannot read {}/topology (run as root)\n", root);
        return kExitNoDevice;
    }
    const std::vector<Endpoint> eps = parse_topology(*text);
    std::map<std::int64_t, CtxStat> ctxs;
    for (CtxStat& c : read_contexts(root))
        ctxs[c.id] = std::move(c);

    if (json) {
        fmt::print(R"({{"endpoints": [)");
        for (std::size_t i = 0; i < eps.size(); i++) {
            const Endpoint& e = eps[i];
            std::string caps_json;
            for (const std::string& c : e.caps)
                caps_json +=
                        fmt::format(R"({}"{}")", caps_json.empty() ? "" : ", ", json_escape(c));
            std::string held = "null";
            if (e.ctx >= 0) {
                auto it = ctxs.find(e.ctx);
                held = fmt::format(R"({{"ctx": {}, "domain": {}, "pid": {}, "comm": "{}"}})", e.ctx,
                                   e.domain, it == ctxs.end() ? -1 : it->second.pid,
                                   it == ctxs.end() ? "" : json_escape(it->second.comm));
            }
            fmt::print(
                    R"({}{}  {{"rid": "{}", "group": {}, "caps": [{}], "owner_uid": {}, "owner_gid": {}, "held_by": {}}})",
                    i ? "," : "", "\n", json_escape(e.rid), e.group, caps_json,
                    e.owner_uid < 0 ? std::string("null") : fmt::format("{}", e.owner_uid),
                    e.owner_gid < 0 ? std::string("null") : fmt::format("{}", e.owner_gid), held);
        }
        fmt::print("]}}\n");
        return 0;
    }
    if (eps.empty()) {
        fmt::print("no endpoints (the topology is empty)\n");
        return 0;
    }
    fmt::print("{:<9} {:>5}  {:<14} {:<18} {}\n", "ENDPOINT", "GROUP", "CAPS", "OWNER", "HELD BY");
    for (const Endpoint& e : eps) {
        std::string held = "-";
        if (e.ctx >= 0) {
            auto it = ctxs.find(e.ctx);
            held = fmt::format("ctx {} domain {}", e.ctx, e.domain);
            if (it != ctxs.end() && it->second.pid >= 0)
                held += fmt::format(" (pid {} {})", it->second.pid, it->second.comm);
        }
        fmt::print("{:<9} {:>5}  {:<14} {:<18} {}\n", e.rid, e.group,
                   e.caps.empty() ? "none" : caps(e, ","), owner(e), held);
    }
    return 0;
}

} // namespace vsva::tool
