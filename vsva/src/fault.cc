// SPDX-License-Identifier: LGPL-2.1-or-later
/* The fault queue: VSVA_FAULT_ALLOC, typed records, page responses. */
#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core.h"

namespace vsva {

Result<FaultQueue> Context::fault_queue() const {
    vsva_fault_alloc a = {};
    if (auto r = core_->call(a, "fault-alloc"); !r)
        return Unexpected(std::move(r).error());
    return FaultQueue(static_cast<int>(a.out_fault_fd));
}

Result<void> Context::respond(const PageRequest& req, PageResponseCode code) const {
    vsva_page_response resp = {};
    resp.argsz = sizeof(resp);
    resp.version = VSVA_PAGE_RESP_VERSION_1;
    if (req.pasid_valid()) {
        resp.flags = VSVA_PAGE_RESP_PASID_VALID;
        resp.pasid = req.pasid;
    }
    resp.grpid = req.grpid;
    resp.code = static_cast<std::uint32_t>(code);
    vsva_nesting_op op = {};
    op.target_id = req.dev_id;
    op.data_len = sizeof(resp);
    op.data_uptr = reinterpret_cast<std::uintptr_t>(&resp);
    return core_->call_as(VSVA_PAGE_RESPONSE, op, "page-response");
}

FaultQueue::FaultQueue(FaultQueue&& o) noexcept : fd_(o.fd_) {
    o.fd_ = -1;
}
FaultQueue& FaultQueue::operator=(FaultQueue&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = o.fd_;
        o.fd_ = -1;
    }
    return *this;
}
FaultQueue::~FaultQueue() {
    if (fd_ >= 0)
        ::close(fd_);
}

namespace detail {

/* One kernel record to its typed form (exposed to the unit tests). */
Result<FaultRecord> decode_fault(const vsva_fault_event& ev) {
    FaultRecord rec;
    rec.seq = ev.seq;
    rec.lost = (ev.flags & VSVA_FAULT_EVENT_LOST) ? ev.lost : 0;
    if (ev.fault.type == VSVA_FAULT_PAGE_REQ) {
        const auto& p = ev.fault.prm;
        PageRequest pr;
        pr.dev_id = ev.dev_id;
        pr.flags = p.flags;
        pr.pasid = p.pasid;
        pr.grpid = p.grpid;
        pr.perm = p.perm;
        pr.addr = p.addr;
        pr.private_data[0] = p.private_data[0];
        pr.private_data[1] = p.private_data[1];
        rec.fault = pr;
    } else if (ev.fault.type == VSVA_FAULT_DMA_UNRECOV) {
        const auto& u = ev.fault.event;
        UnrecoverableFault uf;
        uf.dev_id = ev.dev_id;
        uf.reason = u.reason;
        uf.flags = u.flags;
        uf.pasid = u.pasid;
        uf.perm = u.perm;
        uf.addr = u.addr;
        uf.fetch_addr = u.fetch_addr;
        rec.fault = uf;
    } else {
        return fail(EPROTO, "fault-read", fmt::format("unknown fault type {}", ev.fault.type));
    }
    return rec;
}

} // namespace detail

Result<std::size_t> FaultQueue::read(std::span<FaultRecord> out) {
    constexpr std::size_t kChunk = 16;
    vsva_fault_event buf[kChunk];
    const std::size_t want = std::min(out.size(), kChunk);
    if (want == 0)
        return std::size_t{0};
    ssize_t n = ::read(fd_, buf, want * sizeof(buf[0]));
    if (n < 0) {
        if (errno == EAGAIN)
            return std::size_t{0};
        return fail(errno, "fault-read");
    }
    if (static_cast<std::size_t>(n) % sizeof(buf[0]))
        return fail(EPROTO, "fault-read",
                    fmt::format("read {} bytes, not a multiple of the {}-byte record", n,
                                sizeof(buf[0])));
    const std::size_t count = static_cast<std::size_t>(n) / sizeof(buf[0]);
    for (std::size_t i = 0; i < count; i++) {
        auto rec = detail::decode_fault(buf[i]);
        if (!rec)
            return Unexpected(std::move(rec).error());
        out[i] = *rec;
    }
    return count;
}

Result<void> FaultQueue::set_nonblocking(bool on) {
    int fl = ::fcntl(fd_, F_GETFL);
    if (fl < 0)
        return fail(errno, "fault-fcntl");
    fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
    if (::fcntl(fd_, F_SETFL, fl) < 0)
        return fail(errno, "fault-fcntl");
    return {};
}

} // namespace vsva
