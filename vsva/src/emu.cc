// SPDX-License-Identifier: LGPL-2.1-or-later
/* Emulation helpers (vsva/emu.h). */
#include <cerrno>

#include "core.h"

namespace vsva::emu {

using detail::Access;

Result<DmaResult> dma(const Device& dev, std::uint32_t pasid, std::uint64_t iova,
                      std::span<std::byte> buf, DmaFlags flags) {
    vsva_emu_dma d = {};
    d.flags = (flags.write ? VSVA_EMU_DMA_WRITE : 0) | (flags.privileged ? VSVA_EMU_DMA_PRIV : 0) |
              (flags.exec ? VSVA_EMU_DMA_EXEC : 0) | (flags.wait ? VSVA_EMU_DMA_WAIT : 0);
    d.dev_id = Access::device_id(dev);
    d.pasid = pasid;
    d.iova = iova;
    d.len = buf.size();
    d.buf_uptr = reinterpret_cast<std::uintptr_t>(buf.data());
    if (auto r = Access::core(dev).call(d, "emu-dma"); !r)
        return Unexpected(std::move(r).error());
    DmaResult res;
    res.done = d.out_done;
    res.faulted = d.out_flags & VSVA_EMU_DMA_FAULTED;
    res.page_request = d.out_flags & VSVA_EMU_DMA_PAGE_REQ;
    res.grpid = d.out_grpid;
    res.fault.dev_id = d.dev_id;
    res.fault.reason = d.out_fault.reason;
    res.fault.flags = d.out_fault.flags;
    res.fault.pasid = d.out_fault.pasid;
    res.fault.perm = d.out_fault.perm;
    res.fault.addr = d.out_fault.addr;
    res.fault.fetch_addr = d.out_fault.fetch_addr;
    return res;
}

Result<Translation> translate(const Device& dev, std::uint32_t pasid, std::uint64_t iova,
                              TranslateFlags flags) {
    vsva_emu_translate t = {};
    t.flags = (flags.write ? VSVA_EMU_DMA_WRITE : 0) | (flags.privileged ? VSVA_EMU_DMA_PRIV : 0) |
              (flags.exec ? VSVA_EMU_DMA_EXEC : 0) | (flags.no_pasid ? VSVA_EMU_DMA_NO_PASID : 0);
    t.dev_id = Access::device_id(dev);
    t.pasid = pasid;
    t.iova = iova;
    if (auto r = Access::core(dev).call(t, "emu-translate"); !r)
        return Unexpected(std::move(r).error());
    Translation res;
    res.gpa = t.out_addr;
    res.read = t.out_perm & VSVA_FAULT_PERM_READ;
    res.write = t.out_perm & VSVA_FAULT_PERM_WRITE;
    res.page_shift = t.out_shift;
    res.faulted = t.out_flags & VSVA_EMU_DMA_FAULTED;
    res.page_request = t.out_flags & VSVA_EMU_DMA_PAGE_REQ;
    res.grpid = t.out_grpid;
    res.fault.dev_id = t.dev_id;
    res.fault.reason = t.out_fault.reason;
    res.fault.flags = t.out_fault.flags;
    res.fault.pasid = t.out_fault.pasid;
    res.fault.perm = t.out_fault.perm;
    res.fault.addr = t.out_fault.addr;
    res.fault.fetch_addr = t.out_fault.fetch_addr;
    return res;
}

Result<PasidEntry> pasid_entry(const Device& dev, std::uint32_t pasid) {
    vsva_emu_pasid_entry e = {};
    e.dev_id = Access::device_id(dev);
    e.pasid = pasid;
    if (auto r = Access::core(dev).call(e, "emu-pasid-entry"); !r)
        return Unexpected(std::move(r).error());
    PasidEntry pe;
    pe.present = e.out_present;
    pe.addr_width = e.out_addr_width;
    pe.gpgd = e.out_gpgd;
    pe.vtd_flags = e.out_vtd_flags;
    if (e.out_gpasid_valid)
        pe.gpasid = e.out_gpasid;
    pe.domain_id = e.out_domain_id;
    return pe;
}

Result<Counters> counters(const Context& ctx) {
    vsva_emu_counters c = {};
    if (auto r = Access::core(ctx).call(c, "emu-counters"); !r)
        return Unexpected(std::move(r).error());
    Counters o;
    o.payload_copies = c.out_payload_copies;
    o.binds = c.out_binds;
    o.unbinds = c.out_unbinds;
    o.invalidations = c.out_invalidations;
    o.iotlb_hits = c.out_iotlb_hits;
    o.iotlb_misses = c.out_iotlb_misses;
    o.devtlb_hits = c.out_devtlb_hits;
    o.devtlb_misses = c.out_devtlb_misses;
    o.pasid_cache_hits = c.out_pasid_cache_hits;
    o.pasid_cache_misses = c.out_pasid_cache_misses;
    o.walks = c.out_walks;
    o.iotlb_flushed = c.out_iotlb_flushed;
    o.devtlb_flushed = c.out_devtlb_flushed;
    o.pasid_cache_flushed = c.out_pasid_cache_flushed;
    o.faults = c.out_faults;
    o.page_requests = c.out_page_requests;
    o.pinned_pages = c.out_pinned_pages;
    o.pasids = c.out_pasids;
    o.bindings = c.out_bindings;
    return o;
}

Result<std::uint64_t> write_stage1_4k(std::span<std::byte> ram, std::uint64_t ram_gpa,
                                      std::uint64_t table_off, std::uint64_t iova,
                                      std::uint64_t page_gpa, bool writable) {
    constexpr std::uint64_t kPage = 4096;
    if (table_off % kPage || iova % kPage || page_gpa % kPage || ram_gpa % kPage ||
        table_off > ram.size() || ram.size() - table_off < 4 * kPage)
        return fail(EINVAL, "emu-stage1", "misaligned, or the 4 table pages do not fit");
    std::byte* base = ram.data() + table_off;
    std::memset(base, 0, 4 * kPage);
    const std::uint64_t root = ram_gpa + table_off;
    const std::uint64_t flags = 0x1 | 0x4 | (writable ? 0x2 : 0); // P, U/S, R/W
    const unsigned shifts[4] = {39, 30, 21, 12};
    for (int level = 0; level < 4; level++) {
        const std::uint64_t index = (iova >> shifts[level]) & 0x1ff;
        const std::uint64_t next = level < 3 ? root + (level + 1) * kPage : page_gpa;
        // Upper levels always writable: the leaf decides.
        const std::uint64_t entry = next | (level < 3 ? 0x7 : flags);
        std::memcpy(base + level * kPage + index * 8, &entry, sizeof(entry));
    }
    return root;
}

} // namespace vsva::emu
