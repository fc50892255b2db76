// SPDX-License-Identifier: GPL-2.0
// Nesting: bind / unbind / invalidate / batch / page response rules, their
// errnos and messages, all-or-nothing domain binds, payload copies.
#include <cerrno>

#include "vsva_testlib.h"

using namespace vsva::test;

namespace {

constexpr size_t kRam = 1 << 20;

class Nesting : public ::testing::Test {
protected:
    void SetUp() override {
        VSVA_REQUIRE_DEV();
        ASSERT_EQ(vm.create(kRam, {rid(0, 2, 0), rid(0, 4, 0)},
                            VSVA_ATTACH_ENABLE_ATS | VSVA_ATTACH_ENABLE_PRI),
                  0);
        dev = vm.devs[0];
        ASSERT_EQ(vm.alloc_pasid(&pasid), 0);
    }
    int fd() const { return vm.fd.get(); }
    vsva_emu_pasid_entry entry(uint32_t d, uint32_t p) {
        vsva_emu_pasid_entry e;
        EXPECT_EQ(pasid_entry(fd(), d, p, &e), 0);
        return e;
    }
    vsva_emu_counters ctrs() {
        vsva_emu_counters c;
        EXPECT_EQ(counters(fd(), &c), 0);
        return c;
    }
    Vm vm;
    uint32_t dev = 0, pasid = 0;
};

TEST_F(Nesting, BindUnbindHappyPath) {
    std::string msg;
    auto d = bind_data(pasid, 0x3000, 57);
    d.flags = VSVA_SVA_GPASID_VAL;
    d.gpasid = 9;
    d.vendor.vtd.flags = VSVA_VTD_GPASID_SRE | VSVA_VTD_GPASID_WPE;
    EXPECT_EQ(entry(dev, pasid).out_present, 0u);
    ASSERT_EQ(bind(fd(), dev, d, &msg), 0) << msg;
    EXPECT_EQ(msg, "");
    auto e = entry(dev, pasid);
    EXPECT_EQ(e.out_present, 1u);
    EXPECT_EQ(e.out_addr_width, 57u);
    EXPECT_EQ(e.out_gpgd, 0x3000u);
    EXPECT_EQ(e.out_vtd_flags, uint64_t(VSVA_VTD_GPASID_SRE | VSVA_VTD_GPASID_WPE));
    EXPECT_EQ(e.out_gpasid_valid, 1u);
    EXPECT_EQ(e.out_gpasid, 9u);
    EXPECT_EQ(e.out_domain_id, vm.dom);
    // The other device is untouched.
    EXPECT_EQ(entry(vm.devs[1], pasid).out_present, 0u);
    auto c = ctrs();
    EXPECT_EQ(c.out_binds, 1u);
    EXPECT_EQ(c.out_bindings, 1u);
    ASSERT_EQ(unbind(fd(), dev, d, &msg), 0) << msg;
    EXPECT_EQ(entry(dev, pasid).out_present, 0u);
    c = ctrs();
    EXPECT_EQ(c.out_unbinds, 1u);
    EXPECT_EQ(c.out_bindings, 0u);
}

TEST_F(Nesting, BindErrors) {
    std::string msg;
    auto d = bind_data(pasid, vm.gpgd);
    ASSERT_EQ(bind(fd(), dev, d, &msg), 0) << msg;
    EXPECT_EQ(bind(fd(), dev, d, &msg), -EBUSY);
    EXPECT_EQ(msg, "bind: PASID " + std::to_string(pasid) + " is already bound on device " +
                           std::to_string(dev));
    // State checks (after the payload checks).
    uint32_t other;
    ASSERT_EQ(vm.alloc_pasid(&other), 0);
    auto o = bind_data(other, vm.gpgd);
    EXPECT_EQ(bind(fd(), 999, o, &msg), -ENOENT);
    EXPECT_EQ(msg, "bind: no device 999 in this context");
    EXPECT_EQ(bind(fd(), vm.dom, o, &msg), -ENOENT); // a domain id as a device id
    EXPECT_EQ(bind(fd(), 999, o, &msg, VSVA_TARGET_DOMAIN), -ENOENT);
    EXPECT_EQ(msg, "bind: no domain 999 in this context");
    auto n = bind_data(0xffffe, vm.gpgd);
    EXPECT_EQ(bind(fd(), dev, n, &msg), -ENOENT);
    EXPECT_EQ(msg, "bind: hpasid 1048574 is not allocated in this context");
    auto g = bind_data(other, kRam + 0x1000);
    EXPECT_EQ(bind(fd(), dev, g, &msg), -EINVAL);
    EXPECT_EQ(msg, "bind: gpgd 0x101000 is not inside a mapped stage-2 range of domain " +
                           std::to_string(vm.dom));
    // A guest PASID that contradicts the one recorded at allocation.
    uint32_t withg;
    ASSERT_EQ(pasid_alloc(fd(), &withg, &msg, true, 5), 0);
    auto wg = bind_data(withg, vm.gpgd);
    wg.flags = VSVA_SVA_GPASID_VAL;
    wg.gpasid = 6;
    EXPECT_EQ(bind(fd(), dev, wg, &msg), -EINVAL);
    EXPECT_EQ(msg,
              "bind: gpasid 6 differs from gpasid 5 recorded for PASID " + std::to_string(withg));
    wg.gpasid = 5;
    EXPECT_EQ(bind(fd(), dev, wg, &msg), 0) << msg;
    // A device without the PASID capability.
    uint32_t nocap;
    ASSERT_EQ(attach(fd(), kRidNoCaps, vm.dom, &nocap), 0);
    EXPECT_EQ(bind(fd(), nocap, o, &msg), -EINVAL);
    EXPECT_EQ(msg, "bind: device " + std::to_string(nocap) + " has no PASID capability");
    // Nothing above left a binding behind.
    EXPECT_EQ(entry(dev, other).out_present, 0u);
    EXPECT_EQ(ctrs().out_bindings, 2u);
    // Busy objects.
    EXPECT_EQ(pasid_free(fd(), pasid), -EBUSY);
    EXPECT_EQ(detach(fd(), dev), -EBUSY);
}

struct FieldCase {
    const char* name;
    void (*mutate)(vsva_gpasid_bind_data&);
    int err;
    const char* msg;
    // Linux 5.11 checked this field for an unbind too (argsz, version,
    // format, flags, padding, hpasid); the rest an unbind ignores.
    bool unbind_checks = false;
};

TEST_F(Nesting, BindPayloadFields) {
    const FieldCase cases[] = {
            {"version 0", [](vsva_gpasid_bind_data& d) { d.version = 0; }, -EINVAL,
             "bind: version 0 is not supported (1 is)", true},
            {"version 2", [](vsva_gpasid_bind_data& d) { d.version = 2; }, -EINVAL,
             "bind: version 2 is not supported (1 is)", true},
            {"format 0", [](vsva_gpasid_bind_data& d) { d.format = 0; }, -EOPNOTSUPP,
             "bind: format 0 is not supported (only 1, Intel VT-d)", true},
            {"format 2", [](vsva_gpasid_bind_data& d) { d.format = 2; }, -EOPNOTSUPP,
             "bind: format 2 is not supported (only 1, Intel VT-d)", true},
            {"flags", [](vsva_gpasid_bind_data& d) { d.flags = 2; }, -EINVAL,
             "bind: unknown flags 0x2", true},
            {"flags high", [](vsva_gpasid_bind_data& d) { d.flags = 1ULL << 40; }, -EINVAL,
             "bind: unknown flags 0x10000000000", true},
            {"padding", [](vsva_gpasid_bind_data& d) { d.padding[7] = 1; }, -EINVAL,
             "bind: padding must be zero", true},
            {"vtd LAST", [](vsva_gpasid_bind_data& d) { d.vendor.vtd.flags = 1 << 7; }, -EINVAL,
             "bind: unknown VT-d flags 0x80"},
            {"MTS CD", [](vsva_gpasid_bind_data& d) { d.vendor.vtd.flags = VSVA_VTD_GPASID_CD; },
             -EINVAL, "bind: VT-d flags 0x20 ask for memory type support, which is not available"},
            {"MTS EMTE",
             [](vsva_gpasid_bind_data& d) { d.vendor.vtd.flags = VSVA_VTD_GPASID_EMTE; }, -EINVAL,
             "bind: VT-d flags 0x10 ask for memory type support, which is not available"},
            {"MTS PCD", [](vsva_gpasid_bind_data& d) { d.vendor.vtd.flags = VSVA_VTD_GPASID_PCD; },
             -EINVAL, "bind: VT-d flags 0x4 ask for memory type support, which is not available"},
            {"MTS PWT", [](vsva_gpasid_bind_data& d) { d.vendor.vtd.flags = VSVA_VTD_GPASID_PWT; },
             -EINVAL, "bind: VT-d flags 0x8 ask for memory type support, which is not available"},
            {"aw 39", [](vsva_gpasid_bind_data& d) { d.addr_width = 39; }, -EINVAL,
             "bind: addr_width 39 is not 48 or 57"},
            {"aw 64", [](vsva_gpasid_bind_data& d) { d.addr_width = 64; }, -EINVAL,
             "bind: addr_width 64 is not 48 or 57"},
            {"gpgd align", [](vsva_gpasid_bind_data& d) { d.gpgd = 0x1008; }, -EINVAL,
             "bind: gpgd 0x1008 is not 4 KiB aligned"},
            {"hpasid 0", [](vsva_gpasid_bind_data& d) { d.hpasid = 0; }, -EINVAL,
             "bind: hpasid 0 is outside [1, 1048575]", true},
            {"hpasid 2^20", [](vsva_gpasid_bind_data& d) { d.hpasid = 1 << 20; }, -EINVAL,
             "bind: hpasid 1048576 is outside [1, 1048575]", true},
            {"gpasid",
             [](vsva_gpasid_bind_data& d) {
                 d.flags = VSVA_SVA_GPASID_VAL;
                 d.gpasid = 1 << 20;
             },
             -EINVAL, "bind: gpasid 1048576 exceeds the 20-bit PASID space"},
    };
    uint64_t good_binds = 0;
    for (const auto& c : cases) {
        std::string msg;
        auto d = bind_data(pasid, vm.gpgd);
        c.mutate(d);
        EXPECT_EQ(bind(fd(), dev, d, &msg), c.err) << c.name;
        EXPECT_EQ(msg, c.msg) << c.name;
        if (c.unbind_checks) {
            EXPECT_EQ(unbind(fd(), dev, d, &msg), c.err) << c.name;
            EXPECT_EQ(msg, std::string("un") + c.msg) << c.name;
            continue;
        }
        // An unbind ignores the field: it undoes a good binding.
        auto good = bind_data(pasid, vm.gpgd);
        ASSERT_EQ(bind(fd(), dev, good, &msg), 0) << c.name << ": " << msg;
        EXPECT_EQ(unbind(fd(), dev, d, &msg), 0) << c.name << ": " << msg;
        EXPECT_EQ(entry(dev, pasid).out_present, 0u) << c.name;
        good_binds++;
    }
    EXPECT_EQ(ctrs().out_binds, good_binds) << "only the good payloads bound";
    EXPECT_EQ(entry(dev, pasid).out_present, 0u);
}

// pat / emt: a VMM copies them from the guest's PASID entry; without a
// memory-type flag they mean nothing and are ignored (as Linux 5.11).
TEST_F(Nesting, PatEmtFromTheGuestEntryAreIgnored) {
    std::string msg;
    auto d = bind_data(pasid, vm.gpgd);
    d.vendor.vtd.pat = 0x00070406u;
    d.vendor.vtd.emt = 6;
    ASSERT_EQ(bind(fd(), dev, d, &msg), 0) << msg;
    EXPECT_EQ(entry(dev, pasid).out_present, 1u);
    EXPECT_EQ(entry(dev, pasid).out_vtd_flags, 0u);
    ASSERT_EQ(unbind(fd(), dev, d, &msg), 0) << msg;
}

TEST_F(Nesting, UnbindErrors) {
    std::string msg;
    auto d = bind_data(pasid, vm.gpgd);
    // Allocated but not bound: 0, nothing changes (as Linux 5.11).
    auto c0 = ctrs();
    EXPECT_EQ(unbind(fd(), dev, d, &msg), 0);
    EXPECT_EQ(msg, "");
    EXPECT_EQ(ctrs().out_unbinds, c0.out_unbinds);
    auto n = bind_data(0xffffe, vm.gpgd);
    EXPECT_EQ(unbind(fd(), dev, n, &msg), -ENOENT);
    EXPECT_EQ(msg, "unbind: hpasid 1048574 is not allocated in this context");
    ASSERT_EQ(bind(fd(), dev, d, &msg), 0);
    // A domain-wide unbind undoes the binding where it exists.
    EXPECT_EQ(unbind(fd(), vm.dom, d, &msg, VSVA_TARGET_DOMAIN), 0) << msg;
    EXPECT_EQ(entry(dev, pasid).out_present, 0u);
    EXPECT_EQ(ctrs().out_unbinds, c0.out_unbinds + 1);
    EXPECT_EQ(ctrs().out_bindings, 0u);
    EXPECT_EQ(unbind(fd(), dev, d, &msg), 0);
    // The PASID can be freed at once.
    EXPECT_EQ(pasid_free(fd(), pasid), 0);
    EXPECT_EQ(unbind(fd(), dev, d, &msg), -ENOENT);
}

TEST_F(Nesting, DomainBindAllOrNothing) {
    std::string msg;
    auto d = bind_data(pasid, vm.gpgd);
    // Already bound on the second device: the domain bind fails, changes nothing.
    ASSERT_EQ(bind(fd(), vm.devs[1], d, &msg), 0);
    EXPECT_EQ(bind(fd(), vm.dom, d, &msg, VSVA_TARGET_DOMAIN), -EBUSY);
    EXPECT_EQ(msg, "bind: PASID " + std::to_string(pasid) + " is already bound on device " +
                           std::to_string(vm.devs[1]));
    EXPECT_EQ(entry(vm.devs[0], pasid).out_present, 0u);
    ASSERT_EQ(unbind(fd(), vm.devs[1], d, &msg), 0);
    ASSERT_EQ(bind(fd(), vm.dom, d, &msg, VSVA_TARGET_DOMAIN), 0) << msg;
    EXPECT_EQ(entry(vm.devs[0], pasid).out_present, 1u);
    EXPECT_EQ(entry(vm.devs[1], pasid).out_present, 1u);
    EXPECT_EQ(ctrs().out_bindings, 2u);
    ASSERT_EQ(unbind(fd(), vm.dom, d, &msg, VSVA_TARGET_DOMAIN), 0) << msg;
    EXPECT_EQ(ctrs().out_bindings, 0u);
    // An empty domain.
    uint32_t empty;
    ASSERT_EQ(domain_alloc(fd(), &empty), 0);
    EXPECT_EQ(bind(fd(), empty, d, &msg, VSVA_TARGET_DOMAIN), -EINVAL);
    EXPECT_EQ(msg, "bind: domain " + std::to_string(empty) + " has no devices attached");
}

// The Nth device of a domain bind fails: the first N-1 are rolled back.
TEST_F(Nesting, FailBindNth) {
    VSVA_REQUIRE_DEBUGFS();
    const std::string knob = "/sys/kernel/debug/vsva/fail_bind_nth";
    Vm big;
    // Six devices the fixture's VM does not own.
    auto all = single_group_rids();
    std::vector<uint32_t> rids(all.begin() + 2, all.begin() + 8);
    ASSERT_EQ(big.create(kRam, rids), 0);
    uint32_t p;
    ASSERT_EQ(big.alloc_pasid(&p), 0);
    ASSERT_EQ(load_consumer(), 0);
    auto d = bind_data(p, big.gpgd);
    for (unsigned nth = 1; nth <= rids.size(); nth++) {
        auto before = consumer_stats();
        vsva_emu_counters c0, c1;
        ASSERT_EQ(counters(big.fd.get(), &c0), 0);
        ASSERT_EQ(write_file(knob, std::to_string(nth)), 0);
        std::string msg;
        int rc = bind(big.fd.get(), big.dom, d, &msg, VSVA_TARGET_DOMAIN);
        ASSERT_EQ(write_file(knob, "0"), 0);
        EXPECT_EQ(rc, -ENOMEM) << nth;
        EXPECT_EQ(msg, "bind: injected failure on device " + std::to_string(big.devs[nth - 1]) +
                               " (fail_bind_nth=" + std::to_string(nth) + ")");
        for (uint32_t dv : big.devs) {
            vsva_emu_pasid_entry e;
            ASSERT_EQ(pasid_entry(big.fd.get(), dv, p, &e), 0);
            EXPECT_EQ(e.out_present, 0u) << "nth " << nth << " device " << dv;
        }
        ASSERT_EQ(counters(big.fd.get(), &c1), 0);
        EXPECT_EQ(c1.out_binds, c0.out_binds);
        EXPECT_EQ(c1.out_bindings, 0u);
        auto after = consumer_stats();
        EXPECT_EQ(after["bind"], before["bind"]) << "a rolled-back bind was announced";
        EXPECT_EQ(after["unbind"], before["unbind"]);
    }
    std::string msg;
    ASSERT_EQ(bind(big.fd.get(), big.dom, d, &msg, VSVA_TARGET_DOMAIN), 0) << msg;
    vsva_emu_counters c;
    ASSERT_EQ(counters(big.fd.get(), &c), 0);
    EXPECT_EQ(c.out_bindings, rids.size());
}

TEST_F(Nesting, InvalidateMatrix) {
    for (unsigned cache = 0; cache < 16; cache++) {
        for (unsigned g = 0; g < 4; g++) {
            vsva_cache_invalidate_info inv = inv_addr(pasid, 0x1000);
            if (g == VSVA_INV_GRANU_PASID)
                inv = inv_pasid(pasid);
            else if (g == VSVA_INV_GRANU_DOMAIN)
                inv = inv_domain();
            inv.granularity = static_cast<uint8_t>(g);
            inv.cache = static_cast<uint8_t>(cache);
            bool ok = cache && cache < 8 && g < 3;
            if (ok && (cache & VSVA_CACHE_INV_TYPE_DEV_IOTLB) && g == VSVA_INV_GRANU_DOMAIN)
                ok = false;
            if (ok && (cache & VSVA_CACHE_INV_TYPE_PASID) && g == VSVA_INV_GRANU_ADDR)
                ok = false;
            std::string msg;
            EXPECT_EQ(invalidate(fd(), dev, inv, &msg), ok ? 0 : -EINVAL)
                    << "cache " << cache << " granu " << g << ": " << msg;
            if (g == 3) {
                EXPECT_EQ(msg, "invalidate: granularity 3 is unknown");
            } else if (!cache) {
                EXPECT_EQ(msg, "invalidate: cache is 0 (no cache type selected)");
            } else if (cache >= 8) {
                EXPECT_EQ(msg.rfind("invalidate: unknown cache type bits", 0), 0u);
            }
        }
    }
    std::string msg;
    auto i = inv_domain(VSVA_CACHE_INV_TYPE_DEV_IOTLB);
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: cache type DEV_IOTLB does not take granularity DOMAIN");
    i = inv_addr(pasid, 0, 4096, 1, VSVA_CACHE_INV_TYPE_PASID);
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: cache type PASID does not take granularity ADDR");
}

TEST_F(Nesting, InvalidateFields) {
    std::string msg;
    auto i = inv_pasid(pasid);
    i.version = 2;
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: version 2 is not supported (1 is)");
    i = inv_pasid(pasid);
    i.padding[5] = 1;
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: padding must be zero");
    i = inv_pasid(pasid);
    i.granu.pasid_info.flags = 0;
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: pasid_info needs the PASID flag");
    i = inv_pasid(pasid);
    i.granu.pasid_info.flags |= 4;
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: unknown pasid_info flags 0x5");
    i = inv_pasid(pasid);
    i.granu.pasid_info.archid = 3;
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: pasid_info archid 3 must be 0 (VT-d)");
    i = inv_pasid(0);
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: pasid_info pasid 0 is outside [1, 1048575]");
    i = inv_pasid(0xffffe);
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -ENOENT);
    EXPECT_EQ(msg, "invalidate: PASID 1048574 is not allocated in this context");
    i = inv_addr(pasid, 0x1000, 12288);
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: granule_size 0x3000 is not a power of two of at least 4 KiB");
    i = inv_addr(pasid, 0x1000, 2048);
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: granule_size 0x800 is not a power of two of at least 4 KiB");
    i = inv_addr(pasid, 0x1000, 0);
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    i = inv_addr(pasid, 0x1000, 4096, 0);
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: nb_granules is 0");
    // Any power-of-two granule (4 KiB << am), any count; the address bits
    // below the granule are masked off as VT-d does.
    for (unsigned am = 0; am <= 18; am++) {
        i = inv_addr(pasid, 0x40000000, 4096ULL << am);
        EXPECT_EQ(invalidate(fd(), dev, i, &msg), 0) << "am " << am << ": " << msg;
    }
    i = inv_addr(pasid, 0x1000, 2 << 20);
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), 0) << msg;
    i = inv_addr(pasid, 0, 8192, 3);
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), 0) << msg;
    i = inv_addr(pasid, 0, 1ULL << 63, 1);
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), 0) << msg;
    i = inv_addr(pasid, 0, 1ULL << 63, 2);
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_NE(msg.find("overflows"), std::string::npos) << msg;
    i = inv_addr(pasid, 0xffffffffffe00000ULL, 8192, 1ULL << 62);
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_NE(msg.find("overflows"), std::string::npos) << msg;
    // The bytes of the granu union a granularity does not use are zero.
    i = inv_pasid(pasid);
    i.granu.addr_info.addr = 0x1000;
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_EQ(msg,
              "invalidate: granu bytes 32..55 are not used by granularity PASID and must be zero");
    i = inv_domain(VSVA_CACHE_INV_TYPE_IOTLB);
    i.granu.addr_info.nb_granules = 1;
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_EQ(msg,
              "invalidate: granu bytes 16..55 are not used by granularity DOMAIN and must be zero");
    i = inv_domain(VSVA_CACHE_INV_TYPE_IOTLB);
    i.argsz = 16; // an older entry: the rest is not even read
    i.granu.addr_info.nb_granules = 1;
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), 0) << msg;
    i = inv_addr(pasid, 0xfffffffffffff000ULL, 4096, 2);
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_NE(msg.find("overflows"), std::string::npos) << msg;
    i = inv_addr(pasid, 0x1000);
    i.granu.addr_info.flags = 0x8 | VSVA_INV_ADDR_FLAGS_PASID;
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: unknown addr_info flags 0x9");
    i = inv_addr(pasid, 0x1000);
    i.granu.addr_info.flags |= VSVA_INV_ADDR_FLAGS_LEAF;
    EXPECT_EQ(invalidate(fd(), dev, i, &msg), 0) << msg;
    EXPECT_EQ(invalidate(fd(), 999, i, &msg), -ENOENT);
    EXPECT_EQ(msg, "invalidate: no device 999 in this context");
    EXPECT_EQ(invalidate(fd(), vm.dom, i, &msg, VSVA_TARGET_DOMAIN), 0) << msg;
    // 19 granules (am 0..18), 3 masked / multi-granule / 2^63 ranges, one
    // older DOMAIN entry, and the two above: nothing refused was counted.
    EXPECT_EQ(ctrs().out_invalidations, 25u);
}

TEST_F(Nesting, BatchStopsAtBadEntry) {
    vsva_cache_invalidate_info arr[8];
    for (auto& e : arr)
        e = inv_pasid(pasid);
    arr[4].cache = 0;
    uint64_t inv0 = ctrs().out_invalidations;
    std::string msg;
    uint32_t handled = 0;
    EXPECT_EQ(invalidate_batch(fd(), dev, 0, arr, sizeof(arr[0]), 8, &handled, &msg), -EINVAL);
    EXPECT_EQ(handled, 4u);
    EXPECT_EQ(msg, "batch entry 4: invalidate: cache is 0 (no cache type selected)");
    EXPECT_EQ(ctrs().out_invalidations - inv0, 4u);
    // A PASID of no one's: found when applied.
    arr[4] = inv_pasid(pasid);
    arr[6] = inv_pasid(0xffffe);
    EXPECT_EQ(invalidate_batch(fd(), vm.dom, VSVA_TARGET_DOMAIN, arr, sizeof(arr[0]), 8, &handled,
                               &msg),
              -ENOENT);
    EXPECT_EQ(handled, 6u);
    EXPECT_EQ(msg, "batch entry 6: invalidate: PASID 1048574 is not allocated in this "
                   "context");
    EXPECT_EQ(ctrs().out_invalidations - inv0, 10u);
    arr[6] = inv_pasid(pasid);
    EXPECT_EQ(invalidate_batch(fd(), dev, 0, arr, sizeof(arr[0]), 8, &handled, &msg), 0);
    EXPECT_EQ(handled, 8u);
    EXPECT_EQ(msg, "");
    EXPECT_EQ(ctrs().out_invalidations - inv0, 18u);
    EXPECT_EQ(invalidate_batch(fd(), 999, 0, arr, sizeof(arr[0]), 8, &handled, &msg), -ENOENT);
    EXPECT_EQ(handled, 0u);
}

// The same for full-size ADDR entries of one device, which the UAPI layer
// checks the short way and the backend gets in one call: a bad entry, an
// unallocated PASID, stop there, and say which.
TEST_F(Nesting, AddrBatchStopsAtBadEntry) {
    vsva_cache_invalidate_info arr[8];
    for (unsigned i = 0; i < 8; i++)
        arr[i] = inv_addr(pasid, 0x1000ull * (i + 1));
    arr[5].granu.addr_info.granule_size = 0x3000;
    uint64_t inv0 = ctrs().out_invalidations;
    std::string msg;
    uint32_t handled = 0;
    EXPECT_EQ(invalidate_batch(fd(), dev, 0, arr, sizeof(arr[0]), 8, &handled, &msg), -EINVAL);
    EXPECT_EQ(handled, 5u);
    EXPECT_EQ(msg, "batch entry 5: invalidate: granule_size 0x3000 is not a power of two of at "
                   "least 4 KiB");
    EXPECT_EQ(ctrs().out_invalidations - inv0, 5u);
    arr[5] = inv_addr(pasid, 0x6000);
    arr[3].granu.addr_info.pasid = 0xffffe;
    EXPECT_EQ(invalidate_batch(fd(), dev, 0, arr, sizeof(arr[0]), 8, &handled, &msg), -ENOENT);
    EXPECT_EQ(handled, 3u);
    EXPECT_EQ(msg, "batch entry 3: invalidate: PASID 1048574 is not allocated in this "
                   "context");
    EXPECT_EQ(ctrs().out_invalidations - inv0, 8u);
    arr[3] = inv_addr(pasid, 0x4000);
    EXPECT_EQ(invalidate_batch(fd(), dev, 0, arr, sizeof(arr[0]), 8, &handled, &msg), 0) << msg;
    EXPECT_EQ(handled, 8u);
    EXPECT_EQ(ctrs().out_invalidations - inv0, 16u);
}

TEST_F(Nesting, PageResponseRules) {
    std::string msg;
    auto r = page_resp(1);
    EXPECT_EQ(nesting(fd(), VSVA_PAGE_RESPONSE, vm.dom, VSVA_TARGET_DOMAIN, r, &msg), -EINVAL);
    EXPECT_EQ(msg, "page_response: TARGET_DOMAIN is not allowed; name one device");
    r.version = 2;
    EXPECT_EQ(nesting(fd(), VSVA_PAGE_RESPONSE, dev, 0, r, &msg), -EINVAL);
    EXPECT_EQ(msg, "page_response: version 2 is not supported (1 is)");
    r = page_resp(1, 3);
    EXPECT_EQ(nesting(fd(), VSVA_PAGE_RESPONSE, dev, 0, r, &msg), -EINVAL);
    EXPECT_EQ(msg, "page_response: code 3 is not SUCCESS, INVALID or FAILURE");
    r = page_resp(1);
    r.flags = 2;
    EXPECT_EQ(nesting(fd(), VSVA_PAGE_RESPONSE, dev, 0, r, &msg), -EINVAL);
    EXPECT_EQ(msg, "page_response: unknown flags 0x2");
    r = page_resp(1);
    r.flags = VSVA_PAGE_RESP_PASID_VALID;
    r.pasid = 0xffffe;
    EXPECT_EQ(nesting(fd(), VSVA_PAGE_RESPONSE, dev, 0, r, &msg), -ENOENT);
    EXPECT_EQ(msg, "page_response: PASID 1048574 is not allocated in this context");
    EXPECT_EQ(nesting(fd(), VSVA_PAGE_RESPONSE, 999, 0, page_resp(1), &msg), -ENOENT);
    EXPECT_EQ(msg, "page_response: no device 999 in this context");
    uint32_t nopri;
    ASSERT_EQ(attach(fd(), rid(0, 5, 0), vm.dom, &nopri), 0);
    EXPECT_EQ(nesting(fd(), VSVA_PAGE_RESPONSE, nopri, 0, page_resp(1), &msg), -EINVAL);
    EXPECT_EQ(msg, "page_response: device " + std::to_string(nopri) +
                           " was attached without ENABLE_PRI");
}

TEST_F(Nesting, OtherContextsPasidsAreInvisible) {
    Vm other;
    ASSERT_EQ(other.create(kRam, {rid(0, 5, 0)}), 0);
    uint32_t theirs;
    ASSERT_EQ(other.alloc_pasid(&theirs), 0);
    std::string msg;
    auto d = bind_data(theirs, vm.gpgd);
    EXPECT_EQ(bind(fd(), dev, d, &msg), -ENOENT);
    EXPECT_EQ(msg, "bind: hpasid " + std::to_string(theirs) + " is not allocated in this context");
    EXPECT_EQ(invalidate(fd(), dev, inv_pasid(theirs), &msg), -ENOENT);
    EXPECT_EQ(pasid_free(fd(), theirs), -ENOENT);
    // Their own use works.
    EXPECT_EQ(bind(other.fd.get(), other.devs[0], bind_data(theirs, other.gpgd), &msg), 0) << msg;
    // Their device ids mean nothing here either.
    EXPECT_EQ(unbind(fd(), other.devs[0] + 100, d, &msg), -ENOENT);
}

// Each request copies its payload once, whatever the number of devices.
class PayloadCopies : public ::testing::TestWithParam<int> {};

TEST_P(PayloadCopies, OncePerRequest) {
    VSVA_REQUIRE_DEV();
    const int n = GetParam();
    auto rids = single_group_rids();
    rids.resize(n);
    Vm v;
    ASSERT_EQ(v.create(kRam, rids, VSVA_ATTACH_ENABLE_ATS), 0);
    uint32_t p;
    ASSERT_EQ(v.alloc_pasid(&p), 0);
    vsva_emu_counters c0, c1;
    auto step = [&](const char* what, auto&& call, uint64_t binds, uint64_t unbinds) {
        ASSERT_EQ(counters(v.fd.get(), &c0), 0);
        std::string msg;
        ASSERT_EQ(call(&msg), 0) << what << ": " << msg;
        ASSERT_EQ(counters(v.fd.get(), &c1), 0);
        EXPECT_EQ(c1.out_payload_copies - c0.out_payload_copies, 1u) << what;
        EXPECT_EQ(c1.out_binds - c0.out_binds, binds) << what;
        EXPECT_EQ(c1.out_unbinds - c0.out_unbinds, unbinds) << what;
    };
    auto d = bind_data(p, v.gpgd);
    step(
            "bind",
            [&](std::string* m) { return bind(v.fd.get(), v.dom, d, m, VSVA_TARGET_DOMAIN); }, n,
            0);
    step(
            "invalidate",
            [&](std::string* m) {
                return invalidate(
                        v.fd.get(), v.dom,
                        inv_pasid(p, VSVA_CACHE_INV_TYPE_IOTLB | VSVA_CACHE_INV_TYPE_DEV_IOTLB), m,
                        VSVA_TARGET_DOMAIN);
            },
            0, 0);
    vsva_cache_invalidate_info arr[16];
    for (auto& e : arr)
        e = inv_addr(p, 0x1000);
    step(
            "batch",
            [&](std::string* m) {
                uint32_t h;
                return invalidate_batch(v.fd.get(), v.dom, VSVA_TARGET_DOMAIN, arr, sizeof(arr[0]),
                                        16, &h, m);
            },
            0, 0);
    step(
            "unbind",
            [&](std::string* m) { return unbind(v.fd.get(), v.dom, d, m, VSVA_TARGET_DOMAIN); }, 0,
            n);
}

INSTANTIATE_TEST_SUITE_P(Devices, PayloadCopies, ::testing::Values(1, 4, 16));

} // namespace
