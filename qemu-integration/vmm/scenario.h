// SPDX-License-Identifier: GPL-2.0
// The vsva-vmm scenario: a reference VMM that plays both the guest IOMMU
// driver (writing page tables, PASID entries and invalidation descriptors
// into guest RAM) and the virtual VT-d (the adapter, forwarding to
// /dev/vsva through libvsva), and checks every DMA byte it moves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vsva::vmm {

struct Options {
    const char* dev_path = "/dev/vsva";
    uint16_t rid = 0x0010; ///< 00:02.0 of the emulated topology (pasid+ats+pri)
    bool try_kvm = true;
    /// After the scenario, bind the guest PASID again, print "holding" and
    /// wait to be killed: the main job SIGKILLs the VMM with live objects
    /// to show the kernel tearing the VM down by itself.
    bool hold = false;
};

/// One verified fact.
struct Check {
    std::string what;
    bool ok = false;
    std::string detail;
};

struct Report {
    bool skipped = false; ///< no /dev/vsva (or no emulation): nothing ran
    std::string skip_reason;
    std::vector<std::string> log; ///< the narrative, in order
    std::vector<Check> checks;

    // Key results, for the in-VM test's assertions.
    std::string kvm; ///< what happened with /dev/kvm
    uint32_t gpasid = 0, hpasid = 0;
    bool bound = false;              ///< host PASID entry present, right gpgd/width
    bool dma_verified = false;       ///< first DMA landed on the right guest page
    bool stale_seen = false;         ///< after the remap, DMA still hit the old page
    bool fresh_after_inv = false;    ///< after P_IOTLB + wait, DMA hit the new page
    bool fault_served = false;       ///< a page request was answered and the DMA retried
    bool unbound = false;            ///< host entry gone after the guest cleared it
    std::vector<size_t> batch_sizes; ///< adapter submissions, in order
    uint64_t host_batch_calls = 0;   ///< kernel batch ioctls made
    uint64_t status_writes = 0;
    uint64_t dmas = 0, dma_bytes = 0;
    uint64_t faults_served = 0;

    [[nodiscard]] bool ok() const;
};

/// Runs the whole scenario; never throws.
Report run(const Options& opts = {});

/// Prints the report readably to stdout.
void print(const Report& r);

} // namespace vsva::vmm
