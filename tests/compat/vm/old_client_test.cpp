// SPDX-License-Identifier: GPL-2.0
// Matrix row: OLD client (built against the frozen release-1 header) x the
// current module.  Everything a release-1 VMM does must keep working, with
// the sizes it was compiled with, and the module must never write past the
// argsz the old client passed.
#include <gtest/gtest.h>

#include "compat_util.h"
#include "v1/linux/vsva.h" // the frozen header, never <linux/vsva.h>
#include "world.inc"

using namespace compat;

namespace {

#define BUILD_OR_FAIL(w, ...)                                                                      \
    ASSERT_TRUE((w).build(__VA_ARGS__)) << "setup failed at " << (w).failed

TEST(CompatOld, GetInfoWithV1SizeAndNoWriteBeyondArgsz) {
    World w;
    BUILD_OR_FAIL(w, Level::Ctx);
    // the v1 struct followed by a canary the module must not touch
    struct {
        vsva_info info;
        uint8_t canary[64];
    } buf;
    memset(&buf, 0, sizeof(buf));
    memset(buf.canary, 0xa5, sizeof(buf.canary));
    buf.info.argsz = sizeof(buf.info);
    ASSERT_EQ(errname(xioctl(w.ctx.get(), VSVA_GET_INFO, &buf.info)), "0");
    EXPECT_EQ(buf.info.argsz, sizeof(vsva_info));
    EXPECT_EQ(buf.info.out_uapi_version, (unsigned)VSVA_UAPI_VERSION);
    EXPECT_TRUE(buf.info.out_bind_versions & (1u << VSVA_GPASID_BIND_VERSION_1));
    EXPECT_TRUE(buf.info.out_inv_versions & (1u << VSVA_CACHE_INVALIDATE_INFO_VERSION_1));
    EXPECT_TRUE(buf.info.out_page_resp_versions & (1u << VSVA_PAGE_RESP_VERSION_1));
    EXPECT_TRUE(buf.info.out_formats & (1u << VSVA_PASID_FORMAT_INTEL_VTD));
    EXPECT_EQ(buf.info.out_pasid_bits, 20u);
    for (uint8_t c : buf.canary)
        ASSERT_EQ(c, 0xa5) << "the module wrote past the caller's argsz";
}

// A release-1 VMM negotiates with GET_INFO before it starts a guest
// (upstream rule 10): every feature it relies on must be reported.
TEST(CompatOld, NegotiatesV1Features) {
    World w;
    BUILD_OR_FAIL(w, Level::Ctx);
    auto info = zeroed<vsva_info>();
    ASSERT_EQ(errname(xioctl(w.ctx.get(), VSVA_GET_INFO, &info)), "0");
    EXPECT_GE(info.out_uapi_version, 1u);
    const uint64_t need =
            VSVA_FEAT_NESTING | VSVA_FEAT_CACHE_INV_BATCH | VSVA_FEAT_PAGE_REQUEST | VSVA_FEAT_EMU;
    EXPECT_EQ(info.out_features & need, need) << "out_features=0x" << std::hex << info.out_features;
    EXPECT_TRUE(info.out_addr_widths & VSVA_AW_48);
    EXPECT_TRUE(info.out_inv_matrix & VSVA_INV_MATRIX_BIT(0, VSVA_INV_GRANU_PASID));
    EXPECT_GT(info.out_max_batch, 0u);
    EXPECT_GT(info.out_pasid_quota, 0u);
}

// The whole release-1 workflow, checked by its effects.
TEST(CompatOld, FullWorkflowWithV1Sizes) {
    World w;
    BUILD_OR_FAIL(w, Level::Bound);

    auto pe = zeroed<vsva_emu_pasid_entry>();
    pe.dev_id = w.dev_id;
    pe.pasid = w.hpasid;
    ASSERT_EQ(errname(xioctl(w.ctx.get(), VSVA_EMU_PASID_ENTRY, &pe)), "0");
    EXPECT_EQ(pe.out_present, 1u);
    EXPECT_EQ(pe.out_addr_width, 48u);
    EXPECT_EQ(pe.out_gpgd, gpa_of(kPml4));
    EXPECT_EQ(pe.out_domain_id, w.domain_id);

    char msg[32];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (char)(0x40 + i);
    auto d = zeroed<vsva_emu_dma>();
    d.flags = VSVA_EMU_DMA_WRITE;
    d.dev_id = w.dev_id;
    d.pasid = w.hpasid;
    d.iova = kIova + 4096 + 16; // data page 1, offset 16
    d.len = sizeof(msg);
    d.buf_uptr = (uintptr_t)msg;
    ASSERT_EQ(errname(xioctl(w.ctx.get(), VSVA_EMU_DMA, &d)), "0");
    EXPECT_EQ(d.out_done, sizeof(msg));
    EXPECT_EQ(d.out_flags & VSVA_EMU_DMA_FAULTED, 0u);
    EXPECT_EQ(memcmp(w.ram.data() + (kData0 + 1) * 4096 + 16, msg, sizeof(msg)), 0);

    vsva_cache_invalidate_info inv;
    memset(&inv, 0, sizeof(inv));
    inv.argsz = sizeof(inv);
    inv.version = VSVA_CACHE_INVALIDATE_INFO_VERSION_1;
    inv.cache = VSVA_CACHE_INV_TYPE_IOTLB;
    inv.granularity = VSVA_INV_GRANU_PASID;
    inv.granu.pasid_info.flags = VSVA_INV_PASID_FLAGS_PASID;
    inv.granu.pasid_info.pasid = w.hpasid;
    EXPECT_EQ(errname(w.nesting(VSVA_CACHE_INVALIDATE, w.dev_id, &inv, sizeof(inv))), "0");

    auto cnt = zeroed<vsva_emu_counters>();
    ASSERT_EQ(errname(xioctl(w.ctx.get(), VSVA_EMU_COUNTERS, &cnt)), "0");
    EXPECT_EQ(cnt.out_binds, 1u);
    EXPECT_GE(cnt.out_invalidations, 1u);
    EXPECT_EQ(cnt.out_bindings, 1u);
    EXPECT_EQ(cnt.out_pasids, 1u);
    EXPECT_EQ(cnt.out_pinned_pages, kRamPages);

    auto b = w.bind_payload();
    ASSERT_EQ(errname(w.nesting(VSVA_UNBIND_GPASID, w.dev_id, &b, sizeof(b))), "0");
    ASSERT_EQ(errname(xioctl(w.ctx.get(), VSVA_EMU_PASID_ENTRY, &pe)), "0");
    EXPECT_EQ(pe.out_present, 0u);

    auto pf = zeroed<vsva_pasid_free>();
    pf.hpasid = w.hpasid;
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_PASID_FREE, &pf)), "0");
    EXPECT_EQ(errname(w.detach(w.dev_id)), "0");
    auto um = zeroed<vsva_unmap>();
    um.domain_id = w.domain_id;
    um.gpa = kGpaBase;
    um.length = w.ram.len();
    ASSERT_EQ(errname(xioctl(w.ctx.get(), VSVA_UNMAP, &um)), "0");
    EXPECT_EQ(um.out_unmapped, w.ram.len());
    auto dd = zeroed<vsva_destroy>();
    dd.id = w.domain_id;
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_DOMAIN_DESTROY, &dd)), "0");
}

TEST(CompatOld, PageRequestAndResponseWithV1Sizes) {
    World w;
    BUILD_OR_FAIL(w, Level::PageReq, true);
    vsva_fault_event ev;
    ASSERT_EQ(read(w.fault.get(), &ev, sizeof(ev)), (ssize_t)sizeof(ev));
    EXPECT_EQ(ev.dev_id, w.dev_id);
    EXPECT_EQ(ev.fault.type, (unsigned)VSVA_FAULT_PAGE_REQ);
    EXPECT_EQ(ev.fault.prm.grpid, w.grpid);
    EXPECT_EQ(ev.fault.prm.addr, kIovaHole);
    EXPECT_EQ(ev.fault.prm.pasid, w.hpasid);

    vsva_page_response resp;
    memset(&resp, 0, sizeof(resp));
    resp.argsz = sizeof(resp);
    resp.version = VSVA_PAGE_RESP_VERSION_1;
    resp.flags = VSVA_PAGE_RESP_PASID_VALID;
    resp.pasid = w.hpasid;
    resp.grpid = w.grpid;
    resp.code = VSVA_PAGE_RESP_INVALID;
    EXPECT_EQ(errname(w.nesting(VSVA_PAGE_RESPONSE, w.dev_id, &resp, sizeof(resp))), "0");
    // answered once: a second answer finds nothing pending
    EXPECT_NE(errname(w.nesting(VSVA_PAGE_RESPONSE, w.dev_id, &resp, sizeof(resp))), "0");
}

// An old client's fault-record reader: a buffer smaller than one record.
TEST(CompatOld, FaultReadSmallerThanARecordIsEinval) {
    World w;
    BUILD_OR_FAIL(w, Level::PageReq, true);
    char small[sizeof(vsva_fault_event) - 1];
    EXPECT_EQ(read(w.fault.get(), small, sizeof(small)), -1);
    EXPECT_EQ(errno, EINVAL);
}

} // namespace
