// SPDX-License-Identifier: GPL-2.0
// Length tests: every ioctl and every payload, too small / exact / older
// user / larger with a zero tail / larger with a non-zero tail (-E2BIG).
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

#include <sys/mman.h>

#include "vsva_testlib.h"

using namespace vsva::test;

namespace {

constexpr size_t kRam = 1 << 20;

class Sizes : public ::testing::Test {
protected:
    void SetUp() override {
        VSVA_REQUIRE_DEV();
        ASSERT_EQ(vm.create(kRam, {rid(0, 2, 0)}, VSVA_ATTACH_ENABLE_ATS | VSVA_ATTACH_ENABLE_PRI),
                  0);
        dev = vm.devs[0];
        ASSERT_EQ(vm.alloc_pasid(&pasid), 0);
    }
    int fd() const { return vm.fd.get(); }

    // Runs the five size cases of one ioctl.  @fill prepares the struct
    // (argsz is set by the harness); @ok is the errno of a valid call.
    template <class T>
    void ioctl_sizes(unsigned long cmd, size_t min, const std::function<void(T&, int)>& fill,
                     int ok = 0) {
        struct {
            T t;
            uint8_t tail[24];
        } b;
        int n = 0;
        auto run = [&](uint32_t argsz, uint8_t tailbyte) {
            std::memset(&b, 0, sizeof(b));
            fill(b.t, n++);
            b.t.argsz = argsz;
            if (tailbyte)
                b.tail[5] = tailbyte;
            return raw_ioctl(fd(), cmd, &b);
        };
        EXPECT_EQ(run(0, 0), -EINVAL) << "argsz 0";
        EXPECT_EQ(run(static_cast<uint32_t>(min - 1), 0), -EINVAL) << "min - 1";
        EXPECT_EQ(run(static_cast<uint32_t>(min), 0), ok) << "older user (min)";
        EXPECT_EQ(run(sizeof(T), 0), ok) << "exact";
        EXPECT_EQ(run(sizeof(T) + sizeof(b.tail), 0), ok) << "newer user, zero tail";
        EXPECT_EQ(run(sizeof(T) + sizeof(b.tail), 0xA5), -E2BIG) << "non-zero tail";
    }

    Vm vm;
    uint32_t dev = 0, pasid = 0;
};

TEST_F(Sizes, GetInfo) {
    ioctl_sizes<vsva_info>(VSVA_GET_INFO, offsetof(vsva_info, out_max_pinned) + 8,
                           [](vsva_info&, int) {});
}

TEST_F(Sizes, DomainAlloc) {
    ioctl_sizes<vsva_domain_alloc>(VSVA_DOMAIN_ALLOC, sizeof(vsva_domain_alloc),
                                   [](vsva_domain_alloc&, int) {});
}

TEST_F(Sizes, DomainDestroyAndDetach) {
    // A missing id is -ENOENT for every accepted size.
    ioctl_sizes<vsva_destroy>(
            VSVA_DOMAIN_DESTROY, sizeof(vsva_destroy), [](vsva_destroy& c, int) { c.id = 999; },
            -ENOENT);
    ioctl_sizes<vsva_destroy>(
            VSVA_DEVICE_DETACH, sizeof(vsva_destroy), [](vsva_destroy& c, int) { c.id = 999; },
            -ENOENT);
}

TEST_F(Sizes, MapUnmap) {
    GuestRam ram(1 << 20);
    ASSERT_NE(ram.ptr(), nullptr);
    ioctl_sizes<vsva_map>(VSVA_MAP, sizeof(vsva_map), [&](vsva_map& c, int n) {
        c.flags = VSVA_MAP_READ;
        c.domain_id = vm.dom;
        c.gpa = 0x10000000 + n * 0x1000;
        c.length = 0x1000;
        c.vaddr = reinterpret_cast<uintptr_t>(ram.ptr()) + n * 0x1000;
    });
    ioctl_sizes<vsva_unmap>(VSVA_UNMAP, offsetof(vsva_unmap, out_unmapped) + 8,
                            [&](vsva_unmap& c, int n) {
                                c.domain_id = vm.dom;
                                c.gpa = 0x10000000 + n * 0x1000;
                                c.length = 0x1000;
                            });
}

TEST_F(Sizes, Attach) {
    // An endpoint that is not in the topology: -ENOENT at every size.
    ioctl_sizes<vsva_device_attach>(
            VSVA_DEVICE_ATTACH, sizeof(vsva_device_attach),
            [&](vsva_device_attach& c, int) {
                c.rid = rid(0x42, 0, 0);
                c.domain_id = vm.dom;
            },
            -ENOENT);
}

TEST_F(Sizes, PasidAllocFree) {
    ioctl_sizes<vsva_pasid_alloc>(VSVA_PASID_ALLOC, sizeof(vsva_pasid_alloc),
                                  [](vsva_pasid_alloc&, int) {});
    ioctl_sizes<vsva_pasid_free>(
            VSVA_PASID_FREE, sizeof(vsva_pasid_free),
            [](vsva_pasid_free& c, int) { c.hpasid = 0xfffff; }, -ENOENT);
}

TEST_F(Sizes, NestingWrapper) {
    auto inv = inv_domain();
    ioctl_sizes<vsva_nesting_op>(VSVA_CACHE_INVALIDATE, sizeof(vsva_nesting_op),
                                 [&](vsva_nesting_op& c, int) {
                                     c.target_id = dev;
                                     c.data_len = inv.argsz;
                                     c.data_uptr = reinterpret_cast<uintptr_t>(&inv);
                                 });
}

TEST_F(Sizes, BatchWrapper) {
    auto inv = inv_domain();
    ioctl_sizes<vsva_cache_invalidate_batch>(VSVA_CACHE_INVALIDATE_BATCH,
                                             sizeof(vsva_cache_invalidate_batch),
                                             [&](vsva_cache_invalidate_batch& c, int) {
                                                 c.target_id = dev;
                                                 c.entry_len = sizeof(inv);
                                                 c.entry_num = 1;
                                                 c.data_uptr = reinterpret_cast<uintptr_t>(&inv);
                                             });
}

TEST_F(Sizes, EmuCommands) {
    ioctl_sizes<vsva_emu_counters>(VSVA_EMU_COUNTERS, offsetof(vsva_emu_counters, out_bindings) + 8,
                                   [](vsva_emu_counters&, int) {});
    ioctl_sizes<vsva_emu_pasid_entry>(VSVA_EMU_PASID_ENTRY, sizeof(vsva_emu_pasid_entry),
                                      [&](vsva_emu_pasid_entry& c, int) {
                                          c.dev_id = dev;
                                          c.pasid = pasid;
                                      });
    ioctl_sizes<vsva_emu_translate>(VSVA_EMU_TRANSLATE, sizeof(vsva_emu_translate),
                                    [&](vsva_emu_translate& c, int) {
                                        c.dev_id = dev;
                                        c.pasid = pasid;
                                        c.iova = 0x1000;
                                    });
}

TEST_F(Sizes, UnknownCommand) {
    uint32_t buf[16] = {sizeof(buf)};
    EXPECT_EQ(raw_ioctl(fd(), _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x1f), buf), -ENOTTY);
    EXPECT_EQ(raw_ioctl(fd(), _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x7f), buf), -ENOTTY);
    EXPECT_EQ(raw_ioctl(fd(), _IO(VSVA_TYPE, 0x01), buf), -ENOTTY);
    // The right number with a size encoded in the command is another command.
    EXPECT_EQ(raw_ioctl(fd(), _IOW(VSVA_TYPE, VSVA_CMD_BASE, uint32_t), buf), -ENOTTY);
}

// Payload sizes go through data_len, which must equal the payload's argsz.
struct BindBuf {
    vsva_gpasid_bind_data d;
    uint8_t tail[16];
};

TEST_F(Sizes, BindPayload) {
    BindBuf b{};
    std::string msg;
    auto fresh = [&] {
        std::memset(&b, 0, sizeof(b));
        b.d = bind_data(pasid, vm.gpgd);
    };
    fresh();
    b.d.argsz = 55;
    EXPECT_EQ(nesting(fd(), VSVA_BIND_GPASID, dev, 0, &b, 55, &msg), -EINVAL);
    EXPECT_EQ(msg, "bind: data_len 55 is below the payload minimum 56");
    fresh();
    b.d.argsz = 56; // an older user without the VT-d part
    EXPECT_EQ(nesting(fd(), VSVA_BIND_GPASID, dev, 0, &b, 56, &msg), -EINVAL);
    EXPECT_EQ(msg, "bind: argsz 56 is too small for the VT-d part (72 bytes)");
    fresh();
    b.d.argsz = 72;
    EXPECT_EQ(nesting(fd(), VSVA_BIND_GPASID, dev, 0, &b, 80, &msg), -EINVAL);
    EXPECT_EQ(msg, "bind: payload argsz 72 differs from data_len 80");
    fresh();
    b.d.argsz = 88; // a newer user, zero tail
    EXPECT_EQ(nesting(fd(), VSVA_BIND_GPASID, dev, 0, &b, 88, &msg), 0) << msg;
    EXPECT_EQ(msg, "");
    EXPECT_EQ(nesting(fd(), VSVA_UNBIND_GPASID, dev, 0, &b, 88, &msg), 0) << msg;
    b.tail[15] = 1;
    EXPECT_EQ(nesting(fd(), VSVA_BIND_GPASID, dev, 0, &b, 88, &msg), -E2BIG);
    EXPECT_EQ(msg, "bind: payload bytes past 72 are not zero");
    EXPECT_EQ(nesting(fd(), VSVA_UNBIND_GPASID, dev, 0, &b, 88, &msg), -E2BIG);
    EXPECT_EQ(msg, "unbind: payload bytes past 72 are not zero");
    fresh();
    EXPECT_EQ(nesting(fd(), VSVA_BIND_GPASID, dev, 0, &b, 72, &msg), 0) << msg;
    EXPECT_EQ(nesting(fd(), VSVA_UNBIND_GPASID, dev, 0, &b, 72, &msg), 0) << msg;
    // Way too large: refused before reading it.
    EXPECT_EQ(nesting(fd(), VSVA_BIND_GPASID, dev, 0, &b, 8192, &msg), -E2BIG);
    EXPECT_EQ(msg, "bind: data_len 8192 exceeds 4096");
    // An unreadable payload.
    EXPECT_EQ(nesting(fd(), VSVA_BIND_GPASID, dev, 0, reinterpret_cast<void*>(8), 72, &msg),
              -EFAULT);
}

TEST_F(Sizes, InvalidatePayload) {
    struct {
        vsva_cache_invalidate_info i;
        uint8_t tail[16];
    } b{};
    std::string msg;
    // DOMAIN granularity: 16 bytes are enough.
    b.i = inv_domain();
    b.i.argsz = 16;
    EXPECT_EQ(nesting(fd(), VSVA_CACHE_INVALIDATE, dev, 0, &b, 16, &msg), 0) << msg;
    b.i.argsz = 15;
    EXPECT_EQ(nesting(fd(), VSVA_CACHE_INVALIDATE, dev, 0, &b, 15, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: data_len 15 is below the payload minimum 16");
    // PASID granularity needs 32.
    b.i = inv_pasid(pasid);
    b.i.argsz = 24;
    EXPECT_EQ(nesting(fd(), VSVA_CACHE_INVALIDATE, dev, 0, &b, 24, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: argsz 24 is too small for granularity PASID (32)");
    b.i.argsz = 32;
    EXPECT_EQ(nesting(fd(), VSVA_CACHE_INVALIDATE, dev, 0, &b, 32, &msg), 0) << msg;
    // ADDR granularity needs 56.
    b.i = inv_addr(pasid, 0x1000);
    b.i.argsz = 48;
    EXPECT_EQ(nesting(fd(), VSVA_CACHE_INVALIDATE, dev, 0, &b, 48, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: argsz 48 is too small for granularity ADDR (56)");
    b.i.argsz = 56;
    EXPECT_EQ(nesting(fd(), VSVA_CACHE_INVALIDATE, dev, 0, &b, 56, &msg), 0) << msg;
    b.i.argsz = 72;
    EXPECT_EQ(nesting(fd(), VSVA_CACHE_INVALIDATE, dev, 0, &b, 72, &msg), 0) << msg;
    b.tail[3] = 7;
    EXPECT_EQ(nesting(fd(), VSVA_CACHE_INVALIDATE, dev, 0, &b, 72, &msg), -E2BIG);
    EXPECT_EQ(msg, "invalidate: payload bytes past 56 are not zero");
}

TEST_F(Sizes, PageResponsePayload) {
    struct {
        vsva_page_response r;
        uint8_t tail[16];
    } b{};
    std::string msg;
    b.r = page_resp(77);
    b.r.argsz = 20; // the pre-5.10 size
    EXPECT_EQ(nesting(fd(), VSVA_PAGE_RESPONSE, dev, 0, &b, 20, &msg), -EINVAL);
    EXPECT_EQ(msg, "page_response: data_len 20 is below the payload minimum 24");
    b.r.argsz = 24; // valid, but nothing is pending
    EXPECT_EQ(nesting(fd(), VSVA_PAGE_RESPONSE, dev, 0, &b, 24, &msg), -EINVAL);
    EXPECT_EQ(msg,
              "page response: no pending page request group 77 on device " + std::to_string(dev));
    b.r.argsz = 40;
    EXPECT_EQ(nesting(fd(), VSVA_PAGE_RESPONSE, dev, 0, &b, 40, &msg), -EINVAL);
    EXPECT_NE(msg.find("no pending page request group 77"), std::string::npos);
    b.tail[0] = 1;
    EXPECT_EQ(nesting(fd(), VSVA_PAGE_RESPONSE, dev, 0, &b, 40, &msg), -E2BIG);
    EXPECT_EQ(msg, "page_response: payload bytes past 24 are not zero");
}

TEST_F(Sizes, BatchEntries) {
    constexpr uint32_t kLen = 64;
    uint8_t arr[4][kLen] = {};
    std::string msg;
    uint32_t handled = 99;
    for (auto& e : arr) {
        auto i = inv_pasid(pasid);
        std::memcpy(e, &i, sizeof(i));
    }
    EXPECT_EQ(invalidate_batch(fd(), dev, 0, arr, 55, 4, &handled, &msg), -EINVAL);
    EXPECT_EQ(handled, 0u);
    EXPECT_EQ(msg, "batch: entry_len 55 is outside [56, 4096]");
    EXPECT_EQ(invalidate_batch(fd(), dev, 0, arr, 4097, 1, &handled, &msg), -EINVAL);
    EXPECT_EQ(invalidate_batch(fd(), dev, 0, arr, kLen, 0, &handled, &msg), 0);
    EXPECT_EQ(handled, 0u);
    EXPECT_EQ(invalidate_batch(fd(), dev, 0, arr, kLen, 4, &handled, &msg), 0) << msg;
    EXPECT_EQ(handled, 4u);
    // An older entry (argsz 32) in a 64-byte stride.
    reinterpret_cast<vsva_cache_invalidate_info*>(arr[1])->argsz = 32;
    EXPECT_EQ(invalidate_batch(fd(), dev, 0, arr, kLen, 4, &handled, &msg), 0) << msg;
    EXPECT_EQ(handled, 4u);
    // A newer entry with a non-zero unknown byte stops the batch there.
    arr[2][60] = 1;
    EXPECT_EQ(invalidate_batch(fd(), dev, 0, arr, kLen, 4, &handled, &msg), -E2BIG);
    EXPECT_EQ(handled, 2u);
    EXPECT_EQ(msg, "batch entry 2: invalidate: bytes past 56 are not zero");
    arr[2][60] = 0;
    // An entry whose argsz exceeds the stride.
    reinterpret_cast<vsva_cache_invalidate_info*>(arr[3])->argsz = kLen + 8;
    EXPECT_EQ(invalidate_batch(fd(), dev, 0, arr, kLen, 4, &handled, &msg), -EINVAL);
    EXPECT_EQ(handled, 3u);
    EXPECT_EQ(msg, "batch entry 3: invalidate: argsz 72 exceeds entry_len 64");
    vsva_info info;
    ASSERT_EQ(get_info(fd(), &info), 0);
    EXPECT_EQ(invalidate_batch(fd(), dev, 0, arr, kLen, info.out_max_batch + 1, &handled, &msg),
              -EINVAL);
    EXPECT_EQ(invalidate_batch(fd(), dev, 0, reinterpret_cast<void*>(8), kLen, 2, &handled, &msg),
              -EFAULT);
}

// Unknown wrapper flags and reserved fields: -EOPNOTSUPP everywhere.
TEST_F(Sizes, WrapperFlagsAndReserved) {
    auto da = make<vsva_domain_alloc>();
    da.flags = 1;
    EXPECT_EQ(raw_ioctl(fd(), VSVA_DOMAIN_ALLOC, &da), -EOPNOTSUPP);
    da = make<vsva_domain_alloc>();
    da.__reserved = 1;
    EXPECT_EQ(raw_ioctl(fd(), VSVA_DOMAIN_ALLOC, &da), -EOPNOTSUPP);
    auto info = make<vsva_info>();
    info.flags = 1;
    EXPECT_EQ(raw_ioctl(fd(), VSVA_GET_INFO, &info), -EOPNOTSUPP);
    auto ds = make<vsva_destroy>();
    ds.id = vm.dom;
    ds.flags = 2;
    EXPECT_EQ(raw_ioctl(fd(), VSVA_DOMAIN_DESTROY, &ds), -EOPNOTSUPP);
    ds.flags = 0;
    ds.__reserved = 1;
    EXPECT_EQ(raw_ioctl(fd(), VSVA_DEVICE_DETACH, &ds), -EOPNOTSUPP);
    std::string msg;
    auto m = make<vsva_map>();
    m.domain_id = vm.dom;
    m.flags = VSVA_MAP_READ | 4;
    m.gpa = 0x20000000;
    m.length = 4096;
    m.vaddr = reinterpret_cast<uintptr_t>(vm.ram.ptr());
    EXPECT_EQ(ioctl_msg(fd(), VSVA_MAP, m, &msg), -EOPNOTSUPP);
    EXPECT_EQ(msg, "map: flags 0x5 must be READ and/or WRITE");
    m.flags = VSVA_MAP_READ;
    m.__reserved2 = 1;
    EXPECT_EQ(ioctl_msg(fd(), VSVA_MAP, m, &msg), -EOPNOTSUPP);
    EXPECT_EQ(msg, "map: reserved fields must be 0");
    auto um = make<vsva_unmap>();
    um.flags = 1;
    EXPECT_EQ(raw_ioctl(fd(), VSVA_UNMAP, &um), -EOPNOTSUPP);
    auto at = make<vsva_device_attach>();
    at.rid = rid(0, 5, 0);
    at.domain_id = vm.dom;
    at.flags = 4;
    EXPECT_EQ(ioctl_msg(fd(), VSVA_DEVICE_ATTACH, at, &msg), -EOPNOTSUPP);
    EXPECT_EQ(msg, "attach: unknown flags 0x4");
    at.flags = 0;
    at.__reserved = 1;
    EXPECT_EQ(ioctl_msg(fd(), VSVA_DEVICE_ATTACH, at, &msg), -EOPNOTSUPP);
    auto pa = make<vsva_pasid_alloc>();
    pa.flags = 2;
    EXPECT_EQ(ioctl_msg(fd(), VSVA_PASID_ALLOC, pa, &msg), -EOPNOTSUPP);
    EXPECT_EQ(msg, "pasid_alloc: unknown flags 0x2");
    pa.flags = 0;
    pa.__reserved2 = 1;
    EXPECT_EQ(ioctl_msg(fd(), VSVA_PASID_ALLOC, pa, &msg), -EOPNOTSUPP);
    auto pf = make<vsva_pasid_free>();
    pf.hpasid = pasid;
    pf.flags = 1;
    EXPECT_EQ(raw_ioctl(fd(), VSVA_PASID_FREE, &pf), -EOPNOTSUPP);
    pf.flags = 0;
    pf.__reserved = 1;
    EXPECT_EQ(raw_ioctl(fd(), VSVA_PASID_FREE, &pf), -EOPNOTSUPP);
    auto d = bind_data(pasid, vm.gpgd);
    for (unsigned long cmd :
         {VSVA_BIND_GPASID, VSVA_UNBIND_GPASID, VSVA_CACHE_INVALIDATE, VSVA_PAGE_RESPONSE}) {
        auto op = make<vsva_nesting_op>();
        op.target_id = dev;
        // VSVA_INV_SEPARATE_DEVTLB (0x2) exists for invalidations only,
        // VSVA_RID_PASID_OK (0x4) for all but the page response.
        const bool inv = cmd == VSVA_CACHE_INVALIDATE;
        const bool resp = cmd == VSVA_PAGE_RESPONSE;
        op.flags = resp ? VSVA_RID_PASID_OK : inv ? 8 : VSVA_INV_SEPARATE_DEVTLB;
        op.data_len = d.argsz;
        op.data_uptr = reinterpret_cast<uintptr_t>(&d);
        EXPECT_EQ(ioctl_msg(fd(), cmd, op, &msg), -EOPNOTSUPP) << cmd;
        EXPECT_NE(msg.find(resp  ? ": unknown flags 0x4"
                           : inv ? ": unknown flags 0x8"
                                 : ": unknown flags 0x2"),
                  std::string::npos)
                << msg;
        op.flags = 0;
        op.__reserved = 1;
        EXPECT_EQ(ioctl_msg(fd(), cmd, op, &msg), -EOPNOTSUPP) << cmd;
        EXPECT_NE(msg.find(": __reserved must be 0"), std::string::npos) << msg;
    }
    auto b = make<vsva_cache_invalidate_batch>();
    b.flags = 8;
    EXPECT_EQ(ioctl_msg(fd(), VSVA_CACHE_INVALIDATE_BATCH, b, &msg), -EOPNOTSUPP);
    b.flags = 0;
    b.__reserved = 1;
    EXPECT_EQ(ioctl_msg(fd(), VSVA_CACHE_INVALIDATE_BATCH, b, &msg), -EOPNOTSUPP);
    b.__reserved = 0;
    b.__reserved2 = 1;
    EXPECT_EQ(ioctl_msg(fd(), VSVA_CACHE_INVALIDATE_BATCH, b, &msg), -EOPNOTSUPP);
    auto c = make<vsva_emu_counters>();
    c.flags = 1;
    EXPECT_EQ(raw_ioctl(fd(), VSVA_EMU_COUNTERS, &c), -EOPNOTSUPP);
    auto pe = make<vsva_emu_pasid_entry>();
    pe.dev_id = dev;
    pe.pasid = pasid;
    pe.__reserved = 1;
    EXPECT_EQ(raw_ioctl(fd(), VSVA_EMU_PASID_ENTRY, &pe), -EOPNOTSUPP);
    auto fa = make<vsva_fault_alloc>();
    fa.__reserved = 1;
    EXPECT_EQ(raw_ioctl(fd(), VSVA_FAULT_ALLOC, &fa), -EOPNOTSUPP);
    fa.__reserved = 0;
    fa.flags = 1;
    EXPECT_EQ(raw_ioctl(fd(), VSVA_FAULT_ALLOC, &fa), -EOPNOTSUPP);
}

// The message buffer: truncated to err_len, NUL-terminated, empty on success.
TEST_F(Sizes, MessageBuffer) {
    char small[8];
    std::memset(small, 'X', sizeof(small));
    auto at = make<vsva_device_attach>();
    at.rid = rid(0x42, 0, 0);
    at.domain_id = vm.dom;
    at.err_uptr = reinterpret_cast<uintptr_t>(small);
    at.err_len = sizeof(small);
    EXPECT_EQ(raw_ioctl(fd(), VSVA_DEVICE_ATTACH, &at), -ENOENT);
    EXPECT_EQ(std::string(small), "attach:");
    // An unwritable buffer does not change the errno.
    at.err_uptr = 8;
    EXPECT_EQ(raw_ioctl(fd(), VSVA_DEVICE_ATTACH, &at), -ENOENT);
    // Success writes an empty string.
    std::memset(small, 'X', sizeof(small));
    auto pa = make<vsva_pasid_alloc>();
    pa.err_uptr = reinterpret_cast<uintptr_t>(small);
    pa.err_len = sizeof(small);
    EXPECT_EQ(raw_ioctl(fd(), VSVA_PASID_ALLOC, &pa), 0);
    EXPECT_EQ(small[0], '\0');
    EXPECT_EQ(small[1], 'X');
}

// The batch path checks the usual entry (a 56-byte ADDR invalidation of the
// IOTLB and/or device TLB) with a few word comparisons, anything else with
// the full check.  Each entry below, at index 40 of a 64-entry batch of
// good entries, must be refused with the errno and message the full check
// gives the same entry alone (VSVA_CACHE_INVALIDATE), the 40 entries
// before it applied and none after it; and each less usual but valid
// entry must be accepted.
TEST_F(Sizes, BatchFastCheckAgreesWithTheFullCheck) {
    constexpr uint32_t kAt = 40, kN = 64;
    const uint64_t base = 0x100000000000ull;
    struct Case {
        const char* what;
        std::function<void(vsva_cache_invalidate_info&)> mutate;
        int err; // 0: accepted
        const char* msg;
    };
    const uint64_t top = ~0ull - 4095;
    const std::vector<Case> cases = {
            {"argsz 48", [](auto& e) { e.argsz = 48; }, -EINVAL,
             "invalidate: argsz 48 is too small for granularity ADDR (56)"},
            {"version 2", [](auto& e) { e.version = 2; }, -EINVAL,
             "invalidate: version 2 is not supported (1 is)"},
            {"cache 0", [](auto& e) { e.cache = 0; }, -EINVAL,
             "invalidate: cache is 0 (no cache type selected)"},
            {"cache PASID", [](auto& e) { e.cache = VSVA_CACHE_INV_TYPE_PASID; }, -EINVAL,
             "invalidate: cache type PASID does not take granularity ADDR"},
            {"cache IOTLB|PASID",
             [](auto& e) { e.cache = VSVA_CACHE_INV_TYPE_IOTLB | VSVA_CACHE_INV_TYPE_PASID; },
             -EINVAL, "invalidate: cache type PASID does not take granularity ADDR"},
            {"cache bit 3", [](auto& e) { e.cache = 8 | VSVA_CACHE_INV_TYPE_IOTLB; }, -EINVAL,
             "invalidate: unknown cache type bits 0x8"},
            {"granularity PASID", [](auto& e) { e.granularity = VSVA_INV_GRANU_PASID; }, -EINVAL,
             "invalidate: granu bytes 32..55 are not used by granularity PASID and must be zero"},
            {"granularity 3", [](auto& e) { e.granularity = 3; }, -EINVAL,
             "invalidate: granularity 3 is unknown"},
            {"padding[0]", [](auto& e) { e.padding[0] = 1; }, -EINVAL,
             "invalidate: padding must be zero"},
            {"padding[5]", [](auto& e) { e.padding[5] = 0x80; }, -EINVAL,
             "invalidate: padding must be zero"},
            {"no PASID flag", [](auto& e) { e.granu.addr_info.flags = 0; }, -EINVAL,
             "invalidate: addr_info needs the PASID flag"},
            {"flag bit 3", [](auto& e) { e.granu.addr_info.flags |= 8; }, -EINVAL,
             "invalidate: unknown addr_info flags 0x9"},
            {"archid 1", [](auto& e) { e.granu.addr_info.archid = 1; }, -EINVAL,
             "invalidate: addr_info archid 1 must be 0 (VT-d)"},
            {"archid bit 31", [](auto& e) { e.granu.addr_info.archid = 1u << 31; }, -EINVAL,
             "invalidate: addr_info archid 2147483648 must be 0 (VT-d)"},
            {"pasid 0", [](auto& e) { e.granu.addr_info.pasid = 0; }, -EINVAL,
             "invalidate: addr_info pasid 0 is outside [1, 1048575]"},
            {"pasid 2^20", [](auto& e) { e.granu.addr_info.pasid = 1u << 20; }, -EINVAL,
             "invalidate: addr_info pasid 1048576 is outside [1, 1048575]"},
            {"pasid 2^32 + pasid", [](auto& e) { e.granu.addr_info.pasid += 1ull << 32; }, -EINVAL,
             nullptr},
            {"pasid not allocated", [](auto& e) { e.granu.addr_info.pasid = (1u << 20) - 1; },
             -ENOENT, "invalidate: PASID 1048575 is not allocated in this context"},
            {"granule 2 KiB", [](auto& e) { e.granu.addr_info.granule_size = 2048; }, -EINVAL,
             "invalidate: granule_size 0x800 is not a power of two of at least 4 KiB"},
            {"granule 0", [](auto& e) { e.granu.addr_info.granule_size = 0; }, -EINVAL,
             "invalidate: granule_size 0x0 is not a power of two of at least 4 KiB"},
            {"granule 12 KiB", [](auto& e) { e.granu.addr_info.granule_size = 3 * 4096; }, -EINVAL,
             "invalidate: granule_size 0x3000 is not a power of two of at least 4 KiB"},
            {"nb_granules 0", [](auto& e) { e.granu.addr_info.nb_granules = 0; }, -EINVAL,
             "invalidate: nb_granules is 0"},
            {"size overflows",
             [](auto& e) {
                 e.granu.addr_info.granule_size = 1ull << 40;
                 e.granu.addr_info.nb_granules = 1ull << 24;
             },
             -EINVAL, nullptr},
            {"range wraps",
             [&](auto& e) {
                 e.granu.addr_info.addr = top;
                 e.granu.addr_info.nb_granules = 2;
             },
             -EINVAL, nullptr},
            // Valid, less usual: accepted (the fast check or the full one).
            {"DEV_IOTLB only", [](auto& e) { e.cache = VSVA_CACHE_INV_TYPE_DEV_IOTLB; }, 0,
             nullptr},
            {"IOTLB and DEV_IOTLB",
             [](auto& e) { e.cache = VSVA_CACHE_INV_TYPE_IOTLB | VSVA_CACHE_INV_TYPE_DEV_IOTLB; },
             0, nullptr},
            {"ARCHID and LEAF flags",
             [](auto& e) {
                 e.granu.addr_info.flags |= VSVA_INV_ADDR_FLAGS_ARCHID | VSVA_INV_ADDR_FLAGS_LEAF;
             },
             0, nullptr},
            {"2 MiB granule, address inside it",
             [](auto& e) {
                 e.granu.addr_info.granule_size = 2ull << 20;
                 e.granu.addr_info.addr += 0x1234;
             },
             0, nullptr},
            {"last page of the address space", [&](auto& e) { e.granu.addr_info.addr = top; }, 0,
             nullptr},
            {"granule 2^63", [](auto& e) { e.granu.addr_info.granule_size = 1ull << 63; }, 0,
             nullptr},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        std::vector<vsva_cache_invalidate_info> v;
        for (uint32_t i = 0; i < kN; i++)
            v.push_back(inv_addr(pasid, base + i * 4096));
        c.mutate(v[kAt]);
        std::string one, msg;
        int single = invalidate(fd(), dev, v[kAt], &one);
        EXPECT_EQ(single, c.err) << one;
        if (c.msg) {
            EXPECT_EQ(one, c.msg);
        }
        vsva_emu_counters c0, c1;
        ASSERT_EQ(counters(fd(), &c0), 0);
        uint32_t handled = 99;
        EXPECT_EQ(invalidate_batch(fd(), dev, 0, v.data(), sizeof(v[0]), kN, &handled, &msg),
                  c.err);
        ASSERT_EQ(counters(fd(), &c1), 0);
        const uint32_t applied = c.err ? kAt : kN;
        EXPECT_EQ(handled, applied);
        EXPECT_EQ(c1.out_invalidations - c0.out_invalidations, applied);
        EXPECT_EQ(msg, c.err ? "batch entry 40: " + one : std::string());
    }
}

// The kernel copy of a batch is the context's own buffer, kept between
// calls and grown to the largest batch: what one batch left there never
// leaks into the next.  A batch whose array cannot be read whole fails
// with EFAULT and applies nothing, also after a good batch of the same
// size filled the buffer; sizes around the buffer's first size (64) and a
// bigger batch all apply exactly their entries.
TEST_F(Sizes, BatchCopyIsPerCallWithTheContextBuffer) {
    const uint64_t base = 0x100000000000ull;
    auto entries = [&](uint32_t n) {
        std::vector<vsva_cache_invalidate_info> v;
        for (uint32_t i = 0; i < n; i++)
            v.push_back(inv_addr(pasid, base + i * 4096));
        return v;
    };
    auto applied = [&](const void* arr, uint32_t n, uint32_t* handled, std::string* msg) {
        vsva_emu_counters c0, c1;
        EXPECT_EQ(counters(fd(), &c0), 0);
        int rc = invalidate_batch(fd(), dev, 0, arr, sizeof(vsva_cache_invalidate_info), n, handled,
                                  msg);
        EXPECT_EQ(counters(fd(), &c1), 0);
        EXPECT_EQ(c1.out_invalidations - c0.out_invalidations, *handled);
        return rc;
    };
    std::string msg;
    uint32_t handled;
    for (uint32_t n : {1u, 63u, 64u, 65u, 200u, 64u, 1024u, 3u}) {
        SCOPED_TRACE(n);
        auto v = entries(n);
        handled = 0;
        EXPECT_EQ(applied(v.data(), n, &handled, &msg), 0) << msg;
        EXPECT_EQ(handled, n);
    }

    // 64 entries whose last 8 lie in an unmapped page.
    const size_t page = 4096, sz = sizeof(vsva_cache_invalidate_info);
    auto* map = static_cast<uint8_t*>(
            mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(map, MAP_FAILED);
    ASSERT_EQ(munmap(map + page, page), 0);
    uint8_t* arr = map + page - 56 * sz;
    auto good = entries(56);
    std::memcpy(arr, good.data(), 56 * sz);
    for (uint32_t n : {64u, 57u, 200u}) {
        SCOPED_TRACE(n);
        // The buffer holds n good entries from the call before.
        auto v = entries(n);
        EXPECT_EQ(applied(v.data(), n, &handled, &msg), 0) << msg;
        handled = 99;
        EXPECT_EQ(applied(arr, n, &handled, &msg), -EFAULT);
        EXPECT_EQ(handled, 0u);
        EXPECT_EQ(
                msg, "batch: cannot read " + std::to_string(n) + " entries at 0x" + [&] {
                    char b[32];
                    snprintf(b, sizeof(b), "%llx", (unsigned long long)(uintptr_t)arr);
                    return std::string(b);
                }());
    }
    // The readable part alone is a good batch.
    handled = 0;
    EXPECT_EQ(applied(arr, 56, &handled, &msg), 0) << msg;
    EXPECT_EQ(handled, 56u);
    munmap(map, page);
}

// Two threads batching on one context: one holds the context's buffer, the
// other copies into its own; every entry of every call is applied.
TEST_F(Sizes, ConcurrentBatchesShareNothing) {
    constexpr uint32_t kCalls = 500;
    const uint64_t base = 0x100000000000ull;
    vsva_emu_counters c0, c1;
    ASSERT_EQ(counters(fd(), &c0), 0);
    std::atomic<int> bad{0};
    auto run = [&](uint32_t n) {
        std::vector<vsva_cache_invalidate_info> v;
        for (uint32_t i = 0; i < n; i++)
            v.push_back(inv_addr(pasid, base + i * 4096));
        for (uint32_t k = 0; k < kCalls; k++) {
            uint32_t handled = 0;
            if (invalidate_batch(fd(), dev, 0, v.data(), sizeof(v[0]), n, &handled) || handled != n)
                bad++;
        }
    };
    std::thread a(run, 64), b(run, 48);
    a.join();
    b.join();
    EXPECT_EQ(bad.load(), 0);
    ASSERT_EQ(counters(fd(), &c1), 0);
    EXPECT_EQ(c1.out_invalidations - c0.out_invalidations, kCalls * (64u + 48u));
}

} // namespace
