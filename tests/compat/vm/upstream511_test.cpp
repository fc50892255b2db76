// SPDX-License-Identifier: GPL-2.0
// Matrix row: a VMM written against Linux 5.11's <linux/iommu.h> payloads
// (its own definitions, upstream names: include/upstream511/iommu511.h) x the
// current module, through vsva's wrapper ioctls.  Design decision 5: those
// bytes work unchanged.  And the upstream doc's four argsz cases for each of
// the three payloads, where vsva is stricter than 5.11 on purpose:
//   - a larger payload must have a zero tail (5.11 ignored it): -E2BIG
//   - data_len must equal the payload's argsz: -EINVAL
//   - type x granularity outside the matrix: -EINVAL (5.11 VT-d returned 0)
//   - a format other than VT-d: -EOPNOTSUPP (5.11 core: -EINVAL)
// vm_compat_qemu511 is the companion: a real 5.11 VMM's payloads, end to end.
#include <cstring>

#include <linux/vsva.h> // the wrapper ioctls only

#include <gtest/gtest.h>

#include "compat_util.h"
#include "upstream511/iommu511.h"
#define COMPAT_NO_VSVA_PAYLOADS
#include "world.inc"

using namespace compat;

namespace {

#define BUILD_OR_FAIL(w, ...)                                                                      \
    ASSERT_TRUE((w).build(__VA_ARGS__)) << "setup failed at " << (w).failed

static_assert(sizeof(iommu_gpasid_bind_data) == 72);
static_assert(sizeof(iommu_cache_invalidate_info) == 56);
static_assert(sizeof(iommu_page_response) == 24);

// A payload of @len bytes (>= sizeof T) ending right before a guard page.
template <typename T>
struct Placed {
    GuardBuf gb{4096};
    T* p;
    explicit Placed(const T& v, size_t len = sizeof(T), size_t readable = 0) {
        if (!readable)
            readable = len;
        char* at = gb.tail(readable);
        memset(at, 0, readable);
        memcpy(at, &v, std::min(sizeof(T), readable));
        p = reinterpret_cast<T*>(at);
    }
    char* bytes() { return reinterpret_cast<char*>(p); }
};

class Bind511 : public ::testing::Test {
protected:
    void SetUp() override { BUILD_OR_FAIL(w, Level::Pasid); }
    iommu_gpasid_bind_data data() {
        iommu_gpasid_bind_data d;
        memset(&d, 0, sizeof(d));
        d.argsz = sizeof(d);
        d.version = IOMMU_GPASID_BIND_VERSION_1;
        d.format = IOMMU_PASID_FORMAT_INTEL_VTD;
        d.addr_width = 48;
        d.gpgd = gpa_of(kPml4);
        d.hpasid = w.hpasid;
        return d;
    }
    int bind(const void* p, uint32_t len, unsigned long cmd = VSVA_BIND_GPASID) {
        return w.nesting(cmd, w.dev_id, p, len);
    }
    vsva_emu_pasid_entry entry() {
        auto pe = zeroed<vsva_emu_pasid_entry>();
        pe.dev_id = w.dev_id;
        pe.pasid = w.hpasid;
        EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_EMU_PASID_ENTRY, &pe)), "0");
        return pe;
    }
    int expect_rejected(const iommu_gpasid_bind_data& d, int want) {
        int rc = bind(&d, d.argsz);
        EXPECT_EQ(errname(rc), errname(want));
        EXPECT_EQ(entry().out_present, 0u) << "a refused bind left an entry";
        return rc;
    }
    World w;
};

TEST_F(Bind511, EqualSizeBindsAndUnbinds) {
    auto d = data();
    d.flags = IOMMU_SVA_GPASID_VAL;
    d.gpasid = 0x42;
    d.vendor.vtd.flags = IOMMU_SVA_VTD_GPASID_SRE | IOMMU_SVA_VTD_GPASID_WPE;
    ASSERT_EQ(errname(bind(&d, sizeof(d))), "0");
    auto pe = entry();
    EXPECT_EQ(pe.out_present, 1u);
    EXPECT_EQ(pe.out_gpgd, gpa_of(kPml4));
    EXPECT_EQ(pe.out_addr_width, 48u);
    EXPECT_EQ(pe.out_vtd_flags, (uint64_t)(IOMMU_SVA_VTD_GPASID_SRE | IOMMU_SVA_VTD_GPASID_WPE));
    EXPECT_EQ(pe.out_gpasid_valid, 1u);
    EXPECT_EQ(pe.out_gpasid, 0x42u);
    // unbind takes the bind payload (checked as 5.11 checked an unbind)
    ASSERT_EQ(errname(bind(&d, sizeof(d), VSVA_UNBIND_GPASID)), "0");
    EXPECT_EQ(entry().out_present, 0u);
    // allocated but no longer bound: 0, as upstream VT-d
    EXPECT_EQ(errname(bind(&d, sizeof(d), VSVA_UNBIND_GPASID)), "0");
}

// An unbind checks argsz, version, format, flags, padding and hpasid only,
// as 5.11 did; the rest of the payload is not looked at.
TEST_F(Bind511, UnbindChecksWhat511Checked) {
    auto d = data();
    ASSERT_EQ(errname(bind(&d, sizeof(d))), "0");
    auto u = d;
    u.addr_width = 0;
    u.gpgd = 0x123;
    u.vendor.vtd.flags = ~0ull;
    u.vendor.vtd.pat = ~0u;
    u.argsz = offsetof(iommu_gpasid_bind_data, vendor); // 56: enough here
    u.version = 2;
    EXPECT_EQ(errname(bind(&u, u.argsz, VSVA_UNBIND_GPASID)), errname(-EINVAL));
    u.version = IOMMU_GPASID_BIND_VERSION_1;
    u.padding[0] = 1;
    EXPECT_EQ(errname(bind(&u, u.argsz, VSVA_UNBIND_GPASID)), errname(-EINVAL));
    u.padding[0] = 0;
    u.flags = 2;
    EXPECT_EQ(errname(bind(&u, u.argsz, VSVA_UNBIND_GPASID)), errname(-EINVAL));
    u.flags = 0;
    u.format = 0;
    EXPECT_EQ(errname(bind(&u, u.argsz, VSVA_UNBIND_GPASID)), errname(-EOPNOTSUPP));
    u.format = IOMMU_PASID_FORMAT_INTEL_VTD;
    EXPECT_EQ(entry().out_present, 1u);
    EXPECT_EQ(errname(bind(&u, u.argsz, VSVA_UNBIND_GPASID)), "0");
    EXPECT_EQ(entry().out_present, 0u);
}

TEST_F(Bind511, OlderMinsz56WithVtdIsEinval) {
    auto d = data();
    d.argsz = offsetof(iommu_gpasid_bind_data, vendor); // 56: no VT-d part
    expect_rejected(d, -EINVAL);
}

TEST_F(Bind511, BelowMinsz55IsEinval) {
    auto d = data();
    d.argsz = offsetof(iommu_gpasid_bind_data, vendor) - 1;
    expect_rejected(d, -EINVAL);
    d.argsz = 0;
    expect_rejected(d, -EINVAL);
}

TEST_F(Bind511, NewerZeroTailBinds) {
    Placed<iommu_gpasid_bind_data> pl(data(), 96);
    pl.p->argsz = 96;
    ASSERT_EQ(errname(bind(pl.p, 96)), "0");
    EXPECT_EQ(entry().out_present, 1u);
}

TEST_F(Bind511, NewerNonZeroTailIsE2big) {
    Placed<iommu_gpasid_bind_data> pl(data(), 96);
    pl.p->argsz = 96;
    pl.bytes()[95] = 1;
    EXPECT_EQ(errname(bind(pl.p, 96)), errname(-E2BIG));
    EXPECT_EQ(entry().out_present, 0u);
}

// In range but inconsistent: the only fault is data_len != argsz (the bytes
// past the payload are zero, so no other rule applies).
TEST_F(Bind511, DataLenNotArgszIsEinval) {
    Placed<iommu_gpasid_bind_data> pl(data(), 80);
    EXPECT_EQ(errname(bind(pl.p, 80)), errname(-EINVAL)); // data_len > argsz
    pl.p->argsz = 80;
    EXPECT_EQ(errname(bind(pl.p, 72)), errname(-EINVAL)); // data_len < argsz
    EXPECT_EQ(entry().out_present, 0u);
}

TEST_F(Bind511, ArgszBeyondMappedBufferIsEfault) {
    Placed<iommu_gpasid_bind_data> pl(data(), 72);
    pl.p->argsz = 80; // 8 bytes lie in the guard page
    EXPECT_EQ(errname(bind(pl.p, 80)), errname(-EFAULT));
}

// Huge: the module bounds a payload at 4096 bytes (like a batch entry) and
// refuses more with -E2BIG before reading anything.  4096 zero-tailed bytes
// are still a valid newer payload.
constexpr uint32_t kMaxPayload = 4096;

TEST_F(Bind511, HugeArgszIsE2bigWithoutReading) {
    Placed<iommu_gpasid_bind_data> pl(data(), 72);
    pl.p->argsz = 0xffffffffu;
    EXPECT_EQ(errname(bind(pl.p, 0xffffffffu)), errname(-E2BIG));
    pl.p->argsz = kMaxPayload + 1;
    EXPECT_EQ(errname(bind(pl.p, kMaxPayload + 1)), errname(-E2BIG));
    EXPECT_EQ(entry().out_present, 0u);
}

TEST_F(Bind511, LargestPayloadWithZeroTailBinds) {
    Placed<iommu_gpasid_bind_data> pl(data(), kMaxPayload);
    pl.p->argsz = kMaxPayload;
    EXPECT_EQ(errname(bind(pl.p, kMaxPayload)), "0");
    EXPECT_EQ(entry().out_present, 1u);
}

TEST_F(Bind511, PayloadCutByGuardIsEfault) {
    Placed<iommu_gpasid_bind_data> pl(data(), 72, 40); // 32 bytes unreadable
    EXPECT_EQ(errname(bind(pl.p, 72)), errname(-EFAULT));
    EXPECT_EQ(errname(bind(nullptr, 72)), errname(-EFAULT));
}

TEST_F(Bind511, BadValuesAreEinvalOrEopnotsupp) {
    auto d = data();
    d.version = 2;
    expect_rejected(d, -EINVAL);
    d = data();
    d.flags = 1ULL << 63; // a high bit: the u64 mask of 5.10-rc2
    expect_rejected(d, -EINVAL);
    d = data();
    d.padding[7] = 1;
    expect_rejected(d, -EINVAL);
    d = data();
    d.vendor.vtd.flags = IOMMU_SVA_VTD_GPASID_LAST;
    expect_rejected(d, -EINVAL);
    d = data();
    d.vendor.vtd.flags = IOMMU_SVA_VTD_GPASID_PCD; // memory type: not supported
    expect_rejected(d, -EINVAL);
    d = data();
    d.addr_width = 39;
    expect_rejected(d, -EINVAL);
    d = data();
    d.gpgd = gpa_of(kPml4) + 8; // not 4 KiB aligned
    expect_rejected(d, -EINVAL);
    d = data();
    d.format = 0; // 5.11's core let 0 through; vsva: not VT-d
    expect_rejected(d, -EOPNOTSUPP);
    d = data();
    d.format = IOMMU_PASID_FORMAT_LAST;
    expect_rejected(d, -EOPNOTSUPP);
}

class Inv511 : public ::testing::Test {
protected:
    void SetUp() override {
        BUILD_OR_FAIL(w, Level::Pasid);
        iommu_gpasid_bind_data d;
        memset(&d, 0, sizeof(d));
        d.argsz = sizeof(d);
        d.version = IOMMU_GPASID_BIND_VERSION_1;
        d.format = IOMMU_PASID_FORMAT_INTEL_VTD;
        d.addr_width = 48;
        d.gpgd = gpa_of(kPml4);
        d.hpasid = w.hpasid;
        ASSERT_EQ(errname(w.nesting(VSVA_BIND_GPASID, w.dev_id, &d, sizeof(d))), "0");
    }
    iommu_cache_invalidate_info info(uint8_t cache, uint8_t granu) {
        iommu_cache_invalidate_info i;
        memset(&i, 0, sizeof(i));
        i.argsz = sizeof(i);
        i.version = IOMMU_CACHE_INVALIDATE_INFO_VERSION_1;
        i.cache = cache;
        i.granularity = granu;
        if (granu == IOMMU_INV_GRANU_PASID) {
            i.granu.pasid_info.flags = IOMMU_INV_PASID_FLAGS_PASID;
            i.granu.pasid_info.pasid = w.hpasid;
        } else if (granu == IOMMU_INV_GRANU_ADDR) {
            i.granu.addr_info.flags = IOMMU_INV_ADDR_FLAGS_PASID;
            i.granu.addr_info.pasid = w.hpasid;
            i.granu.addr_info.addr = kIova;
            i.granu.addr_info.granule_size = 4096;
            i.granu.addr_info.nb_granules = 2;
        }
        return i;
    }
    int inv(const void* p, uint32_t len) {
        return w.nesting(VSVA_CACHE_INVALIDATE, w.dev_id, p, len);
    }
    World w;
};

// Older user: the argsz each granularity needs, and one byte less.
TEST_F(Inv511, ArgszPerGranularity) {
    struct {
        uint8_t granu;
        uint32_t need;
    } t[] = {{IOMMU_INV_GRANU_DOMAIN, 16}, {IOMMU_INV_GRANU_PASID, 32}, {IOMMU_INV_GRANU_ADDR, 56}};
    for (auto& c : t) {
        auto i = info(IOMMU_CACHE_INV_TYPE_IOTLB, c.granu);
        i.argsz = c.need;
        EXPECT_EQ(errname(inv(&i, c.need)), "0") << "granularity " << (int)c.granu;
        i.argsz = c.need - 1;
        EXPECT_EQ(errname(inv(&i, c.need - 1)), errname(-EINVAL))
                << "granularity " << (int)c.granu << " argsz " << c.need - 1;
    }
    auto i = info(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_ADDR);
    i.argsz = 32; // enough for PASID, not for ADDR
    EXPECT_EQ(errname(inv(&i, 32)), errname(-EINVAL));
}

TEST_F(Inv511, NewerTail) {
    Placed<iommu_cache_invalidate_info> pl(info(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_ADDR),
                                           72);
    pl.p->argsz = 72;
    EXPECT_EQ(errname(inv(pl.p, 72)), "0");
    pl.bytes()[56] = 1;
    EXPECT_EQ(errname(inv(pl.p, 72)), errname(-E2BIG));
}

TEST_F(Inv511, MaliciousArgsz) {
    auto i = info(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_PASID);
    EXPECT_EQ(errname(inv(&i, 48)), errname(-EINVAL)); // data_len < argsz
    {
        Placed<iommu_cache_invalidate_info> z(i, 64);       // zero tail
        EXPECT_EQ(errname(inv(z.p, 64)), errname(-EINVAL)); // data_len > argsz
    }
    Placed<iommu_cache_invalidate_info> pl(i);
    pl.p->argsz = 64;
    EXPECT_EQ(errname(inv(pl.p, 64)), errname(-EFAULT)); // past the buffer
    pl.p->argsz = 0xffffffffu;
    EXPECT_EQ(errname(inv(pl.p, 0xffffffffu)), errname(-E2BIG)); // > 4096
}

// The documented matrix, every single type x granularity.
TEST_F(Inv511, TypeGranularityMatrix) {
    const uint8_t types[] = {IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_CACHE_INV_TYPE_DEV_IOTLB,
                             IOMMU_CACHE_INV_TYPE_PASID};
    // [type][granu]: DOMAIN, PASID, ADDR
    const bool ok[3][3] = {{true, true, true}, {false, true, true}, {true, true, false}};
    for (int t = 0; t < 3; t++)
        for (int g = 0; g < 3; g++) {
            auto i = info(types[t], (uint8_t)g);
            EXPECT_EQ(errname(inv(&i, sizeof(i))), errname(ok[t][g] ? 0 : -EINVAL))
                    << "cache 0x" << (int)types[t] << " granularity " << g;
        }
    auto i = info(IOMMU_CACHE_INV_TYPE_IOTLB | IOMMU_CACHE_INV_TYPE_PASID,
                  IOMMU_INV_GRANU_ADDR); // PASID cache cannot do ADDR
    EXPECT_EQ(errname(inv(&i, sizeof(i))), errname(-EINVAL));
    i = info(IOMMU_CACHE_INV_TYPE_IOTLB | IOMMU_CACHE_INV_TYPE_DEV_IOTLB, IOMMU_INV_GRANU_PASID);
    EXPECT_EQ(errname(inv(&i, sizeof(i))), "0");
}

TEST_F(Inv511, BadValuesAreEinval) {
    auto i = info(0, IOMMU_INV_GRANU_DOMAIN);
    EXPECT_EQ(errname(inv(&i, sizeof(i))), errname(-EINVAL)) << "cache 0";
    i = info(1 << IOMMU_CACHE_INV_TYPE_NR, IOMMU_INV_GRANU_DOMAIN);
    EXPECT_EQ(errname(inv(&i, sizeof(i))), errname(-EINVAL)) << "unknown cache bit";
    i = info(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_NR);
    EXPECT_EQ(errname(inv(&i, sizeof(i))), errname(-EINVAL)) << "granularity 3";
    i = info(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_DOMAIN);
    i.version = 2;
    EXPECT_EQ(errname(inv(&i, sizeof(i))), errname(-EINVAL)) << "version 2";
    i = info(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_DOMAIN);
    i.padding[5] = 1;
    EXPECT_EQ(errname(inv(&i, sizeof(i))), errname(-EINVAL)) << "padding";
    i = info(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_ADDR);
    i.granu.addr_info.flags |= 1 << 3;
    EXPECT_EQ(errname(inv(&i, sizeof(i))), errname(-EINVAL)) << "addr flags";
    i = info(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_PASID);
    i.granu.pasid_info.flags |= 1 << 2;
    EXPECT_EQ(errname(inv(&i, sizeof(i))), errname(-EINVAL)) << "pasid flags";
}

// The batch carries an array of 5.11 invalidation payloads: one stride
// (entry_len), each entry with its own argsz and the same size rules.
class Batch511 : public Inv511 {
protected:
    int batch(const void* arr, uint32_t entry_len, uint32_t* num) {
        auto b = zeroed<vsva_cache_invalidate_batch>();
        b.target_id = w.dev_id;
        b.entry_len = entry_len;
        b.entry_num = *num;
        b.data_uptr = (uintptr_t)arr;
        int rc = xioctl(w.ctx.get(), VSVA_CACHE_INVALIDATE_BATCH, &b);
        *num = b.entry_num;
        return rc;
    }
    // @n entries of @stride bytes, zero padded, ending at a guard page
    struct Arr {
        GuardBuf gb{16 * 4096};
        char* p;
        uint32_t stride;
        Arr(const iommu_cache_invalidate_info& e, uint32_t n, uint32_t st) : stride(st) {
            p = gb.tail((size_t)n * st);
            memset(p, 0, (size_t)n * st);
            for (uint32_t i = 0; i < n; i++)
                memcpy(p + (size_t)i * st, &e, sizeof(e));
        }
        iommu_cache_invalidate_info* at(uint32_t i) {
            return reinterpret_cast<iommu_cache_invalidate_info*>(p + (size_t)i * stride);
        }
    };
};

TEST_F(Batch511, EqualStrideAndProbe) {
    Arr a(info(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_ADDR), 3, 56);
    uint32_t n = 3;
    EXPECT_EQ(errname(batch(a.p, 56, &n)), "0");
    EXPECT_EQ(n, 3u);
    n = 0; // probes support
    EXPECT_EQ(errname(batch(a.p, 56, &n)), "0");
    EXPECT_EQ(n, 0u);
}

TEST_F(Batch511, OlderEntriesInsideTheStride) {
    Arr a(info(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_DOMAIN), 2, 56);
    a.at(0)->argsz = 16; // DOMAIN needs only the first 16 bytes
    a.at(1)->argsz = 16;
    uint32_t n = 2;
    EXPECT_EQ(errname(batch(a.p, 56, &n)), "0");
    EXPECT_EQ(n, 2u);
    Arr b(info(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_PASID), 2, 56);
    b.at(1)->argsz = 31; // PASID needs 32
    n = 2;
    EXPECT_EQ(errname(batch(b.p, 56, &n)), errname(-EINVAL));
    EXPECT_EQ(n, 1u) << "entries handled before the bad one";
}

TEST_F(Batch511, StrideBounds) {
    Arr a(info(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_DOMAIN), 1, 4097);
    uint32_t n = 1;
    EXPECT_EQ(errname(batch(a.p, 55, &n)), errname(-EINVAL));
    EXPECT_EQ(n, 0u);
    n = 1;
    EXPECT_EQ(errname(batch(a.p, 4097, &n)), errname(-EINVAL));
    EXPECT_EQ(n, 0u);
}

TEST_F(Batch511, NewerStrideZeroAndNonZeroPadding) {
    Arr a(info(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_PASID), 3, 64);
    uint32_t n = 3;
    EXPECT_EQ(errname(batch(a.p, 64, &n)), "0");
    EXPECT_EQ(n, 3u);
    a.p[2 * 64 + 63] = 1; // entry 2, past what the module knows
    n = 3;
    EXPECT_EQ(errname(batch(a.p, 64, &n)), errname(-E2BIG));
    EXPECT_EQ(n, 2u);
}

TEST_F(Batch511, MaliciousEntries) {
    Arr a(info(IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_INV_GRANU_PASID), 3, 56);
    a.at(1)->argsz = 64; // claims more than the stride
    uint32_t n = 3;
    EXPECT_EQ(errname(batch(a.p, 56, &n)), errname(-EINVAL));
    EXPECT_EQ(n, 1u);
    a.at(1)->argsz = 56;
    n = 4; // one entry more than is readable
    EXPECT_EQ(errname(batch(a.p, 56, &n)), errname(-EFAULT));
    EXPECT_EQ(n, 0u);
    auto info_ = zeroed<vsva_info>();
    ASSERT_EQ(errname(xioctl(w.ctx.get(), VSVA_GET_INFO, &info_)), "0");
    n = info_.out_max_batch + 1;
    EXPECT_EQ(errname(batch(a.p, 56, &n)), errname(-EINVAL));
    EXPECT_EQ(n, 0u);
}

class Resp511 : public ::testing::Test {
protected:
    void SetUp() override {
        BUILD_OR_FAIL(w, Level::Pasid, true);
        iommu_gpasid_bind_data d;
        memset(&d, 0, sizeof(d));
        d.argsz = sizeof(d);
        d.version = IOMMU_GPASID_BIND_VERSION_1;
        d.format = IOMMU_PASID_FORMAT_INTEL_VTD;
        d.addr_width = 48;
        d.gpgd = gpa_of(kPml4);
        d.hpasid = w.hpasid;
        ASSERT_EQ(errname(w.nesting(VSVA_BIND_GPASID, w.dev_id, &d, sizeof(d))), "0");
        ASSERT_EQ(errname(w.page_request()), "0");
    }
    iommu_page_response resp() {
        iommu_page_response r;
        memset(&r, 0, sizeof(r));
        r.argsz = sizeof(r);
        r.version = IOMMU_PAGE_RESP_VERSION_1;
        r.flags = IOMMU_PAGE_RESP_PASID_VALID;
        r.pasid = w.hpasid;
        r.grpid = w.grpid;
        r.code = IOMMU_PAGE_RESP_INVALID;
        return r;
    }
    int respond(const void* p, uint32_t len) {
        return w.nesting(VSVA_PAGE_RESPONSE, w.dev_id, p, len);
    }
    World w;
};

TEST_F(Resp511, EqualSizeAnswers) {
    auto r = resp();
    EXPECT_EQ(errname(respond(&r, sizeof(r))), "0");
}

TEST_F(Resp511, OlderBelow24IsEinval) {
    auto r = resp();
    r.argsz = 23;
    EXPECT_EQ(errname(respond(&r, 23)), errname(-EINVAL));
    r.argsz = 20; // the pre-5.10 size (no argsz then)
    EXPECT_EQ(errname(respond(&r, 20)), errname(-EINVAL));
    r = resp(); // still pending: answer it properly
    EXPECT_EQ(errname(respond(&r, sizeof(r))), "0");
}

TEST_F(Resp511, NewerTail) {
    Placed<iommu_page_response> pl(resp(), 32);
    pl.p->argsz = 32;
    pl.bytes()[31] = 1;
    EXPECT_EQ(errname(respond(pl.p, 32)), errname(-E2BIG));
    pl.bytes()[31] = 0;
    EXPECT_EQ(errname(respond(pl.p, 32)), "0");
}

TEST_F(Resp511, MaliciousArgszAndValues) {
    auto r = resp();
    {
        Placed<iommu_page_response> z(r, 32);                   // zero tail
        EXPECT_EQ(errname(respond(z.p, 32)), errname(-EINVAL)); // data_len != argsz
    }
    Placed<iommu_page_response> pl(r);
    pl.p->argsz = 40;
    EXPECT_EQ(errname(respond(pl.p, 40)), errname(-EFAULT));
    r = resp();
    r.version = 2;
    EXPECT_EQ(errname(respond(&r, sizeof(r))), errname(-EINVAL));
    r = resp();
    r.flags |= 1 << 1;
    EXPECT_EQ(errname(respond(&r, sizeof(r))), errname(-EINVAL));
    r = resp();
    r.code = IOMMU_PAGE_RESP_FAILURE + 1;
    EXPECT_EQ(errname(respond(&r, sizeof(r))), errname(-EINVAL));
    r = resp();
    EXPECT_EQ(errname(respond(&r, sizeof(r))), "0") << "the refusals consumed the request";
}

} // namespace
