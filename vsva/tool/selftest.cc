// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vsva selftest: one quick pass through the whole API against the running
 * module: open, domain, map, attach, PASID, bind, invalidate (single and
 * batch), emulated DMA through the bound table, unbind, free, detach,
 * unmap, destroy, close.  Prints one line per step.
 */
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include <sys/mman.h>

#include <fmt/format.h>

#include <vsva/emu.h>

#include "tool.h"

namespace vsva::tool {

namespace {

struct Run {
    int failed = 0;
    int passed = 0;
    int skipped = 0;

    template <class T>
    bool check(std::string_view step, const Result<T>& r) {
        if (r.has_value()) {
            passed++;
            fmt::print("  ok    {}\n", step);
            return true;
        }
        failed++;
        fmt::print("  FAIL  {}: {}\n", step, r.error());
        return false;
    }
    void fail(std::string_view step, std::string_view why) {
        failed++;
        fmt::print("  FAIL  {}: {}\n", step, why);
    }
    void ok(std::string_view step) {
        passed++;
        fmt::print("  ok    {}\n", step);
    }
    void skip(std::string_view step, std::string_view why) {
        skipped++;
        fmt::print("  skip  {}: {}\n", step, why);
    }
};

constexpr std::uint64_t kRamGpa = 0x100000;
constexpr std::size_t kRamSize = 2 << 20;
constexpr std::uint64_t kIova = 0x7f0000400000;

std::optional<std::uint16_t> parse_rid(std::string_view s) {
    unsigned v = 0;
    int base = 10;
    if (s.starts_with("0x")) {
        s.remove_prefix(2);
        base = 16;
    }
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec != std::errc() || p != s.data() + s.size() || v > 0xffff)
        return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

/* A free PASID-capable endpoint from the module's debugfs topology, if readable. */
std::optional<std::uint16_t> endpoint_from_topology() {
    std::ifstream in("/sys/kernel/debug/vsva/topology");
    for (std::string line; std::getline(in, line);) {
        unsigned bus, dev, fn, grp;
        if (std::sscanf(line.c_str(), "%x:%x.%x group %u", &bus, &dev, &fn, &grp) != 4)
            continue;
        if (line.find(" pasid") == std::string::npos || line.find(" ctx ") != std::string::npos)
            continue;
        return static_cast<std::uint16_t>((bus << 8) | (dev << 3) | fn);
    }
    return std::nullopt;
}

} // namespace

int cmd_selftest(std::span<const std::string_view> args) {
    std::optional<std::uint16_t> rid;
    for (std::size_t i = 0; i < args.size(); i++) {
        if (args[i] == "--rid" && i + 1 < args.size() && (rid = parse_rid(args[i + 1]))) {
            i++;
        } else {
            fmt::print(stderr, "vsva selftest: bad option '{}' (--rid BDF-as-number)\n", args[i]);
            return kExitUsage;
        }
    }
    bool from_topology = false;
    if (!rid) {
        rid = endpoint_from_topology();
        from_topology = rid.has_value();
    }
    Run run;
    fmt::print("vsva selftest on {}\n", device_path);
    {
        auto ctx = Context::open({.path = device_path});
        if (!run.check("open", ctx))
            return report(ctx.error());
        const Info& info = ctx->info();
        fmt::print("        module {}, features {:#x}\n", info.module_version_string(),
                   info.features);

        auto dom = ctx->create_domain();
        if (!run.check("domain-alloc", dom))
            return kExitFail;

        void* mem = ::mmap(nullptr, kRamSize, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (mem == MAP_FAILED) {
            run.fail("guest RAM", std::strerror(errno));
            return kExitFail;
        }
        std::span<std::byte> ram(static_cast<std::byte*>(mem), kRamSize);
        std::optional<Mapping> map;
        if (auto m = dom->map(kRamGpa, mem, kRamSize); run.check("map 2 MiB", m))
            map.emplace(std::move(*m));

        std::optional<Device> dev;
        if (rid) {
            auto d = dom->attach(*rid);
            if (run.check(fmt::format("attach rid {:#06x}{}", *rid,
                                      from_topology ? " (free endpoint from debugfs)" : ""),
                          d))
                dev.emplace(std::move(*d));
        } else { // no debugfs: the first endpoint that attaches
            std::optional<Error> last;
            for (unsigned r = 0; r < 0x100 && !dev; r++) {
                auto d = dom->attach(static_cast<std::uint16_t>(r));
                if (d) {
                    dev.emplace(std::move(*d));
                    run.ok(fmt::format("attach rid {:#06x} (first endpoint found)", r));
                } else {
                    last = d.error();
                }
            }
            if (!dev)
                run.fail("attach", last ? last->to_string() : "no endpoint on bus 0");
        }

        auto pasid = ctx->alloc_pasid({.gpasid = 1});
        run.check("pasid-alloc", pasid);

        std::optional<Binding> bound;
        constexpr std::uint64_t kDataOff = 0x10000;
        if (dev && pasid && map) {
            auto root = emu::write_stage1_4k(ram, kRamGpa, 0, kIova, kRamGpa + kDataOff);
            auto b = dev->bind(*pasid, {.gpgd = *root});
            if (run.check(fmt::format("bind PASID {} (gpasid 1)", pasid->hpasid()), b))
                bound.emplace(std::move(*b));
        } else {
            run.skip("bind", "an earlier step failed");
        }

        if (bound) {
            const std::uint32_t p = pasid->hpasid();
            auto inv = Invalidation::pasid(Cache::Iotlb | Cache::PasidCache, p);
            run.check("invalidate (PASID)", dev->invalidate(*inv));
            auto rng =
                    Invalidation::range(Cache::Iotlb, p, kIova, 4096, Granule::Size4K, Leaf::Yes);
            run.check("invalidate (range)", dev->invalidate(*rng));
            InvalidationQueue q;
            for (int i = 0; i < 8; i++)
                q.add(*Invalidation::range(Cache::Iotlb, p, kIova + i * 4096ull, 4096));
            q.add(*Invalidation::domain(Cache::Iotlb));
            auto out = dev->invalidate(q);
            if (run.check("invalidate (queue of 9, merged)", out) && !out->complete())
                run.fail("invalidate (queue)",
                         fmt::format("{} of {} handled", out->done, out->total));

            if (ctx->has(Feature::Emulation)) {
                const char msg[] = "vsva selftest";
                std::byte buf[sizeof(msg)];
                std::memcpy(buf, msg, sizeof(msg));
                auto d = emu::dma(*dev, p, kIova, buf, {.write = true});
                if (run.check("emulated DMA write through the bound table", d)) {
                    if (d->faulted || d->done != sizeof(msg))
                        run.fail("DMA result", fmt::format("faulted={} done={} reason={}",
                                                           d->faulted, d->done, d->fault.reason));
                    else if (std::memcmp(ram.data() + kDataOff, msg, sizeof(msg)) != 0)
                        run.fail("DMA result", "bytes did not land in guest RAM");
                    else
                        run.ok("DMA bytes landed in guest RAM");
                }
            } else {
                run.skip("emulated DMA", "kernel without VSVA_FEAT_EMU");
            }
            run.check("unbind", bound->unbind());
        }
        if (pasid)
            run.check("pasid-free", pasid->free());
        if (dev)
            run.check("detach", dev->detach());
        if (map)
            run.check("unmap", map->unmap());
        run.check("domain-destroy", dom->destroy());
        if (ctx->has(Feature::Emulation)) {
            auto c = emu::counters(*ctx);
            if (run.check("counters", c) && (c->pinned_pages || c->pasids || c->bindings))
                run.fail("released", fmt::format("pinned {} pasids {} bindings {} left",
                                                 c->pinned_pages, c->pasids, c->bindings));
        }
        ::munmap(mem, kRamSize);
    }
    run.ok("close");
    fmt::print("{} passed, {} failed, {} skipped\n", run.passed, run.failed, run.skipped);
    return run.failed ? kExitFail : 0;
}

} // namespace vsva::tool
