// SPDX-License-Identifier: GPL-2.0
// Matrix row: a real Linux 5.11-era VMM x the current module.  The client
// below builds its payloads the way the public QEMU series "intel_iommu:
// expose Shared Virtual Addressing to VMs" (RFC v11, March 2021) does, from
// these facts about it (no code of it is used here):
//
//   - bind, when the guest's PASID-cache invalidation shows a present
//     first-level PASID entry: a zero-filled 72-byte iommu_gpasid_bind_data
//     with argsz, version 1, format VT-d, gpgd = the entry's first-level
//     table pointer (bits 63:12 of its third qword), addr_width = 48 + 9 x
//     its FLPM field (bits 3:2 of that qword), hpasid = gpasid = the PASID
//     with IOMMU_SVA_GPASID_VAL, VT-d flags SRE (bit 0) and EAFE (bit 7) of
//     the third qword, PCD (bit 31), PWT (30), EMTE (26), CD (25) of the
//     second, and pat / emt copied from the second qword's bits 63:32 and
//     29:27 whatever the other bits say;
//   - unbind, when that entry is no longer present (also after a bind that
//     had failed): a zero-filled 72-byte payload with only argsz, version,
//     format and hpasid set;
//   - PASID-selective IOTLB invalidation: a zero-filled 56-byte payload,
//     cache IOTLB, granularity PASID, pasid_info flags PASID and the pasid;
//   - page-selective IOTLB invalidation: cache IOTLB, granularity ADDR,
//     addr_info flags PASID (| LEAF with the descriptor's IH), the pasid,
//     the descriptor's address as is, granule_size = 4 KiB << am (am 0..18,
//     the vIOMMU's MAMV) and nb_granules = 1;
//   - each is sent once per device that has the (domain, PASID) cached;
//   - the guest's device-TLB invalidations are never forwarded: the host
//     (5.11 VT-d) flushed the device TLB with the IOTLB when ATS was on.
//
// Each test proves with emulated DMA that no stale translation survives,
// also through the device TLB of an ATS device.  On the module before the
// 5.11-client fixes: the zero-filled unbind failed (-EINVAL, the PASID
// stayed bound), every am but 0, 9 and 18 failed (-EINVAL, stale), the
// device TLB stayed stale, a PASID entry with PAT bits could not be bound,
// and the unbind after a failed bind failed (-ENOENT).
#include <cstring>
#include <vector>

#include <linux/vsva.h> // the wrapper ioctls only

#include <gtest/gtest.h>

#include "compat_util.h"
#include "upstream511/iommu511.h"

using namespace compat;

namespace {

static_assert(sizeof(iommu_gpasid_bind_data) == 72);
static_assert(sizeof(iommu_cache_invalidate_info) == 56);

constexpr uint64_t k4K = 4096;
constexpr uint64_t kGpa = 0x200000; // guest RAM at 2 MiB (2M aligned)
constexpr size_t kPages = 256;      // 1 MiB
constexpr uint64_t kTbl = 0x27;     // P RW US A
constexpr uint64_t kLeaf = 0x67;    // P RW US A D
constexpr uint64_t kPS = 1ull << 7;

template <typename T>
T zeroed() {
    T t;
    memset(&t, 0, sizeof(t));
    t.argsz = sizeof(t);
    return t;
}

// ---- the guest: RAM, x86-64 first-level tables, a VT-d PASID entry -----
struct Guest {
    Ram ram{kPages * k4K};
    size_t next = 0;

    uint64_t alloc() {
        if (next >= kPages)
            abort();
        uint64_t gpa = kGpa + next++ * k4K;
        memset(ram.data() + (gpa - kGpa), 0, k4K);
        return gpa;
    }
    uint64_t& q(uint64_t gpa) { return *reinterpret_cast<uint64_t*>(ram.data() + (gpa - kGpa)); }

    uint64_t root = 0;
    int levels = 4;
    void reset_tables(int lv) {
        levels = lv;
        root = alloc();
    }
    // The entry for @va at @level (1 = PTE), creating tables above it.
    uint64_t& entry(uint64_t va, int level) {
        uint64_t table = root;
        for (int l = levels; l > level; l--) {
            uint64_t& e = q(table + ((va >> (12 + 9 * (l - 1))) & 511) * 8);
            if (!(e & 1))
                e = alloc() | kTbl;
            table = e & 0x000ffffffffff000ull;
        }
        return q(table + ((va >> (12 + 9 * (level - 1))) & 511) * 8);
    }
    void map4k(uint64_t va, uint64_t gpa) { entry(va, 1) = gpa | kLeaf; }
    void map2m(uint64_t va, uint64_t gpa) { entry(va, 2) = gpa | kLeaf | kPS; }
    void map1g(uint64_t va, uint64_t gpa) { entry(va, 3) = gpa | kLeaf | kPS; }

    // A scalable-mode PASID entry as a guest driver writes it: present,
    // first-level translation, domain id, table pointer and paging mode.
    struct PasidEntry {
        uint64_t val[8] = {};
    };
    PasidEntry pasid_entry(uint16_t did, uint64_t extra1 = 0, uint64_t extra2 = 0) const {
        PasidEntry pe;
        pe.val[0] = 1 | (1ull << 6);                               // P, PGTT = first-level
        pe.val[1] = did | extra1;                                  // DID, memory-type bits, PAT
        pe.val[2] = root | (levels == 5 ? 1ull << 2 : 0) | extra2; // FLPTR, FLPM
        return pe;
    }
};

// ---- the VMM: a 5.11 client over vsva's wrapper ioctls ------------------
struct Vmm {
    Fd ctx;
    Guest guest;
    uint32_t dom = 0;

    struct Dev {
        uint32_t id = 0, rid = 0;
        bool ats = false;
    };
    std::vector<Dev> devs;

    int call(unsigned long cmd, const void* arg) const { return xioctl(ctx.get(), cmd, arg); }

    bool init() {
        ctx = open_vsva();
        if (ctx.get() < 0)
            return false;
        auto a = zeroed<vsva_domain_alloc>();
        if (call(VSVA_DOMAIN_ALLOC, &a))
            return false;
        dom = a.out_domain_id;
        auto m = zeroed<vsva_map>();
        m.flags = VSVA_MAP_READ | VSVA_MAP_WRITE;
        m.domain_id = dom;
        m.gpa = kGpa;
        m.length = guest.ram.len();
        m.vaddr = (uintptr_t)guest.ram.data();
        return call(VSVA_MAP, &m) == 0;
    }

    // Assign the first free endpoint with PASID (and ATS when asked, then
    // with ATS enabled, as the guest's driver does).
    bool assign(bool ats) {
        for (uint32_t r = 0; r < 0x800; r++) {
            bool used = false;
            for (auto& d : devs)
                used |= d.rid == r;
            if (used)
                continue;
            auto a = zeroed<vsva_device_attach>();
            a.rid = r;
            a.domain_id = dom;
            if (call(VSVA_DEVICE_ATTACH, &a))
                continue;
            uint32_t need = VSVA_DEV_CAP_PASID | (ats ? VSVA_DEV_CAP_ATS : 0);
            auto d = zeroed<vsva_destroy>();
            d.id = a.out_dev_id;
            if ((a.out_caps & need) != need) {
                call(VSVA_DEVICE_DETACH, &d);
                continue;
            }
            if (ats) {
                call(VSVA_DEVICE_DETACH, &d);
                a = zeroed<vsva_device_attach>();
                a.rid = r;
                a.domain_id = dom;
                a.flags = VSVA_ATTACH_ENABLE_ATS;
                if (call(VSVA_DEVICE_ATTACH, &a))
                    return false;
            }
            devs.push_back({a.out_dev_id, r, ats});
            return true;
        }
        return false;
    }

    int pasid_alloc(uint32_t* out) const {
        auto p = zeroed<vsva_pasid_alloc>();
        int rc = call(VSVA_PASID_ALLOC, &p);
        *out = p.out_hpasid;
        return rc;
    }
    int pasid_free(uint32_t pasid) const {
        auto f = zeroed<vsva_pasid_free>();
        f.hpasid = pasid;
        return call(VSVA_PASID_FREE, &f);
    }

    int nesting(unsigned long cmd, uint32_t dev, const void* p, uint32_t len) const {
        auto op = zeroed<vsva_nesting_op>();
        op.target_id = dev;
        op.data_len = len;
        op.data_uptr = (uintptr_t)p;
        return call(cmd, &op);
    }

    // vtd_bind_guest_pasid(BIND): everything from the guest's PASID entry.
    static iommu_gpasid_bind_data bind_data(const Guest::PasidEntry& pe, uint32_t pasid) {
        iommu_gpasid_bind_data b;
        memset(&b, 0, sizeof(b)); // g_malloc0
        b.argsz = sizeof(b);
        b.version = IOMMU_GPASID_BIND_VERSION_1;
        b.format = IOMMU_PASID_FORMAT_INTEL_VTD;
        b.gpgd = pe.val[2] & ~0xfffull;
        b.addr_width = 48 + ((pe.val[2] >> 2) & 3) * 9;
        b.hpasid = pasid;
        b.gpasid = pasid;
        b.flags |= IOMMU_SVA_GPASID_VAL;
        auto bit = [](uint64_t v, int n) { return (v >> n) & 1; };
        b.vendor.vtd.flags = (bit(pe.val[2], 0) ? IOMMU_SVA_VTD_GPASID_SRE : 0) |
                             (bit(pe.val[2], 7) ? IOMMU_SVA_VTD_GPASID_EAFE : 0) |
                             (bit(pe.val[1], 31) ? IOMMU_SVA_VTD_GPASID_PCD : 0) |
                             (bit(pe.val[1], 30) ? IOMMU_SVA_VTD_GPASID_PWT : 0) |
                             (bit(pe.val[1], 26) ? IOMMU_SVA_VTD_GPASID_EMTE : 0) |
                             (bit(pe.val[1], 25) ? IOMMU_SVA_VTD_GPASID_CD : 0);
        b.vendor.vtd.pat = (uint32_t)(pe.val[1] >> 32);
        b.vendor.vtd.emt = (uint32_t)((pe.val[1] >> 27) & 7);
        return b;
    }
    int bind(uint32_t dev, const Guest::PasidEntry& pe, uint32_t pasid) const {
        auto b = bind_data(pe, pasid);
        return nesting(VSVA_BIND_GPASID, dev, &b, sizeof(b));
    }
    // vtd_bind_guest_pasid(UNBIND): only argsz, version, format, hpasid.
    int unbind(uint32_t dev, uint32_t pasid) const {
        iommu_gpasid_bind_data b;
        memset(&b, 0, sizeof(b));
        b.argsz = sizeof(b);
        b.version = IOMMU_GPASID_BIND_VERSION_1;
        b.format = IOMMU_PASID_FORMAT_INTEL_VTD;
        b.hpasid = pasid;
        return nesting(VSVA_UNBIND_GPASID, dev, &b, sizeof(b));
    }

    static iommu_cache_invalidate_info inv_head(uint8_t granu) {
        iommu_cache_invalidate_info i;
        memset(&i, 0, sizeof(i));
        i.argsz = sizeof(i);
        i.version = IOMMU_CACHE_INVALIDATE_INFO_VERSION_1;
        i.cache = IOMMU_CACHE_INV_TYPE_IOTLB;
        i.granularity = granu;
        return i;
    }
    // P_IOTLB, PASID-selective: to every device with the PASID bound.
    int piotlb_pasid(uint32_t pasid) const {
        auto i = inv_head(IOMMU_INV_GRANU_PASID);
        i.granu.pasid_info.flags = IOMMU_INV_PASID_FLAGS_PASID;
        i.granu.pasid_info.pasid = pasid;
        return each_dev(i);
    }
    // P_IOTLB, page-selective within PASID.
    int piotlb_page(uint32_t pasid, uint64_t addr, unsigned am, bool ih = false) const {
        auto i = inv_head(IOMMU_INV_GRANU_ADDR);
        i.granu.addr_info.flags = IOMMU_INV_ADDR_FLAGS_PASID | (ih ? IOMMU_INV_ADDR_FLAGS_LEAF : 0);
        i.granu.addr_info.pasid = pasid;
        i.granu.addr_info.addr = addr;
        i.granu.addr_info.granule_size = 1ull << (12 + am);
        i.granu.addr_info.nb_granules = 1;
        return each_dev(i);
    }
    int each_dev(const iommu_cache_invalidate_info& i) const {
        for (auto& d : devs)
            if (int rc = nesting(VSVA_CACHE_INVALIDATE, d.id, &i, sizeof(i)))
                return rc;
        return 0;
    }

    // The device reads 8 bytes at @iova: 0 and the value, or the fault.
    struct Dma {
        bool faulted;
        uint64_t value;
        uint32_t reason;
    };
    Dma read(uint32_t dev, uint32_t pasid, uint64_t iova) const {
        auto d = zeroed<vsva_emu_dma>();
        uint64_t v = 0;
        d.dev_id = dev;
        d.pasid = pasid;
        d.iova = iova;
        d.len = sizeof(v);
        d.buf_uptr = (uintptr_t)&v;
        int rc = call(VSVA_EMU_DMA, &d);
        if (rc)
            return {true, 0, (uint32_t)-rc};
        return {(d.out_flags & VSVA_EMU_DMA_FAULTED) != 0, v, d.out_fault.reason};
    }
    vsva_emu_pasid_entry entry(uint32_t dev, uint32_t pasid) const {
        auto pe = zeroed<vsva_emu_pasid_entry>();
        pe.dev_id = dev;
        pe.pasid = pasid;
        EXPECT_EQ(errname(call(VSVA_EMU_PASID_ENTRY, &pe)), "0");
        return pe;
    }
};

#define VALUE_IS(dma, want)                                                                        \
    do {                                                                                           \
        auto d_ = (dma);                                                                           \
        EXPECT_FALSE(d_.faulted) << "fault reason " << d_.reason;                                  \
        EXPECT_EQ(d_.value, (uint64_t)(want));                                                     \
    } while (0)

class Qemu511 : public ::testing::Test {
protected:
    void SetUp() override {
        if (access("/dev/vsva", F_OK) != 0)
            GTEST_SKIP() << "/dev/vsva is missing: vsva.ko not loaded";
        ASSERT_TRUE(vmm.init()) << "context, domain and guest RAM";
        ASSERT_EQ(errname(vmm.pasid_alloc(&pasid)), "0");
        vmm.guest.reset_tables(4);
    }
    // A data page with a recognisable value.
    uint64_t page(uint64_t v) {
        uint64_t gpa = vmm.guest.alloc();
        vmm.guest.q(gpa) = v;
        return gpa;
    }
    Vmm vmm;
    uint32_t pasid = 0;
    static constexpr uint16_t kDid = 3;
};

// Bind from a guest PASID entry, DMA, then the zero-filled unbind: the
// PASID is unbound (no DMA reaches the guest's tables any more) and can be
// freed.
TEST_F(Qemu511, ZeroFilledUnbindUnbinds) {
    ASSERT_TRUE(vmm.assign(false));
    const uint32_t dev = vmm.devs[0].id;
    const uint64_t va = 0x7f0000000000ull;
    vmm.guest.map4k(va, page(0x5111));
    auto pe = vmm.guest.pasid_entry(kDid);
    ASSERT_EQ(errname(vmm.bind(dev, pe, pasid)), "0");
    VALUE_IS(vmm.read(dev, pasid, va), 0x5111);
    EXPECT_EQ(errname(vmm.unbind(dev, pasid)), "0");
    EXPECT_EQ(vmm.entry(dev, pasid).out_present, 0u) << "the PASID stayed bound";
    auto d = vmm.read(dev, pasid, va);
    EXPECT_TRUE(d.faulted);
    EXPECT_EQ(d.reason, (uint32_t)VSVA_FAULT_REASON_PASID_INVALID);
    EXPECT_EQ(errname(vmm.pasid_free(pasid)), "0") << "an unbound PASID can be freed";
}

// The guest writes a PASID entry the host refuses (a memory-type bit: 5.11
// refused it too), then clears it: the VMM unbinds what it never managed
// to bind.  5.11 answered 0, so the guest's invalidation did not fail.
TEST_F(Qemu511, UnbindAfterAFailedBindSucceeds) {
    ASSERT_TRUE(vmm.assign(false));
    const uint32_t dev = vmm.devs[0].id;
    auto pe = vmm.guest.pasid_entry(kDid, 1ull << 31 /* PCD */);
    EXPECT_EQ(errname(vmm.bind(dev, pe, pasid)), errname(-EINVAL));
    EXPECT_EQ(errname(vmm.unbind(dev, pasid)), "0");
    EXPECT_EQ(vmm.entry(dev, pasid).out_present, 0u);
    // A PASID that is not this VM's is still refused.
    EXPECT_EQ(errname(vmm.unbind(dev, 0xffffe)), errname(-ENOENT));
}

// What the VMM copies from a guest's entry: PAT (the guest's IA32_PAT
// value) and EMT without EMTE, SRE, EAFE, 5-level paging.  PAT/EMT are
// ignored, the rest is the binding.
TEST_F(Qemu511, BindFromAGuestEntryWithPatBits) {
    ASSERT_TRUE(vmm.assign(false));
    const uint32_t dev = vmm.devs[0].id;
    vmm.guest.reset_tables(5);
    const uint64_t va = 0x00ab000000000000ull; // needs 57 bits
    vmm.guest.map4k(va, page(0x57));
    const uint64_t pat = 0x0007040600070406ull;
    auto pe = vmm.guest.pasid_entry(kDid, (pat << 32) | (6ull << 27), 1 /* SRE */ | 1ull << 7);
    auto b = Vmm::bind_data(pe, pasid);
    ASSERT_NE(b.vendor.vtd.pat, 0u);
    ASSERT_EQ(b.vendor.vtd.emt, 6u);
    ASSERT_EQ(errname(vmm.bind(dev, pe, pasid)), "0");
    auto e = vmm.entry(dev, pasid);
    EXPECT_EQ(e.out_present, 1u);
    EXPECT_EQ(e.out_addr_width, 57u);
    EXPECT_EQ(e.out_gpgd, vmm.guest.root);
    EXPECT_EQ(e.out_vtd_flags, (uint64_t)(IOMMU_SVA_VTD_GPASID_SRE | IOMMU_SVA_VTD_GPASID_EAFE));
    EXPECT_EQ(e.out_gpasid_valid, 1u);
    EXPECT_EQ(e.out_gpasid, pasid);
    VALUE_IS(vmm.read(dev, pasid, va), 0x57);
    EXPECT_EQ(errname(vmm.unbind(dev, pasid)), "0");
}

// Page-selective invalidation with every am (4 KiB << am, one granule):
// the guest remaps the first and the last page of the range and the pages
// just around it; after the invalidation the two inside translate to their
// new pages, the two outside still use their (stale) old ones.
TEST_F(Qemu511, PageSelectiveInvalidationForEveryAm) {
    ASSERT_TRUE(vmm.assign(false));
    const uint32_t dev = vmm.devs[0].id;
    auto pe = vmm.guest.pasid_entry(kDid);
    ASSERT_EQ(errname(vmm.bind(dev, pe, pasid)), "0");
    uint64_t oldp[4], newp[4];
    for (int i = 0; i < 4; i++) {
        oldp[i] = page(0x100 + i);
        newp[i] = page(0x200 + i);
    }
    for (unsigned am = 0; am <= 18; am++) {
        const uint64_t size = k4K << am;
        const uint64_t base = (uint64_t)(am + 2) << 30; // a 1 GiB slot each
        // Just below, first, last (the first again for am 0), just past.
        const uint64_t va[4] = {base - k4K, base, base + size - k4K, base + size};
        const int n = 4;
        auto skip = [&](int i) { return am == 0 && i == 2; };
        for (int i = 0; i < n; i++)
            if (!skip(i))
                vmm.guest.map4k(va[i], oldp[i]);
        for (int i = 0; i < n; i++)
            if (!skip(i))
                VALUE_IS(vmm.read(dev, pasid, va[i]), 0x100 + i);
        for (int i = 0; i < n; i++)
            if (!skip(i))
                vmm.guest.map4k(va[i], newp[i]);
        ASSERT_EQ(errname(vmm.piotlb_page(pasid, base, am, true)), "0") << "am " << am;
        for (int i = 0; i < n; i++) {
            if (skip(i))
                continue;
            bool inside = i == 1 || i == 2;
            SCOPED_TRACE(testing::Message() << "am " << am << " va 0x" << std::hex << va[i]);
            VALUE_IS(vmm.read(dev, pasid, va[i]), (inside ? 0x200 : 0x100) + i);
        }
        ASSERT_EQ(errname(vmm.piotlb_pasid(pasid)), "0");
    }
}

// The guest unmaps inside a 2 MiB and a 1 GiB page and flushes only the
// pages it touched (page-selective, small am): the cached large
// translation is dropped, the next DMA faults.
TEST_F(Qemu511, PageSelectiveInvalidationDropsLargePages) {
    ASSERT_TRUE(vmm.assign(false));
    const uint32_t dev = vmm.devs[0].id;
    auto pe = vmm.guest.pasid_entry(kDid);
    ASSERT_EQ(errname(vmm.bind(dev, pe, pasid)), "0");
    const uint64_t va2m = 0x40000000ull, va1g = 0x80000000ull;
    vmm.guest.q(kGpa + 0x10) = 0x2222;
    vmm.guest.map2m(va2m, kGpa);
    vmm.guest.map1g(va1g, 0); // guest RAM lies in its first 1 MiB..
    VALUE_IS(vmm.read(dev, pasid, va2m + 0x10), 0x2222);
    VALUE_IS(vmm.read(dev, pasid, va1g + kGpa + 0x10), 0x2222);
    vmm.guest.entry(va2m, 2) = 0;
    vmm.guest.entry(va1g, 3) = 0;
    // Flushing next to them changes nothing: still stale.
    ASSERT_EQ(errname(vmm.piotlb_page(pasid, va2m + (2 << 20), 1)), "0");
    VALUE_IS(vmm.read(dev, pasid, va2m + 0x10), 0x2222);
    // 8 KiB at the end of the 2 MiB page, 32 KiB inside the 1 GiB page.
    ASSERT_EQ(errname(vmm.piotlb_page(pasid, va2m + 0x1fe000, 1)), "0");
    ASSERT_EQ(errname(vmm.piotlb_page(pasid, va1g + 0x30000000, 3)), "0");
    auto a = vmm.read(dev, pasid, va2m + 0x10);
    auto b = vmm.read(dev, pasid, va1g + kGpa + 0x10);
    EXPECT_TRUE(a.faulted) << "the 2 MiB translation survived";
    EXPECT_TRUE(b.faulted) << "the 1 GiB translation survived";
    EXPECT_EQ(a.reason, (uint32_t)VSVA_FAULT_REASON_PTE_FETCH);
}

// An ATS device: its device TLB caches the translation; the VMM forwards
// only the guest's P_IOTLB (never P_DEVTLB).  The IOTLB invalidation must
// reach the device TLB, PASID-selective and page-selective alike, and on a
// device without ATS nothing is lost either.
TEST_F(Qemu511, IotlbInvalidationReachesTheDeviceTlb) {
    ASSERT_TRUE(vmm.assign(true)) << "an endpoint with ATS";
    ASSERT_TRUE(vmm.assign(false));
    auto pe = vmm.guest.pasid_entry(kDid);
    for (auto& d : vmm.devs)
        ASSERT_EQ(errname(vmm.bind(d.id, pe, pasid)), "0");
    const uint64_t va = 0x7f0000200000ull;
    const uint64_t p1 = page(1), p2 = page(2), p3 = page(3), p4 = page(4);
    vmm.guest.map4k(va, p1);
    for (auto& d : vmm.devs)
        VALUE_IS(vmm.read(d.id, pasid, va), 1);
    const uint32_t ats = vmm.devs[0].id;

    vsva_emu_counters c0 = zeroed<vsva_emu_counters>(), c1 = c0;
    ASSERT_EQ(errname(vmm.call(VSVA_EMU_COUNTERS, &c0)), "0");
    VALUE_IS(vmm.read(ats, pasid, va), 1);
    ASSERT_EQ(errname(vmm.call(VSVA_EMU_COUNTERS, &c1)), "0");
    ASSERT_EQ(c1.out_devtlb_hits, c0.out_devtlb_hits + 1) << "the device TLB holds it";

    // Page-selective, am 0.
    vmm.guest.map4k(va, p2);
    ASSERT_EQ(errname(vmm.piotlb_page(pasid, va, 0)), "0");
    for (auto& d : vmm.devs)
        VALUE_IS(vmm.read(d.id, pasid, va), 2);
    // Page-selective, am 4, named by an address inside the range.
    vmm.guest.map4k(va, p3);
    ASSERT_EQ(errname(vmm.piotlb_page(pasid, va + 5 * k4K, 4)), "0");
    for (auto& d : vmm.devs)
        VALUE_IS(vmm.read(d.id, pasid, va), 3);
    // PASID-selective.
    vmm.guest.map4k(va, p4);
    ASSERT_EQ(errname(vmm.piotlb_pasid(pasid)), "0");
    for (auto& d : vmm.devs)
        VALUE_IS(vmm.read(d.id, pasid, va), 4);
    // Unmapped: the device faults instead of reaching p4.
    vmm.guest.entry(va, 1) = 0;
    ASSERT_EQ(errname(vmm.piotlb_page(pasid, va, 0)), "0");
    for (auto& d : vmm.devs)
        EXPECT_TRUE(vmm.read(d.id, pasid, va).faulted) << "device " << d.id;
    for (auto& d : vmm.devs)
        EXPECT_EQ(errname(vmm.unbind(d.id, pasid)), "0");
}

} // namespace
