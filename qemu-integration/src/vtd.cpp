// SPDX-License-Identifier: GPL-2.0
// VT-d rev 5.10 decoding: PASID directory/table entries and queued
// invalidation descriptors.  Written from the spec facts in
// Documentation/qemu-integration.md; every reserved-bit rule is one mask.
#include "vsva/qemu/vtd.h"

#include <cerrno>

#include <linux/vsva.h>

#include <fmt/format.h>

namespace vsva::qemu {
namespace {

constexpr uint64_t bits(unsigned hi, unsigned lo) {
    return (hi >= 63 ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}
constexpr uint64_t field(uint64_t v, unsigned lo, unsigned width) {
    return (v >> lo) & ((1ull << width) - 1);
}
// Pointer bits at or above HAW (within a qword whose bits 63:12 are a page
// pointer) are reserved.
constexpr uint64_t above_haw(unsigned haw) {
    return haw >= 64 ? 0 : bits(63, haw);
}

vsva::Unexpected invalid(std::string msg) {
    return vtd_error(EINVAL, std::move(msg));
}

template <class... A>
vsva::Unexpected bad(fmt::format_string<A...> f, A&&... a) {
    return invalid(fmt::format(f, std::forward<A>(a)...));
}

} // namespace

const char* pgtt_name(Pgtt p) {
    switch (p) {
    case Pgtt::kFirstStage:
        return "first-stage";
    case Pgtt::kSecondStage:
        return "second-stage";
    case Pgtt::kNested:
        return "nested";
    case Pgtt::kPassThrough:
        return "pass-through";
    }
    return "reserved";
}

Result<PasidDirEntry> decode_pasid_dir_entry(uint64_t v, const VtdCaps& caps) {
    PasidDirEntry d;
    d.present = v & 1;
    if (!d.present)
        return d;
    d.fpd = (v >> 1) & 1;
    if (uint64_t r = v & bits(11, 2))
        return bad("PASID directory entry {:#x}: reserved bits {:#x} (11:2) set", v, r);
    if (uint64_t r = v & above_haw(caps.haw))
        return bad("PASID directory entry {:#x}: table pointer bits {:#x} above HAW {}", v, r,
                   caps.haw);
    d.table = v & bits(63, 12);
    return d;
}

Result<PasidEntry> decode_pasid_entry(const PasidEntryRaw& e, const VtdCaps& caps) {
    PasidEntry pe;
    pe.present = e[0] & 1;
    if (!pe.present)
        return pe;

    using R = PasidEntryReserved;
    const uint64_t rsv[8] = {R::kQw0, R::kQw1, R::kQw2, R::kQw3, ~0ull, ~0ull, ~0ull, ~0ull};
    static const char* const where[8] = {"bit 5 / 11:10",
                                         "86:80 / 95:91 (EMT, PWT, PCD in rev 3.x)",
                                         "129 (ERE in rev 3.x) / 139:136",
                                         "255:192",
                                         "319:256 (HPT not advertised)",
                                         "383:320",
                                         "447:384",
                                         "511:448"};
    for (unsigned q = 0; q < 8; ++q)
        if (uint64_t r = e[q] & rsv[q])
            return bad("PASID entry: reserved bits {:#x} in qword {} (bits {}) set", r, q,
                       where[q]);

    pe.fpd = (e[0] >> 1) & 1;
    pe.aw = field(e[0], 2, 3);
    const auto pgtt = static_cast<unsigned>(field(e[0], 6, 3));
    if (pgtt == 0 || pgtt > 4)
        return bad("PASID entry: PGTT {:03b}b is reserved", pgtt);
    pe.pgtt = static_cast<Pgtt>(pgtt);
    pe.ssade = (e[0] >> 9) & 1;
    pe.ssptptr = e[0] & bits(63, 12);

    pe.did = field(e[1], 0, 16) & ((1u << caps.nd_bits) - 1);
    pe.pwsnp = (e[1] >> 23) & 1;
    pe.pgsnp = (e[1] >> 24) & 1;
    pe.cd = (e[1] >> 25) & 1;
    pe.emte = (e[1] >> 26) & 1;
    pe.pat = static_cast<uint32_t>(e[1] >> 32);

    pe.sre = e[2] & 1;
    pe.fspm = field(e[2], 2, 2);
    pe.wpe = (e[2] >> 4) & 1;
    pe.eafe = (e[2] >> 7) & 1;
    pe.fsptptr = e[2] & bits(63, 12);

    if (pe.pwsnp && !caps.smpwc)
        return bad("PASID entry: PWSNP set but ECAP.SMPWC=0");
    if (pe.pgsnp && !caps.sc)
        return bad("PASID entry: PGSNP set but ECAP.SC=0");
    if ((pe.cd || pe.emte) && !caps.mts)
        return bad("PASID entry: CD/EMTE set but ECAP.MTS=0 (memory types are host-owned)");

    const bool uses_fs = pe.pgtt == Pgtt::kFirstStage || pe.pgtt == Pgtt::kNested;
    const bool uses_ss = pe.pgtt == Pgtt::kSecondStage || pe.pgtt == Pgtt::kNested;
    if (uses_fs) {
        if (pe.fspm > 1)
            return bad("PASID entry: FSPM {:02b}b is reserved", pe.fspm);
        if (pe.fspm == 1 && !caps.fs5lp)
            return bad("PASID entry: FSPM=01b (5-level) but CAP.FS5LP=0");
        if (pe.sre && !caps.srs)
            return bad("PASID entry: SRE set but ECAP.SRS=0");
        if (pe.eafe && !caps.eafs)
            return bad("PASID entry: EAFE set but ECAP.EAFS=0");
        if (uint64_t r = pe.fsptptr & above_haw(caps.haw))
            return bad("PASID entry: FSPTPTR bits {:#x} above HAW {}", r, caps.haw);
    }
    if (uses_ss) {
        if (pe.aw < 1 || pe.aw > 3)
            return bad("PASID entry: AW {:03b}b is reserved", pe.aw);
        if (uint64_t r = pe.ssptptr & above_haw(caps.haw))
            return bad("PASID entry: SSPTPTR bits {:#x} above HAW {}", r, caps.haw);
    }
    return pe;
}

Result<BindIntent> bind_intent(const PasidEntry& pe, uint32_t gpasid) {
    if (!pe.present)
        return vtd_error(ENOENT, fmt::format("PASID {}: entry not present", gpasid));
    if (pe.pgtt != Pgtt::kFirstStage)
        return vtd_error(
                EOPNOTSUPP,
                fmt::format("PASID {}: PGTT {} has no stage-1 bind (only first-stage is nested "
                            "on the host)",
                            gpasid, pgtt_name(pe.pgtt)));
    BindIntent b;
    b.gpasid = gpasid;
    b.gpgd = pe.fsptptr;
    b.addr_width = pe.fs_addr_width();
    b.did = pe.did;
    if (pe.sre)
        b.vtd_flags |= VSVA_VTD_GPASID_SRE;
    if (pe.eafe)
        b.vtd_flags |= VSVA_VTD_GPASID_EAFE;
    if (pe.wpe)
        b.vtd_flags |= VSVA_VTD_GPASID_WPE;
    return b;
}

const char* desc_type_name(unsigned type) {
    switch (type) {
    case 1:
        return "CC";
    case 2:
        return "IOTLB";
    case 3:
        return "DEVTLB";
    case 4:
        return "IEC";
    case 5:
        return "WAIT";
    case 6:
        return "P_IOTLB";
    case 7:
        return "PC";
    case 8:
        return "P_DEVTLB";
    case 9:
        return "PGRP_RESP";
    case 10:
        return "HPT_CACHE";
    default:
        return "unknown";
    }
}

Range am_range(uint64_t addr, uint8_t am) {
    const uint64_t size = 4096ull << am;
    return Range{addr & ~(size - 1), size, false};
}

Range ats_range(uint64_t addr, bool s) {
    addr &= bits(63, 12);
    if (!s)
        return Range{addr, 4096, false};
    for (unsigned b = 12; b < 63; ++b)
        if (!((addr >> b) & 1)) {
            const uint64_t size = 1ull << (b + 1);
            return Range{addr & ~(size - 1), size, false};
        }
    return Range{0, 0, true};
}

namespace {

// Type 9.  Reserved: qw0 8:6, 11:9 (type high bits, zero for 9), 63:52;
// qw1 1:0 and 63:12; qw2..3 unless PDP.  A reserved response code
// (0x2..0xE) is an invalid descriptor too: it has no meaning to forward.
Result<Descriptor> decode_pgrp_resp(std::span<const uint64_t> d) {
    const uint64_t lo = d[0], hi = d[1];
    if (uint64_t r = lo & (bits(11, 6) | bits(63, 52)))
        return bad("PGRP_RESP: reserved bits {:#x} set in qword 0", r);
    if (uint64_t r = hi & (bits(1, 0) | bits(63, 12)))
        return bad("PGRP_RESP: reserved bits {:#x} set in qword 1", r);
    PgrpRespDesc p;
    p.pv = (lo >> 4) & 1;
    p.pdp = (lo >> 5) & 1;
    p.code = static_cast<uint8_t>(field(lo, 12, 4));
    p.rid = static_cast<uint16_t>(field(lo, 16, 16));
    p.pasid = static_cast<uint32_t>(field(lo, 32, 20));
    p.lpig = (hi >> 2) & 1;
    p.prgi = static_cast<uint16_t>(field(hi, 3, 9));
    if (p.pdp) {
        p.priv[0] = d[2];
        p.priv[1] = d[3];
    } else if (d[2] | d[3]) {
        return bad("PGRP_RESP: private data {:#x}, {:#x} without PDP", d[2], d[3]);
    }
    if (!v1_page_response_code(p.code))
        return bad("PGRP_RESP: response code {:#x} is reserved (0 success, 1 invalid, 0xf "
                   "failure)",
                   p.code);
    return Descriptor{p};
}

} // namespace

Result<uint32_t> v1_page_response_code(unsigned prg_code) {
    switch (prg_code) {
    case kPrgSuccess:
        return uint32_t{VSVA_PAGE_RESP_SUCCESS};
    case kPrgInvalidRequest:
        return uint32_t{VSVA_PAGE_RESP_INVALID};
    case kPrgResponseFailure:
        return uint32_t{VSVA_PAGE_RESP_FAILURE};
    default:
        return bad("page response code {:#x} is reserved in PCIe (0 success, 1 invalid "
                   "request, 0xf response failure)",
                   prg_code);
    }
}

uint8_t prg_code_of_v1(uint32_t v1_code) {
    switch (v1_code) {
    case VSVA_PAGE_RESP_SUCCESS:
        return kPrgSuccess;
    case VSVA_PAGE_RESP_INVALID:
        return kPrgInvalidRequest;
    default:
        return kPrgResponseFailure;
    }
}

std::array<uint64_t, 4> encode_page_request(const PageReqDesc& d) {
    std::array<uint64_t, 4> q{};
    q[0] = 1 | (uint64_t{d.pv} << 8) | (uint64_t{d.pdp} << 9) | (uint64_t{d.rid} << 16) |
           (uint64_t{d.pasid & kPasidMax} << 32) | (uint64_t{d.exe} << 52) | (uint64_t{d.pm} << 53);
    q[1] = uint64_t{d.rd} | (uint64_t{d.wr} << 1) | (uint64_t{d.lpig} << 2) |
           (uint64_t{d.prgi & 0x1ffu} << 3) | (d.addr & bits(63, 12));
    if (d.pdp) {
        q[2] = d.priv[0];
        q[3] = d.priv[1];
    }
    return q;
}

uint8_t vtd_fault_reason(uint32_t host_reason, uint32_t perm) {
    namespace fr = fault_reason;
    switch (host_reason) {
    case VSVA_FAULT_REASON_PASID_FETCH:
        return fr::kPasidEntryFetch;
    case VSVA_FAULT_REASON_BAD_PASID_ENTRY:
        return fr::kPasidEntryReserved;
    case VSVA_FAULT_REASON_PASID_INVALID:
        return fr::kPasidEntryNotPresent;
    case VSVA_FAULT_REASON_PTE_FETCH:
        return fr::kFsEntryNotPresent;
    case VSVA_FAULT_REASON_PERMISSION:
        if (perm & VSVA_FAULT_PERM_WRITE)
            return fr::kNoWrite;
        if (perm & VSVA_FAULT_PERM_EXEC)
            return fr::kNoExecute;
        return fr::kNoRead;
    case VSVA_FAULT_REASON_OOR_ADDRESS:
        return fr::kNotCanonical;
    case VSVA_FAULT_REASON_WALK_EABT:
    case VSVA_FAULT_REASON_ACCESS:
    default:
        return fr::kFsEntryFetch;
    }
}

Result<Descriptor> decode_descriptor(std::span<const uint64_t> d, QueueMode mode,
                                     const VtdCaps& caps) {
    const size_t want = mode.dw256 ? 4 : 2;
    if (d.size() != want)
        return bad("descriptor of {} qwords in a {}-bit queue", d.size(), mode.dw256 ? 256 : 128);
    const uint64_t lo = d[0], hi = d[1];
    const unsigned type = desc_type(lo);
    const char* name = desc_type_name(type);
    if (type == 0 || type > 10)
        return bad("descriptor type {:#x} is reserved", type);
    if (!mode.scalable && type > 5)
        return bad("{} (type {}) is invalid in legacy mode", name, type);
    if (mode.scalable && !mode.dw256)
        return bad("{}: 128-bit descriptors are invalid in scalable mode (IQA.DW=0)", name);
    if (type >= 6 && !mode.dw256)
        return bad("{} is a 256-bit descriptor, IQA.DW=0", name);
    if (type == 10)
        return bad("{} (type {}) is not supported by this vIOMMU (ECAP.HPTS=0)", name, type);
    if (type == 9 && !caps.prs)
        return bad("{} (type 9) is invalid: this vIOMMU does not advertise ECAP.PRS", name);
    if (type == 9)
        return decode_pgrp_resp(d);
    if (mode.dw256 && (d[2] | d[3]))
        return bad("{}: bits 255:128 must be zero ({:#x}, {:#x})", name, d[2], d[3]);

    auto check = [&](uint64_t rlo, uint64_t rhi) -> Result<void> {
        if (uint64_t r = lo & rlo)
            return bad("{}: reserved bits {:#x} set in qword 0", name, r);
        if (uint64_t r = hi & rhi)
            return bad("{}: reserved bits {:#x} set in qword 1", name, r);
        return {};
    };
    const uint64_t did_mask = (1ull << caps.nd_bits) - 1;

    switch (static_cast<DescType>(type)) {
    case DescType::kContextCache: {
        if (auto s = check(0xfffc00000000f1c0ull, ~0ull); !s)
            return vsva::Unexpected(s.error());
        CcDesc c{static_cast<uint8_t>(field(lo, 4, 2)),
                 static_cast<uint16_t>(field(lo, 16, 16) & did_mask),
                 static_cast<uint16_t>(field(lo, 32, 16)), static_cast<uint8_t>(field(lo, 48, 2))};
        if (c.g == 0)
            return bad("CC: granularity 00b is invalid");
        return Descriptor{c};
    }
    case DescType::kIotlb: {
        if (auto s = check(0xffffffff0000f100ull, 0xf80ull); !s)
            return vsva::Unexpected(s.error());
        IotlbDesc t;
        t.g = field(lo, 4, 2);
        t.dw = (lo >> 6) & 1;
        t.dr = (lo >> 7) & 1;
        t.did = field(lo, 16, 16) & did_mask;
        t.am = field(hi, 0, 6);
        t.ih = (hi >> 6) & 1;
        t.addr = hi & bits(63, 12);
        if (t.g == 0)
            return bad("IOTLB: granularity 00b is invalid");
        if (t.g == 3 && !caps.psi)
            return bad("IOTLB: page-selective but CAP.PSI=0");
        if (t.g == 3 && t.am > caps.mamv)
            return bad("IOTLB: AM {} above MAMV {}", t.am, caps.mamv);
        return Descriptor{t};
    }
    case DescType::kDevTlb: {
        const uint64_t pfsid = caps.dit ? (bits(15, 12) | bits(63, 52)) : 0;
        if (auto s = check(0xffff0000ffe0f1f0ull & ~pfsid, 0xffeull); !s)
            return vsva::Unexpected(s.error());
        DevTlbDesc t;
        t.pfsid = static_cast<uint16_t>(field(lo, 12, 4) | (field(lo, 52, 12) << 4));
        t.mip = field(lo, 16, 5);
        t.sid = field(lo, 32, 16);
        t.s = hi & 1;
        t.addr = hi & bits(63, 12);
        return Descriptor{t};
    }
    case DescType::kIec: {
        if (auto s = check(0xffff000007fff1e0ull, ~0ull); !s)
            return vsva::Unexpected(s.error());
        return Descriptor{IecDesc{static_cast<bool>((lo >> 4) & 1),
                                  static_cast<uint8_t>(field(lo, 27, 5)),
                                  static_cast<uint16_t>(field(lo, 32, 16))}};
    }
    case DescType::kWait: {
        const uint64_t pd = caps.pds ? 0 : (1ull << 7);
        if (auto s = check(0xfffff100ull | pd, 3); !s)
            return vsva::Unexpected(s.error());
        WaitDesc w;
        w.iflag = (lo >> 4) & 1;
        w.sw = (lo >> 5) & 1;
        w.fn = (lo >> 6) & 1;
        w.pd = (lo >> 7) & 1;
        w.status_data = static_cast<uint32_t>(lo >> 32);
        w.status_addr = hi & ~3ull & ~above_haw(caps.haw); // bits 127:HAW+64 ignored
        return Descriptor{w};
    }
    case DescType::kPIotlb: {
        if (auto s = check(0xfff000000000f1c0ull, 0xf80ull); !s)
            return vsva::Unexpected(s.error());
        PIotlbDesc t;
        t.g = field(lo, 4, 2);
        t.did = field(lo, 16, 16) & did_mask;
        t.pasid = field(lo, 32, 20);
        t.am = field(hi, 0, 6);
        t.ih = (hi >> 6) & 1;
        t.addr = hi & bits(63, 12);
        if (t.g < 2)
            return bad("P_IOTLB: granularity {:02b}b is reserved", t.g);
        if (t.g == kPIotlbGranuPage && t.am > caps.mamv)
            return bad("P_IOTLB: AM {} above MAMV {}", t.am, caps.mamv);
        return Descriptor{t};
    }
    case DescType::kPasidCache: {
        if (auto s = check(0xfff000000000f1c0ull, ~0ull); !s)
            return vsva::Unexpected(s.error());
        PcDesc c{static_cast<uint8_t>(field(lo, 4, 2)),
                 static_cast<uint16_t>(field(lo, 16, 16) & did_mask),
                 static_cast<uint32_t>(field(lo, 32, 20))};
        if (c.g == 2)
            return bad("PC: granularity 10b is reserved");
        return Descriptor{c};
    }
    case DescType::kPDevTlb: {
        const uint64_t pfsid = caps.dit ? (bits(15, 12) | bits(63, 52)) : 0;
        if (auto s = check(0xfff000000000f000ull & ~pfsid, 0x7feull); !s)
            return vsva::Unexpected(s.error());
        PDevTlbDesc t;
        t.mip = field(lo, 4, 5);
        t.pfsid = static_cast<uint16_t>(field(lo, 12, 4) | (field(lo, 52, 12) << 4));
        t.sid = field(lo, 16, 16);
        t.pasid = field(lo, 32, 20);
        t.gi = hi & 1;
        t.s = (hi >> 11) & 1;
        t.addr = hi & bits(63, 12);
        return Descriptor{t};
    }
    default:
        break;
    }
    return bad("descriptor type {:#x} is reserved", type);
}

} // namespace vsva::qemu
