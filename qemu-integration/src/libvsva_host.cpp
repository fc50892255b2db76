// SPDX-License-Identifier: GPL-2.0
// HostIommu over libvsva.
#include "vsva/qemu/libvsva_host.h"

#include <cerrno>

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

Result<void> LibvsvaHost::bind(const BindRequest& b) {
    auto d = devs_.find(b.dev);
    if (d == devs_.end())
        return vtd_error(ENOENT, fmt::format("device {} not registered", b.dev));
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

Result<BatchResult> LibvsvaHost::invalidate(std::span<const Invalidation> batch) {
    BatchResult res{0, batch.size()};
    size_t i = 0;
    while (i < batch.size()) {
        const uint32_t dev = batch[i].dev;
        auto d = devs_.find(dev);
        if (d == devs_.end())
            return vtd_error(ENOENT, fmt::format("device {} not registered", dev));
        vsva::InvalidationQueue q(vsva::Merge::No);
        size_t j = i;
        for (; j < batch.size() && batch[j].dev == dev; ++j) {
            auto inv = to_libvsva(batch[j]);
            if (!inv)
                return vtd_error(inv.error().code(),
                                 fmt::format("entry {} of {}: {}", j, batch.size(),
                                             inv.error().to_string()));
            q.add(*inv);
        }
        ++batch_calls_;
        auto r = d->second->invalidate(q);
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
