// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The object layer against the fake kernel: what each call puts on the
 * wire (argsz, ids, payload bytes, err_uptr), kernel messages, ownership
 * and teardown order, and batch submission (chunks, partial batches,
 * fallback to single calls; from a queue and from the caller's array).
 */
#include <map>

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "fake_kernel.h"

namespace vsva {
namespace {

using test::FakeKernel;

#define ASSERT_OK_VOID(expr)                                                                       \
    do {                                                                                           \
        auto r_ = (expr);                                                                          \
        ASSERT_TRUE(r_.has_value()) << r_.error().to_string();                                     \
    } while (0)

template <class T>
T as(const std::vector<unsigned char>& bytes) {
    T t = {};
    std::memcpy(&t, bytes.data(), std::min(bytes.size(), sizeof(T)));
    return t;
}

/* A fake kernel that hands out ids and PASIDs. */
struct Kernel : FakeKernel {
    std::uint32_t next_id = 1;
    Kernel() {
        handler = [this](unsigned long cmd, void* arg) -> int {
            switch (cmd) {
            case VSVA_DOMAIN_ALLOC:
                static_cast<vsva_domain_alloc*>(arg)->out_domain_id = next_id++;
                return 0;
            case VSVA_DEVICE_ATTACH: {
                auto* a = static_cast<vsva_device_attach*>(arg);
                if (a->rid == 0xdead) {
                    test::kernel_message(a, "attach: no endpoint dead:00.0");
                    return -ENOENT;
                }
                a->out_dev_id = next_id++;
                a->out_caps = VSVA_DEV_CAP_PASID | VSVA_DEV_CAP_ATS;
                return 0;
            }
            case VSVA_PASID_ALLOC:
                static_cast<vsva_pasid_alloc*>(arg)->out_hpasid = 100 + next_id++;
                return 0;
            default:
                return 0;
            }
        };
    }
    std::vector<unsigned long> cmds() const {
        std::vector<unsigned long> v;
        for (const auto& c : calls)
            v.push_back(c.cmd);
        return v;
    }
};

TEST(Objects, WireFormatOfEveryCall) {
    Kernel k;
    auto ctx = k.open();
    ASSERT_TRUE(ctx.has_value());
    {
        auto dom = ctx->create_domain();
        ASSERT_TRUE(dom.has_value());
        alignas(4096) static char ram[8192];
        auto map = dom->map(0x100000, ram, sizeof(ram), Access::Read);
        ASSERT_TRUE(map.has_value());
        auto m = as<vsva_map>(k.calls.back().arg);
        EXPECT_EQ(m.argsz, sizeof(vsva_map));
        EXPECT_EQ(m.flags, VSVA_MAP_READ);
        EXPECT_EQ(m.domain_id, dom->id());
        EXPECT_EQ(m.gpa, 0x100000u);
        EXPECT_EQ(m.length, 8192u);
        EXPECT_EQ(m.vaddr, reinterpret_cast<std::uintptr_t>(ram));
        EXPECT_NE(m.err_uptr, 0u) << "a message buffer on every call that takes one";
        EXPECT_EQ(m.err_len, detail::kErrLen);

        auto dev = dom->attach(0x0010, {.enable_ats = true});
        ASSERT_TRUE(dev.has_value());
        EXPECT_TRUE(dev->caps().ats);
        EXPECT_FALSE(dev->caps().pri);
        auto a = as<vsva_device_attach>(k.calls.back().arg);
        EXPECT_EQ(a.flags, VSVA_ATTACH_ENABLE_ATS);
        EXPECT_EQ(a.rid, 0x10u);

        auto pasid = ctx->alloc_pasid({.gpasid = 9, .min = 100, .max = 200});
        ASSERT_TRUE(pasid.has_value());
        auto pa = as<vsva_pasid_alloc>(k.calls.back().arg);
        EXPECT_EQ(pa.flags, VSVA_PASID_GPASID_VALID);
        EXPECT_EQ(pa.gpasid, 9u);
        EXPECT_EQ(pa.min, 100u);
        EXPECT_EQ(pa.max, 200u);

        auto b = dev->bind(*pasid,
                           {.gpgd = 0x101000, .addr_width = AddrWidth::Bits57, .supervisor = true});
        ASSERT_TRUE(b.has_value());
        const auto& call = k.calls.back();
        EXPECT_EQ(call.cmd, VSVA_BIND_GPASID);
        auto op = as<vsva_nesting_op>(call.arg);
        EXPECT_EQ(op.flags, 0u);
        EXPECT_EQ(op.target_id, dev->id());
        EXPECT_EQ(op.data_len, 72u);
        auto bd = as<vsva_gpasid_bind_data>(call.payload);
        EXPECT_EQ(bd.argsz, 72u);
        EXPECT_EQ(bd.version, 1u);
        EXPECT_EQ(bd.format, unsigned(VSVA_PASID_FORMAT_INTEL_VTD));
        EXPECT_EQ(bd.addr_width, 57u);
        EXPECT_EQ(bd.flags, VSVA_SVA_GPASID_VAL);
        EXPECT_EQ(bd.gpgd, 0x101000u);
        EXPECT_EQ(bd.hpasid, pasid->hpasid());
        EXPECT_EQ(bd.gpasid, 9u) << "the Pasid's guest PASID by default";
        EXPECT_EQ(bd.vendor.vtd.flags, VSVA_VTD_GPASID_SRE);

        auto inv = Invalidation::pasid(Cache::Iotlb, pasid->hpasid());
        ASSERT_TRUE(dom->invalidate(*inv).has_value());
        auto iop = as<vsva_nesting_op>(k.calls.back().arg);
        EXPECT_EQ(iop.flags, unsigned(VSVA_TARGET_DOMAIN));
        EXPECT_EQ(iop.target_id, dom->id());
        EXPECT_EQ(iop.data_len, 56u);

        PageRequest pr;
        pr.dev_id = dev->id();
        pr.flags = VSVA_FAULT_PAGE_REQUEST_PASID_VALID;
        pr.pasid = pasid->hpasid();
        pr.grpid = 33;
        ASSERT_TRUE(ctx->respond(pr, PageResponseCode::Invalid).has_value());
        auto rsp = as<vsva_page_response>(k.calls.back().payload);
        EXPECT_EQ(rsp.argsz, 24u);
        EXPECT_EQ(rsp.version, 1u);
        EXPECT_EQ(rsp.flags, unsigned(VSVA_PAGE_RESP_PASID_VALID));
        EXPECT_EQ(rsp.pasid, pasid->hpasid());
        EXPECT_EQ(rsp.grpid, 33u);
        EXPECT_EQ(rsp.code, unsigned(VSVA_PAGE_RESP_INVALID));
        k.calls.clear();
    }
    // Scope exit: everything released, leaves first.
    EXPECT_EQ(k.cmds(),
              (std::vector<unsigned long>{VSVA_UNBIND_GPASID, VSVA_PASID_FREE, VSVA_DEVICE_DETACH,
                                          VSVA_UNMAP, VSVA_DOMAIN_DESTROY}));
    auto unbind = as<vsva_gpasid_bind_data>(k.calls[0].payload);
    EXPECT_EQ(unbind.gpgd, 0x101000u) << "unbind carries the whole bind payload";
}

TEST(Objects, KernelMessageReachesTheError) {
    Kernel k;
    auto ctx = k.open();
    auto dom = ctx->create_domain();
    auto dev = dom->attach(0xdead);
    ASSERT_FALSE(dev.has_value());
    EXPECT_EQ(dev.error().code(), ENOENT);
    EXPECT_EQ(dev.error().op(), "attach");
    EXPECT_EQ(dev.error().message(), "attach: no endpoint dead:00.0");
}

TEST(Objects, ParentsOutliveChildrenWhateverTheOrder) {
    Kernel k;
    auto ctx = k.open();
    std::optional<Binding> bind;
    {
        auto dom = ctx->create_domain();
        auto dev = dom->attach(1);
        auto pasid = ctx->alloc_pasid();
        bind.emplace(std::move(*dev->bind(*pasid, {.gpgd = 0x1000})));
        k.calls.clear();
        // Domain, device and PASID owners go first...
    }
    EXPECT_TRUE(k.calls.empty()) << "nothing released while the binding needs it";
    bind.reset();
    EXPECT_EQ(k.cmds(), (std::vector<unsigned long>{VSVA_UNBIND_GPASID, VSVA_PASID_FREE,
                                                    VSVA_DEVICE_DETACH, VSVA_DOMAIN_DESTROY}));
}

TEST(Objects, ExplicitReleaseWhileInUseIsBusy) {
    Kernel k;
    auto ctx = k.open();
    auto dom = ctx->create_domain();
    auto dev = dom->attach(1);
    auto pasid = ctx->alloc_pasid();
    auto bind = dev->bind(*pasid, {.gpgd = 0x1000});
    auto r = dev->detach();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), EBUSY);
    EXPECT_FALSE(pasid->free().has_value());
    EXPECT_FALSE(dom->destroy().has_value());
    EXPECT_TRUE(bind->unbind().has_value());
    EXPECT_FALSE(bind->valid());
    EXPECT_TRUE(dev->detach().has_value());
    EXPECT_TRUE(pasid->free().has_value());
    EXPECT_TRUE(dom->destroy().has_value());
    k.calls.clear();
}

TEST(Objects, MoveAssignReleasesTheOldObject) {
    Kernel k;
    auto ctx = k.open();
    auto dom = ctx->create_domain();
    alignas(4096) static char ram[8192];
    auto m1 = dom->map(0x0, ram, 4096);
    auto m2 = dom->map(0x1000, ram + 4096, 4096);
    k.calls.clear();
    *m1 = std::move(*m2);
    ASSERT_EQ(k.calls.size(), 1u);
    EXPECT_EQ(as<vsva_unmap>(k.calls[0].arg).gpa, 0x0u);
    EXPECT_EQ(m1->gpa(), 0x1000u);
    EXPECT_FALSE(m2->valid());
}

/* ---- batches -------------------------------------------------------- */

struct BatchKernel : Kernel {
    int fail_call = -1;           // which batch/single call fails (0-based)
    std::uint32_t fail_after = 0; // entries handled before the failure
    int seen = 0;
    BatchKernel() {
        auto base = handler;
        handler = [this, base](unsigned long cmd, void* arg) -> int {
            if (cmd == VSVA_CACHE_INVALIDATE_BATCH) {
                auto* b = static_cast<vsva_cache_invalidate_batch*>(arg);
                if (seen++ == fail_call) {
                    b->entry_num = fail_after;
                    test::kernel_message(b, "cache-invalidate: entry 3: bad granule");
                    return -EINVAL;
                }
                return 0;
            }
            if (cmd == VSVA_CACHE_INVALIDATE && seen++ == fail_call) {
                test::kernel_message(static_cast<vsva_nesting_op*>(arg), "no such PASID");
                return -ENOENT;
            }
            return base(cmd, arg);
        };
    }
};

void fill(InvalidationQueue& q, int n) {
    for (int i = 0; i < n; i++) // distinct PASIDs: nothing merges
        q.add(*Invalidation::range(Cache::Iotlb, 1 + i, 0x1000, 0x1000));
}

TEST(Batch, SixtyFourEntriesOneCall) {
    BatchKernel k;
    auto ctx = k.open();
    auto dom = ctx->create_domain();
    auto dev = dom->attach(1);
    k.calls.clear();
    InvalidationQueue q;
    fill(q, 64);
    auto out = dev->invalidate(q);
    ASSERT_TRUE(out.has_value());
    EXPECT_TRUE(out->complete());
    EXPECT_EQ(out->total, 64u);
    EXPECT_TRUE(q.empty()) << "submitting empties the queue";
    ASSERT_EQ(k.calls.size(), 1u);
    auto b = as<vsva_cache_invalidate_batch>(k.calls[0].arg);
    EXPECT_EQ(b.argsz, sizeof(vsva_cache_invalidate_batch));
    EXPECT_EQ(b.flags, 0u);
    EXPECT_EQ(b.target_id, dev->id());
    EXPECT_EQ(b.entry_len, 56u);
    EXPECT_EQ(b.entry_num, 64u);
    ASSERT_EQ(k.calls[0].payload.size(), 64u * 56);
    for (int i = 0; i < 64; i++) {
        vsva_cache_invalidate_info e = {};
        std::memcpy(&e, k.calls[0].payload.data() + i * std::size_t{56}, 56);
        EXPECT_EQ(e.argsz, 56u);
        EXPECT_EQ(e.granularity, VSVA_INV_GRANU_ADDR);
        EXPECT_EQ(e.granu.addr_info.pasid, 1u + i);
    }
}

TEST(Batch, MergesBeforeSubmitting) {
    BatchKernel k;
    auto ctx = k.open();
    auto dom = ctx->create_domain();
    k.calls.clear();
    InvalidationQueue q;
    for (int i = 0; i < 64; i++)
        q.add(*Invalidation::range(Cache::Iotlb, 5, 0x10000 + i * 0x1000ull, 0x1000));
    auto out = dom->invalidate(q);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->total, 1u);
    auto b = as<vsva_cache_invalidate_batch>(k.calls[0].arg);
    EXPECT_EQ(b.flags, unsigned(VSVA_TARGET_DOMAIN));
    EXPECT_EQ(b.entry_num, 1u);
    vsva_cache_invalidate_info e = {};
    std::memcpy(&e, k.calls[0].payload.data(), 56);
    EXPECT_EQ(e.granu.addr_info.addr, 0x10000u);
    EXPECT_EQ(e.granu.addr_info.nb_granules, 64u);
}

TEST(Batch, ChunksOfMaxBatch) {
    BatchKernel k;
    k.info.out_max_batch = 16;
    auto ctx = k.open();
    auto dev = ctx->create_domain()->attach(1);
    k.calls.clear();
    InvalidationQueue q;
    fill(q, 40);
    auto out = dev->invalidate(q);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->done, 40u);
    ASSERT_EQ(k.calls.size(), 3u);
    EXPECT_EQ(as<vsva_cache_invalidate_batch>(k.calls[2].arg).entry_num, 8u);
    vsva_cache_invalidate_info e = {};
    std::memcpy(&e, k.calls[1].payload.data(), 56);
    EXPECT_EQ(e.granu.addr_info.pasid, 17u) << "the second chunk starts at entry 16";
}

TEST(Batch, PartialBatchIsAValue) {
    BatchKernel k;
    k.info.out_max_batch = 16;
    k.fail_call = 1;  // the second chunk
    k.fail_after = 3; // handles 3 entries, fails the 4th
    auto ctx = k.open();
    auto dev = ctx->create_domain()->attach(1);
    InvalidationQueue q;
    fill(q, 64);
    auto out = dev->invalidate(q);
    ASSERT_TRUE(out.has_value());
    EXPECT_FALSE(out->complete());
    EXPECT_EQ(out->done, 19u);
    EXPECT_EQ(out->total, 64u);
    ASSERT_TRUE(out->error.has_value());
    EXPECT_EQ(out->error->code(), EINVAL);
    EXPECT_EQ(out->error->message(), "cache-invalidate: entry 3: bad granule");
}

TEST(Batch, NothingHandledIsAnError) {
    BatchKernel k;
    k.fail_call = 0;
    k.fail_after = 0;
    auto ctx = k.open();
    auto dev = ctx->create_domain()->attach(1);
    InvalidationQueue q;
    fill(q, 4);
    auto out = dev->invalidate(q);
    ASSERT_FALSE(out.has_value());
    EXPECT_EQ(out.error().code(), EINVAL);
    EXPECT_EQ(out.error().op(), "cache-invalidate-batch");
}

TEST(Batch, FallsBackToSingleCallsWithoutTheFeature) {
    BatchKernel k;
    k.info.out_features &= ~VSVA_FEAT_CACHE_INV_BATCH;
    k.fail_call = 9; // the tenth single call fails
    auto ctx = k.open();
    auto dev = ctx->create_domain()->attach(1);
    k.calls.clear();
    InvalidationQueue q;
    fill(q, 64);
    auto out = dev->invalidate(q);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->done, 9u);
    EXPECT_EQ(out->total, 64u);
    EXPECT_EQ(out->error->message(), "no such PASID");
    EXPECT_EQ(k.calls.size(), 10u) << "stops at the first failure";
    for (const auto& c : k.calls)
        EXPECT_EQ(c.cmd, VSVA_CACHE_INVALIDATE);
}

TEST(Batch, EmptyQueueMakesNoCall) {
    BatchKernel k;
    auto ctx = k.open();
    auto dev = ctx->create_domain()->attach(1);
    k.calls.clear();
    InvalidationQueue q;
    auto out = dev->invalidate(q);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->total, 0u);
    EXPECT_TRUE(k.calls.empty());
}

/* ---- batches from the caller's own array ----------------------------- */

std::vector<Invalidation> adjacent_pages(int n) {
    std::vector<Invalidation> v;
    for (int i = 0; i < n; i++) // mergeable, but a span is submitted as it is
        v.push_back(*Invalidation::range(Cache::Iotlb, 5, 0x10000 + i * 0x1000ull, 0x1000));
    return v;
}

TEST(SpanBatch, SubmittedInPlaceUnmergedInOrder) {
    BatchKernel k;
    auto ctx = k.open();
    auto dev = ctx->create_domain()->attach(1);
    k.calls.clear();
    const auto entries = adjacent_pages(64);
    auto out = dev->invalidate(std::span<const Invalidation>(entries));
    ASSERT_TRUE(out.has_value());
    EXPECT_TRUE(out->complete());
    EXPECT_EQ(out->total, 64u);
    ASSERT_EQ(k.calls.size(), 1u);
    auto b = as<vsva_cache_invalidate_batch>(k.calls[0].arg);
    EXPECT_EQ(b.flags, 0u);
    EXPECT_EQ(b.target_id, dev->id());
    EXPECT_EQ(b.entry_len, 56u);
    EXPECT_EQ(b.entry_num, 64u) << "no merging on this path";
    EXPECT_EQ(b.data_uptr, reinterpret_cast<std::uintptr_t>(entries.data()))
            << "the kernel reads the caller's array: no copy";
    ASSERT_EQ(k.calls[0].payload.size(), 64u * 56);
    EXPECT_EQ(std::memcmp(k.calls[0].payload.data(), entries.data(), 64 * 56), 0);
}

TEST(SpanBatch, DomainTargetAndChunksPointIntoTheArray) {
    BatchKernel k;
    k.info.out_max_batch = 16;
    auto ctx = k.open();
    auto dom = ctx->create_domain();
    k.calls.clear();
    const auto entries = adjacent_pages(40);
    auto out = dom->invalidate(entries); // a vector converts to the span
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->done, 40u);
    ASSERT_EQ(k.calls.size(), 3u);
    const std::size_t starts[] = {0, 16, 32}, sizes[] = {16, 16, 8};
    for (int i = 0; i < 3; i++) {
        auto b = as<vsva_cache_invalidate_batch>(k.calls[i].arg);
        EXPECT_EQ(b.flags, unsigned(VSVA_TARGET_DOMAIN));
        EXPECT_EQ(b.target_id, dom->id());
        EXPECT_EQ(b.entry_num, sizes[i]);
        EXPECT_EQ(b.data_uptr, reinterpret_cast<std::uintptr_t>(&entries[starts[i]]));
    }
}

TEST(SpanBatch, PartialAndFailedBatches) {
    BatchKernel k;
    k.info.out_max_batch = 16;
    k.fail_call = 1;
    k.fail_after = 3;
    auto ctx = k.open();
    auto dev = ctx->create_domain()->attach(1);
    const auto entries = adjacent_pages(64);
    auto out = dev->invalidate(entries);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->done, 19u);
    EXPECT_EQ(out->total, 64u);
    ASSERT_TRUE(out->error.has_value());
    EXPECT_EQ(out->error->code(), EINVAL);
    EXPECT_EQ(out->error->message(), "cache-invalidate: entry 3: bad granule");

    BatchKernel k2;
    k2.fail_call = 0;
    k2.fail_after = 0;
    auto ctx2 = k2.open();
    auto dev2 = ctx2->create_domain()->attach(1);
    auto none = dev2->invalidate(entries);
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.error().code(), EINVAL);
    EXPECT_EQ(none.error().op(), "cache-invalidate-batch");
}

TEST(SpanBatch, SingleCallsWithoutTheFeatureAndEmptySpan) {
    BatchKernel k;
    k.info.out_features &= ~VSVA_FEAT_CACHE_INV_BATCH;
    auto ctx = k.open();
    auto dev = ctx->create_domain()->attach(1);
    k.calls.clear();
    const auto entries = adjacent_pages(5);
    auto out = dev->invalidate(entries);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->done, 5u);
    ASSERT_EQ(k.calls.size(), 5u);
    for (int i = 0; i < 5; i++) {
        EXPECT_EQ(k.calls[i].cmd, VSVA_CACHE_INVALIDATE);
        auto op = as<vsva_nesting_op>(k.calls[i].arg);
        EXPECT_EQ(op.data_uptr, reinterpret_cast<std::uintptr_t>(&entries[i]));
    }
    k.calls.clear();
    auto empty = dev->invalidate(std::span<const Invalidation>());
    ASSERT_TRUE(empty.has_value());
    EXPECT_EQ(empty->total, 0u);
    EXPECT_TRUE(k.calls.empty());
}

/* ---- fault records --------------------------------------------------- */

TEST(Fault, DecodesPageRequestsAndUnrecoverableFaults) {
    vsva_fault_event ev = {};
    ev.dev_id = 3;
    ev.seq = 10;
    ev.flags = VSVA_FAULT_EVENT_LOST;
    ev.lost = 2;
    ev.fault.type = VSVA_FAULT_PAGE_REQ;
    ev.fault.prm.flags = VSVA_FAULT_PAGE_REQUEST_PASID_VALID | VSVA_FAULT_PAGE_REQUEST_LAST_PAGE;
    ev.fault.prm.pasid = 44;
    ev.fault.prm.grpid = 5;
    ev.fault.prm.perm = VSVA_FAULT_PERM_WRITE;
    ev.fault.prm.addr = 0x7000;
    auto r = detail::decode_fault(ev);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->seq, 10u);
    EXPECT_EQ(r->lost, 2u);
    const auto* pr = std::get_if<PageRequest>(&r->fault);
    ASSERT_NE(pr, nullptr);
    EXPECT_EQ(pr->dev_id, 3u);
    EXPECT_TRUE(pr->pasid_valid());
    EXPECT_TRUE(pr->last_page());
    EXPECT_EQ(pr->grpid, 5u);
    EXPECT_EQ(pr->addr, 0x7000u);

    ev.flags = 0;
    ev.fault.type = VSVA_FAULT_DMA_UNRECOV;
    ev.fault.event = {};
    ev.fault.event.reason = VSVA_FAULT_REASON_PTE_FETCH;
    ev.fault.event.fetch_addr = 0x123000;
    r = detail::decode_fault(ev);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->lost, 0u);
    const auto* uf = std::get_if<UnrecoverableFault>(&r->fault);
    ASSERT_NE(uf, nullptr);
    EXPECT_EQ(uf->reason, unsigned(VSVA_FAULT_REASON_PTE_FETCH));
    EXPECT_EQ(uf->fetch_addr, 0x123000u);

    ev.fault.type = 9;
    EXPECT_EQ(detail::decode_fault(ev).error().code(), EPROTO);
}

TEST(Fault, QueueReadsWholeRecordsFromTheFd) {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    auto q = detail::Access::make_fault_queue(p[0]);
    ASSERT_OK_VOID(q.set_nonblocking(true));
    FaultRecord recs[4];
    auto none = q.read(recs);
    ASSERT_TRUE(none.has_value());
    EXPECT_EQ(*none, 0u) << "non-blocking and empty: zero records, not an error";

    vsva_fault_event ev[3] = {};
    for (unsigned i = 0; i < 3; i++) {
        ev[i].dev_id = 1;
        ev[i].seq = i;
        ev[i].fault.type = VSVA_FAULT_PAGE_REQ;
        ev[i].fault.prm.grpid = 10 + i;
    }
    ASSERT_EQ(::write(p[1], ev, sizeof(ev)), ssize_t(sizeof(ev)));
    auto two = q.read(std::span(recs, 2));
    ASSERT_TRUE(two.has_value());
    ASSERT_EQ(*two, 2u) << "no more than asked for";
    EXPECT_EQ(std::get<PageRequest>(recs[1].fault).grpid, 11u);
    auto one = q.read(recs);
    ASSERT_TRUE(one.has_value());
    ASSERT_EQ(*one, 1u);
    EXPECT_EQ(recs[0].seq, 2u);

    ASSERT_EQ(::write(p[1], ev, 10), 10); // a torn record: not our kernel
    auto bad = q.read(recs);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code(), EPROTO);
    ::close(p[1]);
    // The queue owns p[0] and closes it.
}

} // namespace
} // namespace vsva
