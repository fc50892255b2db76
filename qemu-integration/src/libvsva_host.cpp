// SPDX-License-Identifier: GPL-2.0
// HostIommu over libvsva.
#include "vsva/qemu/libvsva_host.h"

#include <algorithm>
#include <cerrno>
#include <vector>

#include <sys/ioctl.h>

#include <linux/vsva.h>

#include <fmt/format.h>

namespace vsva::qemu {

Result<uint32_t> LibvsvaHost::alloc_pasid(uint32_t gpasid) {
    auto p = ctx_.alloc_pasid({.gpasid = gpasid});
    if (!p)
        return vsva::Unexpected(p.error());
    const uint32_t hp = p->hpasid();
    pasids_.insert_or_assign(hp, std::move(*p));
    return hp;
}

Result<void> LibvsvaHost::free_pasid(uint32_t hpasid) {
    auto it = pasids_.find(hpasid);
    if (it == pasids_.end())
        return vtd_error(ENOENT, fmt::format("host PASID {} not ours", hpasid));
    auto r = it->second.free();
    pasids_.erase(it);
    if (!r)
        return vsva::Unexpected(r.error());
    return {};
}

namespace {

constexpr size_t kErrLen = 256;

} // namespace

LibvsvaHost::~LibvsvaHost() {
    for (uint32_t dev : rid_bound_)
        (void)nesting(VSVA_UNBIND_GPASID, "unbind", VSVA_RID_PASID_OK, dev,
                      BindRequest{dev, kRidPasid, 0, 0, 48, 0});
}

bool LibvsvaHost::rid_pasid() const {
    return ctx_.info().features & VSVA_FEAT_RID_PASID;
}

bool LibvsvaHost::can_replace() const {
    return ctx_.info().features & VSVA_FEAT_BIND_REPLACE;
}

// One nesting command with the bind payload of @b, issued directly: libvsva
// has no call for RID_PASID or for a replace.
Result<void> LibvsvaHost::nesting(unsigned long cmd, const char* op, uint32_t flags, uint32_t dev,
                                  const BindRequest& b) const {
    vsva_gpasid_bind_data data;
    to_uapi(b, &data);
    if (b.hpasid == kRidPasid)
        data.flags &= ~VSVA_SVA_GPASID_VAL; // RID_PASID stands for no guest PASID
    char msg[kErrLen] = "";
    vsva_nesting_op n = {};
    n.argsz = sizeof(n);
    n.flags = flags;
    n.target_id = dev;
    n.data_len = sizeof(data);
    n.data_uptr = reinterpret_cast<uintptr_t>(&data);
    n.err_uptr = reinterpret_cast<uintptr_t>(msg);
    n.err_len = sizeof(msg);
    if (ioctl(ctx_.fd(), cmd, &n) < 0) {
        const int e = errno;
        msg[sizeof(msg) - 1] = '\0';
        return vsva::fail(e, op, msg);
    }
    return {};
}

Result<void> LibvsvaHost::replace(const BindRequest& old, const BindRequest& b) {
    (void)old;
    if (!devs_.count(b.dev))
        return vtd_error(ENOENT, fmt::format("device {} not registered", b.dev));
    if (b.addr_width != 48 && b.addr_width != 57)
        return vtd_error(EINVAL,
                         fmt::format("address width {} is neither 48 nor 57", b.addr_width));
    // The vsva::Binding (or the RID_PASID mark) of the old binding stays: it
    // names the same (device, host PASID) and unbinds the replacement.
    return nesting(VSVA_BIND_GPASID, "bind-replace",
                   VSVA_BIND_REPLACE | (b.hpasid == kRidPasid ? VSVA_RID_PASID_OK : 0), b.dev, b);
}

Result<void> LibvsvaHost::bind(const BindRequest& b) {
    auto d = devs_.find(b.dev);
    if (d == devs_.end())
        return vtd_error(ENOENT, fmt::format("device {} not registered", b.dev));
    if (b.hpasid == kRidPasid) {
        if (b.addr_width != 48 && b.addr_width != 57)
            return vtd_error(EINVAL,
                             fmt::format("address width {} is neither 48 nor 57", b.addr_width));
        if (auto r = nesting(VSVA_BIND_GPASID, "bind", VSVA_RID_PASID_OK, b.dev, b); !r)
            return r;
        rid_bound_.insert(b.dev);
        return {};
    }
    auto p = pasids_.find(b.hpasid);
    if (p == pasids_.end())
        return vtd_error(ENOENT, fmt::format("host PASID {} not ours", b.hpasid));
    vsva::BindConfig cfg;
    cfg.gpgd = b.gpgd;
    cfg.addr_width = b.addr_width == 57 ? vsva::AddrWidth::Bits57 : vsva::AddrWidth::Bits48;
    if (b.addr_width != 48 && b.addr_width != 57)
        return vtd_error(EINVAL,
                         fmt::format("address width {} is neither 48 nor 57", b.addr_width));
    cfg.gpasid = b.gpasid;
    cfg.supervisor = b.vtd_flags & VSVA_VTD_GPASID_SRE;
    cfg.write_protect = b.vtd_flags & VSVA_VTD_GPASID_WPE;
    cfg.extended_access = b.vtd_flags & VSVA_VTD_GPASID_EAFE;
    auto r = d->second->bind(p->second, cfg);
    if (!r)
        return vsva::Unexpected(r.error());
    binds_.insert_or_assign({b.dev, b.hpasid}, std::move(*r));
    return {};
}

Result<void> LibvsvaHost::unbind(const BindRequest& b) {
    if (b.hpasid == kRidPasid) {
        if (!rid_bound_.count(b.dev))
            return vtd_error(ENOENT, fmt::format("RID_PASID not bound on device {}", b.dev));
        rid_bound_.erase(b.dev);
        return nesting(VSVA_UNBIND_GPASID, "unbind", VSVA_RID_PASID_OK, b.dev, b);
    }
    auto it = binds_.find({b.dev, b.hpasid});
    if (it == binds_.end())
        return vtd_error(ENOENT,
                         fmt::format("host PASID {} not bound on device {}", b.hpasid, b.dev));
    auto r = it->second.unbind();
    binds_.erase(it);
    if (!r)
        return vsva::Unexpected(r.error());
    return {};
}

const vsva::Pasid* LibvsvaHost::pasid(uint32_t hpasid) const {
    auto it = pasids_.find(hpasid);
    return it == pasids_.end() ? nullptr : &it->second;
}

vsva::Result<vsva::Invalidation> to_libvsva(const Invalidation& inv) {
    const auto caches = vsva::CacheSet::from_bits(static_cast<uint8_t>(inv.cache));
    switch (inv.granu) {
    case Granu::kDomain:
        return vsva::Invalidation::domain(caches);
    case Granu::kPasid:
        return vsva::Invalidation::pasid(caches, inv.hpasid);
    case Granu::kAddr:
        break;
    }
    const uint64_t size = inv.granule_size * inv.nb_granules;
    vsva::Granule g = vsva::Granule::Size4K;
    for (auto cand : {vsva::Granule::Size1G, vsva::Granule::Size2M}) {
        const auto c = static_cast<uint64_t>(cand);
        if (size % c == 0 && inv.addr % c == 0) {
            g = cand;
            break;
        }
    }
    return vsva::Invalidation::range(caches, inv.hpasid, inv.addr, size, g,
                                     inv.leaf ? vsva::Leaf::Yes : vsva::Leaf::No);
}

// A run of one device's invalidations naming RID_PASID: the v1 payloads
// with VSVA_RID_PASID_OK in VSVA_CACHE_INVALIDATE_BATCH (libvsva refuses
// PASID 0).  Returns how many were handled, or the error of the first that
// failed when none was.
Result<size_t> LibvsvaHost::rid_invalidate(uint32_t dev, std::span<const Invalidation> run) {
    std::vector<vsva_cache_invalidate_info> v(run.size());
    for (size_t k = 0; k < run.size(); ++k)
        to_uapi(run[k], &v[k]);
    const size_t chunk = ctx_.info().max_batch ? ctx_.info().max_batch : v.size();
    size_t done = 0;
    while (done < v.size()) {
        const size_t n = std::min(chunk, v.size() - done);
        char msg[kErrLen] = "";
        vsva_cache_invalidate_batch b = {};
        b.argsz = sizeof(b);
        b.flags = VSVA_RID_PASID_OK;
        b.target_id = dev;
        b.entry_len = sizeof(vsva_cache_invalidate_info);
        b.entry_num = static_cast<uint32_t>(n);
        b.data_uptr = reinterpret_cast<uintptr_t>(&v[done]);
        b.err_uptr = reinterpret_cast<uintptr_t>(msg);
        b.err_len = sizeof(msg);
        ++batch_calls_;
        if (ioctl(ctx_.fd(), VSVA_CACHE_INVALIDATE_BATCH, &b) < 0) {
            const int e = errno;
            msg[sizeof(msg) - 1] = '\0';
            return vtd_error(e,
                             fmt::format("batch: {} of {} handled: {}",
                                         done + std::min<size_t>(b.entry_num, n), v.size(), msg));
        }
        done += n;
    }
    return done;
}

Result<BatchResult> LibvsvaHost::invalidate(std::span<const Invalidation> batch) {
    BatchResult res{0, batch.size()};
    size_t i = 0;
    while (i < batch.size()) {
        const uint32_t dev = batch[i].dev;
        auto d = devs_.find(dev);
        if (d == devs_.end())
            return vtd_error(ENOENT, fmt::format("device {} not registered", dev));
        size_t end = i;
        bool rid = false;
        for (; end < batch.size() && batch[end].dev == dev; ++end)
            rid |= batch[end].hpasid == kRidPasid && batch[end].granu != Granu::kDomain;
        if (rid) {
            auto r = rid_invalidate(dev, batch.subspan(i, end - i));
            if (!r)
                return vsva::Unexpected(r.error());
            res.done += *r;
            i = end;
            continue;
        }
        // The guest's order, unmerged: libvsva submits this array in place.
        std::vector<vsva::Invalidation> run;
        run.reserve(end - i);
        size_t j = i;
        for (; j < end; ++j) {
            auto inv = to_libvsva(batch[j]);
            if (!inv)
                return vtd_error(inv.error().code(),
                                 fmt::format("entry {} of {}: {}", j, batch.size(),
                                             inv.error().to_string()));
            run.push_back(*inv);
        }
        ++batch_calls_;
        auto r = d->second->invalidate(std::span<const vsva::Invalidation>(run));
        if (!r)
            return vsva::Unexpected(r.error());
        res.done += r->done;
        if (!r->complete())
            return vtd_error(r->error ? r->error->code() : EIO,
                             fmt::format("batch: {} of {} handled{}", res.done, batch.size(),
                                         r->error ? ": " + r->error->to_string() : std::string()));
        i = j;
    }
    return res;
}

Result<void> LibvsvaHost::page_response(const HostPageResponse& r) {
    vsva::PageRequest pr;
    pr.dev_id = r.dev;
    pr.flags = r.pasid_valid ? VSVA_FAULT_PAGE_REQUEST_PASID_VALID : 0;
    pr.pasid = r.hpasid;
    pr.grpid = r.grpid;
    auto res = ctx_.respond(pr, static_cast<vsva::PageResponseCode>(r.code));
    if (!res)
        return vsva::Unexpected(res.error());
    return {};
}

} // namespace vsva::qemu
