// SPDX-License-Identifier: GPL-2.0
// vsva-vmm's guest: RAM in a memfd, and what a guest IOMMU driver writes
// into it — x86-64 first-stage page tables, a scalable-mode PASID
// directory and table, and 256-bit invalidation descriptors.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "vsva/qemu/host_iommu.h"
#include "vsva/qemu/vtd.h"

namespace vsva::vmm {

/// Guest RAM: a memfd mapped shared into the VMM (the same memory a KVM
/// memslot and the vsva stage-2 domain would both point at).
class GuestRam final : public qemu::GuestMemory {
public:
    GuestRam() = default;
    ~GuestRam() override;
    GuestRam(const GuestRam&) = delete;
    GuestRam& operator=(const GuestRam&) = delete;

    /// Creates and maps @size bytes; false with errno-style message on failure.
    bool create(size_t size, std::string* why);
    uint8_t* hva(uint64_t gpa = 0) { return base_ + gpa; }
    [[nodiscard]] size_t size() const { return size_; }
    [[nodiscard]] int fd() const { return fd_; }

    bool read(uint64_t gpa, void* dst, size_t len) override;
    bool write(uint64_t gpa, const void* src, size_t len) override;
    void put64(uint64_t gpa, uint64_t v) { std::memcpy(base_ + gpa, &v, 8); }
    [[nodiscard]] uint64_t get64(uint64_t gpa) const {
        uint64_t v;
        std::memcpy(&v, base_ + gpa, 8);
        return v;
    }
    [[nodiscard]] uint32_t get32(uint64_t gpa) const {
        uint32_t v;
        std::memcpy(&v, base_ + gpa, 4);
        return v;
    }

private:
    int fd_ = -1;
    uint8_t* base_ = nullptr;
    size_t size_ = 0;
};

/// x86-64 4-level page tables in guest RAM, tables from a bump allocator.
class PageTables {
public:
    static constexpr uint64_t kP = 1, kRW = 2, kUS = 4;
    PageTables(GuestRam& ram, uint64_t pool_gpa, uint64_t pool_end);
    [[nodiscard]] uint64_t root() const { return root_; }
    /// Maps one 4 KiB page, user read/write (what a process mapping is).
    bool map(uint64_t va, uint64_t gpa, uint64_t flags = kP | kRW | kUS);
    /// Clears the leaf of @va.
    void unmap(uint64_t va);
    /// The leaf entry of @va (0 when a level is missing).
    uint64_t leaf(uint64_t va);

private:
    uint64_t table_slot(uint64_t va, bool create);
    GuestRam& ram_;
    uint64_t next_, end_, root_ = 0;
};

/// Writes a scalable-mode PASID entry for a first-stage table.
void write_fs_pasid_entry(GuestRam& ram, uint64_t table_gpa, uint32_t pasid, uint64_t fs_root,
                          uint16_t did, bool five_level = false);
void clear_pasid_entry(GuestRam& ram, uint64_t table_gpa, uint32_t pasid);

/// 256-bit descriptor encoders (VT-d rev 5.10 §6.5.2).
namespace desc {
using D = std::array<uint64_t, 4>;
D pc_pasid(uint16_t did, uint32_t pasid);
D piotlb_pasid(uint16_t did, uint32_t pasid);
D piotlb_page(uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih);
D pdevtlb(uint16_t sid, uint32_t pasid, uint64_t addr); // one 4 KiB page
D pdevtlb_all(uint16_t sid, uint32_t pasid);
D wait(uint64_t status_gpa, uint32_t data, bool iflag);
} // namespace desc

/// The guest's invalidation queue: 4 KiB, 256-bit descriptors (IQA.DW=1).
class GuestQueue {
public:
    GuestQueue(GuestRam& ram, uint64_t base) : ram_(ram), base_(base) {}
    /// IQA_REG value the guest programs.
    [[nodiscard]] uint64_t iqa() const { return base_ | (1ull << 11); }
    void push(const desc::D& d);
    /// The IQT register value after the pushes.
    [[nodiscard]] uint64_t iqt() const { return uint64_t(tail_) << 5; }

private:
    GuestRam& ram_;
    uint64_t base_;
    unsigned tail_ = 0;
};

} // namespace vsva::vmm
