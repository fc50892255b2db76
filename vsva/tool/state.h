// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The module's state as /sys/kernel/debug/vsva/ shows it (kmod/debugfs.c,
 * kmod/topology.c), parsed for vsva stat and vsva topo.  Lines the parser
 * does not know are ignored, so an older or newer module still parses.
 */
#ifndef VSVA_TOOL_STATE_H
#define VSVA_TOOL_STATE_H

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vsva::tool {

inline constexpr const char* kDebugfsRoot = "/sys/kernel/debug/vsva";

struct CacheStat {
    std::int64_t hits = 0, misses = 0, flushed = 0;
    bool present = false;
    // Hits / lookups, or -1 without lookups.
    double hit_rate() const {
        return hits + misses ? static_cast<double>(hits) / static_cast<double>(hits + misses) : -1;
    }
};

struct DomainStat {
    std::uint32_t id = 0;
    std::uint32_t devices = 0;
    std::uint64_t pinned_pages = 0;
};

struct DeviceStat {
    std::uint32_t id = 0;
    std::string rid; // BB:DD.F
    std::uint32_t domain = 0;
    std::uint32_t caps = 0, enabled = 0;
    std::uint32_t bound = 0;
};

struct CtxStat {
    std::uint32_t id = 0;
    std::int64_t pid = -1; // owner at open; -1: module without the line
    std::int64_t uid = -1;
    std::string comm;
    std::map<std::string, std::int64_t> counters; // "binds", "faults", ...
    std::int64_t pasids = 0, pasid_quota = 0;
    std::int64_t user_pasids = -1, user_pasid_limit = -1;
    std::int64_t pending_page_requests = 0;
    std::int64_t fault_queue_used = -1, fault_queue_depth = -1; // -1: no fault fd
    CacheStat iotlb, devtlb, pasid_cache;
    std::vector<DomainStat> domains;
    std::vector<DeviceStat> devices;
    std::int64_t get(const std::string& k) const {
        auto it = counters.find(k);
        return it == counters.end() ? 0 : it->second;
    }
};

struct Endpoint {
    std::string rid; // BB:DD.F
    std::uint32_t group = 0;
    std::vector<std::string> caps;
    std::int64_t owner_uid = -1, owner_gid = -1;
    std::int64_t ctx = -1, domain = -1; // attached in
};

struct Summary {
    std::int64_t contexts = 0, pasids = 0, pinned_pages = 0;
};

// Read a whole file; nullopt (errno set) when it cannot be read.
std::optional<std::string> slurp(const std::string& path);

CtxStat parse_ctx(std::string_view text);
std::vector<Endpoint> parse_topology(std::string_view text);
Summary parse_summary(std::string_view text);

// Check @root is readable; else print why (debugfs not mounted, module not
// loaded, not root) prefixed by @cmd and return the exit code.
int check_root(const std::string& root, std::string_view cmd);

// Every ctx/<id> under @root, by id.
std::vector<CtxStat> read_contexts(const std::string& root);

std::string json_escape(std::string_view s);
// A hit rate for JSON: a number, or null without lookups.
std::string json_rate(double r);

} // namespace vsva::tool

#endif // VSVA_TOOL_STATE_H
