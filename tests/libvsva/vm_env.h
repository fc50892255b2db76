// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * In-VM helpers for libvsva's suites: guest RAM, endpoint discovery from
 * /sys/kernel/debug/vsva/topology, the system-wide summary.
 */
#ifndef VSVA_TESTS_VM_ENV_H
#define VSVA_TESTS_VM_ENV_H

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <sys/mman.h>

#include <linux/vsva.h>

#include <gtest/gtest.h>

#include <vsva/emu.h>
#include <vsva/vsva.h>

namespace vsva::test {

inline constexpr const char* kDebugfs = "/sys/kernel/debug/vsva";

struct Endpoint {
    std::uint16_t rid = 0;
    unsigned group = 0;
    bool pasid = false, ats = false, pri = false;
    bool owned = false;
};

/* The emulated topology, "BB:DD.F group G caps pasid ats pri [ctx C domain D]". */
inline std::vector<Endpoint> topology() {
    std::vector<Endpoint> eps;
    std::ifstream in(std::string(kDebugfs) + "/topology");
    for (std::string line; std::getline(in, line);) {
        unsigned bus, dev, fn, grp;
        if (std::sscanf(line.c_str(), "%x:%x.%x group %u", &bus, &dev, &fn, &grp) != 4)
            continue;
        Endpoint e;
        e.rid = static_cast<std::uint16_t>((bus << 8) | (dev << 3) | fn);
        e.group = grp;
        e.pasid = line.find(" pasid") != std::string::npos;
        e.ats = line.find(" ats") != std::string::npos;
        e.pri = line.find(" pri") != std::string::npos;
        e.owned = line.find(" ctx ") != std::string::npos;
        eps.push_back(e);
    }
    return eps;
}

/* Free endpoints with PASID support, one per IOMMU group. */
inline std::vector<Endpoint> free_endpoints() {
    std::vector<Endpoint> out;
    std::vector<unsigned> groups;
    for (const auto& e : topology()) {
        if (!e.pasid || e.owned)
            continue;
        bool seen = false;
        for (unsigned g : groups)
            seen |= g == e.group;
        if (seen)
            continue;
        groups.push_back(e.group);
        out.push_back(e);
    }
    return out;
}

/* /sys/kernel/debug/vsva/summary as key -> value ("contexts", "pasids"...). */
inline std::map<std::string, long long> summary() {
    std::map<std::string, long long> m;
    std::ifstream in(std::string(kDebugfs) + "/summary");
    std::string k;
    long long v;
    while (in >> k >> v)
        m[k] = v;
    return m;
}

/* Anonymous, populated guest RAM. */
class GuestRam {
public:
    explicit GuestRam(std::size_t size) : size_(size) {
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        mem_ = p == MAP_FAILED ? nullptr : static_cast<std::byte*>(p);
    }
    ~GuestRam() {
        if (mem_)
            ::munmap(mem_, size_);
    }
    GuestRam(const GuestRam&) = delete;
    GuestRam& operator=(const GuestRam&) = delete;
    std::byte* data() const { return mem_; }
    std::size_t size() const { return size_; }
    std::span<std::byte> span() const { return {mem_, size_}; }

private:
    std::byte* mem_;
    std::size_t size_;
};

/* Open /dev/vsva or say why the test cannot run. */
#define VSVA_OPEN_OR_SKIP(ctx, ...)                                                                \
    auto ctx = ::vsva::Context::open(__VA_ARGS__);                                                 \
    if (!ctx.has_value() && (ctx.error().code() == ENOENT || ctx.error().code() == EOPNOTSUPP))    \
        GTEST_SKIP() << ctx.error().to_string();                                                   \
    ASSERT_TRUE(ctx.has_value()) << ctx.error().to_string()

/* ASSERT a Result is ok, printing the library's error otherwise. */
#define ASSERT_OK(expr)                                                                            \
    do {                                                                                           \
        const auto& vsva_r_ = (expr);                                                              \
        ASSERT_TRUE(vsva_r_.has_value()) << #expr << ": " << vsva_r_.error().to_string();          \
    } while (0)
#define EXPECT_OK(expr)                                                                            \
    do {                                                                                           \
        const auto& vsva_r_ = (expr);                                                              \
        EXPECT_TRUE(vsva_r_.has_value()) << #expr << ": " << vsva_r_.error().to_string();          \
    } while (0)

} // namespace vsva::test

#endif // VSVA_TESTS_VM_ENV_H
