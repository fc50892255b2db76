// SPDX-License-Identifier: GPL-2.0
// Intel VT-d scalable-mode formats a vIOMMU sees: PASID directory entries,
// 512-bit PASID table entries and invalidation-queue descriptors.
//
// Spec revision: Intel VT-d Architecture Specification rev 5.10 (D51397-018),
// §6.5.2 (descriptors) and §9.5/§9.6 (PASID directory / table entries).
// Reserved-bit rules follow that revision; see Documentation/qemu-integration.md
// for the bits that older (3.x) revisions defined and 5.10 reserves.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include <vsva/result.h>

namespace vsva::qemu {

/// The adapter's errors are libvsva's (vsva::Error, operation "vtd"): an
/// errno and a sentence naming the field and the rule.
inline vsva::Unexpected vtd_error(int code, std::string msg) {
    return vsva::fail(code, "vtd", std::move(msg));
}

/// What the virtual VT-d advertises to its guest.  Fields that gate a
/// PASID-entry bit or a descriptor field: when the capability is off, the
/// bit is treated as reserved (non-zero = malformed).
struct VtdCaps {
    unsigned haw = 48;     ///< host address width (MGAW/HAW): pointer bits at or above are reserved
    unsigned mamv = 18;    ///< CAP.MAMV: largest address mask (QEMU: 18)
    unsigned nd_bits = 16; ///< DID bits honoured (CAP.ND); higher DID bits are ignored
    bool fs5lp = true;     ///< CAP.FS5LP: 5-level first stage (FSPM=01b)
    bool srs = true;       ///< ECAP.SRS: supervisor requests (SRE)
    bool eafs = false;     ///< ECAP.EAFS: extended accessed flag (EAFE)
    bool mts = false;      ///< ECAP.MTS: memory-type support (CD, EMTE)
    bool smpwc = false;    ///< ECAP.SMPWC: page-walk snoop (PWSNP)
    bool sc = false;       ///< ECAP.SC: snoop control (PGSNP)
    bool pds = false;      ///< ECAP.PDS: page-request drain (wait descriptor PD)
    bool dit = false;      ///< ECAP.DIT: device-TLB invalidation throttling (PFSID)
    bool psi = true;       ///< CAP.PSI: page-selective IOTLB invalidation
    bool prs = false;      ///< ECAP.PRS: page requests (PRQ, page group response descriptor)
};

// ---------------------------------------------------------------------------
// PASID directory / table
// ---------------------------------------------------------------------------

/// PASID[19:6] indexes the directory, PASID[5:0] the 64-entry table.
constexpr unsigned kPasidBits = 20;
constexpr uint32_t kPasidMax = (1u << kPasidBits) - 1;
constexpr uint32_t pasid_dir_index(uint32_t pasid) {
    return pasid >> 6;
}
constexpr uint32_t pasid_table_index(uint32_t pasid) {
    return pasid & 0x3f;
}
constexpr uint64_t kPasidEntryBytes = 64;
constexpr uint64_t kPasidDirEntryBytes = 8;
/// Entries of a PASID directory whose context entry says PDTS.
constexpr uint64_t pasid_dir_entries(unsigned pdts) {
    return 1ull << (pdts + 7);
}

/// Scalable-mode PASID directory entry (64 bits, §9.5).
struct PasidDirEntry {
    bool present = false;
    bool fpd = false;
    uint64_t table = 0; ///< SMPTBLPTR: the 4 KiB PASID table (a GPA to the vIOMMU)
    bool operator==(const PasidDirEntry&) const = default;
};

/// Decodes a directory entry; a present entry with bits 11:2 or pointer bits
/// at or above HAW set is malformed (-EINVAL).  A non-present entry is not
/// checked further.
Result<PasidDirEntry> decode_pasid_dir_entry(uint64_t v, const VtdCaps& caps);

/// PASID Granular Translation Type (bits 8:6).
enum class Pgtt : uint8_t {
    kFirstStage = 1,  ///< 001b: first stage only (the guest's page tables)
    kSecondStage = 2, ///< 010b
    kNested = 3,      ///< 011b
    kPassThrough = 4, ///< 100b
};
const char* pgtt_name(Pgtt p);

/// The raw 512-bit entry, eight little-endian qwords.
using PasidEntryRaw = std::array<uint64_t, 8>;

/// Scalable-mode PASID table entry (512 bits, §9.6, rev 5.10 layout).
struct PasidEntry {
    bool present = false;
    bool fpd = false;
    uint8_t aw = 0; ///< SS AGAW (bits 4:2)
    Pgtt pgtt = Pgtt::kFirstStage;
    bool ssade = false;
    uint64_t ssptptr = 0; ///< bits 63:12
    uint16_t did = 0;     ///< bits 79:64
    bool pwsnp = false;   ///< bit 87
    bool pgsnp = false;   ///< bit 88
    bool cd = false;      ///< bit 89
    bool emte = false;    ///< bit 90
    uint32_t pat = 0;     ///< bits 127:96 (decoded, never forwarded)
    bool sre = false;     ///< bit 128
    uint8_t fspm = 0;     ///< bits 131:130: 0 = 4-level, 1 = 5-level
    bool wpe = false;     ///< bit 132
    bool eafe = false;    ///< bit 135
    uint64_t fsptptr = 0; ///< bits 191:140 (<< 12): first-stage root, a GPA

    /// First-stage input width: 48 + 9 * FSPM.
    [[nodiscard]] unsigned fs_addr_width() const { return 48 + 9 * fspm; }
    bool operator==(const PasidEntry&) const = default;
};

/// Decodes a PASID table entry.  P=0: returns {present=false} and checks
/// nothing else (the other fields are ignored by hardware).  P=1: reserved
/// bits (rev 5.10), reserved PGTT / FSPM encodings, capability-gated bits
/// and pointer bits at or above HAW fail with -EINVAL and a message.
Result<PasidEntry> decode_pasid_entry(const PasidEntryRaw& e, const VtdCaps& caps);

/// Reserved masks of a present entry, per qword (rev 5.10, every capability
/// off, HPT not advertised so qwords 4..7 are wholly reserved).  Exposed for
/// the tests and the documentation.
struct PasidEntryReserved {
    static constexpr uint64_t kQw0 = (1ull << 5) | (3ull << 10); // 5 (was SLEE), 11:10
    // 86:80, 93:91 (was EMT), 94 (was PWT), 95 (was PCD)
    static constexpr uint64_t kQw1 = (0x7full << 16) | (0x1full << 27);
    // 129 (was ERE), 139:136.  134:133 (was NXE/SMEP) are "ignored" in 5.10.
    static constexpr uint64_t kQw2 = (1ull << 1) | (0xfull << 8);
    static constexpr uint64_t kQw3 = ~0ull;
};

/// What a bound guest PASID needs from the host: the v1
/// struct vsva_gpasid_bind_data fields the entry determines.
struct BindIntent {
    uint32_t gpasid = 0;
    uint64_t gpgd = 0;       ///< FSPTPTR, a GPA
    uint32_t addr_width = 0; ///< 48 or 57
    uint64_t vtd_flags = 0;  ///< VSVA_VTD_GPASID_SRE / EAFE / WPE
    uint16_t did = 0;        ///< guest DID (matching only, not forwarded)
    /// Same host-visible binding (DID is guest bookkeeping only).
    [[nodiscard]] bool same_binding(const BindIntent& o) const {
        return gpasid == o.gpasid && gpgd == o.gpgd && addr_width == o.addr_width &&
               vtd_flags == o.vtd_flags;
    }
    bool operator==(const BindIntent&) const = default;
};

/// A present first-stage entry → a bind; anything else → -EOPNOTSUPP
/// (second-stage, nested and pass-through PASIDs have no v1 bind).
Result<BindIntent> bind_intent(const PasidEntry& pe, uint32_t gpasid);

// ---------------------------------------------------------------------------
// Invalidation-queue descriptors
// ---------------------------------------------------------------------------

/// Descriptor type: bits 11:9 = Type[6:4], bits 3:0 = Type[3:0].
constexpr unsigned desc_type(uint64_t qw0) {
    return static_cast<unsigned>(((qw0 >> 5) & 0x70) | (qw0 & 0xf));
}

enum class DescType : uint8_t {
    kContextCache = 1,
    kIotlb = 2,
    kDevTlb = 3,
    kIec = 4,
    kWait = 5,
    kPIotlb = 6,
    kPasidCache = 7,
    kPDevTlb = 8,
    kPageGroupResponse = 9,
    kHptCache = 10,
};
const char* desc_type_name(unsigned type);

/// How the queue is set up: the translation mode and IQA_REG.DW.
struct QueueMode {
    bool scalable = true; ///< RTADDR.TTM = 01b
    bool dw256 = true;    ///< IQA_REG.DW = 1
};

/// Type 1.  g: 1 global, 2 domain, 3 device (0 invalid).
struct CcDesc {
    uint8_t g = 0;
    uint16_t did = 0, sid = 0;
    uint8_t fm = 0;
    bool operator==(const CcDesc&) const = default;
};
/// Type 2.  g: 1 global, 2 domain, 3 page-selective within domain.
struct IotlbDesc {
    uint8_t g = 0;
    bool dw = false, dr = false;
    uint16_t did = 0;
    uint8_t am = 0;
    bool ih = false;
    uint64_t addr = 0;
    bool operator==(const IotlbDesc&) const = default;
};
/// Type 3 (device TLB, requests without PASID).
struct DevTlbDesc {
    uint16_t sid = 0, pfsid = 0;
    uint8_t mip = 0;
    bool s = false;
    uint64_t addr = 0; ///< ADDR[63:12] as written (ATS size-encoded when S)
    bool operator==(const DevTlbDesc&) const = default;
};
/// Type 4.
struct IecDesc {
    bool g = false;
    uint8_t im = 0;
    uint16_t iidx = 0;
    bool operator==(const IecDesc&) const = default;
};
/// Type 5.
struct WaitDesc {
    bool iflag = false, sw = false, fn = false, pd = false;
    uint32_t status_data = 0;
    uint64_t status_addr = 0; ///< bits 127:66, 4-byte aligned
    bool operator==(const WaitDesc&) const = default;
};
/// Type 6.  g: 2 PASID-selective, 3 page-selective within PASID.
struct PIotlbDesc {
    uint8_t g = 0;
    uint16_t did = 0;
    uint32_t pasid = 0;
    uint8_t am = 0;
    bool ih = false;
    uint64_t addr = 0;
    bool operator==(const PIotlbDesc&) const = default;
};
/// Type 7.  g: 0 domain-selective, 1 PASID-selective within domain, 3 global.
struct PcDesc {
    uint8_t g = 0;
    uint16_t did = 0;
    uint32_t pasid = 0;
    bool operator==(const PcDesc&) const = default;
};
/// Type 8.
struct PDevTlbDesc {
    uint8_t mip = 0;
    uint16_t pfsid = 0, sid = 0;
    uint32_t pasid = 0;
    bool gi = false, s = false;
    uint64_t addr = 0; ///< ADDR[63:12] as written (ATS size-encoded when S)
    bool operator==(const PDevTlbDesc&) const = default;
};

constexpr uint8_t kPcGranuDomain = 0;
constexpr uint8_t kPcGranuPasid = 1;
constexpr uint8_t kPcGranuGlobal = 3;
constexpr uint8_t kPIotlbGranuPasid = 2;
constexpr uint8_t kPIotlbGranuPage = 3;

/// Type 9, page group response (VT-d rev 3.x §7.7.1; only with ECAP.PRS).
/// qw0: 4 PV, 5 PDP, 15:12 response code, 31:16 RID, 51:32 PASID;
/// qw1: 2 LPIG, 11:3 PRGI; qw2..3: private data (PDP=1), else zero.
struct PgrpRespDesc {
    bool pv = false;  ///< the request had a PASID
    bool pdp = false; ///< private data present
    uint8_t code = 0; ///< PCIe PRG response code (kPrgSuccess / Invalid / Failure)
    uint16_t rid = 0;
    uint32_t pasid = 0;
    bool lpig = false;
    uint16_t prgi = 0;
    uint64_t priv[2] = {0, 0};
    bool operator==(const PgrpRespDesc&) const = default;
};

using Descriptor = std::variant<CcDesc, IotlbDesc, DevTlbDesc, IecDesc, WaitDesc, PIotlbDesc,
                                PcDesc, PDevTlbDesc, PgrpRespDesc>;

/// Decodes one descriptor: 2 qwords (DW=0) or 4 (DW=1); the span length must
/// match mode.dw256.  Any violation — unknown or unsupported type, wrong
/// width for the mode, reserved bits, reserved granularity, AM above MAMV —
/// is -EINVAL: the vIOMMU reports it as an invalidation queue error (IQE).
Result<Descriptor> decode_descriptor(std::span<const uint64_t> d, QueueMode mode,
                                     const VtdCaps& caps);

// ---------------------------------------------------------------------------
// Page requests (PCIe PRI as VT-d reports them)
// ---------------------------------------------------------------------------

/// PCIe PRG Response Message codes (PCIe base spec, PRI chapter), which the
/// VT-d page group response descriptor carries unchanged.  0x2..0xE are
/// reserved.
constexpr uint8_t kPrgSuccess = 0x0;
constexpr uint8_t kPrgInvalidRequest = 0x1;
constexpr uint8_t kPrgResponseFailure = 0xf;

/// The one mapping between PCIe/VT-d response codes and the v1 page
/// response codes of the host UAPI (VSVA_PAGE_RESP_SUCCESS = 0, _INVALID =
/// 1, _FAILURE = 2).  A reserved PCIe code is -EINVAL.
Result<uint32_t> v1_page_response_code(unsigned prg_code);
/// The reverse (for reports); an unknown v1 code gives kPrgResponseFailure.
uint8_t prg_code_of_v1(uint32_t v1_code);

/// A page request descriptor as the vIOMMU writes it into the guest's page
/// request queue (256 bits, VT-d rev 3.x §7.5.1.1).
struct PageReqDesc {
    bool pv = false;  ///< PASID present
    bool pdp = false; ///< private data present
    uint16_t rid = 0; ///< guest requester id
    uint32_t pasid = 0;
    bool exe = false, pm = false; ///< execute / privileged-mode requested
    bool rd = false, wr = false;
    bool lpig = false; ///< last page in group
    uint16_t prgi = 0; ///< page request group index (9 bits)
    uint64_t addr = 0; ///< page address (bits 63:12)
    uint64_t priv[2] = {0, 0};
    bool operator==(const PageReqDesc&) const = default;
};
/// qw0: 1:0 type 01b, 8 PV, 9 PDP, 31:16 RID, 51:32 PASID, 52 EXE, 53 PM;
/// qw1: 64 RD, 65 WR, 66 LPIG, 75:67 PRGI, 127:76 address; qw2..3 private data.
std::array<uint64_t, 4> encode_page_request(const PageReqDesc& d);

/// VT-d scalable-mode fault reasons (FR field of a fault record) the adapter
/// reports for host faults on first-stage translation.
namespace fault_reason {
constexpr uint8_t kPasidEntryFetch = 0xb0; ///< error accessing the PASID table entry
constexpr uint8_t kPasidEntryNotPresent = 0xb1;
constexpr uint8_t kPasidEntryReserved = 0xb2; ///< non-zero reserved field
constexpr uint8_t kFsEntryFetch = 0xc0;       ///< error accessing a first-stage entry
constexpr uint8_t kFsEntryNotPresent = 0xc1;
constexpr uint8_t kNotCanonical = 0xd0;
constexpr uint8_t kUserSupervisor = 0xd1; ///< U/S=0 for a user request
constexpr uint8_t kNoExecute = 0xd2;
constexpr uint8_t kNoWrite = 0xd5;
constexpr uint8_t kNoRead = 0xd6;
} // namespace fault_reason

/// Host fault reason (VSVA_FAULT_REASON_*) and access (VSVA_FAULT_PERM_*)
/// to the VT-d fault reason a guest driver expects.
uint8_t vtd_fault_reason(uint32_t host_reason, uint32_t perm);

/// An address range: [addr, addr + size).  all = every address.
struct Range {
    uint64_t addr = 0;
    uint64_t size = 0;
    bool all = false;
    bool operator==(const Range&) const = default;
};
/// Page-selective (P_)IOTLB: 2^AM 4 KiB pages; ADDR's low AM page bits are
/// masked (ignored), so the range is naturally aligned.
Range am_range(uint64_t addr, uint8_t am);
/// Device-TLB (ATS) encoding: S=0 → one 4 KiB page; S=1 → the lowest zero
/// bit of ADDR at or above bit 12, at bit 12+k, gives 2^(k+13) bytes; no
/// zero bit below 63 = every address.
Range ats_range(uint64_t addr, bool s);

} // namespace vsva::qemu
