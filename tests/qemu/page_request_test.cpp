// SPDX-License-Identifier: GPL-2.0
// Page requests end to end through the adapter (no kernel): host request →
// guest page request descriptor → guest page group response descriptor
// (type 9) → host response, with the PCIe/VT-d ↔ v1 response-code mapping,
// private data, requests with no guest mapping and unrecoverable faults.
#include <linux/vsva.h>

#include <gtest/gtest.h>

#include "builders.h"
#include "vsva/qemu/adapter.h"

using namespace vsva::qemu;
using vsva::Result;
namespace t = vtdtest;

namespace {

constexpr uint64_t kDir = 0x10000, kTable0 = 0x11000;
constexpr uint16_t kSid = 0x0100;
constexpr uint32_t kHostDev = 7;
constexpr uint32_t kGpasid = 5;
constexpr QueueMode kSm{true, true};

VtdCaps prs_caps() {
    VtdCaps c;
    c.prs = true;
    return c;
}

// The guest's type-9 descriptor for a request it read from its queue.
t::Desc pgrp_resp(const PageReqDesc& r, uint64_t code, bool pdp, const uint64_t priv[2]) {
    return {9 | (uint64_t(r.pv) << 4) | (uint64_t(pdp) << 5) | (code << 12) |
                    (uint64_t(r.rid) << 16) | (uint64_t(r.pasid) << 32),
            (uint64_t(r.lpig) << 2) | (uint64_t(r.prgi) << 3), pdp ? priv[0] : 0,
            pdp ? priv[1] : 0};
}

class PageRequestTest : public ::testing::Test {
protected:
    t::FakeMemory mem;
    t::FakeHost host;
    VtdAdapter ad{host, mem, prs_caps()};
    uint32_t hpasid = 0;

    void SetUp() override {
        mem.put64(kDir, kTable0 | 1);
        ASSERT_TRUE(ad.add_device(kSid, kHostDev).has_value());
        ASSERT_TRUE(ad.set_pasid_dir(kSid, kDir, 0).has_value());
        mem.put_entry(kTable0 + kGpasid * 64, t::Pe::fs(0x40000, 3).q);
        ASSERT_TRUE(ad.sync_pasid(kSid, kGpasid).has_value());
        hpasid = *ad.hpasid_of(kGpasid);
    }
    HostPageRequest req(uint32_t grpid, bool last = true) const {
        HostPageRequest r;
        r.dev = kHostDev;
        r.pasid_valid = true;
        r.hpasid = hpasid;
        r.grpid = grpid;
        r.perm = VSVA_FAULT_PERM_READ | VSVA_FAULT_PERM_WRITE;
        r.last = last;
        r.addr = 0x7000'1234;
        return r;
    }
    Result<DescOutcome> run(const t::Desc& d) {
        return ad.process(std::span<const uint64_t>(d.data(), 4), kSm);
    }
    // The guest answers @code to @g; returns what the host got.
    HostPageResponse round_trip_existing(const GuestPageRequest& g, uint64_t code) {
        const uint64_t none[2] = {0, 0};
        auto r = run(pgrp_resp(g.req, code, false, none));
        EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error().message());
        EXPECT_EQ(host.responses.size(), 1u);
        return host.responses.empty() ? HostPageResponse{} : host.responses.back();
    }
    // Host request in, guest answers @code, returns what the host got.
    HostPageResponse round_trip(uint64_t code) {
        auto g = ad.page_request(req(17));
        EXPECT_TRUE(g.has_value());
        if (!g)
            return {};
        const uint64_t none[2] = {0, 0};
        auto r = run(pgrp_resp(g->req, code, false, none));
        EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error().message());
        EXPECT_EQ(host.responses.size(), 1u);
        return host.responses.empty() ? HostPageResponse{} : host.responses.back();
    }
};

TEST(PrgCode, OneMappingToV1) {
    EXPECT_EQ(*v1_page_response_code(kPrgSuccess), uint32_t{VSVA_PAGE_RESP_SUCCESS});
    EXPECT_EQ(*v1_page_response_code(kPrgInvalidRequest), uint32_t{VSVA_PAGE_RESP_INVALID});
    EXPECT_EQ(*v1_page_response_code(0xf), uint32_t{VSVA_PAGE_RESP_FAILURE});
    for (unsigned c = 2; c < 0xf; ++c) {
        auto r = v1_page_response_code(c);
        ASSERT_FALSE(r.has_value()) << c;
        EXPECT_EQ(r.error().code(), EINVAL);
    }
    EXPECT_EQ(prg_code_of_v1(VSVA_PAGE_RESP_FAILURE), 0xf);
}

TEST(PageRequestDesc, EncodesVtdLayout) {
    PageReqDesc d;
    d.pv = true;
    d.pdp = true;
    d.rid = 0x0100;
    d.pasid = 0x12345;
    d.exe = true;
    d.pm = true;
    d.rd = true;
    d.wr = true;
    d.lpig = true;
    d.prgi = 0x1ab;
    d.addr = 0x7fff'1234'5000;
    d.priv[0] = 0x1111;
    d.priv[1] = 0x2222;
    const auto q = encode_page_request(d);
    EXPECT_EQ(q[0], 1 | (1ull << 8) | (1ull << 9) | (0x0100ull << 16) | (0x12345ull << 32) |
                            (1ull << 52) | (1ull << 53));
    EXPECT_EQ(q[1], 1 | 2 | 4 | (0x1abull << 3) | 0x7fff'1234'5000ull);
    EXPECT_EQ(q[2], 0x1111u);
    EXPECT_EQ(q[3], 0x2222u);
}

TEST(PgrpRespDecode, NeedsPrs) {
    const t::Desc d{9 | (1u << 4) | (0xfull << 12) | (0x100ull << 16) | (5ull << 32), 4 | (3 << 3),
                    0, 0};
    auto off = decode_descriptor(std::span<const uint64_t>(d.data(), 4), kSm, VtdCaps{});
    ASSERT_FALSE(off.has_value());
    EXPECT_NE(off.error().message().find("PRS"), std::string::npos);
    auto on = decode_descriptor(std::span<const uint64_t>(d.data(), 4), kSm, prs_caps());
    ASSERT_TRUE(on.has_value()) << on.error().message();
    const auto& p = std::get<PgrpRespDesc>(*on);
    EXPECT_TRUE(p.pv);
    EXPECT_FALSE(p.pdp);
    EXPECT_EQ(p.code, 0xf);
    EXPECT_EQ(p.rid, 0x100);
    EXPECT_EQ(p.pasid, 5u);
    EXPECT_TRUE(p.lpig);
    EXPECT_EQ(p.prgi, 3);
}

TEST(PgrpRespDecode, ReservedBitsAndCodes) {
    auto bad = [](const t::Desc& d) {
        return !decode_descriptor(std::span<const uint64_t>(d.data(), 4), kSm, prs_caps())
                        .has_value();
    };
    EXPECT_TRUE(bad({9 | (2ull << 12), 0, 0, 0}));     // code 2: reserved
    EXPECT_TRUE(bad({9 | (1ull << 6), 0, 0, 0}));      // bit 6
    EXPECT_TRUE(bad({9 | (1ull << 60), 0, 0, 0}));     // bit 60
    EXPECT_TRUE(bad({9, 1, 0, 0}));                    // qw1 bit 0
    EXPECT_TRUE(bad({9, 1ull << 12, 0, 0}));           // qw1 bit 12
    EXPECT_TRUE(bad({9, 0, 0x55, 0}));                 // private data without PDP
    EXPECT_FALSE(bad({9 | (1u << 5), 0, 0x55, 0x66})); // with PDP
    EXPECT_FALSE(bad({9 | (1ull << 12), 0, 0, 0}));    // INVALID
}

TEST_F(PageRequestTest, SuccessRoundTrip) {
    auto g = ad.page_request(req(17));
    ASSERT_TRUE(g);
    EXPECT_TRUE(g->req.pv);
    EXPECT_EQ(g->req.pasid, kGpasid);
    EXPECT_EQ(g->req.rid, kSid);
    EXPECT_EQ(g->req.prgi, 17);
    EXPECT_TRUE(g->req.rd && g->req.wr && g->req.lpig);
    EXPECT_EQ(g->req.addr, 0x7000'1000u);
    EXPECT_EQ(ad.pending_page_groups(), 1u);
    const HostPageResponse r = round_trip_existing(*g, kPrgSuccess);
    EXPECT_EQ(r.dev, kHostDev);
    EXPECT_TRUE(r.pasid_valid);
    EXPECT_EQ(r.hpasid, hpasid);
    EXPECT_EQ(r.grpid, 17u);
    EXPECT_EQ(r.code, uint32_t{VSVA_PAGE_RESP_SUCCESS});
    EXPECT_EQ(ad.pending_page_groups(), 0u);
    EXPECT_EQ(ad.stats().page_requests, 1u);
    EXPECT_EQ(ad.stats().page_responses, 1u);
}

TEST_F(PageRequestTest, InvalidRoundTrip) {
    EXPECT_EQ(round_trip(kPrgInvalidRequest).code, uint32_t{VSVA_PAGE_RESP_INVALID});
}

// PCIe's Response Failure is 0xf in the descriptor and FAILURE (2) in v1.
TEST_F(PageRequestTest, FailureRoundTrip) {
    EXPECT_EQ(round_trip(kPrgResponseFailure).code, uint32_t{VSVA_PAGE_RESP_FAILURE});
}

TEST_F(PageRequestTest, PrivateDataToGuestAndBack) {
    HostPageRequest h = req(3, /*last=*/false); // private data: a response is due anyway
    h.priv_valid = true;
    h.priv[0] = 0xdead'beef'0000'0001ull;
    h.priv[1] = 0x0123'4567'89ab'cdefull;
    auto g = ad.page_request(h);
    ASSERT_TRUE(g);
    EXPECT_TRUE(g->req.pdp);
    EXPECT_EQ(g->desc[0] & (1ull << 9), 1ull << 9); // PDP in the guest's descriptor
    EXPECT_EQ(g->desc[2], h.priv[0]);
    EXPECT_EQ(g->desc[3], h.priv[1]);
    ASSERT_EQ(ad.pending_page_groups(), 1u);
    ASSERT_TRUE(run(pgrp_resp(g->req, kPrgSuccess, true, g->req.priv)).has_value());
    ASSERT_EQ(host.responses.size(), 1u);
    EXPECT_TRUE(host.responses[0].priv_valid);
    EXPECT_EQ(host.responses[0].priv[0], h.priv[0]);
    EXPECT_EQ(host.responses[0].priv[1], h.priv[1]);
    EXPECT_EQ(ad.stats().private_data_mismatches, 0u);
}

TEST_F(PageRequestTest, PrivateDataMismatchCounted) {
    HostPageRequest h = req(4);
    h.priv_valid = true;
    h.priv[0] = 1;
    auto g = ad.page_request(h);
    ASSERT_TRUE(g);
    const uint64_t other[2] = {2, 0};
    ASSERT_TRUE(run(pgrp_resp(g->req, kPrgSuccess, true, other)).has_value());
    EXPECT_EQ(ad.stats().private_data_mismatches, 1u);
    EXPECT_EQ(host.responses.size(), 1u);
}

// A request for a host PASID the guest does not know is not injected (in
// particular not as a request without PASID): counted, and answered
// INVALID by the adapter when a response is due (last, or private data).
TEST_F(PageRequestTest, UnmappedHostPasidNotInjected) {
    HostPageRequest h = req(9, /*last=*/false);
    h.hpasid = hpasid + 1000;
    EXPECT_FALSE(ad.page_request(h)); // not last: no response due
    EXPECT_TRUE(host.responses.empty());
    h.last = true;
    EXPECT_FALSE(ad.page_request(h));
    ASSERT_EQ(host.responses.size(), 1u);
    EXPECT_EQ(host.responses[0].code, uint32_t{VSVA_PAGE_RESP_INVALID});
    EXPECT_EQ(host.responses[0].hpasid, h.hpasid);
    EXPECT_EQ(host.responses[0].grpid, 9u);
    h.last = false;
    h.priv_valid = true;
    EXPECT_FALSE(ad.page_request(h));
    EXPECT_EQ(host.responses.size(), 2u);
    EXPECT_EQ(ad.stats().page_requests_unmapped, 3u);
    EXPECT_EQ(ad.stats().auto_responses, 2u);
    EXPECT_EQ(ad.stats().page_requests, 0u);
    EXPECT_EQ(ad.pending_page_groups(), 0u);
    h.dev = 99; // unknown device
    h.hpasid = hpasid;
    EXPECT_FALSE(ad.page_request(h));
    EXPECT_EQ(ad.stats().page_requests_unmapped, 4u);
}

TEST_F(PageRequestTest, WithoutPasidStaysWithoutPasid) {
    HostPageRequest h = req(2);
    h.pasid_valid = false;
    auto g = ad.page_request(h);
    ASSERT_TRUE(g);
    EXPECT_FALSE(g->req.pv);
    EXPECT_EQ(g->desc[0] & (1ull << 8), 0u);
}

TEST_F(PageRequestTest, StrayResponseDropped) {
    const PageReqDesc r{.pv = true, .rid = kSid, .pasid = kGpasid, .lpig = true, .prgi = 40};
    const uint64_t none[2] = {0, 0};
    ASSERT_TRUE(run(pgrp_resp(r, kPrgSuccess, false, none)).has_value());
    EXPECT_TRUE(host.responses.empty());
    EXPECT_EQ(ad.stats().stray_responses, 1u);
}

TEST_F(PageRequestTest, UnbindForgetsPendingGroups) {
    auto g = ad.page_request(req(5));
    ASSERT_TRUE(g);
    ASSERT_TRUE(ad.unbind(kSid, kGpasid).has_value());
    EXPECT_EQ(ad.pending_page_groups(), 0u);
    const uint64_t none[2] = {0, 0};
    ASSERT_TRUE(run(pgrp_resp(g->req, kPrgSuccess, false, none)).has_value());
    EXPECT_TRUE(host.responses.empty());
}

TEST_F(PageRequestTest, FaultDeliveredInGuestTerms) {
    HostFault f;
    f.dev = kHostDev;
    f.reason = VSVA_FAULT_REASON_PTE_FETCH;
    f.pasid_valid = true;
    f.hpasid = hpasid;
    f.perm = VSVA_FAULT_PERM_WRITE;
    f.addr_valid = true;
    f.addr = 0x5000'0123;
    auto g = ad.fault(f);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->sid, kSid);
    EXPECT_TRUE(g->pasid_valid);
    EXPECT_EQ(g->gpasid, kGpasid);
    EXPECT_EQ(g->reason, fault_reason::kFsEntryNotPresent);
    EXPECT_TRUE(g->write);
    EXPECT_EQ(g->addr, 0x5000'0000u);
    f.reason = VSVA_FAULT_REASON_PERMISSION;
    EXPECT_EQ(ad.fault(f)->reason, fault_reason::kNoWrite);
    f.hpasid = hpasid + 1; // no guest mapping
    EXPECT_FALSE(ad.fault(f));
    EXPECT_EQ(ad.stats().faults, 2u);
    EXPECT_EQ(ad.stats().faults_unmapped, 1u);
}

} // namespace
