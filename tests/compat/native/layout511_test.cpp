// SPDX-License-Identifier: GPL-2.0
// Design decision 5: the v1 payloads are byte-compatible with Linux 5.11.
// A client's own 5.11 definitions (upstream names) against vsva's header:
// every size, field offset, field size and constant must be equal.  Checked
// at compile time (static_assert) and again at run time so the result shows
// up in the test report.
#include <cstddef>
#include <cstring>

#include <linux/vsva.h>

#include <gtest/gtest.h>

#include "upstream511/iommu511.h"

namespace {

#define SAME_FIELD(U, V, f)                                                                        \
    static_assert(offsetof(U, f) == offsetof(V, f), #U "." #f " offset");                          \
    static_assert(sizeof(U::f) == sizeof(V::f), #U "." #f " size")
#define SAME_CONST(U, V) static_assert((U) == (V), #U " == " #V)

static_assert(sizeof(iommu_gpasid_bind_data) == 72);
static_assert(sizeof(iommu_cache_invalidate_info) == 56);
static_assert(sizeof(iommu_page_response) == 24);
static_assert(sizeof(iommu_gpasid_bind_data) == sizeof(vsva_gpasid_bind_data));
static_assert(sizeof(iommu_cache_invalidate_info) == sizeof(vsva_cache_invalidate_info));
static_assert(sizeof(iommu_page_response) == sizeof(vsva_page_response));
static_assert(sizeof(iommu_inv_addr_info) == sizeof(vsva_inv_addr_info));
static_assert(sizeof(iommu_inv_pasid_info) == sizeof(vsva_inv_pasid_info));
static_assert(sizeof(iommu_gpasid_bind_data_vtd) == sizeof(vsva_gpasid_bind_data_vtd));

SAME_FIELD(iommu_gpasid_bind_data, vsva_gpasid_bind_data, argsz);
SAME_FIELD(iommu_gpasid_bind_data, vsva_gpasid_bind_data, version);
SAME_FIELD(iommu_gpasid_bind_data, vsva_gpasid_bind_data, format);
SAME_FIELD(iommu_gpasid_bind_data, vsva_gpasid_bind_data, addr_width);
SAME_FIELD(iommu_gpasid_bind_data, vsva_gpasid_bind_data, flags);
SAME_FIELD(iommu_gpasid_bind_data, vsva_gpasid_bind_data, gpgd);
SAME_FIELD(iommu_gpasid_bind_data, vsva_gpasid_bind_data, hpasid);
SAME_FIELD(iommu_gpasid_bind_data, vsva_gpasid_bind_data, gpasid);
SAME_FIELD(iommu_gpasid_bind_data, vsva_gpasid_bind_data, padding);
SAME_FIELD(iommu_gpasid_bind_data, vsva_gpasid_bind_data, vendor);
SAME_FIELD(iommu_gpasid_bind_data, vsva_gpasid_bind_data, vendor.vtd.flags);
SAME_FIELD(iommu_gpasid_bind_data, vsva_gpasid_bind_data, vendor.vtd.pat);
SAME_FIELD(iommu_gpasid_bind_data, vsva_gpasid_bind_data, vendor.vtd.emt);
static_assert(offsetof(iommu_gpasid_bind_data, vendor) == 56, "bind minsz");

SAME_FIELD(iommu_cache_invalidate_info, vsva_cache_invalidate_info, argsz);
SAME_FIELD(iommu_cache_invalidate_info, vsva_cache_invalidate_info, version);
SAME_FIELD(iommu_cache_invalidate_info, vsva_cache_invalidate_info, cache);
SAME_FIELD(iommu_cache_invalidate_info, vsva_cache_invalidate_info, granularity);
SAME_FIELD(iommu_cache_invalidate_info, vsva_cache_invalidate_info, padding);
SAME_FIELD(iommu_cache_invalidate_info, vsva_cache_invalidate_info, granu);
SAME_FIELD(iommu_cache_invalidate_info, vsva_cache_invalidate_info, granu.pasid_info.flags);
SAME_FIELD(iommu_cache_invalidate_info, vsva_cache_invalidate_info, granu.pasid_info.archid);
SAME_FIELD(iommu_cache_invalidate_info, vsva_cache_invalidate_info, granu.pasid_info.pasid);
SAME_FIELD(iommu_cache_invalidate_info, vsva_cache_invalidate_info, granu.addr_info.flags);
SAME_FIELD(iommu_cache_invalidate_info, vsva_cache_invalidate_info, granu.addr_info.archid);
SAME_FIELD(iommu_cache_invalidate_info, vsva_cache_invalidate_info, granu.addr_info.pasid);
SAME_FIELD(iommu_cache_invalidate_info, vsva_cache_invalidate_info, granu.addr_info.addr);
SAME_FIELD(iommu_cache_invalidate_info, vsva_cache_invalidate_info, granu.addr_info.granule_size);
SAME_FIELD(iommu_cache_invalidate_info, vsva_cache_invalidate_info, granu.addr_info.nb_granules);
static_assert(offsetof(iommu_cache_invalidate_info, granu) == 16, "inv minsz");

SAME_FIELD(iommu_page_response, vsva_page_response, argsz);
SAME_FIELD(iommu_page_response, vsva_page_response, version);
SAME_FIELD(iommu_page_response, vsva_page_response, flags);
SAME_FIELD(iommu_page_response, vsva_page_response, pasid);
SAME_FIELD(iommu_page_response, vsva_page_response, grpid);
SAME_FIELD(iommu_page_response, vsva_page_response, code);

SAME_CONST(IOMMU_PASID_FORMAT_INTEL_VTD, VSVA_PASID_FORMAT_INTEL_VTD);
SAME_CONST(IOMMU_PASID_FORMAT_LAST, VSVA_PASID_FORMAT_LAST);
SAME_CONST(IOMMU_GPASID_BIND_VERSION_1, VSVA_GPASID_BIND_VERSION_1);
SAME_CONST(IOMMU_SVA_GPASID_VAL, VSVA_SVA_GPASID_VAL);
SAME_CONST(IOMMU_SVA_VTD_GPASID_SRE, VSVA_VTD_GPASID_SRE);
SAME_CONST(IOMMU_SVA_VTD_GPASID_EAFE, VSVA_VTD_GPASID_EAFE);
SAME_CONST(IOMMU_SVA_VTD_GPASID_PCD, VSVA_VTD_GPASID_PCD);
SAME_CONST(IOMMU_SVA_VTD_GPASID_PWT, VSVA_VTD_GPASID_PWT);
SAME_CONST(IOMMU_SVA_VTD_GPASID_EMTE, VSVA_VTD_GPASID_EMTE);
SAME_CONST(IOMMU_SVA_VTD_GPASID_CD, VSVA_VTD_GPASID_CD);
SAME_CONST(IOMMU_SVA_VTD_GPASID_WPE, VSVA_VTD_GPASID_WPE);
SAME_CONST(IOMMU_SVA_VTD_GPASID_LAST, VSVA_VTD_GPASID_LAST);
SAME_CONST(IOMMU_SVA_VTD_GPASID_MTS_MASK, VSVA_VTD_GPASID_MTS_MASK);
SAME_CONST(IOMMU_CACHE_INVALIDATE_INFO_VERSION_1, VSVA_CACHE_INVALIDATE_INFO_VERSION_1);
SAME_CONST(IOMMU_CACHE_INV_TYPE_IOTLB, VSVA_CACHE_INV_TYPE_IOTLB);
SAME_CONST(IOMMU_CACHE_INV_TYPE_DEV_IOTLB, VSVA_CACHE_INV_TYPE_DEV_IOTLB);
SAME_CONST(IOMMU_CACHE_INV_TYPE_PASID, VSVA_CACHE_INV_TYPE_PASID);
SAME_CONST(IOMMU_CACHE_INV_TYPE_NR, VSVA_CACHE_INV_TYPE_NR);
SAME_CONST(IOMMU_INV_GRANU_DOMAIN, VSVA_INV_GRANU_DOMAIN);
SAME_CONST(IOMMU_INV_GRANU_PASID, VSVA_INV_GRANU_PASID);
SAME_CONST(IOMMU_INV_GRANU_ADDR, VSVA_INV_GRANU_ADDR);
SAME_CONST(IOMMU_INV_GRANU_NR, VSVA_INV_GRANU_NR);
SAME_CONST(IOMMU_INV_ADDR_FLAGS_PASID, VSVA_INV_ADDR_FLAGS_PASID);
SAME_CONST(IOMMU_INV_ADDR_FLAGS_ARCHID, VSVA_INV_ADDR_FLAGS_ARCHID);
SAME_CONST(IOMMU_INV_ADDR_FLAGS_LEAF, VSVA_INV_ADDR_FLAGS_LEAF);
SAME_CONST(IOMMU_INV_PASID_FLAGS_PASID, VSVA_INV_PASID_FLAGS_PASID);
SAME_CONST(IOMMU_INV_PASID_FLAGS_ARCHID, VSVA_INV_PASID_FLAGS_ARCHID);
SAME_CONST(IOMMU_PAGE_RESP_VERSION_1, VSVA_PAGE_RESP_VERSION_1);
SAME_CONST(IOMMU_PAGE_RESP_PASID_VALID, VSVA_PAGE_RESP_PASID_VALID);
SAME_CONST(IOMMU_PAGE_RESP_SUCCESS, VSVA_PAGE_RESP_SUCCESS);
SAME_CONST(IOMMU_PAGE_RESP_INVALID, VSVA_PAGE_RESP_INVALID);
SAME_CONST(IOMMU_PAGE_RESP_FAILURE, VSVA_PAGE_RESP_FAILURE);

// Run-time twin: the same facts, visible in the test output.
TEST(Layout511, SizesEqualVsva) {
    EXPECT_EQ(sizeof(iommu_gpasid_bind_data), 72u);
    EXPECT_EQ(sizeof(vsva_gpasid_bind_data), 72u);
    EXPECT_EQ(sizeof(iommu_cache_invalidate_info), 56u);
    EXPECT_EQ(sizeof(vsva_cache_invalidate_info), 56u);
    EXPECT_EQ(sizeof(iommu_page_response), 24u);
    EXPECT_EQ(sizeof(vsva_page_response), 24u);
}

// A bind payload filled through the upstream names reads back field by field
// through vsva's names: same bytes, same meaning.
TEST(Layout511, BindBytesReadBackThroughVsvaNames) {
    iommu_gpasid_bind_data up{};
    up.argsz = sizeof(up);
    up.version = IOMMU_GPASID_BIND_VERSION_1;
    up.format = IOMMU_PASID_FORMAT_INTEL_VTD;
    up.addr_width = 57;
    up.flags = IOMMU_SVA_GPASID_VAL;
    up.gpgd = 0x123456789000ULL;
    up.hpasid = 0xabcde;
    up.gpasid = 0x42;
    up.vendor.vtd.flags = IOMMU_SVA_VTD_GPASID_SRE | IOMMU_SVA_VTD_GPASID_WPE;
    vsva_gpasid_bind_data v{};
    std::memcpy(&v, &up, sizeof(v));
    EXPECT_EQ(v.argsz, 72u);
    EXPECT_EQ(v.version, (unsigned)VSVA_GPASID_BIND_VERSION_1);
    EXPECT_EQ(v.format, (unsigned)VSVA_PASID_FORMAT_INTEL_VTD);
    EXPECT_EQ(v.addr_width, 57u);
    EXPECT_EQ(v.flags, VSVA_SVA_GPASID_VAL);
    EXPECT_EQ(v.gpgd, 0x123456789000ULL);
    EXPECT_EQ(v.hpasid, 0xabcdeULL);
    EXPECT_EQ(v.gpasid, 0x42ULL);
    EXPECT_EQ(v.vendor.vtd.flags, VSVA_VTD_GPASID_SRE | VSVA_VTD_GPASID_WPE);
}

TEST(Layout511, InvalidateBytesReadBackThroughVsvaNames) {
    iommu_cache_invalidate_info up{};
    up.argsz = sizeof(up);
    up.version = IOMMU_CACHE_INVALIDATE_INFO_VERSION_1;
    up.cache = IOMMU_CACHE_INV_TYPE_IOTLB | IOMMU_CACHE_INV_TYPE_DEV_IOTLB;
    up.granularity = IOMMU_INV_GRANU_ADDR;
    up.granu.addr_info.flags = IOMMU_INV_ADDR_FLAGS_PASID | IOMMU_INV_ADDR_FLAGS_LEAF;
    up.granu.addr_info.pasid = 7;
    up.granu.addr_info.addr = 0x200000;
    up.granu.addr_info.granule_size = 4096;
    up.granu.addr_info.nb_granules = 3;
    vsva_cache_invalidate_info v{};
    std::memcpy(&v, &up, sizeof(v));
    EXPECT_EQ(v.cache, VSVA_CACHE_INV_TYPE_IOTLB | VSVA_CACHE_INV_TYPE_DEV_IOTLB);
    EXPECT_EQ(v.granularity, VSVA_INV_GRANU_ADDR);
    EXPECT_EQ(v.granu.addr_info.flags,
              (unsigned)(VSVA_INV_ADDR_FLAGS_PASID | VSVA_INV_ADDR_FLAGS_LEAF));
    EXPECT_EQ(v.granu.addr_info.pasid, 7u);
    EXPECT_EQ(v.granu.addr_info.addr, 0x200000u);
    EXPECT_EQ(v.granu.addr_info.granule_size, 4096u);
    EXPECT_EQ(v.granu.addr_info.nb_granules, 3u);
}

} // namespace
