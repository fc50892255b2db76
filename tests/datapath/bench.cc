// SPDX-License-Identifier: GPL-2.0
// datapath_bench: cost of emulated translation and invalidation, meant for
//   tests/vm/run --kernel K --icount -- build/vm-bin/datapath_bench
// (guest time counts instructions, so the figures are deterministic).
// Prints figures; asserts nothing except that the set-up works.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "dp_lib.h"

using namespace dp;

namespace {

constexpr uint64_t kRamGpa = 0x100000, kRamLen = 8ull << 20;
constexpr uint64_t kPool = 0x100000, kPoolEnd = 0x500000;
constexpr uint64_t kDataGpa = 0x600000;
constexpr uint64_t kVa = 0x200000000000ull;
constexpr unsigned kIotlbEntries = 4096; // per domain, kmod/emu/emu_internal.h

[[noreturn]] void Die(const char* what, int rc) {
    fprintf(stderr, "datapath_bench: %s failed: %d\n", what, rc);
    exit(1);
}

struct Setup {
    Ctx ctx;
    GuestRam ram;
    std::unique_ptr<PageTables> pt;
    uint32_t dom = 0, dev = 0, pasid = 0, pasid2 = 0;

    // Each VM its own endpoint: an endpoint belongs to one context.
    explicit Setup(int levels, uint16_t rid = 2) {
        int rc;
        if (!ctx.ok())
            Die("open /dev/vsva", -errno);
        if ((rc = ctx.DomainAlloc(&dom)))
            Die("domain alloc", rc);
        if ((rc = ram.Add(ctx, dom, kRamGpa, kRamLen)))
            Die("map", rc);
        pt = std::make_unique<PageTables>(ram, kPool, kPoolEnd, levels);
        if ((rc = ctx.Attach(Rid(rid), dom, 0, &dev)))
            Die("attach", rc);
        if ((rc = ctx.PasidAlloc(&pasid)) || (rc = ctx.PasidAlloc(&pasid2)))
            Die("pasid alloc", rc);
        if ((rc = ctx.Bind(dev, pasid, pt->root(), pt->aw())))
            Die("bind", rc);
    }
    void Dma(uint64_t iova) {
        uint64_t v;
        struct vsva_emu_dma d;
        int rc = ctx.Dma(dev, pasid, iova, &v, sizeof(v), 0, &d);
        if (rc || (d.out_flags & VSVA_EMU_DMA_FAULTED))
            Die("dma", rc ? rc : -(int)d.out_fault.reason);
    }
    int Inv(struct vsva_cache_invalidate_info inv) { return ctx.Invalidate(dev, inv); }
};

// Translation: one DMA of 8 bytes, hitting vs missing the IOTLB.  A miss
// walks the whole table: the addresses are 2 MiB apart (each its own PDE,
// all PDEs share one PT) and cycle through twice the IOTLB's capacity, so
// the LRU IOTLB and its paging-structure entries never hold them.
void Translation(int levels, double floor) {
    Setup s(levels);
    const unsigned span = 2 * kIotlbEntries;
    uint64_t pt = s.pt->NewTable();
    s.ram.Q(pt) = kDataGpa | kUser;
    for (unsigned i = 0; i < span; i++)
        s.ram.Q(s.pt->Entry(kVa + i * k2M, 2)) = pt | kUser;

    s.Dma(kVa);
    auto c0 = s.ctx.Counters();
    double hit = Avg(4000, [&](unsigned) { s.Dma(kVa); });
    auto c1 = s.ctx.Counters();
    for (unsigned i = 0; i < span; i++) // warm the tables' A bits
        s.Dma(kVa + i * k2M);
    auto c2 = s.ctx.Counters();
    double miss = Avg(span, [&](unsigned i) { s.Dma(kVa + i * k2M); });
    auto c3 = s.ctx.Counters();
    printf("translate %d-level: ioctl floor %.0f ns, IOTLB hit %.0f ns "
           "(%llu hits/%u), miss+walk %.0f ns (%llu walks/%u), "
           "walk cost %.0f ns, miss/hit %.2f\n",
           levels, floor, hit, (unsigned long long)(c1.out_iotlb_hits - c0.out_iotlb_hits),
           5 * 4000u, miss, (unsigned long long)(c3.out_walks - c2.out_walks), 5 * span, miss - hit,
           miss / hit);
}

// Invalidation cost against IOTLB occupancy: an address-selective flush of
// one page (hash probes), a PASID-selective flush of another PASID, and a
// PASID- and a domain-wide flush by another VM with nothing cached; none
// drops anything, so occupancy stays.  Each should cost the same at every
// occupancy: a flush visits the entries it drops, not the cache.
void Invalidation(unsigned fill, double floor) {
    Setup s(4);
    Setup other(4, 3);
    uint64_t pt = s.pt->NewTable();
    for (unsigned j = 0; j < 512; j++)
        s.ram.Q(pt + j * 8) = kDataGpa | kUser;
    for (unsigned r = 0; r < 16; r++)
        s.ram.Q(s.pt->Entry(kVa + r * k2M, 2)) = pt | kUser;
    for (unsigned i = 0; i < fill; i++)
        s.Dma(kVa + i * k4K);
    auto c0 = s.ctx.Counters();
    const unsigned n = 400;
    int rc = 0;
    double addr = Avg(n, [&](unsigned i) {
        rc |= s.Inv(Ctx::InvAddr(VSVA_CACHE_INV_TYPE_IOTLB, s.pasid, 0x100000000000ull + i * k4K));
    });
    double pasid = Avg(
            n, [&](unsigned) { rc |= s.Inv(Ctx::InvPasid(VSVA_CACHE_INV_TYPE_IOTLB, s.pasid2)); });
    double other_pasid = Avg(n, [&](unsigned) {
        rc |= other.Inv(Ctx::InvPasid(VSVA_CACHE_INV_TYPE_IOTLB, other.pasid));
    });
    double other_dom = Avg(n, [&](unsigned) {
        rc |= other.Inv(Ctx::InvDomain(VSVA_CACHE_INV_TYPE_IOTLB | VSVA_CACHE_INV_TYPE_PASID));
    });
    auto c1 = s.ctx.Counters();
    if (rc)
        Die("invalidate", rc);
    // One full flush: everything cached is dropped.
    double t0 = NowNs();
    rc = s.Inv(Ctx::InvPasid(VSVA_CACHE_INV_TYPE_IOTLB, s.pasid));
    double full = NowNs() - t0;
    auto c2 = s.ctx.Counters();
    printf("invalidate, IOTLB holding %u translations: ioctl floor %.0f "
           "ns, ADDR 4K (miss) %.0f ns, PASID (other PASID) %.0f ns, "
           "other VM's PASID %.0f ns, other VM's DOMAIN %.0f ns, "
           "PASID dropping all %.0f ns (%llu dropped; the measured calls dropped %llu)\n",
           fill, floor, addr, pasid, other_pasid, other_dom, full,
           (unsigned long long)(c2.out_iotlb_flushed - c1.out_iotlb_flushed),
           (unsigned long long)(c1.out_iotlb_flushed - c0.out_iotlb_flushed));
}

} // namespace

int main() {
    Ctx probe;
    if (!probe.ok()) {
        printf("datapath_bench: SKIP: /dev/vsva missing\n");
        return 0;
    }
    double floor = Avg(4000, [&](unsigned) {
        struct vsva_emu_counters c = {};
        c.argsz = sizeof(c);
        probe.Call(VSVA_EMU_COUNTERS, &c);
    });
    probe.Close();
    Translation(4, floor);
    Translation(5, floor);
    // The capacity minus room for the 16 paging-structure entries.
    for (unsigned fill : {0u, 1024u, kIotlbEntries - 16})
        Invalidation(fill, floor);
    return 0;
}
