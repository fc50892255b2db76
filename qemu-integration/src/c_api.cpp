// SPDX-License-Identifier: GPL-2.0
// The C ABI (vsva-qemu.h) over the VT-d adapter and libvsva.
#include <cerrno>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>

#include <linux/vsva.h>

#include <fmt/format.h>

#include "vsva-qemu.h"
#include "vsva/qemu/adapter.h"
#ifdef VSVA_QEMU_HAVE_LIBVSVA
#include <vsva/emu.h>

#include "vsva/qemu/libvsva_host.h"
#endif

using namespace vsva::qemu;

namespace {

class CallbackMemory final : public GuestMemory {
public:
    CallbackMemory(vsva_qemu_dma_rw_fn fn, void* opaque) : fn_(fn), opaque_(opaque) {}
    bool read(uint64_t gpa, void* dst, size_t len) override {
        return fn_(opaque_, gpa, dst, len, 0) == 0;
    }
    bool write(uint64_t gpa, const void* src, size_t len) override {
        return fn_(opaque_, gpa, const_cast<void*>(src), len, 1) == 0;
    }

private:
    vsva_qemu_dma_rw_fn fn_;
    void* opaque_;
};

// No kernel: every host call succeeds (bring-up, and the C ABI test).
class DryRunHost final : public HostIommu {
public:
    Expected<uint32_t> alloc_pasid(uint32_t) override { return next_++; }
    Status free_pasid(uint32_t) override { return {}; }
    Status bind(const BindRequest&) override { return {}; }
    Status unbind(const BindRequest&) override { return {}; }
    Expected<BatchResult> invalidate(std::span<const Invalidation> b) override {
        return BatchResult{b.size(), b.size()};
    }

private:
    uint32_t next_ = 1;
};

} // namespace

struct vsva_qemu_dev {
    vsva_qemu_ctx* ctx = nullptr;
    uint16_t sid = 0;
    uint32_t host_id = 0;
#ifdef VSVA_QEMU_HAVE_LIBVSVA
    std::optional<vsva::Device> vdev;
#endif
};

struct vsva_qemu_ctx {
    std::string err;
    std::unique_ptr<CallbackMemory> mem;
#ifdef VSVA_QEMU_HAVE_LIBVSVA
    std::optional<vsva::Context> vctx;
    std::optional<vsva::Domain> dom;
    std::map<uint64_t, vsva::Mapping> maps;
    std::optional<vsva::FaultQueue> faults;
    LibvsvaHost* lhost = nullptr;
#endif
    std::unique_ptr<HostIommu> host;
    std::unique_ptr<VtdAdapter> ad;
    std::map<uint16_t, std::unique_ptr<vsva_qemu_dev>> devs;
    bool dry = false;
    uint32_t next_dry_dev = 1;

    int fail(int err, std::string msg) {
        this->err = std::move(msg);
        return -err;
    }
    int fail(const Error& e) {
        return fail(e.err ? e.err : EIO, e.msg);
    }
    int ok() {
        err.clear();
        return 0;
    }
    int status(const Status& s) {
        return s ? ok() : fail(s.error());
    }
};

namespace {

template <class F>
int guarded(vsva_qemu_ctx* ctx, F&& f) {
    if (!ctx)
        return -EINVAL;
    try {
        return f();
    } catch (const std::bad_alloc&) {
        return ctx->fail(ENOMEM, "out of memory");
    }
}

} // namespace

extern "C" {

int vsva_qemu_open(const struct vsva_qemu_open_args* args, vsva_qemu_ctx** out) {
    if (!args || !out || !args->dma_rw)
        return -EINVAL;
    if (args->size < sizeof(*args) || args->reserved)
        return -EINVAL;
    if (args->flags & ~VSVA_QEMU_OPEN_DRY_RUN)
        return -EOPNOTSUPP;
    *out = nullptr;
    try {
        auto ctx = std::make_unique<vsva_qemu_ctx>();
        ctx->mem = std::make_unique<CallbackMemory>(args->dma_rw, args->opaque);
        VtdCaps caps;
        const uint32_t c = args->caps ? args->caps : VSVA_QEMU_CAP_DEFAULT;
        caps.haw = args->haw ? args->haw : 48;
        caps.mamv = args->mamv ? args->mamv : 18;
        caps.fs5lp = c & VSVA_QEMU_CAP_FS5LP;
        caps.srs = c & VSVA_QEMU_CAP_SRS;
        caps.eafs = c & VSVA_QEMU_CAP_EAFS;
        caps.pds = c & VSVA_QEMU_CAP_PDS;
        caps.dit = c & VSVA_QEMU_CAP_DIT;
        if (caps.haw < 32 || caps.haw > 64 || caps.mamv > 63)
            return -EINVAL;
        if (args->flags & VSVA_QEMU_OPEN_DRY_RUN) {
            ctx->dry = true;
            ctx->host = std::make_unique<DryRunHost>();
        } else {
#ifdef VSVA_QEMU_HAVE_LIBVSVA
            vsva::OpenOptions o;
            if (args->dev_path)
                o.path = args->dev_path;
            o.require = vsva::Feature::Nesting;
            auto v = vsva::Context::open(o);
            if (!v)
                return -v.error().code();
            ctx->vctx.emplace(std::move(*v));
            auto d = ctx->vctx->create_domain();
            if (!d)
                return -d.error().code();
            ctx->dom.emplace(std::move(*d));
            // The fault queue must exist before the first fault: a page request
            // raised while the context has none is not queued for later.
            if (ctx->vctx->has(vsva::Feature::PageRequest)) {
                auto q = ctx->vctx->fault_queue();
                if (!q)
                    return -q.error().code();
                if (auto nb = q->set_nonblocking(true); !nb)
                    return -nb.error().code();
                ctx->faults.emplace(std::move(*q));
            }
            auto h = std::make_unique<LibvsvaHost>(*ctx->vctx);
            ctx->lhost = h.get();
            ctx->host = std::move(h);
#else
            return -EOPNOTSUPP;
#endif
        }
        ctx->ad = std::make_unique<VtdAdapter>(*ctx->host, *ctx->mem, caps);
        *out = ctx.release();
        return 0;
    } catch (const std::bad_alloc&) {
        return -ENOMEM;
    }
}

void vsva_qemu_close(vsva_qemu_ctx* ctx) {
    if (!ctx)
        return;
    try {
        for (auto& [sid, dev] : ctx->devs)
            (void)ctx->ad->remove_device(sid);
    } catch (...) {
    }
    ctx->ad.reset();
    ctx->host.reset(); // drops Bindings and Pasids
    ctx->devs.clear(); // detaches
#ifdef VSVA_QEMU_HAVE_LIBVSVA
    ctx->faults.reset();
    ctx->maps.clear();
    ctx->dom.reset();
    ctx->vctx.reset();
#endif
    delete ctx;
}

const char* vsva_qemu_last_error(const vsva_qemu_ctx* ctx) {
    return ctx ? ctx->err.c_str() : "";
}

int vsva_qemu_map_ram(vsva_qemu_ctx* ctx, uint64_t gpa, uint64_t size, void* hva) {
    return guarded(ctx, [&] {
        if ((gpa | size | reinterpret_cast<uintptr_t>(hva)) & 0xfff || !size)
            return ctx->fail(EINVAL,
                             fmt::format("map: GPA {:#x} size {:#x} must be non-zero, 4 KiB "
                                         "aligned",
                                         gpa, size));
        if (ctx->dry)
            return ctx->ok();
#ifdef VSVA_QEMU_HAVE_LIBVSVA
        auto m = ctx->dom->map(gpa, hva, size);
        if (!m)
            return ctx->fail(from_libvsva(m.error()));
        ctx->maps.insert_or_assign(gpa, std::move(*m));
        return ctx->ok();
#else
    return ctx->fail(EOPNOTSUPP, "built without libvsva");
#endif
    });
}

int vsva_qemu_unmap_ram(vsva_qemu_ctx* ctx, uint64_t gpa) {
    return guarded(ctx, [&] {
        if (ctx->dry)
            return ctx->ok();
#ifdef VSVA_QEMU_HAVE_LIBVSVA
        auto it = ctx->maps.find(gpa);
        if (it == ctx->maps.end())
            return ctx->fail(ENOENT, fmt::format("unmap: nothing mapped at GPA {:#x}", gpa));
        auto r = it->second.unmap();
        ctx->maps.erase(it);
        if (!r)
            return ctx->fail(from_libvsva(r.error()));
        return ctx->ok();
#else
    (void)gpa;
    return ctx->fail(EOPNOTSUPP, "built without libvsva");
#endif
    });
}

int vsva_qemu_attach_device(vsva_qemu_ctx* ctx, uint16_t sid, uint16_t host_rid, uint32_t flags,
                            vsva_qemu_dev** out) {
    return guarded(ctx, [&] {
        if (!out)
            return ctx->fail(EINVAL, "attach: out is NULL");
        if (flags & ~(VSVA_QEMU_ATTACH_ATS | VSVA_QEMU_ATTACH_PRI))
            return ctx->fail(EOPNOTSUPP, fmt::format("attach: unknown flags {:#x}", flags));
        if (ctx->devs.count(sid))
            return ctx->fail(EEXIST, fmt::format("attach: guest SID {:04x} already attached", sid));
        auto dev = std::make_unique<vsva_qemu_dev>();
        dev->ctx = ctx;
        dev->sid = sid;
        if (ctx->dry) {
            dev->host_id = ctx->next_dry_dev++;
        } else {
#ifdef VSVA_QEMU_HAVE_LIBVSVA
            vsva::AttachOptions o;
            o.enable_ats = flags & VSVA_QEMU_ATTACH_ATS;
            o.enable_pri = flags & VSVA_QEMU_ATTACH_PRI;
            auto d = ctx->dom->attach(host_rid, o);
            if (!d)
                return ctx->fail(from_libvsva(d.error()));
            dev->vdev.emplace(std::move(*d));
            dev->host_id = dev->vdev->id();
            ctx->lhost->add_device(*dev->vdev);
#else
      (void)host_rid;
      return ctx->fail(EOPNOTSUPP, "built without libvsva");
#endif
        }
        if (auto s = ctx->ad->add_device(sid, dev->host_id); !s)
            return ctx->fail(s.error());
        *out = dev.get();
        ctx->devs.emplace(sid, std::move(dev));
        return ctx->ok();
    });
}

int vsva_qemu_detach_device(vsva_qemu_dev* dev) {
    if (!dev)
        return -EINVAL;
    vsva_qemu_ctx* ctx = dev->ctx;
    return guarded(ctx, [&] {
        Status s = ctx->ad->remove_device(dev->sid);
#ifdef VSVA_QEMU_HAVE_LIBVSVA
        if (ctx->lhost)
            ctx->lhost->remove_device(dev->host_id);
#endif
        ctx->devs.erase(dev->sid); // frees dev, detaches
        return ctx->status(s);
    });
}

int vsva_qemu_set_pasid_dir(vsva_qemu_dev* dev, int present, uint64_t dir_gpa, uint32_t pdts) {
    if (!dev)
        return -EINVAL;
    return guarded(dev->ctx, [&] {
        return dev->ctx->status(dev->ctx->ad->set_pasid_dir(
                dev->sid, present ? std::optional<uint64_t>(dir_gpa) : std::nullopt, pdts));
    });
}

int vsva_qemu_bind_pasid_entry(vsva_qemu_dev* dev, uint32_t gpasid, const uint64_t pe[8]) {
    if (!dev || !pe)
        return -EINVAL;
    return guarded(dev->ctx, [&] {
        PasidEntryRaw raw;
        for (int i = 0; i < 8; ++i)
            raw[i] = pe[i];
        return dev->ctx->status(dev->ctx->ad->bind_entry(dev->sid, gpasid, raw));
    });
}

int vsva_qemu_sync_pasid(vsva_qemu_dev* dev, uint32_t gpasid) {
    if (!dev)
        return -EINVAL;
    return guarded(dev->ctx,
                   [&] { return dev->ctx->status(dev->ctx->ad->sync_pasid(dev->sid, gpasid)); });
}

int vsva_qemu_unbind(vsva_qemu_dev* dev, uint32_t gpasid) {
    if (!dev)
        return -EINVAL;
    return guarded(dev->ctx,
                   [&] { return dev->ctx->status(dev->ctx->ad->unbind(dev->sid, gpasid)); });
}

int vsva_qemu_process_desc(vsva_qemu_ctx* ctx, const uint64_t* desc, uint32_t nqw, int scalable,
                           struct vsva_qemu_desc_result* res) {
    return guarded(ctx, [&] {
        if (!desc || (nqw != 2 && nqw != 4))
            return ctx->fail(EINVAL, fmt::format("descriptor of {} qwords (2 or 4)", nqw));
        auto r = ctx->ad->process(std::span<const uint64_t>(desc, nqw),
                                  QueueMode{scalable != 0, nqw == 4});
        if (!r)
            return ctx->fail(r.error());
        if (res) {
            res->type = r->type;
            res->flags = (r->wait ? VSVA_QEMU_DESC_WAIT : 0) |
                         (r->status_written ? VSVA_QEMU_DESC_STATUS_WRITTEN : 0) |
                         (r->interrupt ? VSVA_QEMU_DESC_INTERRUPT : 0);
            res->forwarded = static_cast<uint32_t>(r->forwarded);
            res->reserved = 0;
        }
        return ctx->ok();
    });
}

int vsva_qemu_flush(vsva_qemu_ctx* ctx) {
    return guarded(ctx, [&] { return ctx->status(ctx->ad->flush()); });
}

int vsva_qemu_fault_fd(vsva_qemu_ctx* ctx) {
    return guarded(ctx, [&] {
        if (ctx->dry)
            return ctx->fail(EOPNOTSUPP, "dry run: no fault queue");
#ifdef VSVA_QEMU_HAVE_LIBVSVA
        if (!ctx->faults) {
            auto q = ctx->vctx->fault_queue();
            if (!q)
                return ctx->fail(from_libvsva(q.error()));
            if (auto r = q->set_nonblocking(true); !r)
                return ctx->fail(from_libvsva(r.error()));
            ctx->faults.emplace(std::move(*q));
        }
        ctx->ok();
        return ctx->faults->fd();
#else
    return ctx->fail(EOPNOTSUPP, "built without libvsva");
#endif
    });
}

int vsva_qemu_read_page_requests(vsva_qemu_ctx* ctx, struct vsva_qemu_page_req* out, uint32_t max) {
    return guarded(ctx, [&] {
        if (!out && max)
            return ctx->fail(EINVAL, "page requests: out is NULL");
        if (ctx->dry)
            return ctx->ok();
#ifdef VSVA_QEMU_HAVE_LIBVSVA
        if (int fd = vsva_qemu_fault_fd(ctx); fd < 0)
            return fd;
        uint32_t n = 0;
        vsva::FaultRecord rec[16];
        while (n < max) {
            const size_t want = std::min<size_t>(16, max - n);
            auto r = ctx->faults->read(std::span<vsva::FaultRecord>(rec, want));
            if (!r)
                return ctx->fail(from_libvsva(r.error()));
            if (*r == 0)
                break;
            for (size_t i = 0; i < *r; ++i) {
                auto* pr = std::get_if<vsva::PageRequest>(&rec[i].fault);
                if (!pr)
                    continue; // unrecoverable faults: reported by the host IOMMU's fault path
                vsva_qemu_page_req& o = out[n++];
                o = {};
                for (auto& [sid, d] : ctx->devs)
                    if (d->host_id == pr->dev_id)
                        o.sid = sid;
                auto g = ctx->ad->gpasid_of(pr->pasid);
                o.pasid_valid = pr->pasid_valid() && g.has_value();
                o.gpasid = g.value_or(0);
                o.grpid = pr->grpid;
                o.perm = pr->perm;
                o.last = pr->last_page();
                o.addr = pr->addr;
            }
            if (*r < want)
                break;
        }
        ctx->ok();
        return static_cast<int>(n);
#else
    return ctx->fail(EOPNOTSUPP, "built without libvsva");
#endif
    });
}

int vsva_qemu_page_response(vsva_qemu_dev* dev, uint32_t gpasid, uint32_t grpid, uint32_t code) {
    if (!dev)
        return -EINVAL;
    vsva_qemu_ctx* ctx = dev->ctx;
    return guarded(ctx, [&] {
        if (code > VSVA_QEMU_RESP_FAILURE)
            return ctx->fail(EINVAL, fmt::format("page response: code {} unknown", code));
        auto hp = ctx->ad->hpasid_of(gpasid);
        if (!hp)
            return ctx->fail(ENOENT,
                             fmt::format("page response: guest PASID {} not bound", gpasid));
        if (ctx->dry)
            return ctx->ok();
#ifdef VSVA_QEMU_HAVE_LIBVSVA
        vsva::PageRequest pr;
        pr.dev_id = dev->host_id;
        pr.flags = VSVA_FAULT_PAGE_REQUEST_PASID_VALID;
        pr.pasid = *hp;
        pr.grpid = grpid;
        auto r = ctx->vctx->respond(pr, static_cast<vsva::PageResponseCode>(code));
        if (!r)
            return ctx->fail(from_libvsva(r.error()));
        return ctx->ok();
#else
    (void)grpid;
    return ctx->fail(EOPNOTSUPP, "built without libvsva");
#endif
    });
}

int vsva_qemu_emu_dma(vsva_qemu_dev* dev, uint32_t gpasid, uint64_t iova, void* buf, uint32_t len,
                      uint32_t flags, uint32_t* out_done) {
    if (!dev)
        return -EINVAL;
    vsva_qemu_ctx* ctx = dev->ctx;
    return guarded(ctx, [&] {
        if (out_done)
            *out_done = 0;
        if (flags & ~VSVA_QEMU_DMA_WRITE)
            return ctx->fail(EOPNOTSUPP, fmt::format("emu dma: unknown flags {:#x}", flags));
        if (!buf && len)
            return ctx->fail(EINVAL, "emu dma: buf is NULL");
        auto hp = ctx->ad->hpasid_of(gpasid);
        if (!hp)
            return ctx->fail(ENOENT, fmt::format("emu dma: guest PASID {} not bound", gpasid));
        if (ctx->dry)
            return ctx->fail(EOPNOTSUPP, "dry run: no emulated device");
#ifdef VSVA_QEMU_HAVE_LIBVSVA
        vsva::emu::DmaFlags f;
        f.write = flags & VSVA_QEMU_DMA_WRITE;
        auto r = vsva::emu::dma(*dev->vdev, *hp, iova,
                                std::span<std::byte>(static_cast<std::byte*>(buf), len), f);
        if (!r)
            return ctx->fail(from_libvsva(r.error()));
        if (out_done)
            *out_done = static_cast<uint32_t>(r->done);
        if (r->faulted)
            return ctx->fail(EFAULT,
                             fmt::format("emu dma: fault (reason {}) at {:#x} after {} bytes{}",
                                         r->fault.reason, r->fault.addr, r->done,
                                         r->page_request ? ", page request queued" : ""));
        return ctx->ok();
#else
    (void)iova;
    return ctx->fail(EOPNOTSUPP, "built without libvsva");
#endif
    });
}

int vsva_qemu_get_stats(const vsva_qemu_ctx* ctx, struct vsva_qemu_stats* out) {
    if (!ctx || !out)
        return -EINVAL;
    const AdapterStats& s = ctx->ad->stats();
    *out = {};
    for (uint64_t n : s.descriptors)
        out->descriptors += n;
    out->invalid_descriptors = s.invalid_descriptors;
    out->binds = s.binds;
    out->unbinds = s.unbinds;
    out->rebinds = s.rebinds;
    out->bad_entries = s.bad_entries;
    out->invalidations = s.invalidations;
    out->submissions = s.submissions;
    out->waits = s.waits;
    out->host_errors = s.host_errors;
    return 0;
}

} // extern "C"
