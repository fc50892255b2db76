// SPDX-License-Identifier: GPL-2.0
// The virtual VT-d adapter (see adapter.h).
#include "vsva/qemu/adapter.h"

#include <algorithm>
#include <cerrno>
#include <set>

#include <linux/vsva.h>

#include <fmt/format.h>

namespace vsva::qemu {

namespace {

// The device-TLB invalidation of one binding for an ATS range (P_DEVTLB, or
// DEVTLB on the RID_PASID binding): the whole PASID or one range.
Invalidation devtlb_inv(uint32_t host_dev, uint32_t hpasid, uint32_t gpasid, const Range& r,
                        DescType source) {
    Invalidation inv;
    inv.dev = host_dev;
    inv.cache = Cache::kDevIotlb;
    inv.hpasid = hpasid;
    inv.gpasid = gpasid;
    inv.source = source;
    if (r.all) {
        inv.granu = Granu::kPasid;
    } else {
        inv.granu = Granu::kAddr;
        inv.addr = r.addr;
        inv.granule_size = r.size;
        inv.nb_granules = 1;
    }
    return inv;
}

} // namespace

VtdAdapter::VtdAdapter(HostIommu& host, GuestMemory& mem, VtdCaps caps)
    : host_(host), mem_(mem), caps_(caps) {}

VtdAdapter::~VtdAdapter() = default;

VtdAdapter::Device* VtdAdapter::find(uint16_t sid) {
    auto it = devs_.find(sid);
    return it == devs_.end() ? nullptr : &it->second;
}

Result<void> VtdAdapter::add_device(uint16_t sid, uint32_t host_dev) {
    if (devs_.count(sid))
        return vtd_error(EEXIST, fmt::format("device {:04x}: already added", sid));
    Device d;
    d.sid = sid;
    d.host_dev = host_dev;
    devs_.emplace(sid, std::move(d));
    return {};
}

Result<void> VtdAdapter::remove_device(uint16_t sid) {
    Device* d = find(sid);
    if (!d)
        return vtd_error(ENOENT, fmt::format("device {:04x}: unknown", sid));
    Result<void> rc;
    while (!d->bound.empty())
        if (auto s = do_unbind(*d, d->bound.begin()->first); !s && rc)
            rc = s;
    std::erase_if(pending_, [&](const auto& kv) { return kv.first.sid == sid; });
    devs_.erase(sid);
    return rc;
}

VtdAdapter::Device* VtdAdapter::find_host(uint32_t host_dev) {
    for (auto& [sid, d] : devs_)
        if (d.host_dev == host_dev)
            return &d;
    return nullptr;
}

// ---------------------------------------------------------------------------
// Page requests, page responses, faults
// ---------------------------------------------------------------------------

void VtdAdapter::auto_respond(const HostPageRequest& r) {
    // VT-d §7.7: a response is due for the last request of a group and for
    // any request with private data; the others are simply dropped.
    if (!r.last && !r.priv_valid)
        return;
    HostPageResponse resp;
    resp.dev = r.dev;
    resp.pasid_valid = r.pasid_valid;
    resp.hpasid = r.hpasid;
    resp.grpid = r.grpid;
    resp.code = VSVA_PAGE_RESP_INVALID;
    resp.priv_valid = r.priv_valid;
    resp.priv[0] = r.priv[0];
    resp.priv[1] = r.priv[1];
    if (auto s = host_.page_response(resp); !s) {
        ++stats_.host_errors;
        log(fmt::format("auto-response to group {} of host device {}: {}", r.grpid, r.dev,
                        s.error().message()));
        return;
    }
    ++stats_.auto_responses;
}

std::optional<GuestPageRequest> VtdAdapter::page_request(const HostPageRequest& r) {
    Device* d = find_host(r.dev);
    std::optional<uint32_t> gpasid;
    if (d && r.pasid_valid)
        for (const auto& [g, b] : d->bound)
            if (b.hpasid == r.hpasid)
                gpasid = g;
    if (!d || (r.pasid_valid && !gpasid) || r.grpid > 0x1ff) {
        ++stats_.page_requests_unmapped;
        log(fmt::format("page request of host device {} PASID {} group {}: no guest mapping, "
                        "not injected",
                        r.dev, r.pasid_valid ? fmt::format("{}", r.hpasid) : "none", r.grpid));
        auto_respond(r);
        return std::nullopt;
    }
    GuestPageRequest g;
    g.req.pv = r.pasid_valid;
    g.req.pasid = gpasid.value_or(0);
    g.req.rid = d->sid;
    g.req.pdp = r.priv_valid;
    g.req.priv[0] = r.priv_valid ? r.priv[0] : 0;
    g.req.priv[1] = r.priv_valid ? r.priv[1] : 0;
    g.req.rd = r.perm & VSVA_FAULT_PERM_READ;
    g.req.wr = r.perm & VSVA_FAULT_PERM_WRITE;
    g.req.exe = r.perm & VSVA_FAULT_PERM_EXEC;
    g.req.pm = r.perm & VSVA_FAULT_PERM_PRIV;
    g.req.lpig = r.last;
    g.req.prgi = static_cast<uint16_t>(r.grpid);
    g.req.addr = r.addr & ~0xfffull;
    g.desc = encode_page_request(g.req);
    if (r.last || r.priv_valid) {
        PendingGroup p;
        p.dev = r.dev;
        p.pasid_valid = r.pasid_valid;
        p.hpasid = r.hpasid;
        p.grpid = r.grpid;
        p.priv_valid = r.priv_valid;
        p.priv[0] = g.req.priv[0];
        p.priv[1] = g.req.priv[1];
        pending_[PendingKey{d->sid, g.req.pv, g.req.pasid, g.req.prgi}] = p;
    }
    ++stats_.page_requests;
    return g;
}

Result<void> VtdAdapter::page_response(const PgrpRespDesc& r) {
    auto code = v1_page_response_code(r.code);
    if (!code)
        return vsva::Unexpected(code.error());
    auto it = pending_.find(PendingKey{r.rid, r.pv, r.pv ? r.pasid : 0, r.prgi});
    if (it == pending_.end()) {
        ++stats_.stray_responses;
        log(fmt::format("page response {:04x} PASID {} group {}: no pending request, dropped",
                        r.rid, r.pv ? fmt::format("{}", r.pasid) : "none", r.prgi));
        return {};
    }
    const PendingGroup p = it->second;
    pending_.erase(it);
    if (p.priv_valid != r.pdp || (r.pdp && (p.priv[0] != r.priv[0] || p.priv[1] != r.priv[1]))) {
        ++stats_.private_data_mismatches;
        log(fmt::format("page response {:04x} group {}: private data differs from the request's",
                        r.rid, r.prgi));
    }
    HostPageResponse resp;
    resp.dev = p.dev;
    resp.pasid_valid = p.pasid_valid;
    resp.hpasid = p.hpasid;
    resp.grpid = p.grpid;
    resp.code = *code;
    resp.priv_valid = r.pdp;
    resp.priv[0] = r.pdp ? r.priv[0] : 0;
    resp.priv[1] = r.pdp ? r.priv[1] : 0;
    if (auto s = host_.page_response(resp); !s) {
        ++stats_.host_errors;
        log(fmt::format("page response {:04x} group {}: {}", r.rid, r.prgi, s.error().message()));
        return s;
    }
    ++stats_.page_responses;
    return {};
}

std::optional<GuestFault> VtdAdapter::fault(const HostFault& f) {
    Device* d = find_host(f.dev);
    std::optional<uint32_t> gpasid;
    if (d && f.pasid_valid)
        for (const auto& [g, b] : d->bound)
            if (b.hpasid == f.hpasid)
                gpasid = g;
    if (!d || (f.pasid_valid && !gpasid)) {
        ++stats_.faults_unmapped;
        log(fmt::format("fault of host device {} PASID {}: no guest mapping", f.dev, f.hpasid));
        return std::nullopt;
    }
    GuestFault g;
    g.sid = d->sid;
    g.pasid_valid = f.pasid_valid;
    g.gpasid = gpasid.value_or(0);
    g.host_reason = f.reason;
    g.reason = vtd_fault_reason(f.reason, f.perm);
    g.write = f.perm & VSVA_FAULT_PERM_WRITE;
    g.exec = f.perm & VSVA_FAULT_PERM_EXEC;
    g.priv = f.perm & VSVA_FAULT_PERM_PRIV;
    g.addr = f.addr_valid ? (f.addr & ~0xfffull) : 0;
    ++stats_.faults;
    return g;
}

Result<void> VtdAdapter::set_pasid_dir(uint16_t sid, std::optional<uint64_t> dir_gpa,
                                       unsigned pdts) {
    Device* d = find(sid);
    if (!d)
        return vtd_error(ENOENT, fmt::format("device {:04x}: unknown", sid));
    if (pdts > 7)
        return vtd_error(EINVAL, fmt::format("device {:04x}: PDTS {} > 7", sid, pdts));
    if (dir_gpa && (*dir_gpa & 0xfff))
        return vtd_error(EINVAL,
                         fmt::format("device {:04x}: PASID directory {:#x} not 4 KiB aligned", sid,
                                     *dir_gpa));
    d->dir = dir_gpa;
    d->pdts = pdts;
    Result<void> rc;
    if (!dir_gpa)
        while (!d->bound.empty())
            if (auto s = do_unbind(*d, d->bound.begin()->first); !s && rc)
                rc = s;
    return rc;
}

std::optional<BoundPasid> VtdAdapter::binding(uint16_t sid, uint32_t gpasid) const {
    auto it = devs_.find(sid);
    if (it == devs_.end())
        return std::nullopt;
    auto b = it->second.bound.find(gpasid);
    if (b == it->second.bound.end())
        return std::nullopt;
    return b->second;
}

std::optional<uint32_t> VtdAdapter::hpasid_of(uint32_t gpasid) const {
    auto it = pasids_.find(gpasid);
    if (it == pasids_.end())
        return std::nullopt;
    return it->second.hpasid;
}

std::optional<uint32_t> VtdAdapter::gpasid_of(uint32_t hpasid) const {
    for (const auto& [g, ref] : pasids_)
        if (ref.hpasid == hpasid)
            return g;
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// PASID cache
// ---------------------------------------------------------------------------

Result<std::optional<PasidEntry>> VtdAdapter::read_entry(const Device& d, uint32_t gpasid) {
    using R = std::optional<PasidEntry>;
    if (!d.dir || gpasid > kPasidMax)
        return R{};
    const uint64_t di = pasid_dir_index(gpasid);
    if (di >= pasid_dir_entries(d.pdts))
        return R{};
    uint64_t de = 0;
    const uint64_t de_gpa = *d.dir + di * kPasidDirEntryBytes;
    if (!mem_.read(de_gpa, &de, sizeof(de)))
        return vtd_error(EFAULT, fmt::format("PASID {}: directory entry at GPA {:#x} unreadable",
                                             gpasid, de_gpa));
    auto dir = decode_pasid_dir_entry(de, caps_);
    if (!dir)
        return vtd_error(dir.error().code(),
                         fmt::format("PASID {}: {}", gpasid, dir.error().message()));
    if (!dir->present)
        return R{};
    PasidEntryRaw raw{};
    const uint64_t pe_gpa = dir->table + pasid_table_index(gpasid) * kPasidEntryBytes;
    if (!mem_.read(pe_gpa, raw.data(), sizeof(raw)))
        return vtd_error(EFAULT,
                         fmt::format("PASID {}: entry at GPA {:#x} unreadable", gpasid, pe_gpa));
    auto pe = decode_pasid_entry(raw, caps_);
    if (!pe)
        return vtd_error(pe.error().code(),
                         fmt::format("PASID {}: {}", gpasid, pe.error().message()));
    if (!pe->present)
        return R{};
    return R{*pe};
}

std::vector<uint32_t> VtdAdapter::present_pasids(const Device& d) {
    std::vector<uint32_t> out;
    if (!d.dir)
        return out;
    const uint64_t n = pasid_dir_entries(d.pdts);
    std::vector<uint64_t> dir(n);
    if (!mem_.read(*d.dir, dir.data(), n * sizeof(uint64_t)))
        return out;
    std::vector<uint64_t> table(size_t{64} * 8);
    for (uint64_t di = 0; di < n; ++di) {
        auto de = decode_pasid_dir_entry(dir[di], caps_);
        if (!de || !de->present)
            continue;
        if (!mem_.read(de->table, table.data(), table.size() * sizeof(uint64_t)))
            continue;
        for (uint32_t ti = 0; ti < 64; ++ti)
            if (table[size_t{ti} * 8] & 1)
                out.push_back(static_cast<uint32_t>(di * 64 + ti));
    }
    return out;
}

Result<uint32_t> VtdAdapter::get_hpasid(uint32_t gpasid) {
    if (gpasid == 0) // RID_PASID: the host's requests without PASID, allocated by nobody
        return kRidPasid;
    auto it = pasids_.find(gpasid);
    if (it != pasids_.end()) {
        ++it->second.refs;
        return it->second.hpasid;
    }
    auto hp = host_.alloc_pasid(gpasid);
    if (!hp)
        return vsva::Unexpected(hp.error());
    pasids_[gpasid] = PasidRef{*hp, 1};
    return *hp;
}

void VtdAdapter::put_hpasid(uint32_t gpasid) {
    if (gpasid == 0)
        return;
    auto it = pasids_.find(gpasid);
    if (it == pasids_.end() || --it->second.refs)
        return;
    if (auto s = host_.free_pasid(it->second.hpasid); !s) {
        ++stats_.host_errors;
        log(fmt::format("free host PASID {}: {}", it->second.hpasid, s.error().message()));
    }
    pasids_.erase(it);
}

Result<void> VtdAdapter::check_rid_pasid(const Device& d, uint32_t gpasid) const {
    if (gpasid != 0 || host_.rid_pasid())
        return {};
    return vtd_error(EOPNOTSUPP,
                     fmt::format("device {:04x}: guest PASID 0 is RID_PASID (requests without "
                                 "PASID); the host kernel lacks VSVA_FEAT_RID_PASID",
                                 d.sid));
}

Result<void> VtdAdapter::do_unbind(Device& d, uint32_t gpasid) {
    auto it = d.bound.find(gpasid);
    if (it == d.bound.end())
        return vtd_error(ENOENT,
                         fmt::format("device {:04x}: guest PASID {} is not bound", d.sid, gpasid));
    const BoundPasid b = it->second;
    BindRequest req{d.host_dev,          b.hpasid,          gpasid, b.intent.gpgd,
                    b.intent.addr_width, b.intent.vtd_flags};
    d.bound.erase(it);
    // Unbinding answers the PASID's pending page requests on the host
    // (INVALID): forget them so a late guest response is not forwarded.
    std::erase_if(pending_, [&](const auto& kv) {
        return kv.first.sid == d.sid && kv.first.pv && kv.first.pasid == gpasid;
    });
    Result<void> rc = host_.unbind(req);
    if (!rc) {
        ++stats_.host_errors;
        log(fmt::format("unbind device {:04x} PASID {}: {}", d.sid, gpasid, rc.error().message()));
    } else {
        ++stats_.unbinds;
        log(fmt::format("unbind device {:04x} gPASID {} (hPASID {})", d.sid, gpasid, b.hpasid));
    }
    put_hpasid(gpasid);
    return rc;
}

Result<void> VtdAdapter::apply(Device& d, uint32_t gpasid,
                               const Result<std::optional<PasidEntry>>& fresh,
                               std::optional<uint16_t> did_filter) {
    auto cached = d.bound.find(gpasid);
    const bool had = cached != d.bound.end();
    std::optional<BindIntent> want;
    Result<void> rc;
    if (!fresh) {
        rc = vsva::Unexpected(fresh.error());
    } else if (*fresh) {
        auto bi = bind_intent(**fresh, gpasid);
        if (bi)
            want = *bi;
        else
            rc = vsva::Unexpected(bi.error());
    }
    if (did_filter) {
        const bool match = (had && cached->second.intent.did == *did_filter) ||
                           (fresh && *fresh && (*fresh)->did == *did_filter);
        if (!match)
            return {};
    }
    if (!rc) {
        ++stats_.bad_entries;
        log(fmt::format("device {:04x}: {}", d.sid, rc.error().message()));
    }
    if (had && want && cached->second.intent.same_binding(*want)) {
        if (cached->second.intent.did != want->did) {
            cached->second.intent.did = want->did;
            ++stats_.did_updates;
        }
        return rc;
    }
    if (want) {
        if (auto s = check_rid_pasid(d, gpasid); !s) {
            log(s.error().message());
            if (rc)
                rc = s;
            want.reset();
            if (!had)
                return rc;
        }
    }
    // A changed entry of a bound PASID: replace in place where the host can,
    // so the PASID is never unbound while the guest's wait completes.
    if (had && want && host_.can_replace()) {
        const BoundPasid& old = cached->second;
        BindRequest from{
                d.host_dev,          old.hpasid, gpasid, old.intent.gpgd, old.intent.addr_width,
                old.intent.vtd_flags};
        BindRequest to{d.host_dev, old.hpasid,       gpasid,
                       want->gpgd, want->addr_width, want->vtd_flags};
        if (auto s = host_.replace(from, to); !s) {
            ++stats_.host_errors;
            log(fmt::format("replace device {:04x} gPASID {}: {}", d.sid, gpasid,
                            s.error().message()));
            return rc ? s : rc;
        }
        cached->second.intent = *want;
        ++stats_.binds;
        ++stats_.rebinds;
        ++stats_.replaces;
        log(fmt::format("replace device {:04x} gPASID {} (hPASID {}): FS root GPA {:#x}, "
                        "{}-bit, flags {:#x}, DID {}",
                        d.sid, gpasid, old.hpasid, want->gpgd, want->addr_width, want->vtd_flags,
                        want->did));
        return rc;
    }
    std::optional<uint32_t> hp;
    if (want) {
        auto h = get_hpasid(gpasid);
        if (!h) {
            ++stats_.host_errors;
            log(fmt::format("device {:04x}: no host PASID for gPASID {}: {}", d.sid, gpasid,
                            h.error().message()));
            if (rc)
                rc = vsva::Unexpected(h.error());
            want.reset();
        } else {
            hp = *h;
        }
    }
    if (had) {
        if (auto s = do_unbind(d, gpasid); !s && rc)
            rc = s;
    }
    if (!want)
        return rc;
    BindRequest req{d.host_dev, *hp, gpasid, want->gpgd, want->addr_width, want->vtd_flags};
    if (auto s = host_.bind(req); !s) {
        ++stats_.host_errors;
        log(fmt::format("bind device {:04x} gPASID {}: {}", d.sid, gpasid, s.error().message()));
        put_hpasid(gpasid);
        return rc ? s : rc;
    }
    d.bound[gpasid] = BoundPasid{*want, *hp};
    ++stats_.binds;
    if (had)
        ++stats_.rebinds;
    log(fmt::format("{} device {:04x} gPASID {} -> hPASID {}: FS root GPA {:#x}, {}-bit, "
                    "flags {:#x}, DID {}",
                    had ? "rebind" : "bind", d.sid, gpasid, *hp, want->gpgd, want->addr_width,
                    want->vtd_flags, want->did));
    return rc;
}

Result<void> VtdAdapter::sync_pasid(uint16_t sid, uint32_t gpasid) {
    Device* d = find(sid);
    if (!d)
        return vtd_error(ENOENT, fmt::format("device {:04x}: unknown", sid));
    if (gpasid > kPasidMax)
        return vtd_error(EINVAL, fmt::format("PASID {} above 20 bits", gpasid));
    if (auto s = check_rid_pasid(*d, gpasid); !s)
        return s;
    return apply(*d, gpasid, read_entry(*d, gpasid), std::nullopt);
}

Result<void> VtdAdapter::bind_entry(uint16_t sid, uint32_t gpasid, const PasidEntryRaw& raw) {
    Device* d = find(sid);
    if (!d)
        return vtd_error(ENOENT, fmt::format("device {:04x}: unknown", sid));
    if (gpasid > kPasidMax)
        return vtd_error(EINVAL, fmt::format("PASID {} above 20 bits", gpasid));
    if (auto s = check_rid_pasid(*d, gpasid); !s)
        return s;
    auto pe = decode_pasid_entry(raw, caps_);
    if (!pe) {
        ++stats_.bad_entries;
        return vtd_error(pe.error().code(),
                         fmt::format("PASID {}: {}", gpasid, pe.error().message()));
    }
    if (!pe->present)
        return vtd_error(ENOENT, fmt::format("PASID {}: entry not present", gpasid));
    return apply(*d, gpasid, Result<std::optional<PasidEntry>>(std::optional<PasidEntry>(*pe)),
                 std::nullopt);
}

Result<void> VtdAdapter::unbind(uint16_t sid, uint32_t gpasid) {
    Device* d = find(sid);
    if (!d)
        return vtd_error(ENOENT, fmt::format("device {:04x}: unknown", sid));
    if (auto s = check_rid_pasid(*d, gpasid); !s)
        return s;
    return do_unbind(*d, gpasid);
}

Result<void> VtdAdapter::pasid_cache_inv(const PcDesc& pc) {
    Result<void> rc;
    for (auto& [sid, d] : devs_) {
        if (pc.g == kPcGranuPasid) {
            if (auto s = apply(d, pc.pasid, read_entry(d, pc.pasid), pc.did); !s && rc)
                rc = s;
            continue;
        }
        std::set<uint32_t> all;
        for (const auto& [g, b] : d.bound)
            all.insert(g);
        for (uint32_t g : present_pasids(d))
            all.insert(g);
        const std::optional<uint16_t> filt =
                pc.g == kPcGranuDomain ? std::optional<uint16_t>(pc.did) : std::nullopt;
        for (uint32_t g : all)
            if (auto s = apply(d, g, read_entry(d, g), filt); !s && rc)
                rc = s;
    }
    return rc;
}

// ---------------------------------------------------------------------------
// Descriptors
// ---------------------------------------------------------------------------

void VtdAdapter::queue(Invalidation inv) {
    pending_inv_.push_back(inv);
}

Result<void> VtdAdapter::flush() {
    if (pending_inv_.empty())
        return {};
    std::vector<Invalidation> all;
    all.swap(pending_inv_);
    // One submission per device, in the order devices first appear, each
    // keeping its own order: a device whose batch the host refuses does not
    // keep the others' invalidations from the host.  The first error is
    // returned once every device was tried.
    std::vector<uint32_t> order;
    for (const Invalidation& inv : all)
        if (std::find(order.begin(), order.end(), inv.dev) == order.end())
            order.push_back(inv.dev);
    Result<void> rc;
    for (uint32_t dev : order) {
        std::vector<Invalidation> batch;
        for (const Invalidation& inv : all)
            if (inv.dev == dev)
                batch.push_back(inv);
        ++stats_.submissions;
        stats_.batch_sizes.push_back(batch.size());
        auto r = host_.invalidate(batch);
        if (!r) {
            ++stats_.host_errors;
            log(fmt::format("invalidation batch of {} for host device {}: {}", batch.size(), dev,
                            r.error().message()));
            if (rc)
                rc = vsva::Unexpected(r.error());
            continue;
        }
        stats_.invalidations += r->done;
        log(fmt::format("submitted {} invalidation(s) in one batch for host device {}",
                        batch.size(), dev));
    }
    return rc;
}

Result<DescOutcome> VtdAdapter::process(std::span<const uint64_t> raw, QueueMode mode) {
    auto dec = decode_descriptor(raw, mode, caps_);
    if (!dec) {
        ++stats_.invalid_descriptors;
        return vsva::Unexpected(dec.error());
    }
    DescOutcome out;
    out.type = desc_type(raw[0]);
    ++stats_.descriptors[out.type];
    const size_t before = pending_inv_.size();

    auto each_bound = [&](auto&& fn) {
        for (auto& [sid, d] : devs_)
            for (auto& [g, b] : d.bound)
                fn(d, g, b);
    };

    if (auto* t = std::get_if<PIotlbDesc>(&*dec)) {
        each_bound([&](Device& d, uint32_t g, BoundPasid& b) {
            if (g != t->pasid || b.intent.did != t->did)
                return;
            Invalidation inv;
            inv.dev = d.host_dev;
            inv.cache = Cache::kIotlb;
            inv.hpasid = b.hpasid;
            inv.gpasid = g;
            inv.source = DescType::kPIotlb;
            if (t->g == kPIotlbGranuPasid) {
                inv.granu = Granu::kPasid;
            } else {
                const Range r = am_range(t->addr, t->am);
                inv.granu = Granu::kAddr;
                inv.addr = r.addr;
                inv.granule_size = r.size;
                inv.nb_granules = 1;
                inv.leaf = t->ih;
            }
            queue(inv);
        });
    } else if (auto* t2 = std::get_if<PDevTlbDesc>(&*dec)) {
        if (Device* d = find(t2->sid)) {
            const Range r = ats_range(t2->addr, t2->s);
            for (auto& [g, b] : d->bound) {
                if (!t2->gi && g != t2->pasid)
                    continue;
                queue(devtlb_inv(d->host_dev, b.hpasid, g, r, DescType::kPDevTlb));
            }
        }
    } else if (auto* t4 = std::get_if<DevTlbDesc>(&*dec)) {
        // Requests without PASID: in scalable mode the device TLB of the
        // RID_PASID binding (guest PASID 0), if the guest bound one.
        Device* d = mode.scalable ? find(t4->sid) : nullptr;
        auto b = d ? d->bound.find(0) : std::map<uint32_t, BoundPasid>::iterator{};
        if (d && b != d->bound.end())
            queue(devtlb_inv(d->host_dev, b->second.hpasid, 0, ats_range(t4->addr, t4->s),
                             DescType::kDevTlb));
    } else if (auto* t3 = std::get_if<IotlbDesc>(&*dec)) {
        // Scalable mode: global hits every entry, domain and page-selective hit
        // first-stage entries by DID only (§6.5.2.3).
        if (mode.scalable)
            each_bound([&](Device& d, uint32_t g, BoundPasid& b) {
                if (t3->g != 1 && b.intent.did != t3->did)
                    return;
                Invalidation inv;
                inv.dev = d.host_dev;
                inv.cache = Cache::kIotlb;
                inv.granu = Granu::kPasid;
                inv.hpasid = b.hpasid;
                inv.gpasid = g;
                inv.source = DescType::kIotlb;
                queue(inv);
            });
    } else if (auto* pc = std::get_if<PcDesc>(&*dec)) {
        // A PC descriptor orders before later (P_)IOTLB ones: submit first.
        if (auto s = flush(); !s)
            log(fmt::format("PC: {}", s.error().message()));
        if (auto s = pasid_cache_inv(*pc); !s)
            log(fmt::format("PC: {}", s.error().message()));
    } else if (auto* pr = std::get_if<PgrpRespDesc>(&*dec)) {
        if (auto s = page_response(*pr); !s)
            log(fmt::format("PGRP_RESP: {}", s.error().message()));
    } else if (auto* w = std::get_if<WaitDesc>(&*dec)) {
        out.wait = true;
        ++stats_.waits;
        (void)flush();
        if (w->sw) {
            // The one status write of this wait (the vIOMMU does not write
            // it again).  A fault is the invalidation queue's error (IQE).
            const uint32_t data = w->status_data;
            if (!mem_.write(w->status_addr, &data, sizeof(data))) {
                ++stats_.status_write_faults;
                log(fmt::format("wait: status write to GPA {:#x} faulted", w->status_addr));
                return vtd_error(EFAULT, fmt::format("wait descriptor: the status write to GPA "
                                                     "{:#x} faulted",
                                                     w->status_addr));
            }
            out.status_written = true;
            ++stats_.status_writes;
        }
        if (w->iflag) {
            out.interrupt = true;
            ++stats_.wait_interrupts;
        }
    }
    // CC and IEC touch state the VMM's own vIOMMU owns (context cache,
    // interrupt remapping): nothing to forward.
    out.forwarded = pending_inv_.size() - std::min(before, pending_inv_.size());
    return out;
}

// ---------------------------------------------------------------------------
// Queue registers
// ---------------------------------------------------------------------------

void VtdAdapter::set_iqa(uint64_t iqa, bool scalable) {
    iq_base_ = iqa & ~0xfffull;
    iq_dw_ = (iqa >> 11) & 1;
    iq_scalable_ = scalable;
    const unsigned qs = iqa & 7;
    iq_entries_ = (4096ull << qs) / (iq_dw_ ? 32 : 16);
    iq_head_ = 0;
}

uint64_t VtdAdapter::iqh() const {
    return iq_head_ << (iq_dw_ ? 5 : 4);
}

QueueResult VtdAdapter::write_iqt(uint64_t iqt) {
    QueueResult res;
    if (iq_dw_ && (iqt & 0x10)) {
        res.iqe = true;
        res.error = "IQT bit 4 is reserved when IQA.DW=1";
        res.iqh = iqh();
        return res;
    }
    const uint64_t tail = iq_dw_ ? (iqt >> 5) & 0x3fff : (iqt >> 4) & 0x7fff;
    if (tail >= iq_entries_) {
        res.iqe = true;
        res.error = fmt::format("IQT {} beyond the queue of {} descriptors", tail, iq_entries_);
        res.iqh = iqh();
        return res;
    }
    const size_t qws = iq_dw_ ? 4 : 2;
    const QueueMode mode{iq_scalable_, iq_dw_};
    while (iq_head_ != tail) {
        uint64_t d[4] = {};
        const uint64_t gpa = iq_base_ + iq_head_ * qws * 8;
        if (!mem_.read(gpa, d, qws * 8)) {
            res.iqe = true;
            res.error = fmt::format("descriptor at GPA {:#x} unreadable", gpa);
            break;
        }
        auto r = process(std::span<const uint64_t>(d, qws), mode);
        if (!r) {
            res.iqe = true;
            res.error = fmt::format("descriptor {} at GPA {:#x}: {}", iq_head_, gpa,
                                    r.error().message());
            break;
        }
        res.interrupt |= r->interrupt;
        ++res.processed;
        iq_head_ = (iq_head_ + 1) % iq_entries_;
    }
    (void)flush();
    res.iqh = iqh();
    return res;
}

} // namespace vsva::qemu
