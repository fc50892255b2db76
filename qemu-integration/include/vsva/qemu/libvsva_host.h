// SPDX-License-Identifier: GPL-2.0
// HostIommu over libvsva (/dev/vsva): the production backend of the adapter.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <utility>

#include <vsva/vsva.h>

#include "vsva/qemu/host_iommu.h"

namespace vsva::qemu {

/// Binds, unbinds and invalidates through libvsva.  The devices are the
/// caller's (it attaches them); this object owns the PASIDs and Bindings it
/// creates, so destroying it unbinds and frees everything it made.
class LibvsvaHost final : public HostIommu {
public:
    explicit LibvsvaHost(const vsva::Context& ctx) : ctx_(ctx) {}
    /// Unbinds the RID_PASID bindings it made (the Bindings unbind themselves).
    ~LibvsvaHost() override;
    /// Registers a device under its kernel id (Device::id()).
    void add_device(const vsva::Device& dev) { devs_.insert_or_assign(dev.id(), &dev); }
    /// Forgets a device; its Bindings must be gone (adapter unbinds first).
    void remove_device(uint32_t id) {
        devs_.erase(id);
        rid_bound_.erase(id);
    }

    Result<uint32_t> alloc_pasid(uint32_t gpasid) override;
    Result<void> free_pasid(uint32_t hpasid) override;
    Result<void> bind(const BindRequest& b) override;
    Result<void> unbind(const BindRequest& b) override;
    /// One VSVA_CACHE_INVALIDATE_BATCH per run of entries for the same
    /// device (the kernel's batch targets one device).
    Result<BatchResult> invalidate(std::span<const Invalidation> batch) override;
    /// VSVA_PAGE_RESPONSE (v1: no private data; the kernel keeps its own).
    Result<void> page_response(const HostPageResponse& r) override;
    /// VSVA_FEAT_RID_PASID: host PASID kRidPasid binds, unbinds and
    /// invalidates with VSVA_RID_PASID_OK (libvsva has no such call: the
    /// commands are issued here).
    [[nodiscard]] bool rid_pasid() const override;
    /// VSVA_FEAT_BIND_REPLACE: VSVA_BIND_GPASID with VSVA_BIND_REPLACE.
    [[nodiscard]] bool can_replace() const override;
    Result<void> replace(const BindRequest& old, const BindRequest& b) override;

    /// The host PASID object for @hpasid (for emulated DMA in the VMM).
    const vsva::Pasid* pasid(uint32_t hpasid) const;
    /// Kernel batch calls made so far.
    [[nodiscard]] uint64_t batch_calls() const { return batch_calls_; }

private:
    const vsva::Context& ctx_;
    std::map<uint32_t, const vsva::Device*> devs_;
    std::map<uint32_t, vsva::Pasid> pasids_;                       // hpasid →
    std::map<std::pair<uint32_t, uint32_t>, vsva::Binding> binds_; // (dev, hpasid) →
    std::set<uint32_t> rid_bound_; // devices with RID_PASID bound (no vsva::Binding)
    Result<void> nesting(unsigned long cmd, const char* op, uint32_t flags, uint32_t dev,
                         const BindRequest& b) const;
    Result<size_t> rid_invalidate(uint32_t dev, std::span<const Invalidation> run);
    uint64_t batch_calls_ = 0;
};

/// The adapter's invalidation as a libvsva one.  One granule of 4 KiB << AM
/// is expressed with the largest granule libvsva accepts (4K/2M/1G) that
/// divides it: the same bytes, e.g. AM=10 (4 MiB) → 2 × 2 MiB.
vsva::Result<vsva::Invalidation> to_libvsva(const Invalidation& inv);

} // namespace vsva::qemu
