// SPDX-License-Identifier: GPL-2.0
// In-VM: the C ABI (vsva-qemu.h) against the real module, as QEMU's
// intel_iommu would drive it: map RAM, attach, context entry, PC
// invalidation → bind, DMA, remap + P_IOTLB + wait, page request and
// response, unbind, close.
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

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
        a.caps = VSVA_QEMU_CAP_DEFAULT | VSVA_QEMU_CAP_PRS;
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
        if (dev) {
            EXPECT_EQ(vsva_qemu_detach_device(dev), 0) << vsva_qemu_last_error(ctx);
        }
        if (ctx) {
            EXPECT_EQ(vsva_qemu_close(ctx), 0) << vsva_qemu_last_error(ctx);
        }
    }
    int run(const desc::D& d, vsva_qemu_desc_result* res = nullptr) {
        if (res)
            res->size = sizeof(*res);
        return vsva_qemu_process_desc(ctx, d.data(), 4, 1, res);
    }
    std::vector<vsva_qemu_event> events(uint32_t max = 256) {
        std::vector<vsva_qemu_event> ev(max);
        const int n = vsva_qemu_read_events(ctx, ev.data(), sizeof(ev[0]), max);
        EXPECT_GE(n, 0) << vsva_qemu_last_error(ctx);
        ev.resize(n < 0 ? 0 : n);
        return ev;
    }
    // Waits (up to 20 s) for the first event.
    std::vector<vsva_qemu_event> wait_events() {
        for (int i = 0; i < 2000; ++i) {
            auto ev = events();
            if (!ev.empty())
                return ev;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return {};
    }
    vsva_qemu_stats stats() {
        vsva_qemu_stats st{};
        st.size = sizeof(st);
        EXPECT_EQ(vsva_qemu_get_stats(ctx, &st), 0);
        return st;
    }
    void bind(PageTables& pt) {
        ram.put64(kDir, kTable | 1);
        vsva::vmm::write_fs_pasid_entry(ram, kTable, kGpasid, pt.root(), kDid);
        ASSERT_EQ(vsva_qemu_set_pasid_dir(dev, 1, kDir, 0), 0) << vsva_qemu_last_error(ctx);
        ASSERT_EQ(run(desc::pc_pasid(kDid, kGpasid)), 0) << vsva_qemu_last_error(ctx);
    }
};

// The guest's page group response descriptor (type 9) for a request it read.
desc::D pgrp_resp(const vsva_qemu_page_req& r, uint64_t code) {
    const bool pdp = r.flags & VSVA_QEMU_PR_PRIV_DATA;
    desc::D d{9 | (uint64_t((r.flags & VSVA_QEMU_PR_PASID_VALID) != 0) << 4) |
                      (uint64_t(pdp) << 5) | (code << 12) | (uint64_t(r.sid) << 16) |
                      (uint64_t(r.gpasid) << 32),
              (uint64_t((r.flags & VSVA_QEMU_PR_LAST) != 0) << 2) | (uint64_t(r.grpid) << 3),
              pdp ? r.private_data[0] : 0, pdp ? r.private_data[1] : 0};
    return d;
}

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
    st.size = sizeof(st);
    ASSERT_EQ(vsva_qemu_get_stats(ctx, &st), 0);
    EXPECT_EQ(st.binds, 1u);
    EXPECT_EQ(st.submissions, 1u);
    EXPECT_EQ(st.invalidations, 2u);
    EXPECT_EQ(st.host_errors, 0u);

    // An invalid descriptor: -EINVAL with a sentence (IQE).
    EXPECT_EQ(run(desc::piotlb_page(kDid, kGpasid, kVa, 19, false)), -EINVAL);
    EXPECT_NE(std::string(vsva_qemu_last_error(ctx)).find("MAMV"), std::string::npos);

    // Page request: fault, read it in guest terms, map, respond with a page
    // group response descriptor (type 9), retry.
    EXPECT_EQ(
            vsva_qemu_emu_dma(dev, kGpasid, kVaFault, msg, sizeof(msg), VSVA_QEMU_DMA_WRITE, &done),
            -EFAULT);
    ASSERT_GE(vsva_qemu_fault_fd(ctx), 0) << vsva_qemu_last_error(ctx);
    auto ev = events();
    ASSERT_EQ(ev.size(), 1u);
    ASSERT_EQ(ev[0].type, uint32_t{VSVA_QEMU_EVENT_PAGE_REQ});
    const vsva_qemu_page_req& pr = ev[0].page_req;
    EXPECT_EQ(pr.sid, kRid);
    EXPECT_EQ(pr.flags & VSVA_QEMU_PR_PASID_VALID, VSVA_QEMU_PR_PASID_VALID);
    EXPECT_EQ(pr.gpasid, kGpasid);
    EXPECT_EQ(pr.addr, kVaFault);
    EXPECT_TRUE(pr.perm & VSVA_FAULT_PERM_WRITE);
    // The descriptor for the guest's page request queue says the same.
    EXPECT_EQ(pr.desc[0], 1 | (1ull << 8) | (uint64_t(kRid) << 16) | (uint64_t(kGpasid) << 32));
    EXPECT_EQ(pr.desc[1], 2 | 4 | (uint64_t(pr.grpid) << 3) | kVaFault);
    ASSERT_TRUE(pt.map(kVaFault, kPage3));
    ASSERT_EQ(run(pgrp_resp(pr, VSVA_QEMU_RESP_SUCCESS), &res), 0) << vsva_qemu_last_error(ctx);
    EXPECT_EQ(res.type, 9u);
    ASSERT_EQ(
            vsva_qemu_emu_dma(dev, kGpasid, kVaFault, msg, sizeof(msg), VSVA_QEMU_DMA_WRITE, &done),
            0)
            << vsva_qemu_last_error(ctx);
    EXPECT_EQ(std::memcmp(ram.hva(kPage3), msg, sizeof(msg)), 0);
    ASSERT_EQ(vsva_qemu_get_stats(ctx, &st), 0);
    EXPECT_EQ(st.page_requests, 1u);
    EXPECT_EQ(st.page_responses, 1u);
    EXPECT_EQ(st.host_errors, 0u);

    // Clear the entry, PC → unbound; DMA refused.
    vsva::vmm::clear_pasid_entry(ram, kTable, kGpasid);
    ASSERT_EQ(run(desc::pc_pasid(kDid, kGpasid)), 0);
    EXPECT_EQ(vsva_qemu_emu_dma(dev, kGpasid, kVa, msg, sizeof(msg), 0, &done), -ENOENT);
    EXPECT_EQ(vsva_qemu_unbind(dev, kGpasid), -ENOENT);
    ASSERT_EQ(vsva_qemu_get_stats(ctx, &st), 0);
    EXPECT_EQ(st.unbinds, 1u);
}

// The translate callback of an emulated endpoint: answered from vsva's
// IOTLB / device TLB, stale until the guest's P_IOTLB + P_DEVTLB + wait.
TEST_F(CAbiVm, TranslateStaleUntilGuestInvalidates) {
    PageTables pt(ram, 0x100000, 0x200000);
    ASSERT_TRUE(pt.map(kVa, kPage1));
    bind(pt);
    vsva_qemu_translation t{};
    t.size = sizeof(t);
    ASSERT_EQ(vsva_qemu_emu_translate(dev, kGpasid, kVa + 0x10, 0, &t), 0)
            << vsva_qemu_last_error(ctx);
    EXPECT_EQ(t.gpa, kPage1 + 0x10);
    EXPECT_EQ(t.page_shift, 12u);
    EXPECT_EQ(t.flags, uint32_t{VSVA_QEMU_XLATE_R}) << "clean page: a write walks again";
    EXPECT_EQ(t.size, sizeof(t));
    ASSERT_EQ(vsva_qemu_emu_translate(dev, kGpasid, kVa + 0x10, VSVA_QEMU_XLATE_WRITE, &t), 0);
    EXPECT_EQ(t.flags, uint32_t{VSVA_QEMU_XLATE_R | VSVA_QEMU_XLATE_W});

    ASSERT_TRUE(pt.map(kVa, kPage2));
    ASSERT_EQ(vsva_qemu_emu_translate(dev, kGpasid, kVa, 0, &t), 0);
    EXPECT_EQ(t.gpa, kPage1) << "stale until the guest invalidates";
    ASSERT_EQ(run(desc::piotlb_page(kDid, kGpasid, kVa, 0, false)), 0);
    ASSERT_EQ(run(desc::pdevtlb(kRid, kGpasid, kVa)), 0);
    ASSERT_EQ(run(desc::wait(kStatus, 0x33, false)), 0) << vsva_qemu_last_error(ctx);
    ASSERT_EQ(vsva_qemu_emu_translate(dev, kGpasid, kVa, 0, &t), 0);
    EXPECT_EQ(t.gpa, kPage2);

    // A fault: -EFAULT and the reason; errors.
    EXPECT_EQ(vsva_qemu_emu_translate(dev, kGpasid, kVa + 0x800000, 0, &t), -EFAULT);
    EXPECT_EQ(t.flags, uint32_t{VSVA_QEMU_XLATE_FAULT});
    EXPECT_EQ(t.fault_reason, uint32_t{VSVA_FAULT_REASON_PTE_FETCH});
    EXPECT_EQ(vsva_qemu_emu_translate(dev, kGpasid + 1, kVa, 0, &t), -ENOENT);
    EXPECT_EQ(vsva_qemu_emu_translate(dev, kGpasid, kVa, 1u << 5, &t), -EOPNOTSUPP);
    t.size = VSVA_QEMU_TRANSLATION_MIN_SIZE - 1;
    EXPECT_EQ(vsva_qemu_emu_translate(dev, kGpasid, kVa, 0, &t), -EINVAL);
    // Drain the fault event the faulting translation queued.
    (void)vsva_qemu_fault_fd(ctx);
    (void)events();
}

// A Linux 6.1 guest's DMA domain as QEMU forwards it: first stage on
// RID_PASID (guest PASID 0), requests without PASID, no caching mode (so no
// PC for a new entry: -ENOENT, sync, retry), P_IOTLB on PASID 0, DEVTLB
// without PASID, a changed entry replaced in place, the entry cleared.
TEST_F(CAbiVm, RidPasidLikeALinuxDmaDomain) {
    PageTables pt(ram, 0x100000, 0x180000), pt2(ram, 0x180000, 0x200000);
    ASSERT_TRUE(pt.map(kVa, kPage1));
    ASSERT_TRUE(pt2.map(kVa, kPage3));
    ram.put64(kDir, kTable | 1);
    vsva::vmm::write_fs_pasid_entry(ram, kTable, 0, pt.root(), kDid);
    ASSERT_EQ(vsva_qemu_set_pasid_dir(dev, 1, kDir, 0), 0) << vsva_qemu_last_error(ctx);

    vsva_qemu_translation t{};
    t.size = sizeof(t);
    constexpr uint32_t kNoPasid = VSVA_QEMU_XLATE_NO_PASID;
    ASSERT_EQ(vsva_qemu_emu_translate(dev, 0, kVa, kNoPasid, &t), -ENOENT);
    ASSERT_EQ(vsva_qemu_sync_pasid(dev, 0), 0) << vsva_qemu_last_error(ctx);
    ASSERT_EQ(vsva_qemu_emu_translate(dev, 0, kVa + 0x10, kNoPasid, &t), 0)
            << vsva_qemu_last_error(ctx);
    EXPECT_EQ(t.gpa, kPage1 + 0x10);
    EXPECT_EQ(vsva_qemu_emu_translate(dev, 0, kVa, 0, &t), -EINVAL) << "PASID 0 needs NO_PASID";

    // DMA without PASID lands on the guest page.
    char msg[] = "rid-pasid dma";
    uint32_t done = 0;
    ASSERT_EQ(vsva_qemu_emu_dma(dev, 0, kVa + 8, msg, sizeof(msg),
                                VSVA_QEMU_DMA_WRITE | VSVA_QEMU_DMA_NO_PASID, &done),
              0)
            << vsva_qemu_last_error(ctx);
    EXPECT_EQ(done, sizeof(msg));
    char back[sizeof(msg)] = {};
    ASSERT_TRUE(ram.read(kPage1 + 8, back, sizeof(back)));
    EXPECT_STREQ(back, msg);

    // Stale until the guest's P_IOTLB on PASID 0 (qi_flush_piotlb) + wait.
    ASSERT_TRUE(pt.map(kVa, kPage2));
    ASSERT_EQ(vsva_qemu_emu_translate(dev, 0, kVa, kNoPasid, &t), 0);
    EXPECT_EQ(t.gpa, kPage1);
    const vsva_qemu_stats s0 = stats();
    ASSERT_EQ(run(desc::piotlb_page(kDid, 0, kVa, 0, true)), 0);
    desc::D devtlb{3 | (uint64_t(kRid) << 32), kVa, 0, 0}; // DEVTLB, no PASID
    vsva_qemu_desc_result res{};
    ASSERT_EQ(run(devtlb, &res), 0) << vsva_qemu_last_error(ctx);
    EXPECT_EQ(res.forwarded, 1u);
    ASSERT_EQ(run(desc::wait(kStatus, 0x44, false)), 0) << vsva_qemu_last_error(ctx);
    const vsva_qemu_stats s1 = stats();
    EXPECT_EQ(s1.invalidations, s0.invalidations + 2) << "both reached the host";
    EXPECT_EQ(s1.host_errors, s0.host_errors);
    ASSERT_EQ(vsva_qemu_emu_translate(dev, 0, kVa, kNoPasid, &t), 0);
    EXPECT_EQ(t.gpa, kPage2);

    // The guest points entry 0 at another table: replaced, never unbound.
    vsva::vmm::write_fs_pasid_entry(ram, kTable, 0, pt2.root(), kDid);
    ASSERT_EQ(run(desc::pc_pasid(kDid, 0)), 0) << vsva_qemu_last_error(ctx);
    const vsva_qemu_stats s2 = stats();
    EXPECT_EQ(s2.rebinds, s1.rebinds + 1);
    EXPECT_EQ(s2.unbinds, s1.unbinds) << "replaced in place (VSVA_BIND_REPLACE)";
    ASSERT_EQ(vsva_qemu_emu_translate(dev, 0, kVa, kNoPasid, &t), 0);
    EXPECT_EQ(t.gpa, kPage3) << "the replace dropped the old table's entries";

    // A wait whose status write faults: -EFAULT (IQE).
    EXPECT_EQ(run(desc::wait(ram.size() + 0x1000, 1, false)), -EFAULT);

    // Entry 0 cleared + PC on PASID 0: unbound.
    vsva::vmm::clear_pasid_entry(ram, kTable, 0);
    ASSERT_EQ(run(desc::pc_pasid(kDid, 0)), 0) << vsva_qemu_last_error(ctx);
    EXPECT_EQ(vsva_qemu_emu_translate(dev, 0, kVa, kNoPasid, &t), -ENOENT);
    EXPECT_EQ(stats().unbinds, s2.unbinds + 1);
}

TEST(CAbiOpen, FailureCarriesASentence) {
    GuestRam ram;
    vsva_qemu_open_args a{};
    a.size = sizeof(a);
    a.dma_rw = rw;
    a.opaque = &ram;
    a.dev_path = "/dev/vsva-does-not-exist";
    vsva_qemu_ctx* ctx = nullptr;
    EXPECT_EQ(vsva_qemu_open(&a, &ctx), -ENOENT);
    EXPECT_EQ(ctx, nullptr);
    EXPECT_NE(std::string(vsva_qemu_open_error()).find("/dev/vsva-does-not-exist"),
              std::string::npos)
            << vsva_qemu_open_error();
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
    vsva_qemu_stats st = stats();
    EXPECT_EQ(st.rebinds, 1u);
    uint64_t bad[8] = {1 | (1u << 6), kDid | (1ull << 31), pt.root(), 0, 0, 0, 0, 0}; // PCD
    EXPECT_EQ(vsva_qemu_bind_pasid_entry(dev, kGpasid + 1, bad), -EINVAL);
    uint64_t pt_entry[8] = {1 | (4u << 6), kDid, 0, 0, 0, 0, 0, 0}; // pass-through
    EXPECT_EQ(vsva_qemu_bind_pasid_entry(dev, kGpasid + 2, pt_entry), -EOPNOTSUPP);
    EXPECT_EQ(vsva_qemu_unbind(dev, kGpasid), 0);
    EXPECT_EQ(vsva_qemu_detach_device(dev), 0) << vsva_qemu_last_error(ctx);
    dev = nullptr;
}

// A device waiting on its page request (VSVA_QEMU_DMA_WAIT) gets the guest's
// answer through the kernel: SUCCESS retries and completes; INVALID and
// PCIe's Response Failure (0xf, sent to the host as v1 FAILURE) fail it.
TEST_F(CAbiVm, PageResponseCodesRoundTrip) {
    PageTables pt(ram, 0x100000, 0x200000);
    ASSERT_TRUE(pt.map(kVa, kPage1));
    bind(pt);
    ASSERT_GE(vsva_qemu_fault_fd(ctx), 0) << vsva_qemu_last_error(ctx);
    struct Case {
        uint64_t code;
        uint64_t va;
        int want_rc;
    } cases[] = {{VSVA_QEMU_RESP_SUCCESS, kVa + 0x40000, 0},
                 {VSVA_QEMU_RESP_INVALID, kVa + 0x41000, -EFAULT},
                 {VSVA_QEMU_RESP_FAILURE, kVa + 0x42000, -EFAULT}};
    int n = 0;
    for (const Case& c : cases) {
        SCOPED_TRACE(testing::Message() << "code " << c.code);
        char msg[] = "waited";
        uint32_t done = 0;
        int dma_rc = 1;
        std::thread t([&] {
            dma_rc = vsva_qemu_emu_dma(dev, kGpasid, c.va, msg, sizeof(msg),
                                       VSVA_QEMU_DMA_WRITE | VSVA_QEMU_DMA_WAIT, &done);
        });
        auto ev = wait_events();
        bool answered = false;
        if (ev.size() == 1 && ev[0].type == VSVA_QEMU_EVENT_PAGE_REQ) {
            EXPECT_EQ(ev[0].page_req.addr, c.va);
            if (c.code == VSVA_QEMU_RESP_SUCCESS) {
                EXPECT_TRUE(pt.map(c.va, kPage2));
            }
            vsva_qemu_desc_result res{};
            EXPECT_EQ(run(pgrp_resp(ev[0].page_req, c.code), &res), 0) << vsva_qemu_last_error(ctx);
            answered = true;
        }
        if (!answered) { // never leave the thread waiting
            ADD_FAILURE() << "no page request event (" << ev.size() << " events)";
            vsva::vmm::clear_pasid_entry(ram, kTable, kGpasid);
            (void)run(desc::pc_pasid(kDid, kGpasid)); // unbind answers INVALID
        }
        t.join();
        EXPECT_EQ(dma_rc, c.want_rc) << vsva_qemu_last_error(ctx);
        if (c.want_rc == 0) {
            EXPECT_EQ(std::memcmp(ram.hva(kPage2), msg, sizeof(msg)), 0);
        }
        ++n;
    }
    const vsva_qemu_stats st = stats();
    EXPECT_EQ(st.page_requests, 3u);
    EXPECT_EQ(st.page_responses, 3u);
    EXPECT_EQ(st.host_errors, 0u);
}

// A reserved response code is an invalid descriptor (IQE), never forwarded.
TEST_F(CAbiVm, PageResponseReservedCodeIsInvalid) {
    vsva_qemu_page_req r{};
    r.sid = kRid;
    r.flags = VSVA_QEMU_PR_PASID_VALID | VSVA_QEMU_PR_LAST;
    r.gpasid = kGpasid;
    EXPECT_EQ(run(pgrp_resp(r, 2)), -EINVAL);
    EXPECT_NE(std::string(vsva_qemu_last_error(ctx)).find("reserved"), std::string::npos);
}

// An unrecoverable fault (non-canonical address) reaches the vIOMMU as a
// fault event in guest terms, with the VT-d fault reason.
TEST_F(CAbiVm, UnrecoverableFaultDelivered) {
    PageTables pt(ram, 0x100000, 0x200000);
    ASSERT_TRUE(pt.map(kVa, kPage1));
    bind(pt);
    ASSERT_GE(vsva_qemu_fault_fd(ctx), 0) << vsva_qemu_last_error(ctx);
    const uint64_t bad = 0x0000'8000'0000'1000ull; // bit 47 set, not sign-extended
    char b[8] = {};
    uint32_t done = 0;
    EXPECT_EQ(vsva_qemu_emu_dma(dev, kGpasid, bad, b, sizeof(b), VSVA_QEMU_DMA_WRITE, &done),
              -EFAULT);
    auto ev = events();
    ASSERT_EQ(ev.size(), 1u);
    ASSERT_EQ(ev[0].type, uint32_t{VSVA_QEMU_EVENT_FAULT});
    const vsva_qemu_fault& f = ev[0].fault;
    EXPECT_EQ(f.sid, kRid);
    EXPECT_EQ(f.flags, VSVA_QEMU_FAULT_PASID_VALID | VSVA_QEMU_FAULT_WRITE);
    EXPECT_EQ(f.gpasid, kGpasid);
    EXPECT_EQ(f.reason, 0xd0u); // SM: address in first-level translation not canonical
    EXPECT_EQ(f.host_reason, uint32_t{VSVA_FAULT_REASON_OOR_ADDRESS});
    EXPECT_EQ(f.addr, bad);
    EXPECT_EQ(ev[0].lost, 0u);
    EXPECT_EQ(stats().faults, 1u);
}

// The host queue overflows: the next event delivered says how many were
// lost, and the counter adds them up.
TEST_F(CAbiVm, LostEventsReported) {
    PageTables pt(ram, 0x100000, 0x200000);
    ASSERT_TRUE(pt.map(kVa, kPage1));
    bind(pt);
    ASSERT_GE(vsva_qemu_fault_fd(ctx), 0) << vsva_qemu_last_error(ctx);
    const uint64_t bad = 0x0000'8000'0000'1000ull;
    char b[8] = {};
    uint32_t done = 0;
    constexpr int kDepth = 128, kExtra = 3; // the emulated IOMMU's queue depth
    for (int i = 0; i < kDepth + kExtra; ++i)
        ASSERT_EQ(vsva_qemu_emu_dma(dev, kGpasid, bad, b, sizeof(b), 0, &done), -EFAULT);
    auto ev = events(512);
    ASSERT_EQ(ev.size(), size_t{kDepth});
    for (const auto& e : ev)
        EXPECT_EQ(e.lost, 0u);
    ASSERT_EQ(vsva_qemu_emu_dma(dev, kGpasid, bad, b, sizeof(b), 0, &done), -EFAULT);
    ev = events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].type, uint32_t{VSVA_QEMU_EVENT_FAULT});
    EXPECT_EQ(ev[0].lost, uint32_t{kExtra});
    EXPECT_EQ(stats().events_lost, uint64_t{kExtra});
}

// Close with a device attached: -EBUSY, the device handle stays usable.
TEST_F(CAbiVm, CloseWithDeviceIsBusy) {
    EXPECT_EQ(vsva_qemu_close(ctx), -EBUSY);
    EXPECT_EQ(vsva_qemu_set_pasid_dir(dev, 0, 0, 0), 0) << vsva_qemu_last_error(ctx);
    EXPECT_EQ(vsva_qemu_detach_device(dev), 0);
    dev = nullptr;
    EXPECT_EQ(vsva_qemu_close(ctx), 0);
    ctx = nullptr;
}

} // namespace
