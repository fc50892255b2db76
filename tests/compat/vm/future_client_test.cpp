// SPDX-License-Identifier: GPL-2.0
// Matrix row: FUTURE client (built against the synthetic future header:
// larger structs, new union members, unknown flag/feature/command) x the
// current module.
//   - larger struct, unknown tail all zero  -> works; known outputs correct;
//                                              the tail is not written
//   - larger struct, non-zero unknown tail  -> -E2BIG
//   - unknown wrapper flag bit              -> -EOPNOTSUPP
//   - unknown payload flag / version        -> -EINVAL (payload contract)
//   - unknown payload format                -> -EOPNOTSUPP
//   - unknown command                       -> -ENOTTY
//   - a feature the module does not report  -> the client must not use it
#include <gtest/gtest.h>

#include "compat_util.h"
#include "future/linux/vsva.h" // the synthetic future header
#include "world.inc"

#ifndef VSVA_FUTURE_HEADER
#error "built against the wrong header"
#endif

using namespace compat;

namespace {

#define BUILD_OR_FAIL(w, ...)                                                                      \
    ASSERT_TRUE((w).build(__VA_ARGS__)) << "setup failed at " << (w).failed

// The same facts the old client sees, through a bigger struct.
TEST(CompatFuture, GetInfoZeroTailWorksAndTailUntouched) {
    World w;
    BUILD_OR_FAIL(w, Level::Ctx);
    auto info = zeroed<vsva_info>();
    static_assert(sizeof(vsva_info) > offsetof(vsva_info, out_future_caps));
    ASSERT_EQ(errname(xioctl(w.ctx.get(), VSVA_GET_INFO, &info)), "0");
    EXPECT_EQ(info.argsz, sizeof(vsva_info)) << "argsz must not be rewritten";
    EXPECT_EQ(info.out_uapi_version, 1u);
    EXPECT_EQ(info.out_pasid_bits, 20u);
    EXPECT_TRUE(info.out_formats & (1u << VSVA_PASID_FORMAT_INTEL_VTD));
    EXPECT_EQ(info.out_future_caps, 0u) << "the module wrote a field it cannot know";
    EXPECT_EQ(info.out_future_limit, 0u);
    EXPECT_EQ(info.__reserved_future, 0u);
}

// Upstream rule 11: a new client on an old kernel checks features and refuses
// (or falls back) rather than failing later.  Also the lower-version row:
// a module reporting out_uapi_version below what the client was built for.
TEST(CompatFuture, NegotiationSeesFutureFeatureMissing) {
    World w;
    BUILD_OR_FAIL(w, Level::Ctx);
    auto info = zeroed<vsva_info>();
    ASSERT_EQ(errname(xioctl(w.ctx.get(), VSVA_GET_INFO, &info)), "0");
    EXPECT_EQ(info.out_features & VSVA_FEAT_FUTURE, 0u);
    EXPECT_LE(info.out_uapi_version, (unsigned)VSVA_UAPI_VERSION);
    EXPECT_EQ(info.out_formats & (1u << VSVA_PASID_FORMAT_FUTURE), 0u);
    EXPECT_EQ(info.out_inv_matrix & VSVA_INV_MATRIX_BIT(0, VSVA_INV_GRANU_FUTURE), 0u);
}

TEST(CompatFuture, GetInfoNonZeroTailIsE2big) {
    World w;
    BUILD_OR_FAIL(w, Level::Ctx);
    auto info = zeroed<vsva_info>();
    info.out_future_limit = 1; // an input the module does not understand
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_GET_INFO, &info)), errname(-E2BIG));
    info = zeroed<vsva_info>();
    info.__reserved_future = 0x80000000u; // the very last byte
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_GET_INFO, &info)), errname(-E2BIG));
}

TEST(CompatFuture, DomainAllocTail) {
    World w;
    BUILD_OR_FAIL(w, Level::Ctx);
    auto a = zeroed<vsva_domain_alloc>();
    ASSERT_EQ(errname(xioctl(w.ctx.get(), VSVA_DOMAIN_ALLOC, &a)), "0");
    EXPECT_EQ(a.future_domain_hint, 0u);
    auto d = zeroed<vsva_destroy>();
    d.id = a.out_domain_id;
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_DOMAIN_DESTROY, &d)), "0");
    a = zeroed<vsva_domain_alloc>();
    a.future_domain_hint = 3;
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_DOMAIN_ALLOC, &a)), errname(-E2BIG));
}

TEST(CompatFuture, MapTailAndFutureFlag) {
    World w;
    BUILD_OR_FAIL(w, Level::Domain);
    auto m = zeroed<vsva_map>();
    m.flags = VSVA_MAP_READ | VSVA_MAP_WRITE;
    m.domain_id = w.domain_id;
    m.gpa = kGpaBase;
    m.length = w.ram.len();
    m.vaddr = (uintptr_t)w.ram.data();
    auto bad = m;
    bad.future_iova_hint = 0x1000;
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_MAP, &bad)), errname(-E2BIG));
    bad = m;
    bad.flags |= VSVA_MAP_FUTURE;
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_MAP, &bad)), errname(-EOPNOTSUPP));
    // neither failure left anything behind: the real map still succeeds
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_MAP, &m)), "0");
    auto c = zeroed<vsva_emu_counters>();
    ASSERT_EQ(errname(xioctl(w.ctx.get(), VSVA_EMU_COUNTERS, &c)), "0");
    EXPECT_EQ(c.out_pinned_pages, kRamPages);
    EXPECT_EQ(c.out_future_counter, 0u);
}

TEST(CompatFuture, PasidAllocTailAndFutureFlag) {
    World w;
    BUILD_OR_FAIL(w, Level::Ctx);
    auto p = zeroed<vsva_pasid_alloc>();
    p.future_pasid_hint = 5;
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_PASID_ALLOC, &p)), errname(-E2BIG));
    p = zeroed<vsva_pasid_alloc>();
    p.flags = VSVA_PASID_FUTURE;
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_PASID_ALLOC, &p)), errname(-EOPNOTSUPP));
    p = zeroed<vsva_pasid_alloc>();
    ASSERT_EQ(errname(xioctl(w.ctx.get(), VSVA_PASID_ALLOC, &p)), "0");
    EXPECT_GT(p.out_hpasid, 0u);
    auto c = zeroed<vsva_emu_counters>();
    ASSERT_EQ(errname(xioctl(w.ctx.get(), VSVA_EMU_COUNTERS, &c)), "0");
    EXPECT_EQ(c.out_pasids, 1u) << "a refused alloc allocated anyway";
}

// The nesting wrapper grown, and the bind payload grown by a union member.
class FutureBind : public ::testing::Test {
protected:
    void SetUp() override { BUILD_OR_FAIL(w, Level::Pasid); }
    vsva_gpasid_bind_data payload() { return w.bind_payload(); }
    int call(const vsva_nesting_op& op) { return xioctl(w.ctx.get(), VSVA_BIND_GPASID, &op); }
    vsva_nesting_op op(const void* data, uint32_t len) {
        auto o = zeroed<vsva_nesting_op>();
        o.target_id = w.dev_id;
        o.data_len = len;
        o.data_uptr = (uintptr_t)data;
        return o;
    }
    uint32_t present() {
        auto pe = zeroed<vsva_emu_pasid_entry>();
        pe.dev_id = w.dev_id;
        pe.pasid = w.hpasid;
        EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_EMU_PASID_ENTRY, &pe)), "0");
        return pe.out_present;
    }
    World w;
};

TEST_F(FutureBind, BiggerWrapperAndPayloadWithZeroTailsBind) {
    static_assert(sizeof(vsva_gpasid_bind_data) == 80);
    auto b = payload();
    ASSERT_EQ(b.argsz, 80u);
    EXPECT_EQ(errname(call(op(&b, sizeof(b)))), "0");
    EXPECT_EQ(present(), 1u);
}

TEST_F(FutureBind, WrapperTailNonZeroIsE2big) {
    auto b = payload();
    auto o = op(&b, sizeof(b));
    o.future_cookie = 1;
    EXPECT_EQ(errname(call(o)), errname(-E2BIG));
    EXPECT_EQ(present(), 0u);
}

TEST_F(FutureBind, FutureTargetFlagIsEopnotsupp) {
    auto b = payload();
    auto o = op(&b, sizeof(b));
    o.flags = VSVA_TARGET_FUTURE;
    EXPECT_EQ(errname(call(o)), errname(-EOPNOTSUPP));
    EXPECT_EQ(present(), 0u);
}

TEST_F(FutureBind, PayloadTailNonZeroIsE2big) {
    auto b = payload();
    b.vendor.future.future_b = 1; // bytes 72..79: unknown to the module
    EXPECT_EQ(errname(call(op(&b, sizeof(b)))), errname(-E2BIG));
    EXPECT_EQ(present(), 0u);
}

TEST_F(FutureBind, PayloadFutureFlagIsEinval) {
    auto b = payload();
    b.flags |= VSVA_SVA_GPASID_FUTURE;
    EXPECT_EQ(errname(call(op(&b, sizeof(b)))), errname(-EINVAL));
}

TEST_F(FutureBind, PayloadFutureFormatIsEopnotsupp) {
    auto b = payload();
    b.format = VSVA_PASID_FORMAT_FUTURE;
    EXPECT_EQ(errname(call(op(&b, sizeof(b)))), errname(-EOPNOTSUPP));
}

TEST_F(FutureBind, PayloadVersion2IsEinval) {
    auto b = payload();
    b.version = 2;
    EXPECT_EQ(errname(call(op(&b, sizeof(b)))), errname(-EINVAL));
}

class FutureInvalidate : public ::testing::Test {
protected:
    void SetUp() override { BUILD_OR_FAIL(w, Level::Bound); }
    vsva_cache_invalidate_info inv() {
        auto i = zeroed<vsva_cache_invalidate_info>();
        i.version = VSVA_CACHE_INVALIDATE_INFO_VERSION_1;
        i.cache = VSVA_CACHE_INV_TYPE_IOTLB;
        i.granularity = VSVA_INV_GRANU_ADDR;
        i.granu.addr_info.flags = VSVA_INV_ADDR_FLAGS_PASID;
        i.granu.addr_info.pasid = w.hpasid;
        i.granu.addr_info.addr = kIova;
        i.granu.addr_info.granule_size = 4096;
        i.granu.addr_info.nb_granules = 4;
        return i;
    }
    World w;
};

TEST_F(FutureInvalidate, BiggerPayloadZeroTailWorks) {
    static_assert(sizeof(vsva_cache_invalidate_info) == 64);
    auto i = inv();
    EXPECT_EQ(errname(w.nesting(VSVA_CACHE_INVALIDATE, w.dev_id, &i, sizeof(i))), "0");
}

TEST_F(FutureInvalidate, PayloadTailNonZeroIsE2big) {
    auto i = inv();
    i.granu.future_info.words[5] = 1; // bytes 56..63
    EXPECT_EQ(errname(w.nesting(VSVA_CACHE_INVALIDATE, w.dev_id, &i, sizeof(i))), errname(-E2BIG));
}

TEST_F(FutureInvalidate, FutureGranularityIsEinval) {
    auto i = inv();
    i.granularity = VSVA_INV_GRANU_FUTURE;
    EXPECT_EQ(errname(w.nesting(VSVA_CACHE_INVALIDATE, w.dev_id, &i, sizeof(i))), errname(-EINVAL));
}

TEST_F(FutureInvalidate, BatchWithFutureEntriesAndWrapper) {
    vsva_cache_invalidate_info e[3] = {inv(), inv(), inv()};
    auto b = zeroed<vsva_cache_invalidate_batch>();
    b.target_id = w.dev_id;
    b.entry_len = sizeof(e[0]); // 64: a future entry size
    b.entry_num = 3;
    b.data_uptr = (uintptr_t)e;
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_CACHE_INVALIDATE_BATCH, &b)), "0");
    EXPECT_EQ(b.entry_num, 3u);

    e[1].granu.future_info.words[5] = 1;
    b.entry_num = 3;
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_CACHE_INVALIDATE_BATCH, &b)), errname(-E2BIG));
    EXPECT_EQ(b.entry_num, 1u) << "entries handled before the failing one";

    e[1] = inv();
    b.entry_num = 3;
    b.future_fence_uptr = 0x1000;
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_CACHE_INVALIDATE_BATCH, &b)), errname(-E2BIG));
}

TEST(CompatFuture, CountersTailUntouched) {
    World w;
    BUILD_OR_FAIL(w, Level::Ctx);
    auto c = zeroed<vsva_emu_counters>();
    ASSERT_EQ(errname(xioctl(w.ctx.get(), VSVA_EMU_COUNTERS, &c)), "0");
    EXPECT_EQ(c.out_future_counter, 0u);
    c = zeroed<vsva_emu_counters>();
    c.out_future_counter = 1; // an output field carries input garbage
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_EMU_COUNTERS, &c)), errname(-E2BIG));
}

TEST(CompatFuture, UnknownCommandIsEnotty) {
    World w;
    BUILD_OR_FAIL(w, Level::Ctx);
    auto info = zeroed<vsva_info>();
    EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_FUTURE_CMD, &info)), errname(-ENOTTY));
}

} // namespace
