// SPDX-License-Identifier: GPL-2.0
// The virtual VT-d adapter: keeps a PASID cache of the guest's PASID
// entries, turns PASID-cache invalidations into host bind/unbind/rebind,
// turns P_IOTLB / P_DEVTLB / IOTLB descriptors into host invalidations and
// submits them in one batch per invalidation-wait descriptor.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vsva/qemu/expected.h"
#include "vsva/qemu/host_iommu.h"
#include "vsva/qemu/vtd.h"

namespace vsva::qemu {

/// Counters for reports and tests.
struct AdapterStats {
    uint64_t descriptors[11] = {}; ///< by type 1..10 (index 0 unused)
    uint64_t invalid_descriptors = 0;
    uint64_t binds = 0, unbinds = 0, rebinds = 0, did_updates = 0;
    uint64_t bad_entries = 0;   ///< malformed / unsupported PASID entries seen
    uint64_t host_errors = 0;   ///< host calls that failed
    uint64_t invalidations = 0; ///< host invalidations forwarded
    uint64_t submissions = 0;   ///< host batches submitted
    uint64_t waits = 0, status_writes = 0, wait_interrupts = 0;
    std::vector<size_t> batch_sizes; ///< size of each submission, in order
};

/// What one descriptor did.
struct DescOutcome {
    unsigned type = 0;
    bool wait = false; ///< an invalidation-wait: the batch was submitted
    bool status_written = false;
    bool interrupt = false; ///< IF=1: the vIOMMU raises the completion interrupt
    size_t forwarded = 0;   ///< host invalidations queued by this descriptor
};

/// Result of running the queue from IQH to IQT.
struct QueueResult {
    uint64_t iqh = 0;       ///< IQH register value after the run
    unsigned processed = 0; ///< descriptors consumed
    bool iqe = false;       ///< stopped at an invalid descriptor (IQH points at it)
    std::string error;      ///< why, when iqe
    bool interrupt = false; ///< some wait had IF=1
};

/// One bound guest PASID of a device, as cached.
struct BoundPasid {
    BindIntent intent;
    uint32_t hpasid = 0;
};

class VtdAdapter {
public:
    VtdAdapter(HostIommu& host, GuestMemory& mem, VtdCaps caps = {});
    ~VtdAdapter();
    VtdAdapter(const VtdAdapter&) = delete;
    VtdAdapter& operator=(const VtdAdapter&) = delete;

    /// A device behind the vIOMMU: guest requester id → host device id.
    Status add_device(uint16_t sid, uint32_t host_dev);
    /// Unbinds everything of the device, then forgets it.
    Status remove_device(uint16_t sid);
    /// The PASID directory from the device's scalable-mode context entry
    /// (PASIDDIRPTR, PDTS).  nullopt = context entry not present.
    Status set_pasid_dir(uint16_t sid, std::optional<uint64_t> dir_gpa, unsigned pdts = 7);

    /// Re-reads one PASID entry of one device and binds / unbinds / rebinds
    /// the host to match (what a PASID-selective PC invalidation does for it).
    Status sync_pasid(uint16_t sid, uint32_t gpasid);
    /// Binds from an entry the caller already read (QEMU's cached copy).
    Status bind_entry(uint16_t sid, uint32_t gpasid, const PasidEntryRaw& raw);
    Status unbind(uint16_t sid, uint32_t gpasid);

    /// Handles one decoded-or-raw descriptor.  Invalidations are queued and
    /// submitted at the next wait descriptor (or flush()); a PC descriptor
    /// submits what is queued first (ordering: P_IOTLB after an earlier PC).
    Expected<DescOutcome> process(std::span<const uint64_t> desc, QueueMode mode);
    /// Submits the queued invalidations as one batch (no-op when empty).
    Status flush();

    // Invalidation-queue registers, for a VMM that lets the adapter own them.
    void set_iqa(uint64_t iqa, bool scalable = true);
    [[nodiscard]] uint64_t iqh() const;
    /// Writes IQT and runs every descriptor from IQH up to it.
    QueueResult write_iqt(uint64_t iqt);

    [[nodiscard]] const AdapterStats& stats() const { return stats_; }
    [[nodiscard]] std::optional<BoundPasid> binding(uint16_t sid, uint32_t gpasid) const;
    [[nodiscard]] std::optional<uint32_t> hpasid_of(uint32_t gpasid) const;
    [[nodiscard]] std::optional<uint32_t> gpasid_of(uint32_t hpasid) const;
    [[nodiscard]] const VtdCaps& caps() const { return caps_; }
    /// Human-readable events (bind, unbind, batches, errors).
    void set_logger(std::function<void(const std::string&)> log) { log_ = std::move(log); }

private:
    struct Device {
        uint16_t sid = 0;
        uint32_t host_dev = 0;
        std::optional<uint64_t> dir;
        unsigned pdts = 7;
        std::map<uint32_t, BoundPasid> bound; // gpasid → binding
    };
    struct PasidRef {
        uint32_t hpasid = 0;
        unsigned refs = 0;
    };

    Expected<std::optional<PasidEntry>> read_entry(const Device& d, uint32_t gpasid);
    Status apply(Device& d, uint32_t gpasid, const Expected<std::optional<PasidEntry>>& fresh,
                 std::optional<uint16_t> did_filter);
    Status do_unbind(Device& d, uint32_t gpasid);
    Expected<uint32_t> get_hpasid(uint32_t gpasid);
    void put_hpasid(uint32_t gpasid);
    Status pasid_cache_inv(const PcDesc& pc);
    std::vector<uint32_t> present_pasids(const Device& d);
    void queue(Invalidation inv);
    void log(const std::string& s) const {
        if (log_)
            log_(s);
    }
    Device* find(uint16_t sid);

    HostIommu& host_;
    GuestMemory& mem_;
    VtdCaps caps_;
    std::map<uint16_t, Device> devs_;
    std::map<uint32_t, PasidRef> pasids_; // gpasid → host PASID
    std::vector<Invalidation> pending_;
    AdapterStats stats_;
    std::function<void(const std::string&)> log_;
    // Queue registers.
    uint64_t iq_base_ = 0;
    uint64_t iq_entries_ = 0;
    bool iq_dw_ = true;
    bool iq_scalable_ = true;
    uint64_t iq_head_ = 0; // descriptor index
};

} // namespace vsva::qemu
