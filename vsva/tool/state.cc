// SPDX-License-Identifier: LGPL-2.1-or-later
/* Parsing /sys/kernel/debug/vsva/ (see state.h). */
#include "state.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace vsva::tool {

namespace {

namespace fs = std::filesystem;

std::vector<std::string_view> split(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ')
            i++;
        std::size_t j = i;
        while (j < line.size() && line[j] != ' ')
            j++;
        if (j > i)
            out.push_back(line.substr(i, j - i));
        i = j;
    }
    return out;
}

// Decimal or 0x-prefixed hexadecimal; @def when it is neither.
std::int64_t num(std::string_view s, std::int64_t def = 0) {
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s.remove_prefix(2);
        base = 16;
    }
    std::int64_t v = def;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    return ec == std::errc() && p == s.data() + s.size() ? v : def;
}

// The value after key @k in "k1 v1 k2 v2 ..." tokens, from @from on.
std::int64_t after(const std::vector<std::string_view>& t, std::string_view k, std::size_t from = 0,
                   std::int64_t def = 0) {
    for (std::size_t i = from; i + 1 < t.size(); i++)
        if (t[i] == k)
            return num(t[i + 1], def);
    return def;
}

template <class F>
void for_lines(std::string_view text, F f) {
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        f(text.substr(0, nl));
        if (nl == std::string_view::npos)
            break;
        text.remove_prefix(nl + 1);
    }
}

void cache_line(CacheStat& c, const std::vector<std::string_view>& t) {
    c.present = true;
    c.hits = after(t, "hits");
    c.misses = after(t, "misses");
    c.flushed = after(t, "flushed");
}

} // namespace

std::optional<std::string> slurp(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad())
        return std::nullopt;
    return ss.str();
}

CtxStat parse_ctx(std::string_view text) {
    CtxStat c;
    for_lines(text, [&](std::string_view line) {
        if (line.empty() || line[0] == ' ')
            return; // list entries (PASIDs, mappings, bound PASIDs)
        auto t = split(line);
        if (t.size() < 2)
            return;
        const std::string_view k = t[0];
        if (k == "ctx") {
            c.id = static_cast<std::uint32_t>(num(t[1]));
        } else if (k == "owner") {
            c.pid = after(t, "pid", 1, -1);
            c.uid = after(t, "uid", 1, -1);
            std::size_t pos = line.find(" comm ");
            if (pos != std::string_view::npos)
                c.comm = std::string(line.substr(pos + 6));
        } else if (k == "set:") {
            c.pasid_quota = after(t, "quota");
            c.pasids = after(t, "pasids");
        } else if (k == "user:") {
            c.user_pasids = after(t, "pasids", 1, -1);
            c.user_pasid_limit = after(t, "limit", 1, -1);
        } else if (k == "domain" && t.size() >= 6) {
            c.domains.push_back({static_cast<std::uint32_t>(num(t[1])),
                                 static_cast<std::uint32_t>(after(t, "devices")),
                                 static_cast<std::uint64_t>(after(t, "pinned"))});
        } else if (k == "device" && t.size() >= 5 && t[4] == "domain") {
            DeviceStat d;
            d.id = static_cast<std::uint32_t>(num(t[1]));
            d.rid = std::string(t[3]);
            d.domain = static_cast<std::uint32_t>(after(t, "domain"));
            d.caps = static_cast<std::uint32_t>(after(t, "caps"));
            d.enabled = static_cast<std::uint32_t>(after(t, "enabled"));
            d.bound = static_cast<std::uint32_t>(after(t, "bound"));
            c.devices.push_back(d);
        } else if (k == "iotlb" && t[1] == "hits") {
            cache_line(c.iotlb, t);
        } else if (k == "devtlb" && t[1] == "hits") {
            cache_line(c.devtlb, t);
        } else if (k == "pasid-cache" && t[1] == "hits") {
            cache_line(c.pasid_cache, t);
        } else if (k == "walks") {
            c.counters["walks"] = num(t[1]);
            c.counters["faults"] = after(t, "faults");
            c.counters["page_requests"] = after(t, "page-requests");
        } else if (k == "pending" && t.size() == 4) {
            c.pending_page_requests = num(t[3]);
        } else if (k == "fault" && t.size() >= 3 && t[1] == "queue") {
            std::string_view q = t[2];
            std::size_t slash = q.find('/');
            if (slash != std::string_view::npos) {
                c.fault_queue_used = num(q.substr(0, slash));
                c.fault_queue_depth = num(q.substr(slash + 1));
            }
        } else if (t.size() == 2) {
            // "pinned_pages N", "bindings N", "binds N", "lost_events N"...
            c.counters[std::string(k)] = num(t[1]);
        }
    });
    return c;
}

std::vector<Endpoint> parse_topology(std::string_view text) {
    std::vector<Endpoint> eps;
    for_lines(text, [&](std::string_view line) {
        auto t = split(line);
        if (t.size() < 4 || t[1] != "group")
            return;
        Endpoint e;
        e.rid = std::string(t[0]);
        e.group = static_cast<std::uint32_t>(num(t[2]));
        std::size_t i = 4;
        for (; i < t.size() && t[i] != "uid" && t[i] != "gid" && t[i] != "ctx"; i++)
            if (t[i] != "none")
                e.caps.emplace_back(t[i]);
        e.owner_uid = after(t, "uid", i, -1);
        e.owner_gid = after(t, "gid", i, -1);
        e.ctx = after(t, "ctx", i, -1);
        e.domain = after(t, "domain", i, -1);
        eps.push_back(std::move(e));
    });
    return eps;
}

Summary parse_summary(std::string_view text) {
    Summary s;
    for_lines(text, [&](std::string_view line) {
        auto t = split(line);
        if (t.size() != 2)
            return;
        if (t[0] == "contexts")
            s.contexts = num(t[1]);
        else if (t[0] == "pasids")
            s.pasids = num(t[1]);
        else if (t[0] == "pinned_pages")
            s.pinned_pages = num(t[1]);
    });
    return s;
}

int check_root(const std::string& root, std::string_view cmd) {
    std::error_code ec;
    if (fs::is_directory(root, ec))
        return 0;
    const int err = ec ? ec.value() : ENOENT;
    if (err == EACCES || err == EPERM) {
        fmt::print(stderr, "vsva {}: {}: permission denied (debugfs is root-only: run as root)\n",
                   cmd, root);
    } else if (root == kDebugfsRoot && !fs::exists("/sys/kernel/debug/vsva", ec) &&
               fs::is_empty("/sys/kernel/debug", ec)) {
        fmt::print(stderr,
                   "vsva {}: debugfs is not mounted (mount -t debugfs none /sys/kernel/debug)\n",
                   cmd);
    } else if (!fs::exists("/dev/vsva")) {
        fmt::print(stderr,
                   "vsva {}: {} not found: the vsva module is not loaded (load it with modprobe "
                   "vsva)\n",
                   cmd, root);
    } else {
        fmt::print(stderr,
                   "vsva {}: {} not found: this vsva module exports no debugfs state (built "
                   "without it?)\n",
                   cmd, root);
    }
    return 3;
}

std::vector<CtxStat> read_contexts(const std::string& root) {
    std::vector<CtxStat> out;
    std::error_code ec;
    for (auto it = fs::directory_iterator(root + "/ctx", ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        // A context may close between the listing and the read: skip it.
        auto text = slurp(it->path().string());
        if (!text)
            continue;
        CtxStat c = parse_ctx(*text);
        if (!c.id)
            c.id = static_cast<std::uint32_t>(num(it->path().filename().string()));
        out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end(),
              [](const CtxStat& a, const CtxStat& b) { return a.id < b.id; });
    return out;
}

std::string json_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            // Control bytes escaped; bytes >= 0x80 as Latin-1 (a comm
            // need not be UTF-8; the output must be valid JSON).
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x80)
                out += fmt::format("\\u{:04x}",
                                   static_cast<unsigned>(static_cast<unsigned char>(c)));
            else
                out += c;
        }
    }
    return out;
}

std::string json_rate(double r) {
    return r < 0 ? "null" : fmt::format("{:.4f}", r);
}

} // namespace vsva::tool
