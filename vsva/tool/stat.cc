// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vsva stat: per-VM state for operators, from /sys/kernel/debug/vsva/
 * (kmod/debugfs.c).  One block per open /dev/vsva (a VM): who opened it,
 * pinned memory, PASIDs, bindings, domains and devices, cache hit rates,
 * faults, page requests and lost fault records.  --raw prints the files
 * as they are.
 */
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "state.h"
#include "tool.h"

namespace vsva::tool {

namespace {

namespace fs = std::filesystem;

constexpr const char* kStatHelp =
        "usage: vsva stat [--json] [--ctx ID] [--raw] [--root DIR]\n"
        "\n"
        "Show every VM (open /dev/vsva) the vsva module serves: the process that\n"
        "opened it (pid, command, uid), pinned guest memory, PASIDs, bindings,\n"
        "stage-2 domains, attached devices, emulated cache hit rates, faults, page\n"
        "requests and fault records lost because the VMM did not read its fault fd.\n"
        "Reads /sys/kernel/debug/vsva/: run as root (debugfs is root-only).\n"
        "\n"
        "options:\n"
        "  --json      one JSON object: {\"summary\": {...}, \"contexts\": [...]}\n"
        "  --ctx ID    only the context with this id (see `vsva topo` for who holds\n"
        "              which device); exit status 1 if there is none\n"
        "  --raw       print the debugfs files as the module writes them\n"
        "  --root DIR  read DIR instead of /sys/kernel/debug/vsva\n"
        "\n"
        "examples:\n"
        "  sudo vsva stat                 all VMs\n"
        "  sudo vsva stat --ctx 3 --json  one VM, for a script\n"
        "\n"
        "A rising \"lost\" count means the VMM reads its fault fd too slowly; pinned\n"
        "memory counts against the VMM user's RLIMIT_MEMLOCK (see vsva(4)).\n";

struct Entry {
    std::string path; // relative to the root
    std::string text; // contents, or the reason it could not be read
    bool ok = true;
};

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

int raw_dump(const std::string& root, bool json) {
    std::vector<Entry> entries;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(
                 root, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec))
            continue;
        Entry e;
        e.path = fs::relative(it->path(), root, ec).string();
        if (auto text = slurp(it->path().string())) {
            e.text = trim(*text);
        } else {
            e.ok = false;
            e.text = fmt::format("unreadable: {}", std::strerror(errno));
        }
        entries.push_back(std::move(e));
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.path < b.path; });

    if (json) {
        fmt::print("{{\n  \"root\": \"{}\",\n  \"files\": {{", json_escape(root));
        for (std::size_t i = 0; i < entries.size(); i++)
            fmt::print("{}\n    \"{}\": {{\"ok\": {}, \"text\": \"{}\"}}", i ? "," : "",
                       json_escape(entries[i].path), entries[i].ok ? "true" : "false",
                       json_escape(entries[i].text));
        fmt::print("\n  }}\n}}\n");
        return 0;
    }
    if (entries.empty()) {
        fmt::print("{}: no state (no VM has /dev/vsva open)\n", root);
        return 0;
    }
    for (const Entry& e : entries) {
        if (e.text.find('\n') == std::string::npos) {
            fmt::print("{:<32} {}\n", e.path, e.text.empty() ? "(empty)" : e.text);
            continue;
        }
        fmt::print("{}:\n", e.path);
        std::size_t pos = 0;
        while (pos <= e.text.size()) {
            std::size_t nl = e.text.find('\n', pos);
            fmt::print("    {}\n", e.text.substr(pos, nl - pos));
            if (nl == std::string::npos)
                break;
            pos = nl + 1;
        }
    }
    return 0;
}

std::string bytes(std::int64_t pages) {
    const double mib = static_cast<double>(pages) * 4096.0 / (1024.0 * 1024.0);
    return fmt::format("{} pages ({:.1f} MiB)", pages, mib);
}

std::string rate(const CacheStat& c) {
    if (!c.present)
        return "-";
    if (c.hits + c.misses == 0)
        return "no lookups";
    return fmt::format("{:.1f}% ({} hits, {} misses)", 100.0 * c.hit_rate(), c.hits, c.misses);
}

void print_ctx(const CtxStat& c) {
    std::string who = c.pid >= 0 ? fmt::format("pid {} ({}) uid {}", c.pid, c.comm, c.uid)
                                 : std::string("owner unknown");
    fmt::print("ctx {}  {}\n", c.id, who);
    auto row = [](std::string_view k, const std::string& v) { fmt::print("  {:<15} {}\n", k, v); };
    row("pinned", bytes(c.get("pinned_pages")));
    row("PASIDs", fmt::format("{} (quota {})", c.pasids, c.pasid_quota));
    row("bindings", fmt::format("{}", c.get("bindings")));
    row("domains", fmt::format("{}", c.domains.size()));
    for (const DomainStat& d : c.domains)
        row("", fmt::format("domain {}: {} devices, {} pinned", d.id, d.devices,
                            bytes(static_cast<std::int64_t>(d.pinned_pages))));
    row("devices", fmt::format("{}", c.devices.size()));
    for (const DeviceStat& d : c.devices)
        row("", fmt::format("device {}: {} in domain {}, {} PASIDs bound", d.id, d.rid, d.domain,
                            d.bound));
    row("iotlb", rate(c.iotlb));
    row("devtlb", rate(c.devtlb));
    row("pasid-cache", rate(c.pasid_cache));
    row("operations", fmt::format("{} binds, {} unbinds, {} invalidations", c.get("binds"),
                                  c.get("unbinds"), c.get("invalidations")));
    row("faults", fmt::format("{} ({} page requests, {} pending)", c.get("faults"),
                              c.get("page_requests"), c.pending_page_requests));
    row("fault fd", c.fault_queue_depth < 0 ? std::string("none")
                                            : fmt::format("{}/{} records queued",
                                                          c.fault_queue_used, c.fault_queue_depth));
    row("lost", fmt::format("{} fault records", c.get("lost_events")));
}

std::string cache_json(const CacheStat& c) {
    return fmt::format(R"({{"hits": {}, "misses": {}, "flushed": {}, "hit_rate": {}}})", c.hits,
                       c.misses, c.flushed, json_rate(c.hit_rate()));
}

std::string ctx_json(const CtxStat& c) {
    std::string s = fmt::format(
            R"({{"id": {}, "pid": {}, "uid": {}, "comm": "{}", "pinned_pages": {}, )"
            R"("pinned_bytes": {}, "pasids": {}, "pasid_quota": {}, "bindings": {}, )"
            R"("binds": {}, "unbinds": {}, "invalidations": {}, "faults": {}, )"
            R"("page_requests": {}, "pending_page_requests": {}, "lost_events": {}, )"
            R"("fault_queue": {}, "cache": {{"iotlb": {}, "devtlb": {}, "pasid_cache": {}}}, )",
            c.id, c.pid, c.uid, json_escape(c.comm), c.get("pinned_pages"),
            c.get("pinned_pages") * 4096, c.pasids, c.pasid_quota, c.get("bindings"),
            c.get("binds"), c.get("unbinds"), c.get("invalidations"), c.get("faults"),
            c.get("page_requests"), c.pending_page_requests, c.get("lost_events"),
            c.fault_queue_depth < 0 ? std::string("null")
                                    : fmt::format(R"({{"used": {}, "depth": {}}})",
                                                  c.fault_queue_used, c.fault_queue_depth),
            cache_json(c.iotlb), cache_json(c.devtlb), cache_json(c.pasid_cache));
    s += R"("domains": [)";
    for (std::size_t i = 0; i < c.domains.size(); i++)
        s += fmt::format(R"({}{{"id": {}, "devices": {}, "pinned_pages": {}}})", i ? ", " : "",
                         c.domains[i].id, c.domains[i].devices, c.domains[i].pinned_pages);
    s += R"(], "devices": [)";
    for (std::size_t i = 0; i < c.devices.size(); i++) {
        const DeviceStat& d = c.devices[i];
        s += fmt::format(
                R"({}{{"id": {}, "rid": "{}", "domain": {}, "caps": {}, "enabled": {}, "bound": {}}})",
                i ? ", " : "", d.id, json_escape(d.rid), d.domain, d.caps, d.enabled, d.bound);
    }
    s += "]}";
    return s;
}

} // namespace

int cmd_stat(std::span<const std::string_view> args) {
    bool json = false, raw = false;
    long want = -1;
    std::string root = kDebugfsRoot;
    for (std::size_t i = 0; i < args.size(); i++) {
        if (args[i] == "--json") {
            json = true;
        } else if (args[i] == "--raw") {
            raw = true;
        } else if (args[i] == "--root" && i + 1 < args.size()) {
            root = std::string(args[++i]);
        } else if (args[i] == "--ctx" && i + 1 < args.size()) {
            want = std::strtol(std::string(args[++i]).c_str(), nullptr, 0);
        } else if (args[i] == "-h" || args[i] == "--help") {
            fmt::print("{}", kStatHelp);
            return 0;
        } else {
            fmt::print(stderr, "vsva stat: unknown option '{}'\n{}", args[i], kStatHelp);
            return kExitUsage;
        }
    }
    if (int rc = check_root(root, "stat"))
        return rc;
    if (raw)
        return raw_dump(root, json);

    const Summary sum = parse_summary(slurp(root + "/summary").value_or(""));
    std::vector<CtxStat> ctxs = read_contexts(root);
    if (want >= 0) {
        std::erase_if(ctxs, [&](const CtxStat& c) { return c.id != want; });
        if (ctxs.empty()) {
            fmt::print(stderr, "vsva stat: no context {} (closed, or never opened)\n", want);
            return kExitFail;
        }
    }
    if (json) {
        fmt::print(R"({{"summary": {{"contexts": {}, "pasids": {}, "pinned_pages": {}}}, )"
                   R"("contexts": [)",
                   sum.contexts, sum.pasids, sum.pinned_pages);
        for (std::size_t i = 0; i < ctxs.size(); i++)
            fmt::print("{}\n  {}", i ? "," : "", ctx_json(ctxs[i]));
        fmt::print("]}}\n");
        return 0;
    }
    fmt::print("vsva: {} contexts, {} PASIDs, {} pinned system-wide\n", sum.contexts, sum.pasids,
               bytes(sum.pinned_pages));
    if (ctxs.empty() && want < 0)
        fmt::print("no VM has /dev/vsva open\n");
    for (const CtxStat& c : ctxs) {
        fmt::print("\n");
        print_ctx(c);
    }
    return 0;
}

} // namespace vsva::tool
