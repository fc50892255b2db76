// SPDX-License-Identifier: GPL-2.0
// vsva-vmm's guest image (see guest.h).
#include "guest.h"

#include <cerrno>

#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

namespace vsva::vmm {

GuestRam::~GuestRam() {
    if (base_)
        ::munmap(base_, size_);
    if (fd_ >= 0)
        ::close(fd_);
}

bool GuestRam::create(size_t size, std::string* why) {
    fd_ = ::memfd_create("vsva-guest-ram", MFD_CLOEXEC);
    if (fd_ < 0) {
        *why = fmt::format("memfd_create: {}", std::strerror(errno));
        return false;
    }
    if (::ftruncate(fd_, static_cast<off_t>(size)) < 0) {
        *why = fmt::format("ftruncate: {}", std::strerror(errno));
        return false;
    }
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) {
        *why = fmt::format("mmap: {}", std::strerror(errno));
        return false;
    }
    base_ = static_cast<uint8_t*>(p);
    size_ = size;
    return true;
}

bool GuestRam::read(uint64_t gpa, void* dst, size_t len) {
    if (gpa > size_ || len > size_ - gpa)
        return false;
    std::memcpy(dst, base_ + gpa, len);
    return true;
}

bool GuestRam::write(uint64_t gpa, const void* src, size_t len) {
    if (gpa > size_ || len > size_ - gpa)
        return false;
    std::memcpy(base_ + gpa, src, len);
    return true;
}

PageTables::PageTables(GuestRam& ram, uint64_t pool_gpa, uint64_t pool_end)
    : ram_(ram), next_(pool_gpa), end_(pool_end) {
    root_ = next_;
    next_ += 4096;
    std::memset(ram_.hva(root_), 0, 4096);
}

// The GPA of @va's leaf slot; creates the intermediate tables when asked.
uint64_t PageTables::table_slot(uint64_t va, bool create) {
    uint64_t table = root_;
    for (int shift = 39; shift >= 21; shift -= 9) {
        const uint64_t slot = table + ((va >> shift) & 0x1ff) * 8;
        uint64_t e = ram_.get64(slot);
        if (!(e & kP)) {
            if (!create || next_ + 4096 > end_)
                return 0;
            const uint64_t t = next_;
            next_ += 4096;
            std::memset(ram_.hva(t), 0, 4096);
            e = t | kP | kRW | kUS;
            ram_.put64(slot, e);
        }
        table = e & 0x000f'ffff'ffff'f000ull;
    }
    return table + ((va >> 12) & 0x1ff) * 8;
}

bool PageTables::map(uint64_t va, uint64_t gpa, uint64_t flags) {
    const uint64_t slot = table_slot(va, true);
    if (!slot)
        return false;
    ram_.put64(slot, (gpa & ~0xfffull) | flags);
    return true;
}

void PageTables::unmap(uint64_t va) {
    if (uint64_t slot = table_slot(va, false))
        ram_.put64(slot, 0);
}

uint64_t PageTables::leaf(uint64_t va) {
    const uint64_t slot = table_slot(va, false);
    return slot ? ram_.get64(slot) : 0;
}

void write_fs_pasid_entry(GuestRam& ram, uint64_t table_gpa, uint32_t pasid, uint64_t fs_root,
                          uint16_t did, bool five_level) {
    const uint64_t e = table_gpa + qemu::pasid_table_index(pasid) * qemu::kPasidEntryBytes;
    std::memset(ram.hva(e), 0, qemu::kPasidEntryBytes);
    ram.put64(e + 8, did);                                                 // DID, bits 79:64
    ram.put64(e + 16, (fs_root & ~0xfffull) | (five_level ? 1u << 2 : 0)); // FSPTPTR, FSPM
    ram.put64(e, 1 | (1u << 6)); // P, PGTT=001b first stage: written last
}

void clear_pasid_entry(GuestRam& ram, uint64_t table_gpa, uint32_t pasid) {
    ram.put64(table_gpa + qemu::pasid_table_index(pasid) * qemu::kPasidEntryBytes, 0);
}

namespace desc {
D pc_pasid(uint16_t did, uint32_t pasid) {
    return {7 | (1u << 4) | uint64_t(did) << 16 | uint64_t(pasid) << 32, 0, 0, 0};
}
D piotlb_pasid(uint16_t did, uint32_t pasid) {
    return {6 | (2u << 4) | uint64_t(did) << 16 | uint64_t(pasid) << 32, 0, 0, 0};
}
D piotlb_page(uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih) {
    return {6 | (3u << 4) | uint64_t(did) << 16 | uint64_t(pasid) << 32,
            (addr & ~0xfffull) | uint64_t(ih) << 6 | am, 0, 0};
}
D pdevtlb(uint16_t sid, uint32_t pasid, uint64_t addr) {
    return {8 | uint64_t(sid) << 16 | uint64_t(pasid) << 32, addr & ~0xfffull, 0, 0};
}
D pdevtlb_all(uint16_t sid, uint32_t pasid) {
    return {8 | uint64_t(sid) << 16 | uint64_t(pasid) << 32,
            0x7fff'ffff'ffff'f000ull | (1ull << 11), 0, 0};
}
D wait(uint64_t status_gpa, uint32_t data, bool iflag) {
    return {5 | (1u << 5) | uint64_t(iflag) << 4 | uint64_t(data) << 32, status_gpa & ~3ull, 0, 0};
}
} // namespace desc

void GuestQueue::push(const desc::D& d) {
    std::memcpy(ram_.hva(base_ + uint64_t{tail_ % 128} * 32), d.data(), 32);
    tail_ = (tail_ + 1) % 128;
}

} // namespace vsva::vmm
