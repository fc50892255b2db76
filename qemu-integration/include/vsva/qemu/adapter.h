// SPDX-License-Identifier: GPL-2.0
// The virtual VT-d adapter: keeps a PASID cache of the guest's PASID
// entries, turns PASID-cache invalidations into host bind/unbind/rebind,
// turns P_IOTLB / P_DEVTLB / IOTLB descriptors into host invalidations and
// submits them in one batch per invalidation-wait descriptor.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <vsva/result.h>

#include "vsva/qemu/host_iommu.h"
#include "vsva/qemu/vtd.h"

namespace vsva::qemu {

/// Counters for reports and tests.
struct AdapterStats {
    uint64_t descriptors[11] = {}; ///< by type 1..10 (index 0 unused)
    uint64_t invalid_descriptors = 0;
    uint64_t binds = 0, unbinds = 0, rebinds = 0, did_updates = 0;
    uint64_t replaces = 0;      ///< rebinds done in place by the host (never unbound)
    uint64_t bad_entries = 0;   ///< malformed / unsupported PASID entries seen
    uint64_t host_errors = 0;   ///< host calls that failed
    uint64_t invalidations = 0; ///< host invalidations forwarded
    uint64_t submissions = 0;   ///< host batches submitted
    uint64_t waits = 0, status_writes = 0, wait_interrupts = 0;
    uint64_t status_write_faults = 0; ///< waits whose status write faulted (IQE)
    std::vector<size_t> batch_sizes;  ///< size of each submission, in order
    // Page requests and faults (host → guest) and page responses (guest → host).
    uint64_t page_requests = 0;          ///< injected into the guest
    uint64_t page_requests_unmapped = 0; ///< host PASID/device with no guest mapping: not injected
    uint64_t auto_responses = 0;  ///< answered INVALID by the adapter (never reached the guest)
    uint64_t page_responses = 0;  ///< guest responses forwarded to the host
    uint64_t stray_responses = 0; ///< guest responses to no pending group: dropped
    uint64_t private_data_mismatches = 0; ///< guest echoed other private data than requested
    uint64_t faults = 0;                  ///< unrecoverable faults delivered to the guest
    uint64_t faults_unmapped = 0;         ///< faults on a host PASID/device the guest does not know
};

/// A page request for the guest: the decoded fields and the 256-bit page
/// request descriptor to write into its page request queue.
struct GuestPageRequest {
    PageReqDesc req;
    std::array<uint64_t, 4> desc{};
};

/// An unrecoverable fault in guest terms, for the vIOMMU's fault recording
/// (QEMU: vtd_report_fault(s, reason, fpd, sid, addr, is_write, is_pasid, pasid)).
struct GuestFault {
    uint16_t sid = 0;
    bool pasid_valid = false;
    uint32_t gpasid = 0;
    uint8_t reason = 0;       ///< VT-d fault reason (vtd_fault_reason())
    uint32_t host_reason = 0; ///< VSVA_FAULT_REASON_*
    bool write = false, exec = false, priv = false;
    uint64_t addr = 0; ///< the faulting page (FI), 0 when the host gave none
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
    Result<void> add_device(uint16_t sid, uint32_t host_dev);
    /// Unbinds everything of the device, then forgets it.
    Result<void> remove_device(uint16_t sid);
    /// The PASID directory from the device's scalable-mode context entry
    /// (PASIDDIRPTR, PDTS).  nullopt = context entry not present.
    Result<void> set_pasid_dir(uint16_t sid, std::optional<uint64_t> dir_gpa, unsigned pdts = 7);

    /// Re-reads one PASID entry of one device and binds / unbinds / rebinds
    /// the host to match (what a PASID-selective PC invalidation does for it).
    Result<void> sync_pasid(uint16_t sid, uint32_t gpasid);
    /// Binds from an entry the caller already read (QEMU's cached copy).
    Result<void> bind_entry(uint16_t sid, uint32_t gpasid, const PasidEntryRaw& raw);
    Result<void> unbind(uint16_t sid, uint32_t gpasid);

    /// Handles one decoded-or-raw descriptor.  Invalidations are queued and
    /// submitted at the next wait descriptor (or flush()); a PC descriptor
    /// submits what is queued first (ordering: P_IOTLB after an earlier PC).
    Result<DescOutcome> process(std::span<const uint64_t> desc, QueueMode mode);
    /// Submits the queued invalidations as one batch (no-op when empty).
    Result<void> flush();

    // Invalidation-queue registers, for a VMM that lets the adapter own them.
    void set_iqa(uint64_t iqa, bool scalable = true);
    [[nodiscard]] uint64_t iqh() const;
    /// Writes IQT and runs every descriptor from IQH up to it.
    QueueResult write_iqt(uint64_t iqt);

    /// A page request from the host, in guest terms.  nullopt when it must
    /// not reach the guest: its device or host PASID has no guest mapping
    /// (never injected as a request without PASID).  Such a request is
    /// counted, and when a response is due (last of its group, or private
    /// data present: VT-d §7.7) the adapter answers the host INVALID itself.
    std::optional<GuestPageRequest> page_request(const HostPageRequest& r);
    /// The guest's answer to a page request group (a page group response
    /// descriptor, or the VMM on its behalf): the PCIe code becomes the v1
    /// code in one place (v1_page_response_code()).  A response to no
    /// pending group is counted and dropped (0: not the guest's error).
    /// -EINVAL: reserved response code.
    Result<void> page_response(const PgrpRespDesc& r);
    /// An unrecoverable host fault in guest terms; nullopt (counted) when
    /// its device or host PASID has no guest mapping.
    std::optional<GuestFault> fault(const HostFault& f);
    /// Page request groups waiting for the guest's response.
    [[nodiscard]] size_t pending_page_groups() const { return pending_.size(); }

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
    struct PendingKey {
        uint16_t sid;
        bool pv;
        uint32_t pasid;
        uint16_t prgi;
        auto operator<=>(const PendingKey&) const = default;
    };
    struct PendingGroup {
        uint32_t dev = 0;
        bool pasid_valid = false;
        uint32_t hpasid = 0;
        uint32_t grpid = 0;
        bool priv_valid = false;
        uint64_t priv[2] = {0, 0};
    };
    struct PasidRef {
        uint32_t hpasid = 0;
        unsigned refs = 0;
    };

    Result<std::optional<PasidEntry>> read_entry(const Device& d, uint32_t gpasid);
    Result<void> apply(Device& d, uint32_t gpasid, const Result<std::optional<PasidEntry>>& fresh,
                       std::optional<uint16_t> did_filter);
    Result<void> do_unbind(Device& d, uint32_t gpasid);
    Result<void> check_rid_pasid(const Device& d, uint32_t gpasid) const;
    Result<uint32_t> get_hpasid(uint32_t gpasid);
    void put_hpasid(uint32_t gpasid);
    Result<void> pasid_cache_inv(const PcDesc& pc);
    std::vector<uint32_t> present_pasids(const Device& d);
    void queue(Invalidation inv);
    void log(const std::string& s) const {
        if (log_)
            log_(s);
    }
    Device* find(uint16_t sid);
    Device* find_host(uint32_t host_dev);
    void auto_respond(const HostPageRequest& r);

    HostIommu& host_;
    GuestMemory& mem_;
    VtdCaps caps_;
    std::map<uint16_t, Device> devs_;
    std::map<uint32_t, PasidRef> pasids_; // gpasid → host PASID
    std::vector<Invalidation> pending_inv_;
    std::map<PendingKey, PendingGroup> pending_;
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
