// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vsva stat: the module's per-VM state from debugfs.  The layout under
 * /sys/kernel/debug/vsva/ belongs to the module; this command prints every
 * file it finds (one directory per context, counter files...) and degrades
 * gracefully when debugfs, the directory or a file is missing.
 */
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "tool.h"

namespace vsva::tool {

namespace {

namespace fs = std::filesystem;

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
            if (static_cast<unsigned char>(c) < 0x20)
                out += fmt::format("\\u{:04x}", c);
            else
                out += c;
        }
    }
    return out;
}

} // namespace

int cmd_stat(std::span<const std::string_view> args) {
    bool json = false;
    std::string root = "/sys/kernel/debug/vsva";
    for (std::size_t i = 0; i < args.size(); i++) {
        if (args[i] == "--json") {
            json = true;
        } else if (args[i] == "--root" && i + 1 < args.size()) {
            root = std::string(args[++i]);
        } else {
            fmt::print(stderr, "vsva stat: unknown option '{}'\n", args[i]);
            return kExitUsage;
        }
    }

    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        const int err = ec ? ec.value() : ENOENT;
        if (err == EACCES || err == EPERM) {
            fmt::print(stderr,
                       "vsva stat: {}: permission denied (debugfs is root-only: run as "
                       "root)\n",
                       root);
            return kExitNoDevice;
        }
        if (!fs::exists("/sys/kernel/debug/vsva", ec) && fs::is_empty("/sys/kernel/debug", ec))
            fmt::print(stderr, "vsva stat: debugfs is not mounted (mount -t debugfs none "
                               "/sys/kernel/debug)\n");
        else if (!fs::exists("/dev/vsva"))
            fmt::print(stderr,
                       "vsva stat: {} not found: the vsva module is not loaded (load it "
                       "with modprobe vsva)\n",
                       root);
        else
            fmt::print(stderr,
                       "vsva stat: {} not found: this vsva module exports no debugfs "
                       "state (built without it?)\n",
                       root);
        return kExitNoDevice;
    }

    std::vector<Entry> entries;
    for (auto it = fs::recursive_directory_iterator(
                 root, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec))
            continue;
        Entry e;
        e.path = fs::relative(it->path(), root, ec).string();
        std::ifstream in(it->path());
        if (!in) {
            e.ok = false;
            e.text = fmt::format("unreadable: {}", std::strerror(errno));
        } else {
            std::ostringstream ss;
            ss << in.rdbuf();
            e.text = trim(ss.str());
            if (in.bad()) {
                e.ok = false;
                e.text = "unreadable";
            }
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
        std::istringstream lines(e.text);
        for (std::string line; std::getline(lines, line);)
            fmt::print("    {}\n", line);
    }
    return 0;
}

} // namespace vsva::tool
