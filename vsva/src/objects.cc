// SPDX-License-Identifier: LGPL-2.1-or-later
/* Domains, mappings, devices, PASIDs, bindings, invalidation submission. */
#include <cerrno>

#include <fmt/format.h>

#include "core.h"

namespace vsva {
namespace detail {

DomainState::~DomainState() {
    if (released)
        return;
    vsva_destroy d = {};
    d.id = id;
    (void)core->call_as(VSVA_DOMAIN_DESTROY, d, "domain-destroy");
}

DeviceState::~DeviceState() {
    if (released)
        return;
    vsva_destroy d = {};
    d.id = id;
    (void)dom->core->call_as(VSVA_DEVICE_DETACH, d, "device-detach");
}

PasidState::~PasidState() {
    if (released)
        return;
    vsva_pasid_free f = {};
    f.hpasid = hpasid;
    (void)core->call(f, "pasid-free");
}

void encode_bind(std::uint32_t hpasid, std::optional<std::uint32_t> gpasid, const BindConfig& cfg,
                 vsva_gpasid_bind_data* out) noexcept {
    std::memset(out, 0, sizeof(*out));
    out->argsz = sizeof(*out);
    out->version = VSVA_GPASID_BIND_VERSION_1;
    out->format = VSVA_PASID_FORMAT_INTEL_VTD;
    out->addr_width = static_cast<std::uint32_t>(cfg.addr_width);
    out->gpgd = cfg.gpgd;
    out->hpasid = hpasid;
    if (gpasid) {
        out->flags = VSVA_SVA_GPASID_VAL;
        out->gpasid = *gpasid;
    }
    out->vendor.vtd.flags = (cfg.supervisor ? VSVA_VTD_GPASID_SRE : 0) |
                            (cfg.extended_access ? VSVA_VTD_GPASID_EAFE : 0) |
                            (cfg.write_protect ? VSVA_VTD_GPASID_WPE : 0);
}

namespace {

Result<void> invalidate_one(const Core& core, std::uint32_t flags, std::uint32_t target,
                            const Invalidation& inv) {
    static_assert(Access::invalidation_layout_ok());
    vsva_nesting_op op = {};
    op.flags = flags;
    op.target_id = target;
    op.data_len = sizeof(vsva_cache_invalidate_info);
    // The object is the v1 payload: no encoding, no copy.
    op.data_uptr = reinterpret_cast<std::uintptr_t>(&inv);
    return core.call_as(VSVA_CACHE_INVALIDATE, op, "cache-invalidate");
}

Result<BatchOutcome> submit_queue(const Core& core, std::uint32_t flags, std::uint32_t target,
                                  InvalidationQueue& queue) {
    // Merged in the queue's own storage: no copy, no allocation once warm.
    auto r = submit_batch(core, flags, target, Access::prepare(queue));
    queue.clear();
    return r;
}

} // namespace

Result<BatchOutcome> submit_batch(const Core& core, std::uint32_t flags, std::uint32_t target,
                                  std::span<const Invalidation> entries) {
    BatchOutcome out;
    out.total = entries.size();
    if (entries.empty())
        return out;

    if (!core.info.has(Feature::BatchInvalidate)) {
        for (const Invalidation& inv : entries) {
            auto r = invalidate_one(core, flags, target, inv);
            if (!r) {
                if (out.done == 0)
                    return Unexpected(std::move(r).error());
                out.error = std::move(r).error();
                return out;
            }
            out.done++;
        }
        return out;
    }

    // The entries are v1 payloads already (Invalidation's layout).
    static_assert(Access::invalidation_layout_ok());
    const std::size_t chunk = core.info.max_batch ? core.info.max_batch : entries.size();
    while (out.done < entries.size()) {
        const std::size_t n = std::min(chunk, entries.size() - out.done);
        vsva_cache_invalidate_batch b = {};
        b.flags = flags;
        b.target_id = target;
        b.entry_len = sizeof(vsva_cache_invalidate_info);
        b.entry_num = static_cast<std::uint32_t>(n);
        b.data_uptr = reinterpret_cast<std::uintptr_t>(&entries[out.done]);
        auto r = core.call(b, "cache-invalidate-batch");
        if (!r) {
            out.done += std::min<std::size_t>(b.entry_num, n);
            if (out.done == 0)
                return Unexpected(std::move(r).error());
            out.error = std::move(r).error();
            return out;
        }
        out.done += n;
    }
    return out;
}

} // namespace detail

/* ---- Mapping ---------------------------------------------------------- */

Mapping::Mapping(std::shared_ptr<detail::DomainState> dom, std::uint64_t gpa,
                 std::uint64_t length) noexcept
    : dom_(std::move(dom)), gpa_(gpa), length_(length) {}
Mapping::Mapping(Mapping&&) noexcept = default;
Mapping& Mapping::operator=(Mapping&& o) noexcept {
    if (this != &o) {
        (void)unmap();
        dom_ = std::move(o.dom_);
        gpa_ = o.gpa_;
        length_ = o.length_;
    }
    return *this;
}
Mapping::~Mapping() {
    (void)unmap();
}

Result<void> Mapping::unmap() {
    if (!dom_)
        return {};
    vsva_unmap u = {};
    u.domain_id = dom_->id;
    u.gpa = gpa_;
    u.length = length_;
    auto r = dom_->core->call(u, "unmap");
    dom_.reset();
    return r;
}

/* ---- Domain ----------------------------------------------------------- */

Result<Domain> Context::create_domain() const {
    vsva_domain_alloc a = {};
    if (auto r = core_->call(a, "domain-alloc"); !r)
        return Unexpected(std::move(r).error());
    auto s = std::make_shared<detail::DomainState>();
    s->core = core_;
    s->id = a.out_domain_id;
    return Domain(std::move(s));
}

Domain::Domain(std::shared_ptr<detail::DomainState> s) noexcept : s_(std::move(s)) {}
Domain::Domain(Domain&&) noexcept = default;
Domain& Domain::operator=(Domain&&) noexcept = default;
Domain::~Domain() = default;

std::uint32_t Domain::id() const noexcept {
    return s_->id;
}

Result<Mapping> Domain::map(std::uint64_t gpa, void* vaddr, std::uint64_t length,
                            Access access) const {
    vsva_map m = {};
    m.flags = static_cast<std::uint32_t>(access);
    m.domain_id = s_->id;
    m.gpa = gpa;
    m.length = length;
    m.vaddr = reinterpret_cast<std::uintptr_t>(vaddr);
    if (auto r = s_->core->call(m, "map"); !r)
        return Unexpected(std::move(r).error());
    return Mapping(s_, gpa, length);
}

Result<Device> Domain::attach(std::uint16_t rid, const AttachOptions& opts) const {
    vsva_device_attach a = {};
    a.flags = (opts.enable_ats ? VSVA_ATTACH_ENABLE_ATS : 0) |
              (opts.enable_pri ? VSVA_ATTACH_ENABLE_PRI : 0);
    a.rid = rid;
    a.domain_id = s_->id;
    if (auto r = s_->core->call(a, "attach"); !r)
        return Unexpected(std::move(r).error());
    auto s = std::make_shared<detail::DeviceState>();
    s->dom = s_;
    s->id = a.out_dev_id;
    s->rid = rid;
    s->caps.pasid = a.out_caps & VSVA_DEV_CAP_PASID;
    s->caps.ats = a.out_caps & VSVA_DEV_CAP_ATS;
    s->caps.pri = a.out_caps & VSVA_DEV_CAP_PRI;
    return Device(std::move(s));
}

Result<void> Domain::invalidate(const Invalidation& inv) const {
    return detail::invalidate_one(*s_->core, VSVA_TARGET_DOMAIN, s_->id, inv);
}

Result<BatchOutcome> Domain::invalidate(InvalidationQueue& queue) const {
    return detail::submit_queue(*s_->core, VSVA_TARGET_DOMAIN, s_->id, queue);
}

Result<BatchOutcome> Domain::invalidate(std::span<const Invalidation> entries) const {
    return detail::submit_batch(*s_->core, VSVA_TARGET_DOMAIN, s_->id, entries);
}

Result<void> Domain::destroy() {
    if (!s_)
        return {};
    if (s_.use_count() > 1)
        return fail(EBUSY, "domain-destroy",
                    fmt::format("domain {} still has {} mapping or device owner(s)", s_->id,
                                s_.use_count() - 1));
    vsva_destroy d = {};
    d.id = s_->id;
    auto r = s_->core->call_as(VSVA_DOMAIN_DESTROY, d, "domain-destroy");
    s_->released = true;
    s_.reset();
    return r;
}

/* ---- Device ----------------------------------------------------------- */

Device::Device(std::shared_ptr<detail::DeviceState> s) noexcept : s_(std::move(s)) {}
Device::Device(Device&&) noexcept = default;
Device& Device::operator=(Device&&) noexcept = default;
Device::~Device() = default;

std::uint32_t Device::id() const noexcept {
    return s_->id;
}
std::uint16_t Device::rid() const noexcept {
    return s_->rid;
}
DeviceCaps Device::caps() const noexcept {
    return s_->caps;
}

Result<void> Device::invalidate(const Invalidation& inv) const {
    return detail::invalidate_one(*s_->dom->core, 0, s_->id, inv);
}

Result<BatchOutcome> Device::invalidate(InvalidationQueue& queue) const {
    return detail::submit_queue(*s_->dom->core, 0, s_->id, queue);
}

Result<BatchOutcome> Device::invalidate(std::span<const Invalidation> entries) const {
    return detail::submit_batch(*s_->dom->core, 0, s_->id, entries);
}

Result<void> Device::detach() {
    if (!s_)
        return {};
    if (s_.use_count() > 1)
        return fail(
                EBUSY, "device-detach",
                fmt::format("device {} still has {} binding owner(s)", s_->id, s_.use_count() - 1));
    vsva_destroy d = {};
    d.id = s_->id;
    auto r = s_->dom->core->call_as(VSVA_DEVICE_DETACH, d, "device-detach");
    s_->released = true;
    s_.reset();
    return r;
}

/* ---- Pasid ------------------------------------------------------------ */

Result<Pasid> Context::alloc_pasid(const PasidOptions& opts) const {
    vsva_pasid_alloc a = {};
    if (opts.gpasid) {
        a.flags = VSVA_PASID_GPASID_VALID;
        a.gpasid = *opts.gpasid;
    }
    a.min = opts.min;
    a.max = opts.max;
    if (auto r = core_->call(a, "pasid-alloc"); !r)
        return Unexpected(std::move(r).error());
    auto s = std::make_shared<detail::PasidState>();
    s->core = core_;
    s->hpasid = a.out_hpasid;
    s->gpasid = opts.gpasid;
    return Pasid(std::move(s));
}

Pasid::Pasid(std::shared_ptr<detail::PasidState> s) noexcept : s_(std::move(s)) {}
Pasid::Pasid(Pasid&&) noexcept = default;
Pasid& Pasid::operator=(Pasid&&) noexcept = default;
Pasid::~Pasid() = default;

std::uint32_t Pasid::hpasid() const noexcept {
    return s_->hpasid;
}
std::optional<std::uint32_t> Pasid::gpasid() const noexcept {
    return s_->gpasid;
}

Result<void> Pasid::free() {
    if (!s_)
        return {};
    if (s_.use_count() > 1)
        return fail(EBUSY, "pasid-free",
                    fmt::format("PASID {} still has {} binding owner(s)", s_->hpasid,
                                s_.use_count() - 1));
    vsva_pasid_free f = {};
    f.hpasid = s_->hpasid;
    auto r = s_->core->call(f, "pasid-free");
    s_->released = true;
    s_.reset();
    return r;
}

/* ---- Binding ---------------------------------------------------------- */

struct Binding::State {
    std::shared_ptr<detail::DeviceState> dev; // device binding
    std::shared_ptr<detail::DomainState> dom; // whole-domain binding
    std::shared_ptr<detail::PasidState> pasid;
    vsva_gpasid_bind_data data = {};

    const detail::Core& core() const { return dev ? *dev->dom->core : *dom->core; }
    std::uint32_t flags() const { return dev ? 0 : VSVA_TARGET_DOMAIN; }
    std::uint32_t target() const { return dev ? dev->id : dom->id; }

    Result<void> op(unsigned long cmd, const char* name) {
        vsva_nesting_op o = {};
        o.flags = flags();
        o.target_id = target();
        o.data_len = sizeof(data);
        o.data_uptr = reinterpret_cast<std::uintptr_t>(&data);
        return core().call_as(cmd, o, name);
    }
};

Binding::Binding(std::unique_ptr<State> s) noexcept : s_(std::move(s)) {}
Binding::Binding(Binding&&) noexcept = default;
Binding& Binding::operator=(Binding&& o) noexcept {
    if (this != &o) {
        (void)unbind();
        s_ = std::move(o.s_);
    }
    return *this;
}
Binding::~Binding() {
    (void)unbind();
}

std::uint32_t Binding::hpasid() const noexcept {
    return s_->pasid->hpasid;
}
std::uint32_t Binding::target_id() const noexcept {
    return s_->target();
}
bool Binding::whole_domain() const noexcept {
    return !s_->dev;
}
bool Binding::valid() const noexcept {
    return s_ != nullptr;
}

Result<void> Binding::unbind() {
    if (!s_)
        return {};
    auto r = s_->op(VSVA_UNBIND_GPASID, "unbind");
    s_.reset();
    return r;
}

Result<Binding> Device::bind(const Pasid& pasid, const BindConfig& cfg) const {
    auto st = std::make_unique<Binding::State>();
    st->dev = s_;
    st->pasid = detail::Access::pasid_state(pasid);
    detail::encode_bind(pasid.hpasid(), cfg.gpasid ? cfg.gpasid : pasid.gpasid(), cfg, &st->data);
    if (auto r = st->op(VSVA_BIND_GPASID, "bind"); !r)
        return Unexpected(std::move(r).error());
    return Binding(std::move(st));
}

Result<Binding> Domain::bind(const Pasid& pasid, const BindConfig& cfg) const {
    auto st = std::make_unique<Binding::State>();
    st->dom = s_;
    st->pasid = detail::Access::pasid_state(pasid);
    detail::encode_bind(pasid.hpasid(), cfg.gpasid ? cfg.gpasid : pasid.gpasid(), cfg, &st->data);
    if (auto r = st->op(VSVA_BIND_GPASID, "bind"); !r)
        return Unexpected(std::move(r).error());
    return Binding(std::move(st));
}

} // namespace vsva
