// SPDX-License-Identifier: GPL-2.0
// In-VM: the C ABI (vsva-qemu.h) against the real module, as QEMU's
// intel_iommu would drive it: map RAM, attach, context entry, PC
// invalidation → bind, DMA, remap + P_IOTLB + wait, page request and
// response, unbind, close.
#include <cerrno>
#include <cstring>
#include <string>

#include <linux/vsva.h>

#include <gtest/gtest.h>

#include "guest.h"
#include "vsva-qemu.h"

namespace {

using vsva::vmm::GuestRam;
using vsva::vmm::PageTables;
namespace desc = vsva::vmm::desc;

constexpr uint64_t kDir = 0x10000, kTable = 0x11000, kStatus = 0x30000;
constexpr uint64_t kPage1 = 0x400000, kPage2 = 0x401000, kPage3 = 0x402000;
constexpr uint64_t kVa = 0x5555'0000'0000ull, kVaFault = kVa + 0x20000;
constexpr uint32_t kGpasid = 9;
constexpr uint16_t kDid = 2;
constexpr uint16_t kRid = 0x0020; // 00:04.0, its own group

int rw(void* opaque, uint64_t gpa, void* buf, size_t len, int is_write) {
    auto* ram = static_cast<GuestRam*>(opaque);
    return is_write ? !ram->write(gpa, buf, len) : !ram->read(gpa, buf, len);
}

class CAbiVm : public ::testing::Test {
protected:
    GuestRam ram;
    vsva_qemu_ctx* ctx = nullptr;
    vsva_qemu_dev* dev = nullptr;

    void SetUp() override {
        std::string why;
        ASSERT_TRUE(ram.create(8u << 20, &why)) << why;
        vsva_qemu_open_args a{};
        a.size = sizeof(a);
        a.dma_rw = rw;
        a.opaque = &ram;
        const int rc = vsva_qemu_open(&a, &ctx);
        if (rc == -ENOENT || rc == -EOPNOTSUPP || rc == -ENOTTY)
            GTEST_SKIP() << "no /dev/vsva with nesting: " << rc;
        ASSERT_EQ(rc, 0);
        ASSERT_EQ(vsva_qemu_map_ram(ctx, 0, ram.size(), ram.hva()), 0) << vsva_qemu_last_error(ctx);
        ASSERT_EQ(vsva_qemu_attach_device(ctx, kRid, kRid,
                                          VSVA_QEMU_ATTACH_ATS | VSVA_QEMU_ATTACH_PRI, &dev),
                  0)
                << vsva_qemu_last_error(ctx);
    }
    void TearDown() override {
        if (ctx)
            vsva_qemu_close(ctx);
    }
    int run(const desc::D& d, vsva_qemu_desc_result* res = nullptr) {
        return vsva_qemu_process_desc(ctx, d.data(), 4, 1, res);
    }
};

TEST_F(CAbiVm, WholeFlow) {
    PageTables pt(ram, 0x100000, 0x200000);
    ASSERT_TRUE(pt.map(kVa, kPage1));
    ram.put64(kDir, kTable | 1);
    vsva::vmm::write_fs_pasid_entry(ram, kTable, kGpasid, pt.root(), kDid);
    ASSERT_EQ(vsva_qemu_set_pasid_dir(dev, 1, kDir, 0), 0) << vsva_qemu_last_error(ctx);

    // PC (PASID-selective) → bind; wait completes with its status write.
    vsva_qemu_desc_result res{};
    ASSERT_EQ(run(desc::pc_pasid(kDid, kGpasid)), 0) << vsva_qemu_last_error(ctx);
    ASSERT_EQ(run(desc::wait(kStatus, 0x11, true), &res), 0);
    EXPECT_EQ(res.flags,
              VSVA_QEMU_DESC_WAIT | VSVA_QEMU_DESC_STATUS_WRITTEN | VSVA_QEMU_DESC_INTERRUPT);
    EXPECT_EQ(ram.get32(kStatus), 0x11u);

    char msg[] = "c-abi dma";
    uint32_t done = 0;
    ASSERT_EQ(
            vsva_qemu_emu_dma(dev, kGpasid, kVa + 8, msg, sizeof(msg), VSVA_QEMU_DMA_WRITE, &done),
            0)
            << vsva_qemu_last_error(ctx);
    EXPECT_EQ(done, sizeof(msg));
    EXPECT_EQ(std::memcmp(ram.hva(kPage1 + 8), msg, sizeof(msg)), 0);

    // Remap, P_IOTLB page-selective + P_DEVTLB + wait: one batch, new page.
    ASSERT_TRUE(pt.map(kVa, kPage2));
    ASSERT_EQ(run(desc::piotlb_page(kDid, kGpasid, kVa, 0, false), &res), 0);
    EXPECT_EQ(res.forwarded, 1u);
    ASSERT_EQ(run(desc::pdevtlb(kRid, kGpasid, kVa), &res), 0);
    EXPECT_EQ(res.forwarded, 1u);
    ASSERT_EQ(run(desc::wait(kStatus, 0x22, false)), 0) << vsva_qemu_last_error(ctx);
    EXPECT_EQ(ram.get32(kStatus), 0x22u);
    ASSERT_EQ(
            vsva_qemu_emu_dma(dev, kGpasid, kVa + 8, msg, sizeof(msg), VSVA_QEMU_DMA_WRITE, &done),
            0);
    EXPECT_EQ(std::memcmp(ram.hva(kPage2 + 8), msg, sizeof(msg)), 0);

    vsva_qemu_stats st{};
    ASSERT_EQ(vsva_qemu_get_stats(ctx, &st), 0);
    EXPECT_EQ(st.binds, 1u);
    EXPECT_EQ(st.submissions, 1u);
    EXPECT_EQ(st.invalidations, 2u);
    EXPECT_EQ(st.host_errors, 0u);

    // An invalid descriptor: -EINVAL with a sentence (IQE).
    EXPECT_EQ(run(desc::piotlb_page(kDid, kGpasid, kVa, 19, false)), -EINVAL);
    EXPECT_NE(std::string(vsva_qemu_last_error(ctx)).find("MAMV"), std::string::npos);

    // Page request: fault, read it in guest terms, map, respond, retry.
    EXPECT_EQ(
            vsva_qemu_emu_dma(dev, kGpasid, kVaFault, msg, sizeof(msg), VSVA_QEMU_DMA_WRITE, &done),
            -EFAULT);
    ASSERT_GE(vsva_qemu_fault_fd(ctx), 0) << vsva_qemu_last_error(ctx);
    vsva_qemu_page_req pr[4]{};
    const int n = vsva_qemu_read_page_requests(ctx, pr, 4);
    ASSERT_EQ(n, 1) << vsva_qemu_last_error(ctx);
    EXPECT_EQ(pr[0].sid, kRid);
    EXPECT_EQ(pr[0].pasid_valid, 1);
    EXPECT_EQ(pr[0].gpasid, kGpasid);
    EXPECT_EQ(pr[0].addr & ~0xfffull, kVaFault);
    EXPECT_TRUE(pr[0].perm & VSVA_FAULT_PERM_WRITE);
    ASSERT_TRUE(pt.map(kVaFault, kPage3));
    ASSERT_EQ(vsva_qemu_page_response(dev, pr[0].gpasid, pr[0].grpid, VSVA_QEMU_RESP_SUCCESS), 0)
            << vsva_qemu_last_error(ctx);
    ASSERT_EQ(
            vsva_qemu_emu_dma(dev, kGpasid, kVaFault, msg, sizeof(msg), VSVA_QEMU_DMA_WRITE, &done),
            0)
            << vsva_qemu_last_error(ctx);
    EXPECT_EQ(std::memcmp(ram.hva(kPage3), msg, sizeof(msg)), 0);

    // Clear the entry, PC → unbound; DMA refused.
    vsva::vmm::clear_pasid_entry(ram, kTable, kGpasid);
    ASSERT_EQ(run(desc::pc_pasid(kDid, kGpasid)), 0);
    EXPECT_EQ(vsva_qemu_emu_dma(dev, kGpasid, kVa, msg, sizeof(msg), 0, &done), -ENOENT);
    EXPECT_EQ(vsva_qemu_unbind(dev, kGpasid), -ENOENT);
    ASSERT_EQ(vsva_qemu_get_stats(ctx, &st), 0);
    EXPECT_EQ(st.unbinds, 1u);
}

TEST_F(CAbiVm, BindPasidEntryDirectAndErrors) {
    PageTables pt(ram, 0x100000, 0x200000);
    ASSERT_TRUE(pt.map(kVa, kPage1));
    uint64_t pe[8] = {1 | (1u << 6), kDid, pt.root(), 0, 0, 0, 0, 0};
    ASSERT_EQ(vsva_qemu_bind_pasid_entry(dev, kGpasid, pe), 0) << vsva_qemu_last_error(ctx);
    char b[4] = {1, 2, 3, 4};
    uint32_t done = 0;
    EXPECT_EQ(vsva_qemu_emu_dma(dev, kGpasid, kVa, b, 4, VSVA_QEMU_DMA_WRITE, &done), 0);
    pe[2] |= 1ull << 2; // FSPM=01b: 5-level, a changed entry → rebind
    ASSERT_EQ(vsva_qemu_bind_pasid_entry(dev, kGpasid, pe), 0) << vsva_qemu_last_error(ctx);
    vsva_qemu_stats st{};
    ASSERT_EQ(vsva_qemu_get_stats(ctx, &st), 0);
    EXPECT_EQ(st.rebinds, 1u);
    uint64_t bad[8] = {1 | (1u << 6), kDid | (1ull << 31), pt.root(), 0, 0, 0, 0, 0}; // PCD
    EXPECT_EQ(vsva_qemu_bind_pasid_entry(dev, kGpasid + 1, bad), -EINVAL);
    uint64_t pt_entry[8] = {1 | (4u << 6), kDid, 0, 0, 0, 0, 0, 0}; // pass-through
    EXPECT_EQ(vsva_qemu_bind_pasid_entry(dev, kGpasid + 2, pt_entry), -EOPNOTSUPP);
    EXPECT_EQ(vsva_qemu_unbind(dev, kGpasid), 0);
    EXPECT_EQ(vsva_qemu_detach_device(dev), 0) << vsva_qemu_last_error(ctx);
    dev = nullptr;
}

} // namespace
