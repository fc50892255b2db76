// SPDX-License-Identifier: GPL-2.0
// The four upstream cases (equal, older user, newer user, malicious argsz)
// for the argument of EVERY /dev/vsva command, built against the current
// header, plus the flags/reserved rules.  One parameterised test per
// (command, case); a valid argument is built by the command's own filler in
// a fresh context, so a "works" case proves the call really did its job.
//
// Expected results (uapi DOC "General rules and the errno contract"):
//   equal / v1 minimum / larger with zero tail      -> 0, outputs correct
//   minimum - 1, argsz 0, argsz 4                   -> -EINVAL
//   larger with a non-zero byte in the tail         -> -E2BIG
//   argsz past the end of the readable buffer, huge -> -EFAULT
//   unknown flag bit / non-zero __reserved          -> -EOPNOTSUPP
#include <functional>
#include <vector>

#include <linux/vsva.h>

#include <gtest/gtest.h>

#include "compat_util.h"
#include "v1_sizes.h"
#include "world.inc"

using namespace compat;

namespace {

// Payloads a filler points at; they live as long as the call.
struct Aux {
    vsva_gpasid_bind_data bind;
    vsva_cache_invalidate_info inv[2];
    vsva_page_response resp;
    char dma[8];
};

struct Cmd {
    const char* name;
    unsigned long cmd;
    size_t ksize;
    Level level;
    bool pri;
    std::vector<size_t> reserved; // offsets of __u32 reserved fields
    std::function<void(World&, Aux&, void*)> fill;
    std::function<void(World&, const void*)> check; // after success
};

#define ARG(T) auto* a = static_cast<T*>(p)
#define CARG(T) auto* a = static_cast<const T*>(p)

int counters(World& w, vsva_emu_counters* c) {
    *c = zeroed<vsva_emu_counters>();
    return xioctl(w.ctx.get(), VSVA_EMU_COUNTERS, c);
}

int pasid_entry(World& w, vsva_emu_pasid_entry* pe) {
    *pe = zeroed<vsva_emu_pasid_entry>();
    pe->dev_id = w.dev_id;
    pe->pasid = w.hpasid;
    return xioctl(w.ctx.get(), VSVA_EMU_PASID_ENTRY, pe);
}

vsva_cache_invalidate_info pasid_inv(uint32_t hpasid) {
    vsva_cache_invalidate_info inv;
    memset(&inv, 0, sizeof(inv));
    inv.argsz = sizeof(inv);
    inv.version = VSVA_CACHE_INVALIDATE_INFO_VERSION_1;
    inv.cache = VSVA_CACHE_INV_TYPE_IOTLB;
    inv.granularity = VSVA_INV_GRANU_PASID;
    inv.granu.pasid_info.flags = VSVA_INV_PASID_FLAGS_PASID;
    inv.granu.pasid_info.pasid = hpasid;
    return inv;
}

void nesting_fill(void* p, uint32_t target, const void* payload, uint32_t len) {
    ARG(vsva_nesting_op);
    a->target_id = target;
    a->data_len = len;
    a->data_uptr = (uintptr_t)payload;
}

const std::vector<Cmd>& cmds() {
    static const std::vector<Cmd> v = {
            {"GET_INFO",
             VSVA_GET_INFO,
             sizeof(vsva_info),
             Level::Ctx,
             false,
             {},
             [](World&, Aux&, void*) {},
             [](World&, const void* p) {
                 CARG(vsva_info);
                 EXPECT_EQ(a->out_uapi_version, (unsigned)VSVA_UAPI_VERSION);
                 EXPECT_EQ(a->out_pasid_bits, 20u);
                 EXPECT_TRUE(a->out_formats & (1u << VSVA_PASID_FORMAT_INTEL_VTD));
             }},
            {"DOMAIN_ALLOC",
             VSVA_DOMAIN_ALLOC,
             sizeof(vsva_domain_alloc),
             Level::Ctx,
             false,
             {offsetof(vsva_domain_alloc, __reserved)},
             [](World&, Aux&, void*) {},
             [](World& w, const void* p) {
                 CARG(vsva_domain_alloc);
                 auto d = zeroed<vsva_destroy>();
                 d.id = a->out_domain_id;
                 EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_DOMAIN_DESTROY, &d)), "0")
                         << "the new domain id does not work";
             }},
            {"DOMAIN_DESTROY",
             VSVA_DOMAIN_DESTROY,
             sizeof(vsva_destroy),
             Level::Domain,
             false,
             {offsetof(vsva_destroy, __reserved)},
             [](World& w, Aux&, void* p) {
                 ARG(vsva_destroy);
                 a->id = w.domain_id;
             },
             [](World& w, const void*) {
                 auto d = zeroed<vsva_destroy>();
                 d.id = w.domain_id;
                 EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_DOMAIN_DESTROY, &d)), errname(-ENOENT))
                         << "the domain is still there";
             }},
            {"MAP",
             VSVA_MAP,
             sizeof(vsva_map),
             Level::Domain,
             false,
             {offsetof(vsva_map, __reserved), offsetof(vsva_map, __reserved2)},
             [](World& w, Aux&, void* p) {
                 ARG(vsva_map);
                 a->flags = VSVA_MAP_READ | VSVA_MAP_WRITE;
                 a->domain_id = w.domain_id;
                 a->gpa = kGpaBase;
                 a->length = w.ram.len();
                 a->vaddr = (uintptr_t)w.ram.data();
             },
             [](World& w, const void*) {
                 vsva_emu_counters c;
                 ASSERT_EQ(errname(counters(w, &c)), "0");
                 EXPECT_EQ(c.out_pinned_pages, kRamPages);
             }},
            {"UNMAP",
             VSVA_UNMAP,
             sizeof(vsva_unmap),
             Level::Mapped,
             false,
             {offsetof(vsva_unmap, __reserved)},
             [](World& w, Aux&, void* p) {
                 ARG(vsva_unmap);
                 a->domain_id = w.domain_id;
                 a->gpa = kGpaBase;
                 a->length = w.ram.len();
             },
             [](World& w, const void* p) {
                 CARG(vsva_unmap);
                 EXPECT_EQ(a->out_unmapped, w.ram.len());
             }},
            {"DEVICE_ATTACH",
             VSVA_DEVICE_ATTACH,
             sizeof(vsva_device_attach),
             Level::Attached,
             false,
             {offsetof(vsva_device_attach, __reserved)},
             [](World& w, Aux&, void* p) {
                 // the world attached an endpoint to find one: free it again
                 ASSERT_EQ(errname(w.detach(w.dev_id)), "0");
                 ARG(vsva_device_attach);
                 a->rid = w.rid;
                 a->domain_id = w.domain_id;
             },
             [](World&, const void* p) {
                 CARG(vsva_device_attach);
                 EXPECT_TRUE(a->out_caps & VSVA_DEV_CAP_PASID);
             }},
            {"DEVICE_DETACH",
             VSVA_DEVICE_DETACH,
             sizeof(vsva_destroy),
             Level::Attached,
             false,
             {offsetof(vsva_destroy, __reserved)},
             [](World& w, Aux&, void* p) {
                 ARG(vsva_destroy);
                 a->id = w.dev_id;
             },
             [](World& w, const void*) {
                 EXPECT_EQ(errname(w.detach(w.dev_id)), errname(-ENOENT));
             }},
            {"PASID_ALLOC",
             VSVA_PASID_ALLOC,
             sizeof(vsva_pasid_alloc),
             Level::Ctx,
             false,
             {offsetof(vsva_pasid_alloc, __reserved2)},
             [](World&, Aux&, void*) {},
             [](World&, const void* p) {
                 CARG(vsva_pasid_alloc);
                 EXPECT_GT(a->out_hpasid, 0u);
                 EXPECT_LT(a->out_hpasid, 1u << 20);
             }},
            {"PASID_FREE",
             VSVA_PASID_FREE,
             sizeof(vsva_pasid_free),
             Level::Pasid,
             false,
             {offsetof(vsva_pasid_free, __reserved)},
             [](World& w, Aux&, void* p) {
                 ARG(vsva_pasid_free);
                 a->hpasid = w.hpasid;
             },
             [](World& w, const void*) {
                 auto f = zeroed<vsva_pasid_free>();
                 f.hpasid = w.hpasid;
                 EXPECT_EQ(errname(xioctl(w.ctx.get(), VSVA_PASID_FREE, &f)), errname(-ENOENT));
             }},
            {"BIND_GPASID",
             VSVA_BIND_GPASID,
             sizeof(vsva_nesting_op),
             Level::Pasid,
             false,
             {offsetof(vsva_nesting_op, __reserved)},
             [](World& w, Aux& x, void* p) {
                 x.bind = w.bind_payload();
                 nesting_fill(p, w.dev_id, &x.bind, sizeof(x.bind));
             },
             [](World& w, const void*) {
                 vsva_emu_pasid_entry pe;
                 ASSERT_EQ(errname(pasid_entry(w, &pe)), "0");
                 EXPECT_EQ(pe.out_present, 1u);
                 EXPECT_EQ(pe.out_gpgd, gpa_of(kPml4));
             }},
            {"UNBIND_GPASID",
             VSVA_UNBIND_GPASID,
             sizeof(vsva_nesting_op),
             Level::Bound,
             false,
             {offsetof(vsva_nesting_op, __reserved)},
             [](World& w, Aux& x, void* p) {
                 x.bind = w.bind_payload();
                 nesting_fill(p, w.dev_id, &x.bind, sizeof(x.bind));
             },
             [](World& w, const void*) {
                 vsva_emu_pasid_entry pe;
                 ASSERT_EQ(errname(pasid_entry(w, &pe)), "0");
                 EXPECT_EQ(pe.out_present, 0u);
             }},
            {"CACHE_INVALIDATE",
             VSVA_CACHE_INVALIDATE,
             sizeof(vsva_nesting_op),
             Level::Bound,
             false,
             {offsetof(vsva_nesting_op, __reserved)},
             [](World& w, Aux& x, void* p) {
                 x.inv[0] = pasid_inv(w.hpasid);
                 nesting_fill(p, w.dev_id, &x.inv[0], sizeof(x.inv[0]));
             },
             [](World& w, const void*) {
                 vsva_emu_counters c;
                 ASSERT_EQ(errname(counters(w, &c)), "0");
                 EXPECT_EQ(c.out_invalidations, 1u);
             }},
            {"CACHE_INVALIDATE_BATCH",
             VSVA_CACHE_INVALIDATE_BATCH,
             sizeof(vsva_cache_invalidate_batch),
             Level::Bound,
             false,
             {offsetof(vsva_cache_invalidate_batch, __reserved),
              offsetof(vsva_cache_invalidate_batch, __reserved2)},
             [](World& w, Aux& x, void* p) {
                 x.inv[0] = x.inv[1] = pasid_inv(w.hpasid);
                 ARG(vsva_cache_invalidate_batch);
                 a->target_id = w.dev_id;
                 a->entry_len = sizeof(x.inv[0]);
                 a->entry_num = 2;
                 a->data_uptr = (uintptr_t)x.inv;
             },
             [](World& w, const void* p) {
                 CARG(vsva_cache_invalidate_batch);
                 EXPECT_EQ(a->entry_num, 2u);
                 vsva_emu_counters c;
                 ASSERT_EQ(errname(counters(w, &c)), "0");
                 EXPECT_EQ(c.out_invalidations, 2u);
             }},
            {"FAULT_ALLOC",
             VSVA_FAULT_ALLOC,
             sizeof(vsva_fault_alloc),
             Level::Ctx,
             false,
             {offsetof(vsva_fault_alloc, __reserved)},
             [](World&, Aux&, void*) {},
             [](World&, const void* p) {
                 CARG(vsva_fault_alloc);
                 int fd = (int)a->out_fault_fd;
                 EXPECT_GE(fcntl(fd, F_GETFD), 0) << "out_fault_fd is not open";
                 EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
                 close(fd);
             }},
            {"PAGE_RESPONSE",
             VSVA_PAGE_RESPONSE,
             sizeof(vsva_nesting_op),
             Level::PageReq,
             true,
             {offsetof(vsva_nesting_op, __reserved)},
             [](World& w, Aux& x, void* p) {
                 memset(&x.resp, 0, sizeof(x.resp));
                 x.resp.argsz = sizeof(x.resp);
                 x.resp.version = VSVA_PAGE_RESP_VERSION_1;
                 x.resp.flags = VSVA_PAGE_RESP_PASID_VALID;
                 x.resp.pasid = w.hpasid;
                 x.resp.grpid = w.grpid;
                 x.resp.code = VSVA_PAGE_RESP_INVALID;
                 nesting_fill(p, w.dev_id, &x.resp, sizeof(x.resp));
             },
             [](World&, const void*) {}},
            {"EMU_DMA",
             VSVA_EMU_DMA,
             sizeof(vsva_emu_dma),
             Level::Bound,
             false,
             {},
             [](World& w, Aux& x, void* p) {
                 memcpy(x.dma, "compat!", 8);
                 ARG(vsva_emu_dma);
                 a->flags = VSVA_EMU_DMA_WRITE;
                 a->dev_id = w.dev_id;
                 a->pasid = w.hpasid;
                 a->iova = kIova + 8;
                 a->len = 8;
                 a->buf_uptr = (uintptr_t)x.dma;
             },
             [](World& w, const void* p) {
                 CARG(vsva_emu_dma);
                 EXPECT_EQ(a->out_done, 8u);
                 EXPECT_EQ(a->out_flags, 0u);
                 EXPECT_EQ(memcmp(w.ram.data() + kData0 * 4096 + 8, "compat!", 8), 0);
             }},
            {"EMU_PASID_ENTRY",
             VSVA_EMU_PASID_ENTRY,
             sizeof(vsva_emu_pasid_entry),
             Level::Bound,
             false,
             {offsetof(vsva_emu_pasid_entry, __reserved)},
             [](World& w, Aux&, void* p) {
                 ARG(vsva_emu_pasid_entry);
                 a->dev_id = w.dev_id;
                 a->pasid = w.hpasid;
             },
             [](World& w, const void* p) {
                 CARG(vsva_emu_pasid_entry);
                 EXPECT_EQ(a->out_present, 1u);
                 EXPECT_EQ(a->out_addr_width, 48u);
                 EXPECT_EQ(a->out_gpgd, gpa_of(kPml4));
                 EXPECT_EQ(a->out_domain_id, w.domain_id);
             }},
            {"EMU_COUNTERS",
             VSVA_EMU_COUNTERS,
             sizeof(vsva_emu_counters),
             Level::Domain,
             false,
             {},
             [](World&, Aux&, void*) {},
             [](World&, const void* p) {
                 CARG(vsva_emu_counters);
                 EXPECT_EQ(a->out_binds, 0u);
                 EXPECT_EQ(a->out_pinned_pages, 0u);
             }},
    };
    return v;
}

enum Case {
    kEqual,
    kV1Minimum,
    kBelowMinimum,
    kArgszOnly,
    kArgszZero,
    kNewerZeroTail,
    kNewerZeroPage,
    kNewerTailFirstByte,
    kNewerTailLastByte,
    kPastReadable,
    kStructCutByGuard,
    kHugeArgsz,
    kNullArg,
    kUnknownFlag,
    kReservedNonZero,
    kNumCases
};

const char* case_name(int c) {
    static const char* n[] = {"Equal",
                              "V1Minimum",
                              "BelowMinimum_EINVAL",
                              "ArgszOnly_EINVAL",
                              "ArgszZero_EINVAL",
                              "NewerZeroTail",
                              "NewerZeroPage",
                              "NewerTailFirstByte_E2BIG",
                              "NewerTailLastByte_E2BIG",
                              "ArgszPastReadable_EFAULT",
                              "StructCutByGuard_EFAULT",
                              "HugeArgsz_EFAULT",
                              "NullArg_EFAULT",
                              "UnknownFlag_EOPNOTSUPP",
                              "ReservedNonZero_EOPNOTSUPP"};
    return n[c];
}

class Sizes : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(Sizes, Case) {
    const Cmd& c = cmds()[std::get<0>(GetParam())];
    const int kase = std::get<1>(GetParam());
    const size_t v1 = v1_size_of(c.cmd);
    ASSERT_GT(v1, 0u);
    ASSERT_LE(v1, c.ksize);

    if (kase == kReservedNonZero) {
        // one call per reserved field, each in a fresh context (one at a
        // time: an endpoint belongs to one context)
        for (size_t off : c.reserved) {
            World w2;
            ASSERT_TRUE(w2.build(c.level, c.pri)) << "setup failed at " << w2.failed;
            Aux aux2;
            memset(&aux2, 0, sizeof(aux2));
            std::vector<uint8_t> a2(c.ksize, 0);
            c.fill(w2, aux2, a2.data());
            *reinterpret_cast<uint32_t*>(a2.data()) = (uint32_t)c.ksize;
            *reinterpret_cast<uint32_t*>(a2.data() + off) = 1;
            EXPECT_EQ(errname(xioctl(w2.ctx.get(), c.cmd, a2.data())), errname(-EOPNOTSUPP))
                    << c.name << ": __reserved at offset " << off << " = 1";
        }
        return;
    }

    World w;
    ASSERT_TRUE(w.build(c.level, c.pri)) << "setup failed at " << w.failed;
    Aux aux;
    memset(&aux, 0, sizeof(aux));
    std::vector<uint8_t> arg(c.ksize, 0);
    c.fill(w, aux, arg.data());
    if (::testing::Test::HasFatalFailure())
        return;

    GuardBuf gb(2 * 4096);
    size_t argsz = c.ksize, room = c.ksize, extra = 0;
    int want = 0;
    bool check = true;
    switch (kase) {
    case kEqual:
        break;
    case kV1Minimum:
        argsz = v1;
        break;
    case kBelowMinimum:
        argsz = v1 - 1;
        want = -EINVAL;
        break;
    case kArgszOnly:
        argsz = 4;
        want = -EINVAL;
        break;
    case kArgszZero:
        argsz = 0;
        want = -EINVAL;
        break;
    case kNewerZeroTail:
        argsz = room = c.ksize + 16;
        break;
    case kNewerZeroPage:
        argsz = room = c.ksize + 4096;
        break;
    case kNewerTailFirstByte:
        argsz = room = c.ksize + 16;
        extra = c.ksize;
        want = -E2BIG;
        break;
    case kNewerTailLastByte:
        argsz = room = c.ksize + 16;
        extra = c.ksize + 15;
        want = -E2BIG;
        break;
    case kPastReadable:
        argsz = c.ksize + 16;
        want = -EFAULT;
        break;
    case kStructCutByGuard:
        room = c.ksize - 8;
        want = -EFAULT;
        break;
    case kHugeArgsz:
        argsz = 0xffffffffu;
        want = -EFAULT;
        break;
    case kNullArg:
        want = -EFAULT;
        break;
    case kUnknownFlag:
        reinterpret_cast<uint32_t*>(arg.data())[1] |= 1u << 31; // flags
        want = -EOPNOTSUPP;
        break;
    }
    if (want)
        check = false;

    char* p = gb.tail(room);
    memcpy(p, arg.data(), std::min(room, c.ksize));
    if (room > c.ksize)
        memset(p + c.ksize, 0, room - c.ksize);
    if (extra)
        p[extra] = (char)0x80;
    *reinterpret_cast<uint32_t*>(p) = (uint32_t)argsz;

    int rc = xioctl(w.ctx.get(), c.cmd, kase == kNullArg ? nullptr : p);
    ASSERT_EQ(errname(rc), errname(want)) << c.name << " argsz=" << argsz << " (sizeof " << c.ksize
                                          << ", v1 " << v1 << ") case " << case_name(kase);
    if (!check)
        return;
    c.check(w, p);
    if (room > c.ksize) { // a newer user's tail: the module must not write it
        for (size_t i = c.ksize; i < room; i++) {
            ASSERT_EQ(p[i], 0) << "byte " << i << " of the tail was written";
        }
    }
}

// Every (command, case), minus "reserved" for commands that have none.
std::vector<std::tuple<int, int>> all_cases() {
    std::vector<std::tuple<int, int>> v;
    for (int c = 0; c < (int)cmds().size(); c++)
        for (int k = 0; k < kNumCases; k++)
            if (k != kReservedNonZero || !cmds()[c].reserved.empty())
                v.emplace_back(c, k);
    return v;
}

INSTANTIATE_TEST_SUITE_P(AllCommands, Sizes, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<std::tuple<int, int>>& i) {
                             return std::string(cmds()[std::get<0>(i.param)].name) + "_" +
                                    case_name(std::get<1>(i.param));
                         });

} // namespace
