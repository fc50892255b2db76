// SPDX-License-Identifier: GPL-2.0
// Invalidation-queue descriptors, types 1..8, 128- and 256-bit forms
// (VT-d rev 5.10 §6.5.2).
#include <gtest/gtest.h>

#include "builders.h"
#include "vsva/qemu/vtd.h"

using namespace vsva::qemu;
using vsva::Result;
namespace t = vtdtest;

namespace {

constexpr QueueMode kSm{true, true};
constexpr QueueMode kLegacy128{false, false};
constexpr QueueMode kLegacy256{false, true};

Result<Descriptor> dec(const t::Desc& d, QueueMode m = kSm, VtdCaps c = {}) {
    return decode_descriptor(std::span<const uint64_t>(d.data(), m.dw256 ? 4 : 2), m, c);
}
template <class T>
T get(const t::Desc& d, QueueMode m = kSm, VtdCaps c = {}) {
    auto r = dec(d, m, c);
    EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error().message());
    if (!r.has_value())
        return T{};
    EXPECT_TRUE(std::holds_alternative<T>(*r));
    return std::holds_alternative<T>(*r) ? std::get<T>(*r) : T{};
}
void expect_invalid(const t::Desc& d, QueueMode m = kSm, VtdCaps c = {}) {
    auto r = dec(d, m, c);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), EINVAL);
    EXPECT_FALSE(r.error().message().empty());
}

TEST(DescType, SevenBitSplitField) {
    EXPECT_EQ(desc_type(0x6), 6u);
    EXPECT_EQ(desc_type(0x7 | (1ull << 9)), 0x17u); // Type[4] lives in bit 9
    EXPECT_EQ(desc_type(t::type_bits(0x7f)), 0x7fu);
    expect_invalid({t::type_bits(0x17), 0, 0, 0});
    expect_invalid({t::type_bits(0x16), 0, 0, 0}); // P_IOTLB with Type[4] set
    expect_invalid({0, 0, 0, 0});                  // type 0
    expect_invalid({t::type_bits(0xb), 0, 0, 0});
}

TEST(DescType, PageResponseAndHptNotAdvertised) {
    expect_invalid({t::type_bits(9), 0, 0, 0});
    expect_invalid({t::type_bits(0xa), 0, 0, 0});
}

TEST(DescWidth, ScalableModeNeeds256Bit) {
    auto d = t::cc(1);
    expect_invalid(d, QueueMode{true, false});
    EXPECT_TRUE(dec(d, kSm).has_value());
}

TEST(DescWidth, LegacyModeTypes1To5Only) {
    EXPECT_TRUE(dec(t::cc(1), kLegacy128).has_value());
    EXPECT_TRUE(dec(t::wait(0x1000, 1), kLegacy128).has_value());
    EXPECT_TRUE(dec(t::iotlb(1), kLegacy256).has_value());
    for (auto d : {t::piotlb(2, 1, 1), t::pc(3, 0), t::pdevtlb(1, 1, 0, 0)}) {
        expect_invalid(d, kLegacy128);
        expect_invalid(d, kLegacy256);
    }
}

TEST(DescWidth, SpanMustMatchMode) {
    t::Desc d = t::pc(3, 0);
    EXPECT_FALSE(decode_descriptor(std::span<const uint64_t>(d.data(), 2), kSm, {}).has_value());
    EXPECT_FALSE(
            decode_descriptor(std::span<const uint64_t>(d.data(), 4), kLegacy128, {}).has_value());
}

TEST(DescWidth, UpperHalfMustBeZero) {
    for (auto d : {t::cc(1), t::iotlb(1), t::wait(0x100, 0), t::piotlb(2, 1, 1), t::pc(3, 0),
                   t::pdevtlb(1, 1, 0, 0)}) {
        auto d2 = d;
        d2[2] = 1;
        expect_invalid(d2);
        auto d3 = d;
        d3[3] = 1ull << 63;
        expect_invalid(d3);
    }
}

// --- type 1 -----------------------------------------------------------------
TEST(ContextCache, Fields) {
    auto c = get<CcDesc>(t::cc(3, 0x55, 0x0108, 2));
    EXPECT_EQ(c, (CcDesc{3, 0x55, 0x0108, 2}));
    expect_invalid(t::cc(0));
    auto r = t::cc(1);
    r[0] |= 1ull << 50;
    expect_invalid(r);
    r = t::cc(1);
    r[1] = 1;
    expect_invalid(r);
}

// --- type 2 -----------------------------------------------------------------
TEST(Iotlb, Fields) {
    auto d = t::iotlb(3, 7, 0x200000, 9, true);
    d[0] |= 3ull << 6; // DW, DR
    auto i = get<IotlbDesc>(d);
    EXPECT_EQ(i.g, 3);
    EXPECT_TRUE(i.dw && i.dr && i.ih);
    EXPECT_EQ(i.did, 7);
    EXPECT_EQ(i.am, 9);
    EXPECT_EQ(i.addr, 0x200000u);
    expect_invalid(t::iotlb(0));
    expect_invalid(t::iotlb(3, 1, 0, 19));
    auto r = t::iotlb(1);
    r[0] |= 1ull << 32;
    expect_invalid(r);
    r = t::iotlb(1);
    r[1] |= 1ull << 7;
    expect_invalid(r);
    VtdCaps nopsi;
    nopsi.psi = false;
    expect_invalid(t::iotlb(3), kSm, nopsi);
}

// --- type 3 -----------------------------------------------------------------
TEST(DevTlb, FieldsAndPfsidReservedWithoutDit) {
    auto d = get<DevTlbDesc>(t::devtlb(0x0310, 0x40000, true, 5));
    EXPECT_EQ(d.sid, 0x0310);
    EXPECT_EQ(d.mip, 5);
    EXPECT_TRUE(d.s);
    EXPECT_EQ(d.addr, 0x40000u);
    auto pf = t::devtlb(1, 0, false);
    pf[0] |= (0xaull << 12) | (0x123ull << 52);
    expect_invalid(pf);
    VtdCaps dit;
    dit.dit = true;
    auto d2 = get<DevTlbDesc>(pf, kSm, dit);
    EXPECT_EQ(d2.pfsid, 0x123a);
    auto r = t::devtlb(1, 0, false);
    r[1] |= 1ull << 1;
    expect_invalid(r);
}

// --- type 4 -----------------------------------------------------------------
TEST(Iec, Fields) {
    auto i = get<IecDesc>(t::iec(true, 4, 0x1234));
    EXPECT_EQ(i, (IecDesc{true, 4, 0x1234}));
    auto r = t::iec(false);
    r[0] |= 1ull << 12;
    expect_invalid(r);
}

// --- type 5 -----------------------------------------------------------------
TEST(Wait, Fields) {
    auto w = get<WaitDesc>(t::wait(0x12344, 0xcafe, true, true, true));
    EXPECT_TRUE(w.sw && w.iflag && w.fn);
    EXPECT_FALSE(w.pd);
    EXPECT_EQ(w.status_data, 0xcafeu);
    EXPECT_EQ(w.status_addr, 0x12344u);
    auto w128 = get<WaitDesc>(t::wait(0x1000, 7), kLegacy128);
    EXPECT_EQ(w128.status_data, 7u);
}

TEST(Wait, PageDrainNeedsPds) {
    auto d = t::wait(0x1000, 1);
    d[0] |= 1ull << 7;
    expect_invalid(d);
    VtdCaps pds;
    pds.pds = true;
    EXPECT_TRUE(get<WaitDesc>(d, kSm, pds).pd);
}

TEST(Wait, Reserved) {
    auto d = t::wait(0x1000, 1);
    d[0] |= 1ull << 8;
    expect_invalid(d);
    d = t::wait(0x1000, 1);
    d[0] |= 1ull << 12;
    expect_invalid(d);
    d = t::wait(0x1000, 1);
    d[1] |= 1;
    expect_invalid(d);
}

// --- type 6 -----------------------------------------------------------------
TEST(PIotlb, PasidSelective) {
    auto p = get<PIotlbDesc>(t::piotlb(2, 0x21, 0xfffff));
    EXPECT_EQ(p.g, 2);
    EXPECT_EQ(p.did, 0x21);
    EXPECT_EQ(p.pasid, 0xfffffu);
}

TEST(PIotlb, PageSelectiveEveryAm) {
    for (unsigned am = 0; am <= 18; ++am) {
        const uint64_t size = 4096ull << am;
        const uint64_t addr = 0x40000000ull * 3; // 3 GiB, aligned for every AM
        auto p = get<PIotlbDesc>(t::piotlb(3, 1, 5, addr, am, am & 1));
        EXPECT_EQ(p.am, am);
        EXPECT_EQ(p.ih, bool(am & 1));
        auto r = am_range(p.addr, p.am);
        EXPECT_EQ(r.size, size);
        EXPECT_EQ(r.addr, addr);
    }
}

TEST(PIotlb, AmAboveMamvInvalid) {
    for (unsigned am : {19u, 20u, 63u})
        expect_invalid(t::piotlb(3, 1, 5, 0, am));
    VtdCaps small;
    small.mamv = 9;
    expect_invalid(t::piotlb(3, 1, 5, 0, 10), kSm, small);
    EXPECT_TRUE(dec(t::piotlb(3, 1, 5, 0, 9), kSm, small).has_value());
}

TEST(PIotlb, ReservedGranularities) {
    expect_invalid(t::piotlb(0, 1, 1));
    expect_invalid(t::piotlb(1, 1, 1));
}

TEST(PIotlb, ReservedBits) {
    for (unsigned b : {6u, 7u, 8u, 12u, 13u, 14u, 15u, 52u, 63u}) {
        auto d = t::piotlb(2, 1, 1);
        d[0] |= 1ull << b;
        expect_invalid(d);
    }
    for (unsigned b = 7; b <= 11; ++b) { // bits 75:71
        auto d = t::piotlb(3, 1, 1, 0x1000, 0);
        d[1] |= 1ull << b;
        expect_invalid(d);
    }
}

TEST(AmRange, MasksLowAddressBits) {
    // ADDR's low AM page bits are masked: the naturally aligned 2^AM pages.
    EXPECT_EQ(am_range(0x203000, 9), (Range{0x200000, 0x200000, false}));
    EXPECT_EQ(am_range(0x5000, 0), (Range{0x5000, 0x1000, false}));
    EXPECT_EQ(am_range(0x7fff'f000, 18), (Range{0x40000000, 0x40000000, false}));
}

// --- type 7 -----------------------------------------------------------------
TEST(PasidCache, Granularities) {
    EXPECT_EQ(get<PcDesc>(t::pc(0, 3)), (PcDesc{0, 3, 0}));
    EXPECT_EQ(get<PcDesc>(t::pc(1, 3, 77)), (PcDesc{1, 3, 77}));
    EXPECT_EQ(get<PcDesc>(t::pc(3, 0)), (PcDesc{3, 0, 0}));
    expect_invalid(t::pc(2, 3, 77));
}

TEST(PasidCache, ReservedBits) {
    for (unsigned b : {6u, 7u, 8u, 12u, 15u, 52u, 60u}) {
        auto d = t::pc(1, 1, 1);
        d[0] |= 1ull << b;
        expect_invalid(d);
    }
    auto d = t::pc(1, 1, 1);
    d[1] = 1;
    expect_invalid(d);
}

// --- type 8 -----------------------------------------------------------------
TEST(PDevTlb, Fields) {
    auto p = get<PDevTlbDesc>(t::pdevtlb(0x0100, 0x33, 0x10000, 0, false, 31));
    EXPECT_EQ(p.sid, 0x0100);
    EXPECT_EQ(p.pasid, 0x33u);
    EXPECT_EQ(p.mip, 31);
    EXPECT_FALSE(p.s);
    EXPECT_FALSE(p.gi);
    EXPECT_EQ(ats_range(p.addr, p.s), (Range{0x10000, 0x1000, false}));
    auto g = get<PDevTlbDesc>(t::pdevtlb(0x0100, 0x33, 0x10000, 0, true));
    EXPECT_TRUE(g.gi);
}

TEST(PDevTlb, AtsSizeEncoding) {
    for (unsigned k = 1; k <= 20; ++k) {
        const uint64_t size = 4096ull << k;
        const uint64_t addr = size * 5;
        auto p = get<PDevTlbDesc>(t::pdevtlb(1, 2, addr, k));
        EXPECT_TRUE(p.s);
        EXPECT_EQ(ats_range(p.addr, p.s), (Range{addr, size, false})) << "k " << k;
    }
    // The "all" form: S=1, ADDR[63:12] = 0x7FFFFFFFFFFFF.
    EXPECT_TRUE(ats_range(0x7fff'ffff'ffff'f000ull, true).all);
    EXPECT_TRUE(ats_range(~0ull, true).all);
}

TEST(PDevTlb, Reserved) {
    for (unsigned b = 1; b <= 10; ++b) { // bits 74:65
        auto d = t::pdevtlb(1, 2, 0, 0);
        d[1] |= 1ull << b;
        expect_invalid(d);
    }
    auto pf = t::pdevtlb(1, 2, 0, 0);
    pf[0] |= 1ull << 12; // PFSID[0], reserved without ECAP.DIT
    expect_invalid(pf);
    VtdCaps dit;
    dit.dit = true;
    EXPECT_EQ(get<PDevTlbDesc>(pf, kSm, dit).pfsid, 1);
}

} // namespace
