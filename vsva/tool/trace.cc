// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vsva trace: the module's tracepoints (the "vsva" trace system,
 * kmod/trace.h, Documentation/tracepoints.md) printed live.  Enables the
 * events through tracefs, reads trace_pipe, and puts every setting it
 * changed back as it was on exit, --count, --timeout, SIGINT or SIGTERM.
 */
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fmt/format.h>

#include "state.h"
#include "tool.h"

namespace vsva::tool {

namespace {

namespace fs = std::filesystem;

constexpr const char* kTraceHelp =
        "usage: vsva trace [--count N] [--timeout SECONDS] [--events LIST] [--raw]\n"
        "                  [--tracefs DIR]\n"
        "\n"
        "Print the vsva module's trace events live, one line each, as they happen:\n"
        "bind, unbind, invalidate (cache types, granularity, PASID, range), batch\n"
        "(entries, how many applied), page_request, page_response, fault\n"
        "(unrecoverable faults reported to the VMM) and ctx_release (what closing a\n"
        "VM released).  A non-zero result is the errno the caller got.\n"
        "The events are enabled through tracefs while the command runs; every\n"
        "setting it changed is restored when it ends (Ctrl-C, --count, --timeout).\n"
        "Needs root (tracefs).  Events of all VMs are shown; field ctx= is the\n"
        "context id of `vsva stat`.\n"
        "\n"
        "options:\n"
        "  --count N        stop after N events\n"
        "  --timeout SECS   stop after SECS seconds (may be fractional)\n"
        "  --events LIST    only these events, comma-separated, e.g. bind,unbind,fault\n"
        "                   (default: all)\n"
        "  --raw            print trace_pipe's lines unchanged\n"
        "  --tracefs DIR    tracefs mount point (default: /sys/kernel/tracing, else\n"
        "                   /sys/kernel/debug/tracing; mounted if needed)\n"
        "\n"
        "examples:\n"
        "  sudo vsva trace                         until Ctrl-C\n"
        "  sudo vsva trace --events fault,page_request --timeout 60\n";

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) {
    g_stop = 1;
}

bool write_str(const std::string& path, const std::string& v) {
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = ::write(fd, v.data(), v.size()) == static_cast<ssize_t>(v.size());
    ::close(fd);
    return ok;
}

std::string first_line(const std::string& path) {
    auto t = slurp(path);
    if (!t)
        return "";
    return t->substr(0, t->find('\n'));
}

// Settings changed, to put back.
struct Saved {
    std::vector<std::pair<std::string, std::string>> files; // path, old value
    std::string mounted;                                    // our tracefs mount
    void restore() {
        for (auto it = files.rbegin(); it != files.rend(); ++it)
            write_str(it->first, it->second);
        files.clear();
        if (!mounted.empty())
            ::umount(mounted.c_str());
        mounted.clear();
    }
    bool set(const std::string& path, const std::string& v) {
        std::string old = first_line(path);
        if (old == v)
            return true;
        if (!write_str(path, v))
            return false;
        files.emplace_back(path, old);
        return true;
    }
};

bool has_events(const std::string& dir) {
    std::error_code ec;
    return fs::is_directory(dir + "/events", ec);
}

// The tracefs mount point; mounts it at /sys/kernel/tracing when needed.
std::string find_tracefs(Saved& saved, std::string* why) {
    for (const char* d : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"})
        if (has_events(d))
            return d;
    const char* mp = "/sys/kernel/tracing";
    if (::mount("nodev", mp, "tracefs", 0, nullptr) == 0) {
        saved.mounted = mp;
        return mp;
    }
    *why = fmt::format("tracefs is not mounted and mounting it at {} failed ({}): run as root, "
                       "or mount -t tracefs nodev {}",
                       mp, std::strerror(errno), mp);
    return "";
}

std::string errno_note(long result) {
    if (result >= 0)
        return "";
    const char* name = strerrorname_np(static_cast<int>(-result));
    return fmt::format(" ({}: {})", name ? name : "?", std::strerror(static_cast<int>(-result)));
}

// "  <task>-<pid> [cpu] flags  ts: vsva_bind: fields" -> readable line.
bool format_line(const std::string& line, std::string* out) {
    std::size_t ev = line.find(": vsva_");
    if (ev == std::string::npos)
        return false;
    std::size_t name_end = line.find(": ", ev + 2);
    if (name_end == std::string::npos)
        return false;
    std::string name = line.substr(ev + 7, name_end - (ev + 7));
    std::string fields = line.substr(name_end + 2);
    std::string head = line.substr(0, ev);
    std::size_t ts_pos = head.find_last_of(' ');
    std::string ts = ts_pos == std::string::npos ? head : head.substr(ts_pos + 1);
    std::size_t t0 = head.find_first_not_of(' ');
    std::size_t t1 = head.find(" [", t0);
    std::string task = t0 == std::string::npos ? "" : head.substr(t0, t1 - t0);
    std::string note;
    std::size_t r = fields.find("result=");
    if (r != std::string::npos)
        note = errno_note(std::strtol(fields.c_str() + r + 7, nullptr, 10));
    *out = fmt::format("{:>14} {:<20} {:<17} {}{}", ts, task, name, fields, note);
    return true;
}

} // namespace

int cmd_trace(std::span<const std::string_view> args) {
    long count = -1;
    double timeout = -1;
    bool raw = false;
    std::string tracefs, only;
    for (std::size_t i = 0; i < args.size(); i++) {
        const bool more = i + 1 < args.size();
        if (args[i] == "--count" && more) {
            count = std::strtol(std::string(args[++i]).c_str(), nullptr, 10);
        } else if (args[i] == "--timeout" && more) {
            timeout = std::strtod(std::string(args[++i]).c_str(), nullptr);
        } else if (args[i] == "--events" && more) {
            only = std::string(args[++i]);
        } else if (args[i] == "--tracefs" && more) {
            tracefs = std::string(args[++i]);
        } else if (args[i] == "--raw") {
            raw = true;
        } else if (args[i] == "-h" || args[i] == "--help") {
            fmt::print("{}", kTraceHelp);
            return 0;
        } else {
            fmt::print(stderr, "vsva trace: unknown option '{}'\n{}", args[i], kTraceHelp);
            return kExitUsage;
        }
    }

    Saved saved;
    std::string why;
    if (tracefs.empty())
        tracefs = find_tracefs(saved, &why);
    if (tracefs.empty()) {
        fmt::print(stderr, "vsva trace: {}\n", why);
        return kExitNoDevice;
    }
    const std::string evdir = tracefs + "/events/vsva";
    std::error_code ec;
    if (!fs::is_directory(evdir, ec)) {
        fmt::print(stderr,
                   "vsva trace: {} not found: the vsva module is not loaded (modprobe vsva) or "
                   "was built without tracepoints\n",
                   evdir);
        saved.restore();
        return kExitNoDevice;
    }
    // The events to enable: all of the system, or the --events list.
    std::vector<std::string> events;
    for (auto it = fs::directory_iterator(evdir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        if (!it->is_directory())
            continue;
        std::string n = it->path().filename().string();
        std::string short_name = n.rfind("vsva_", 0) == 0 ? n.substr(5) : n;
        if (!only.empty() &&
            (fmt::format(",{},", only).find(fmt::format(",{},", short_name)) == std::string::npos &&
             fmt::format(",{},", only).find(fmt::format(",{},", n)) == std::string::npos))
            continue;
        events.push_back(n);
    }
    if (events.empty()) {
        fmt::print(stderr, "vsva trace: no event matches '{}' (see --help)\n", only);
        saved.restore();
        return kExitUsage;
    }

    struct sigaction sa = {};
    sa.sa_handler = on_signal; // no SA_RESTART: poll() returns EINTR
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE})
        sigaction(s, &sa, nullptr);

    bool ok = true;
    for (const std::string& e : events)
        ok = ok && saved.set(evdir + "/" + e + "/enable", "1");
    ok = ok && saved.set(tracefs + "/tracing_on", "1");
    if (!ok) {
        fmt::print(stderr, "vsva trace: cannot enable the events in {}: {} (run as root)\n", evdir,
                   std::strerror(errno));
        saved.restore();
        return kExitNoDevice;
    }
    int fd = ::open((tracefs + "/trace_pipe").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        fmt::print(stderr, "vsva trace: {}/trace_pipe: {}\n", tracefs, std::strerror(errno));
        saved.restore();
        return kExitNoDevice;
    }
    fmt::print(stderr, "vsva trace: {} events enabled in {}; Ctrl-C to stop\n", events.size(),
               evdir);
    std::fflush(stderr);

    using clock = std::chrono::steady_clock;
    const auto end = clock::now() + std::chrono::duration_cast<clock::duration>(
                                            std::chrono::duration<double>(timeout));
    long seen = 0;
    std::string buf;
    char chunk[8192];
    while (!g_stop && (count < 0 || seen < count)) {
        int wait_ms = 250;
        if (timeout >= 0) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock::now());
            if (left.count() <= 0)
                break;
            wait_ms = static_cast<int>(std::min<long long>(wait_ms, left.count()));
        }
        struct pollfd p = {fd, POLLIN, 0};
        int pr = ::poll(&p, 1, wait_ms);
        if (pr < 0 && errno != EINTR)
            break;
        // Read after a timeout too: the ring buffer's wake-up is lazy
        // (irq_work), an event may be there before poll() says so.
        ssize_t n = ::read(fd, chunk, sizeof(chunk));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            break;
        buf.append(chunk, static_cast<std::size_t>(n));
        std::size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos && (count < 0 || seen < count)) {
            std::string line = buf.substr(0, nl);
            buf.erase(0, nl + 1);
            std::string out;
            if (line.find(": vsva_") == std::string::npos)
                continue; // another subsystem's event
            if (raw)
                out = line;
            else if (!format_line(line, &out))
                continue;
            fmt::print("{}\n", out);
            std::fflush(stdout);
            seen++;
        }
    }
    ::close(fd);
    saved.restore();
    fmt::print(stderr, "vsva trace: {} events; tracing settings restored\n", seen);
    return 0;
}

} // namespace vsva::tool
