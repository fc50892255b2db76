// SPDX-License-Identifier: GPL-2.0
// Test-vector builders: PASID entries and invalidation descriptors encoded
// as the guest driver writes them (VT-d rev 5.10 figures; Linux guest-side
// emitter values in Documentation/qemu-integration.md), plus a fake host
// IOMMU and a flat guest memory.
#pragma once

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "vsva/qemu/host_iommu.h"
#include "vsva/qemu/vtd.h"

namespace vtdtest {

using vsva::qemu::PasidEntryRaw;
using Desc = std::array<uint64_t, 4>;

// --- PASID table entry -----------------------------------------------------
struct Pe {
    PasidEntryRaw q{};
    Pe& present() {
        q[0] |= 1;
        return *this;
    }
    Pe& fpd() {
        q[0] |= 2;
        return *this;
    }
    Pe& pgtt(unsigned v) {
        q[0] = (q[0] & ~(7ull << 6)) | (uint64_t(v) << 6);
        return *this;
    }
    Pe& aw(unsigned v) {
        q[0] |= uint64_t(v) << 2;
        return *this;
    }
    Pe& ssptptr(uint64_t a) {
        q[0] |= a & ~0xfffull;
        return *this;
    }
    Pe& did(uint16_t d) {
        q[1] = (q[1] & ~0xffffull) | d;
        return *this;
    }
    Pe& sre() {
        q[2] |= 1;
        return *this;
    }
    Pe& fspm(unsigned v) {
        q[2] |= uint64_t(v) << 2;
        return *this;
    }
    Pe& wpe() {
        q[2] |= 1ull << 4;
        return *this;
    }
    Pe& eafe() {
        q[2] |= 1ull << 7;
        return *this;
    }
    Pe& fsptptr(uint64_t a) {
        q[2] = (q[2] & 0xfffull) | (a & ~0xfffull);
        return *this;
    }
    Pe& bit(unsigned b) {
        q[b / 64] |= 1ull << (b % 64);
        return *this;
    }
    /// A present first-stage entry: what a Linux guest writes for SVA.
    static Pe fs(uint64_t root, uint16_t d = 1) {
        return Pe{}.present().pgtt(1).did(d).fsptptr(root);
    }
};

// --- descriptors (256-bit form) --------------------------------------------
inline uint64_t type_bits(unsigned t) {
    return (t & 0xf) | (uint64_t((t >> 4) & 7) << 9);
}

inline Desc cc(unsigned g, uint16_t did = 0, uint16_t sid = 0, unsigned fm = 0) {
    return {type_bits(1) | uint64_t(g) << 4 | uint64_t(did) << 16 | uint64_t(sid) << 32 |
                    uint64_t(fm) << 48,
            0, 0, 0};
}
inline Desc iotlb(unsigned g, uint16_t did = 0, uint64_t addr = 0, unsigned am = 0,
                  bool ih = false) {
    return {type_bits(2) | uint64_t(g) << 4 | uint64_t(did) << 16,
            (addr & ~0xfffull) | uint64_t(ih) << 6 | am, 0, 0};
}
inline Desc devtlb(uint16_t sid, uint64_t addr, bool s, unsigned mip = 0) {
    return {type_bits(3) | uint64_t(mip) << 16 | uint64_t(sid) << 32, (addr & ~0xfffull) | s, 0, 0};
}
inline Desc iec(bool g, unsigned im = 0, uint16_t idx = 0) {
    return {type_bits(4) | uint64_t(g) << 4 | uint64_t(im) << 27 | uint64_t(idx) << 32, 0, 0, 0};
}
inline Desc wait(uint64_t status_addr, uint32_t data, bool sw = true, bool iflag = false,
                 bool fn = false) {
    return {type_bits(5) | uint64_t(iflag) << 4 | uint64_t(sw) << 5 | uint64_t(fn) << 6 |
                    uint64_t(data) << 32,
            status_addr & ~3ull, 0, 0};
}
// Linux qi_desc_piotlb: G=2 PASID-selective (qw1 = 0), G=3 page-selective.
inline Desc piotlb(unsigned g, uint16_t did, uint32_t pasid, uint64_t addr = 0, unsigned am = 0,
                   bool ih = false) {
    return {type_bits(6) | uint64_t(g) << 4 | uint64_t(did) << 16 | uint64_t(pasid) << 32,
            g == 2 ? 0 : ((addr & ~0xfffull) | uint64_t(ih) << 6 | (am & 0x3f)), 0, 0};
}
// Linux qi_flush_pasid_cache: G 0 domain, 1 PASID-selective, 3 global.
inline Desc pc(unsigned g, uint16_t did, uint32_t pasid = 0) {
    return {type_bits(7) | uint64_t(g) << 4 | uint64_t(did) << 16 | uint64_t(pasid) << 32, 0, 0, 0};
}
// Linux qi_desc_dev_iotlb_pasid: size_order k>0 → bits 11+k:12 set, bit 11+k
// clear, S set.
inline Desc pdevtlb(uint16_t sid, uint32_t pasid, uint64_t addr, unsigned size_order,
                    bool gi = false, unsigned qdep = 0) {
    uint64_t hi = addr & ~0xfffull;
    if (size_order) {
        hi |= ((1ull << (size_order - 1)) - 1) << 12; // bits 10+k:12 ... ones
        hi &= ~(1ull << (11 + size_order));
        hi |= 1ull << 11;
    }
    return {type_bits(8) | uint64_t(qdep & 0x1f) << 4 | uint64_t(sid) << 16 |
                    uint64_t(pasid & 0xfffff) << 32,
            hi | uint64_t(gi), 0, 0};
}

// --- fakes -------------------------------------------------------------------
struct FakeMemory final : vsva::qemu::GuestMemory {
    std::vector<uint8_t> ram;
    uint64_t faults = 0;
    explicit FakeMemory(size_t bytes = 4 << 20) : ram(bytes) {}
    bool read(uint64_t gpa, void* dst, size_t len) override {
        if (gpa + len > ram.size() || gpa + len < gpa)
            return ++faults, false;
        std::memcpy(dst, ram.data() + gpa, len);
        return true;
    }
    bool write(uint64_t gpa, const void* src, size_t len) override {
        if (gpa + len > ram.size() || gpa + len < gpa)
            return ++faults, false;
        std::memcpy(ram.data() + gpa, src, len);
        return true;
    }
    void put64(uint64_t gpa, uint64_t v) { std::memcpy(ram.data() + gpa, &v, 8); }
    uint32_t get32(uint64_t gpa) const {
        uint32_t v;
        std::memcpy(&v, ram.data() + gpa, 4);
        return v;
    }
    void put_desc(uint64_t gpa, const Desc& d) { std::memcpy(ram.data() + gpa, d.data(), 32); }
    void put_entry(uint64_t gpa, const PasidEntryRaw& e) {
        std::memcpy(ram.data() + gpa, e.data(), 64);
    }
};

struct FakeHost final : vsva::qemu::HostIommu {
    uint32_t next_hpasid = 100;
    std::vector<std::pair<uint32_t, uint32_t>> allocs; // (gpasid, hpasid)
    std::vector<uint32_t> freed;
    std::vector<vsva::qemu::BindRequest> binds, unbinds;
    std::vector<std::vector<vsva::qemu::Invalidation>> batches;
    std::vector<vsva::qemu::HostPageResponse> responses;
    std::vector<std::pair<vsva::qemu::BindRequest, vsva::qemu::BindRequest>> replaces;
    int fail_bind = 0, fail_invalidate = 0;
    int64_t fail_invalidate_dev = -1; ///< refuse every batch of this host device
    bool has_rid_pasid = true;        ///< VSVA_FEAT_RID_PASID
    bool has_replace = false;         ///< VSVA_FEAT_BIND_REPLACE
    /// Every call, in order ("alloc", "bind", "unbind", "replace", "free", "inv").
    std::vector<std::string> calls;

    vsva::Result<uint32_t> alloc_pasid(uint32_t gpasid) override {
        calls.emplace_back("alloc");
        allocs.emplace_back(gpasid, next_hpasid);
        return next_hpasid++;
    }
    vsva::Result<void> free_pasid(uint32_t hpasid) override {
        calls.emplace_back("free");
        freed.push_back(hpasid);
        return {};
    }
    vsva::Result<void> bind(const vsva::qemu::BindRequest& b) override {
        calls.emplace_back("bind");
        if (fail_bind)
            return vsva::qemu::vtd_error(fail_bind, "injected bind failure");
        binds.push_back(b);
        return {};
    }
    vsva::Result<void> unbind(const vsva::qemu::BindRequest& b) override {
        calls.emplace_back("unbind");
        unbinds.push_back(b);
        return {};
    }
    vsva::Result<vsva::qemu::BatchResult>
    invalidate(std::span<const vsva::qemu::Invalidation> batch) override {
        calls.emplace_back("inv");
        if (fail_invalidate_dev >= 0)
            for (const auto& inv : batch)
                if (inv.dev == fail_invalidate_dev)
                    return vsva::qemu::vtd_error(EINVAL, "injected: device refused the batch");
        batches.emplace_back(batch.begin(), batch.end());
        if (fail_invalidate)
            return vsva::qemu::vtd_error(fail_invalidate, "injected");
        return vsva::qemu::BatchResult{batch.size(), batch.size()};
    }
    vsva::Result<void> page_response(const vsva::qemu::HostPageResponse& r) override {
        responses.push_back(r);
        return {};
    }
    [[nodiscard]] bool rid_pasid() const override { return has_rid_pasid; }
    [[nodiscard]] bool can_replace() const override { return has_replace; }
    vsva::Result<void> replace(const vsva::qemu::BindRequest& old,
                               const vsva::qemu::BindRequest& b) override {
        calls.emplace_back("replace");
        replaces.emplace_back(old, b);
        return {};
    }
};

} // namespace vtdtest
