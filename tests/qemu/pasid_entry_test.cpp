// SPDX-License-Identifier: GPL-2.0
// PASID directory and table entries (VT-d rev 5.10 §9.5, §9.6).
#include <linux/vsva.h>

#include <gtest/gtest.h>

#include "builders.h"
#include "vsva/qemu/vtd.h"

using namespace vsva::qemu;
using vsva::Result;
using vtdtest::Pe;

namespace {

TEST(PasidIndex, DirectoryAndTable) {
    EXPECT_EQ(pasid_dir_index(0x12345), 0x12345u >> 6);
    EXPECT_EQ(pasid_table_index(0x12345), 0x05u);
    EXPECT_EQ(pasid_dir_entries(0), 128u);
    EXPECT_EQ(pasid_dir_entries(7), 16384u); // 2^14: every 20-bit PASID
}

TEST(PasidDirEntry, NotPresentIgnoresTheRest) {
    auto d = decode_pasid_dir_entry(0xffffffff'fffffffeull, VtdCaps{});
    ASSERT_TRUE(d.has_value());
    EXPECT_FALSE(d->present);
}

TEST(PasidDirEntry, PresentWithFpd) {
    auto d = decode_pasid_dir_entry(0x1234'5000ull | 3, VtdCaps{});
    ASSERT_TRUE(d.has_value()) << d.error().message();
    EXPECT_TRUE(d->present);
    EXPECT_TRUE(d->fpd);
    EXPECT_EQ(d->table, 0x1234'5000ull);
}

TEST(PasidDirEntry, ReservedBits11To2) {
    for (unsigned b = 2; b <= 11; ++b) {
        auto d = decode_pasid_dir_entry(0x5000ull | 1 | (1ull << b), VtdCaps{});
        ASSERT_FALSE(d.has_value()) << "bit " << b;
        EXPECT_EQ(d.error().code(), EINVAL);
    }
}

TEST(PasidDirEntry, PointerAboveHaw) {
    VtdCaps c;
    c.haw = 39;
    EXPECT_TRUE(decode_pasid_dir_entry((1ull << 38) | 1, c).has_value());
    EXPECT_FALSE(decode_pasid_dir_entry((1ull << 39) | 1, c).has_value());
}

TEST(PasidEntry, NotPresentIsNotChecked) {
    Pe p;
    p.q[3] = ~0ull; // reserved, but P=0
    auto e = decode_pasid_entry(p.q, VtdCaps{});
    ASSERT_TRUE(e.has_value());
    EXPECT_FALSE(e->present);
}

TEST(PasidEntry, FirstStageFieldsDecoded) {
    Pe p = Pe::fs(0xabc000, 0x42);
    p.sre().wpe().fpd();
    auto e = decode_pasid_entry(p.q, VtdCaps{});
    ASSERT_TRUE(e.has_value()) << e.error().message();
    EXPECT_TRUE(e->present);
    EXPECT_TRUE(e->fpd);
    EXPECT_EQ(e->pgtt, Pgtt::kFirstStage);
    EXPECT_EQ(e->did, 0x42);
    EXPECT_EQ(e->fsptptr, 0xabc000u);
    EXPECT_TRUE(e->sre);
    EXPECT_TRUE(e->wpe);
    EXPECT_FALSE(e->eafe);
    EXPECT_EQ(e->fspm, 0);
    EXPECT_EQ(e->fs_addr_width(), 48u);
}

TEST(PasidEntry, FspmGivesAddressWidth) {
    auto e4 = decode_pasid_entry(Pe::fs(0x1000).fspm(0).q, VtdCaps{});
    auto e5 = decode_pasid_entry(Pe::fs(0x1000).fspm(1).q, VtdCaps{});
    ASSERT_TRUE(e4.has_value() && e5.has_value());
    EXPECT_EQ(e4->fs_addr_width(), 48u);
    EXPECT_EQ(e5->fs_addr_width(), 57u);
    for (unsigned v : {2u, 3u}) {
        auto e = decode_pasid_entry(Pe::fs(0x1000).fspm(v).q, VtdCaps{});
        EXPECT_FALSE(e.has_value()) << "FSPM " << v;
    }
    VtdCaps no5;
    no5.fs5lp = false;
    EXPECT_FALSE(decode_pasid_entry(Pe::fs(0x1000).fspm(1).q, no5).has_value());
}

TEST(PasidEntry, PgttValues) {
    EXPECT_FALSE(decode_pasid_entry(Pe{}.present().pgtt(0).q, VtdCaps{}).has_value());
    for (unsigned v = 5; v <= 7; ++v)
        EXPECT_FALSE(decode_pasid_entry(Pe{}.present().pgtt(v).q, VtdCaps{}).has_value()) << v;
    auto ss = decode_pasid_entry(Pe{}.present().pgtt(2).aw(2).ssptptr(0x5000).q, VtdCaps{});
    ASSERT_TRUE(ss.has_value()) << ss.error().message();
    EXPECT_EQ(ss->pgtt, Pgtt::kSecondStage);
    EXPECT_EQ(ss->aw, 2);
    // Second-stage use needs a defined AW (001..011).
    EXPECT_FALSE(decode_pasid_entry(Pe{}.present().pgtt(2).aw(0).q, VtdCaps{}).has_value());
    EXPECT_FALSE(decode_pasid_entry(Pe{}.present().pgtt(3).aw(4).q, VtdCaps{}).has_value());
    auto pt = decode_pasid_entry(Pe{}.present().pgtt(4).q, VtdCaps{});
    ASSERT_TRUE(pt.has_value());
    EXPECT_EQ(pt->pgtt, Pgtt::kPassThrough);
}

TEST(PasidEntry, EveryReservedBitRev510) {
    // Bits reserved in rev 5.10 — including the ones rev 3.x defined:
    // 5 (SLEE), 91..95 (EMT, PWT, PCD), 129 (ERE).
    std::vector<unsigned> rsvd = {5, 10, 11, 129};
    for (unsigned b = 80; b <= 86; ++b)
        rsvd.push_back(b);
    for (unsigned b = 91; b <= 95; ++b)
        rsvd.push_back(b);
    for (unsigned b = 136; b <= 139; ++b)
        rsvd.push_back(b);
    for (unsigned b = 192; b < 512; ++b)
        rsvd.push_back(b); // incl. HPT (not advertised)
    for (unsigned b : rsvd) {
        auto e = decode_pasid_entry(Pe::fs(0x1000).bit(b).q, VtdCaps{});
        ASSERT_FALSE(e.has_value()) << "bit " << b;
        EXPECT_EQ(e.error().code(), EINVAL);
    }
}

TEST(PasidEntry, IgnoredBits133And134Accepted) {
    // NXE/SMEP in rev 3.x, "ignored" in 5.10.
    EXPECT_TRUE(decode_pasid_entry(Pe::fs(0x1000).bit(133).bit(134).q, VtdCaps{}).has_value());
}

TEST(PasidEntry, CapabilityGatedBits) {
    VtdCaps c; // SRS=1, EAFS=0, MTS=0, SMPWC=0, SC=0
    EXPECT_TRUE(decode_pasid_entry(Pe::fs(0x1000).sre().q, c).has_value());
    EXPECT_FALSE(decode_pasid_entry(Pe::fs(0x1000).eafe().q, c).has_value());
    EXPECT_FALSE(decode_pasid_entry(Pe::fs(0x1000).bit(87).q, c).has_value()); // PWSNP
    EXPECT_FALSE(decode_pasid_entry(Pe::fs(0x1000).bit(88).q, c).has_value()); // PGSNP
    EXPECT_FALSE(decode_pasid_entry(Pe::fs(0x1000).bit(89).q, c).has_value()); // CD
    EXPECT_FALSE(decode_pasid_entry(Pe::fs(0x1000).bit(90).q, c).has_value()); // EMTE
    c.eafs = c.smpwc = c.sc = c.mts = true;
    auto e = decode_pasid_entry(Pe::fs(0x1000).eafe().bit(87).bit(88).bit(89).bit(90).q, c);
    ASSERT_TRUE(e.has_value()) << e.error().message();
    EXPECT_TRUE(e->eafe && e->pwsnp && e->pgsnp && e->cd && e->emte);
    c.srs = false;
    EXPECT_FALSE(decode_pasid_entry(Pe::fs(0x1000).sre().q, c).has_value());
}

TEST(PasidEntry, PatDecodedNotRejected) {
    Pe p = Pe::fs(0x1000);
    p.q[1] |= 0x00070406ull << 32;
    auto e = decode_pasid_entry(p.q, VtdCaps{});
    ASSERT_TRUE(e.has_value()) << e.error().message();
    EXPECT_EQ(e->pat, 0x00070406u);
}

TEST(PasidEntry, FsPointerAboveHaw) {
    VtdCaps c;
    c.haw = 39;
    EXPECT_TRUE(decode_pasid_entry(Pe::fs(1ull << 38).q, c).has_value());
    EXPECT_FALSE(decode_pasid_entry(Pe::fs(1ull << 39).q, c).has_value());
}

TEST(BindIntent, FromFirstStageEntry) {
    VtdCaps c;
    c.eafs = true;
    auto e = decode_pasid_entry(Pe::fs(0x7000, 9).sre().wpe().eafe().fspm(1).q, c);
    ASSERT_TRUE(e.has_value()) << e.error().message();
    auto b = bind_intent(*e, 17);
    ASSERT_TRUE(b.has_value()) << b.error().message();
    EXPECT_EQ(b->gpasid, 17u);
    EXPECT_EQ(b->gpgd, 0x7000u);
    EXPECT_EQ(b->addr_width, 57u);
    EXPECT_EQ(b->did, 9);
    EXPECT_EQ(b->vtd_flags, VSVA_VTD_GPASID_SRE | VSVA_VTD_GPASID_WPE | VSVA_VTD_GPASID_EAFE);
}

TEST(BindIntent, NoFlagsByDefault) {
    auto e = decode_pasid_entry(Pe::fs(0x7000).q, VtdCaps{});
    ASSERT_TRUE(e.has_value());
    auto b = bind_intent(*e, 1);
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->vtd_flags, 0u);
    EXPECT_EQ(b->addr_width, 48u);
}

TEST(BindIntent, OtherPgttHasNoBind) {
    for (unsigned pg : {2u, 3u, 4u}) {
        auto e = decode_pasid_entry(Pe{}.present().pgtt(pg).aw(2).fsptptr(0x1000).q, VtdCaps{});
        ASSERT_TRUE(e.has_value()) << pg << ": " << e.error().message();
        auto b = bind_intent(*e, 3);
        ASSERT_FALSE(b.has_value());
        EXPECT_EQ(b.error().code(), EOPNOTSUPP);
    }
    PasidEntry np;
    EXPECT_EQ(bind_intent(np, 3).error().code(), ENOENT);
}

} // namespace
