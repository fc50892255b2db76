// SPDX-License-Identifier: GPL-2.0
// vm_datapath: hostile tables fault with the right reason, the fault queue
// fd (records, poll, O_NONBLOCK, overflow, life after the context), page
// requests and their responses.
#include <atomic>
#include <chrono>
#include <csignal>

#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>

#include "dp_fixture.h"

using namespace dp;

namespace {

uint32_t Reason(const struct vsva_emu_dma& d) {
    return d.out_fault.reason;
}

TEST_F(Datapath, NotPresentIsPteFetch) {
    Bind();
    pt_->Map4K(kVa, kData);
    auto d = Fault(kVa + k4K, 0);
    EXPECT_EQ(Reason(d), (uint32_t)VSVA_FAULT_REASON_PTE_FETCH);
    EXPECT_NE(d.out_fault.flags & VSVA_FAULT_UNRECOV_FETCH_ADDR_VALID, 0u);
    EXPECT_EQ(d.out_fault.fetch_addr, pt_->Entry(kVa + k4K, 1));
    EXPECT_EQ(d.out_done, 0u);
}

TEST_F(Datapath, NonCanonicalIsOutOfRange) {
    Bind();
    auto d = Fault(0x0000800000000000ull, 0);
    EXPECT_EQ(Reason(d), (uint32_t)VSVA_FAULT_REASON_OOR_ADDRESS);
    d = Fault(0x00ab123456789000ull, 0);
    EXPECT_EQ(Reason(d), (uint32_t)VSVA_FAULT_REASON_OOR_ADDRESS);
}

TEST_F(Datapath, NonCanonicalFiveLevel) {
    Bind(5);
    auto d = Fault(0x0100000000000000ull, 0);
    EXPECT_EQ(Reason(d), (uint32_t)VSVA_FAULT_REASON_OOR_ADDRESS);
}

TEST_F(Datapath, TableOutsideStage2IsWalkAbort) {
    Bind();
    const uint64_t hole = 0x40000000000ull; // 4 TiB: never mapped
    pt_->Pte(kVa, 4) = hole | kUser;
    auto d = Fault(kVa, 0);
    EXPECT_EQ(Reason(d), (uint32_t)VSVA_FAULT_REASON_WALK_EABT);
    EXPECT_EQ(d.out_fault.fetch_addr, hole + PageTables::Index(kVa, 3) * 8);
}

TEST_F(Datapath, DataOutsideStage2IsAccess) {
    Bind();
    pt_->Map4K(kVa, 0x40000000000ull);
    auto d = Fault(kVa + 8, 0);
    EXPECT_EQ(Reason(d), (uint32_t)VSVA_FAULT_REASON_ACCESS);
    EXPECT_EQ(d.out_fault.fetch_addr, 0x40000000008ull);
}

TEST_F(Datapath, ReadOnlyStage2WriteIsAccess) {
    ASSERT_EQ(ram_.Add(ctx_, dom_, kHiGpa, k2M, VSVA_MAP_READ), 0);
    Bind();
    pt_->Map4K(kVa, kHiGpa);
    Read64(kVa);
    auto d = Fault(kVa, VSVA_EMU_DMA_WRITE);
    EXPECT_EQ(Reason(d), (uint32_t)VSVA_FAULT_REASON_ACCESS);
}

TEST_F(Datapath, ReadOnlyStage2TableNeedingAIsAccess) {
    // A table in read-only guest RAM whose A bit is clear: the walk may
    // not write it.
    ASSERT_EQ(ram_.Add(ctx_, dom_, kHiGpa, k2M), 0);
    Bind();
    pt_->Map4K(kVa, kData);
    ram_.Q(kHiGpa) = kData | kUser; // a PT with entry 0 -> kData
    pt_->Pte(kVa, 2) = kHiGpa | kUser;
    // Remap the window read-only.
    ASSERT_EQ(ctx_.Unmap(dom_, kHiGpa, k2M), 0);
    ASSERT_EQ(ctx_.Map(dom_, kHiGpa, ram_.At(kHiGpa), k2M, VSVA_MAP_READ), 0);
    auto d = Fault(kVa, 0);
    EXPECT_EQ(Reason(d), (uint32_t)VSVA_FAULT_REASON_ACCESS);
    ram_.Q(kHiGpa) |= kA;
    Read64(kVa);
}

TEST_F(Datapath, UnboundPasidIsPasidInvalid) {
    Bind();
    uint64_t v;
    struct vsva_emu_dma d;
    ASSERT_EQ(ctx_.Dma(dev_, pasid_ + 7, kVa, &v, 8, 0, &d), 0);
    EXPECT_NE(d.out_flags & VSVA_EMU_DMA_FAULTED, 0u);
    EXPECT_EQ(Reason(d), (uint32_t)VSVA_FAULT_REASON_PASID_INVALID);
}

TEST_F(Datapath, PsInPml4IsPteFetch) {
    Bind();
    pt_->Map4K(kVa, kData);
    pt_->Pte(kVa, 4) |= kPS;
    auto d = Fault(kVa, 0);
    EXPECT_EQ(Reason(d), (uint32_t)VSVA_FAULT_REASON_PTE_FETCH);
    EXPECT_EQ(d.out_fault.fetch_addr, pt_->Entry(kVa, 4));
}

TEST_F(Datapath, PsInPml5IsPteFetch) {
    Bind(5);
    pt_->Map4K(kVa, kData);
    pt_->Pte(kVa, 5) |= kPS;
    auto d = Fault(kVa, 0);
    EXPECT_EQ(Reason(d), (uint32_t)VSVA_FAULT_REASON_PTE_FETCH);
}

TEST_F(Datapath, ReservedAddressBitsArePteFetch) {
    Bind();
    pt_->Map4K(kVa, kData);
    pt_->Pte(kVa, 2) |= 1ull << 50;
    auto d = Fault(kVa, 0);
    EXPECT_EQ(Reason(d), (uint32_t)VSVA_FAULT_REASON_PTE_FETCH);
    EXPECT_EQ(d.out_fault.fetch_addr, pt_->Entry(kVa, 2));
}

TEST_F(Datapath, ReservedBitsOfLargePagesArePteFetch) {
    Bind();
    pt_->Map1G(kVa, kHiGpa | (1ull << 13));
    auto d = Fault(kVa, 0);
    EXPECT_EQ(Reason(d), (uint32_t)VSVA_FAULT_REASON_PTE_FETCH);
    pt_->Map2M(kVa + k1G, kData | (1ull << 20));
    d = Fault(kVa + k1G, 0);
    EXPECT_EQ(Reason(d), (uint32_t)VSVA_FAULT_REASON_PTE_FETCH);
}

TEST_F(Datapath, SelfReferencingTableEndsByLevelCount) {
    Bind();
    // Every level's entry i points back at the root: the walk reads the
    // root four times and ends on it as a 4K leaf.
    const unsigned i = 5;
    const uint64_t va =
            ((uint64_t)i << 39) | ((uint64_t)i << 30) | ((uint64_t)i << 21) | ((uint64_t)i << 12);
    ram_.Q(pt_->root() + i * 8) = pt_->root() | kUser;
    auto c0 = ctx_.Counters();
    EXPECT_EQ(Read64(va + i * 8), pt_->root() | kUser | kA) << "the leaf is the root table itself";
    EXPECT_EQ(ctx_.Counters().out_walks, c0.out_walks + 1);
    // The same loop with PS set: reserved at level 4, a fault at once.
    ram_.Q(pt_->root() + i * 8) = pt_->root() | kUser | kPS;
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvPasid(VSVA_CACHE_INV_TYPE_IOTLB, pasid_)), 0);
    auto d = Fault(va, 0);
    EXPECT_EQ(Reason(d), (uint32_t)VSVA_FAULT_REASON_PTE_FETCH);
}

TEST_F(Datapath, HostileTablesNeverCrash) {
    // Fill every table entry with junk and walk many addresses.
    Bind();
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (uint64_t t = kPool; t < kPool + 64 * k4K; t += 8) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        uint64_t v = seed;
        if (seed & 1) // sometimes a valid table pointer
            v = (kPool + (seed >> 12) % 64 * k4K) | (seed & 0x8000000000000fffull);
        ram_.Q(t) = v;
    }
    for (int n = 0; n < 2000; n++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        uint64_t va = seed & 0x00007ffffffff000ull;
        uint64_t buf;
        struct vsva_emu_dma d;
        ASSERT_EQ(ctx_.Dma(dev_, pasid_, va, &buf, 8, (seed >> 60) & 3, &d), 0);
        if (d.out_flags & VSVA_EMU_DMA_FAULTED) {
            EXPECT_LE(d.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_OOR_ADDRESS);
        }
    }
}

// ---- fault queue --------------------------------------------------------

class FaultQueue : public Datapath {
protected:
    void TearDown() override {
        if (ffd_ >= 0)
            close(ffd_);
    }
    int ReadEvents(struct vsva_fault_event* ev, size_t n) {
        ssize_t r = read(ffd_, ev, n * sizeof(*ev));
        return r < 0 ? -errno : (int)(r / sizeof(*ev));
    }
    int ffd_ = -1;
};

TEST_F(FaultQueue, UnrecoverableFaultIsRecorded) {
    Bind();
    ASSERT_EQ(ctx_.FaultAlloc(&ffd_), 0);
    int again;
    EXPECT_EQ(ctx_.FaultAlloc(&again), -EBUSY);
    ASSERT_EQ(fcntl(ffd_, F_SETFL, O_NONBLOCK), 0);
    struct vsva_fault_event ev[4];
    EXPECT_EQ(ReadEvents(ev, 4), -EAGAIN);
    struct pollfd p = {ffd_, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 0), 0);

    Fault(kVa, VSVA_EMU_DMA_WRITE);
    EXPECT_EQ(poll(&p, 1, 0), 1);
    EXPECT_NE(p.revents & POLLIN, 0);
    char small[16];
    EXPECT_EQ(read(ffd_, small, sizeof(small)), -1);
    EXPECT_EQ(errno, EINVAL);
    ASSERT_EQ(ReadEvents(ev, 4), 1);
    EXPECT_EQ(ev[0].dev_id, dev_);
    EXPECT_EQ(ev[0].flags, 0u);
    EXPECT_EQ(ev[0].fault.type, (uint32_t)VSVA_FAULT_DMA_UNRECOV);
    EXPECT_EQ(ev[0].fault.event.reason, (uint32_t)VSVA_FAULT_REASON_PTE_FETCH);
    EXPECT_EQ(ev[0].fault.event.perm, (uint32_t)VSVA_FAULT_PERM_WRITE);
    EXPECT_EQ(ev[0].fault.event.addr, kVa);
    EXPECT_EQ(ev[0].fault.event.pasid, pasid_);
    EXPECT_EQ(ReadEvents(ev, 4), -EAGAIN);
    EXPECT_EQ(ctx_.Counters().out_faults, 1u);
}

TEST_F(FaultQueue, OverflowReportsLostRecords) {
    Bind();
    ASSERT_EQ(ctx_.FaultAlloc(&ffd_), 0);
    const unsigned n = 300;
    for (unsigned i = 0; i < n; i++)
        Fault(kVa + i * k4K, 0);
    std::vector<struct vsva_fault_event> ev(n);
    int got = ReadEvents(ev.data(), n);
    ASSERT_GT(got, 0);
    ASSERT_LT((unsigned)got, n) << "the queue is bounded";
    for (int i = 0; i < got; i++) {
        EXPECT_EQ(ev[i].seq, (uint32_t)i);
        EXPECT_EQ(ev[i].flags, 0u);
    }
    Fault(kVa, 0); // the next record says how many were lost
    ASSERT_EQ(ReadEvents(ev.data(), 1), 1);
    EXPECT_EQ(ev[0].flags, (uint32_t)VSVA_FAULT_EVENT_LOST);
    EXPECT_EQ(ev[0].lost, n - (unsigned)got);
    EXPECT_EQ(ev[0].seq, n);
}

TEST_F(FaultQueue, FdOutlivesTheContext) {
    Bind();
    ASSERT_EQ(ctx_.FaultAlloc(&ffd_), 0);
    Fault(kVa, 0);
    ctx_.Close();
    struct vsva_fault_event ev[2];
    EXPECT_EQ(ReadEvents(ev, 2), 1) << "queued records stay readable";
    EXPECT_EQ(ReadEvents(ev, 2), 0) << "then end of file";
    struct pollfd p = {ffd_, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 0), 1);
    EXPECT_NE(p.revents & POLLHUP, 0);
}

// ---- page requests ------------------------------------------------------

class PageRequest : public FaultQueue {
protected:
    void SetUp() override {
        FaultQueue::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        Bind(4, VSVA_ATTACH_ENABLE_ATS | VSVA_ATTACH_ENABLE_PRI);
        ASSERT_EQ(ctx_.FaultAlloc(&ffd_), 0);
    }
    // Block until one page request arrives.
    struct vsva_fault_event NextRequest() {
        struct vsva_fault_event ev = {};
        struct pollfd p = {ffd_, POLLIN, 0};
        EXPECT_EQ(poll(&p, 1, 20000), 1);
        EXPECT_EQ(ReadEvents(&ev, 1), 1);
        EXPECT_EQ(ev.fault.type, (uint32_t)VSVA_FAULT_PAGE_REQ);
        return ev;
    }
};

TEST_F(PageRequest, SuccessCompletesTheDma) {
    std::vector<uint8_t> pat(2 * k4K);
    for (size_t i = 0; i < pat.size(); i++)
        pat[i] = (uint8_t)(i * 13);
    pt_->Map4K(kVa, kData);
    struct vsva_emu_dma d = {};
    int rc = -1;
    std::thread t([&] {
        rc = ctx_.Dma(dev_, pasid_, kVa, pat.data(), pat.size(),
                      VSVA_EMU_DMA_WRITE | VSVA_EMU_DMA_WAIT, &d);
    });
    auto ev = NextRequest();
    EXPECT_EQ(ev.dev_id, dev_);
    EXPECT_EQ(ev.fault.prm.addr, kVa + k4K);
    EXPECT_EQ(ev.fault.prm.pasid, pasid_);
    EXPECT_EQ(ev.fault.prm.perm, (uint32_t)VSVA_FAULT_PERM_WRITE);
    EXPECT_NE(ev.fault.prm.flags & VSVA_FAULT_PAGE_REQUEST_LAST_PAGE, 0u);
    EXPECT_NE(ev.fault.prm.flags & VSVA_FAULT_PAGE_REQUEST_PASID_VALID, 0u);
    // The "guest" makes the page present, then answers.
    pt_->Map4K(kVa + k4K, kData + 3 * k4K);
    EXPECT_EQ(ctx_.PageResponse(dev_, ev.fault.prm.grpid, VSVA_PAGE_RESP_SUCCESS), 0);
    t.join();
    ASSERT_EQ(rc, 0);
    EXPECT_EQ(d.out_done, pat.size());
    // The fault was fixed: no flag, no group is left over from it.
    EXPECT_EQ(d.out_flags, 0u);
    EXPECT_EQ(d.out_grpid, 0u);
    EXPECT_EQ(d.out_fault.reason, 0u);
    EXPECT_EQ(memcmp(ram_.At(kData), pat.data(), k4K), 0);
    EXPECT_EQ(memcmp(ram_.At(kData + 3 * k4K), pat.data() + k4K, k4K), 0);
    auto c = ctx_.Counters();
    EXPECT_EQ(c.out_page_requests, 1u);
    // The group is answered: a second response is refused.
    std::string msg;
    EXPECT_EQ(ctx_.PageResponse(dev_, ev.fault.prm.grpid, VSVA_PAGE_RESP_SUCCESS, &msg), -EINVAL);
    EXPECT_NE(msg.find("no pending page request"), std::string::npos) << msg;
}

TEST_F(PageRequest, InvalidFailsTheDma) {
    uint64_t v = 0;
    struct vsva_emu_dma d = {};
    int rc = -1;
    std::thread t([&] { rc = ctx_.Dma(dev_, pasid_, kVa, &v, 8, VSVA_EMU_DMA_WAIT, &d); });
    auto ev = NextRequest();
    EXPECT_EQ(ev.fault.prm.perm, (uint32_t)VSVA_FAULT_PERM_READ);
    EXPECT_EQ(ctx_.PageResponse(dev_, ev.fault.prm.grpid, VSVA_PAGE_RESP_INVALID), 0);
    t.join();
    ASSERT_EQ(rc, 0);
    EXPECT_NE(d.out_flags & VSVA_EMU_DMA_FAULTED, 0u);
    EXPECT_EQ(d.out_done, 0u);
    EXPECT_EQ(d.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_PTE_FETCH);
}

TEST_F(PageRequest, NoWaitReturnsTheGroup) {
    struct vsva_emu_dma d;
    uint64_t v;
    ASSERT_EQ(ctx_.Dma(dev_, pasid_, kVa, &v, 8, 0, &d), 0);
    EXPECT_EQ(d.out_flags, (uint32_t)(VSVA_EMU_DMA_FAULTED | VSVA_EMU_DMA_PAGE_REQ));
    auto ev = NextRequest();
    EXPECT_EQ(ev.fault.prm.grpid, d.out_grpid);
    EXPECT_EQ(ctx_.PageResponse(dev_ + 50, d.out_grpid, VSVA_PAGE_RESP_SUCCESS), -ENOENT);
    EXPECT_EQ(ctx_.PageResponse(dev_, d.out_grpid + 1, VSVA_PAGE_RESP_SUCCESS), -EINVAL);
    EXPECT_EQ(ctx_.PageResponse(dev_, d.out_grpid, VSVA_PAGE_RESP_SUCCESS), 0);
}

TEST_F(PageRequest, ResponsePasidMustMatch) {
    struct vsva_emu_dma d;
    uint64_t v;
    ASSERT_EQ(ctx_.Dma(dev_, pasid_, kVa, &v, 8, 0, &d), 0);
    struct vsva_page_response r = {};
    r.argsz = sizeof(r);
    r.version = VSVA_PAGE_RESP_VERSION_1;
    r.flags = VSVA_PAGE_RESP_PASID_VALID;
    uint32_t other;
    ASSERT_EQ(ctx_.PasidAlloc(&other), 0);
    r.pasid = other;
    r.grpid = d.out_grpid;
    std::string msg;
    EXPECT_EQ(ctx_.Nesting(VSVA_PAGE_RESPONSE, dev_, 0, &r, sizeof(r), &msg), -EINVAL);
    EXPECT_NE(msg.find("is for PASID"), std::string::npos) << msg;
    r.pasid = pasid_;
    EXPECT_EQ(ctx_.Nesting(VSVA_PAGE_RESPONSE, dev_, 0, &r, sizeof(r)), 0);
}

void NoopHandler(int) {}

TEST_F(PageRequest, SignalWithdrawsTheRequest) {
    struct sigaction sa = {}, old;
    sa.sa_handler = NoopHandler; // no SA_RESTART
    ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);
    uint64_t v = 0;
    struct vsva_emu_dma d = {};
    std::atomic<int> rc{1};
    std::thread t([&] { rc = ctx_.Dma(dev_, pasid_, kVa, &v, 8, VSVA_EMU_DMA_WAIT, &d); });
    auto ev = NextRequest();
    // Keep signalling until the thread leaves the ioctl.
    while (rc == 1) {
        pthread_kill(t.native_handle(), SIGUSR1);
        usleep(10000);
    }
    t.join();
    sigaction(SIGUSR1, &old, nullptr);
    EXPECT_EQ(rc.load(), -EINTR);
    EXPECT_EQ(ctx_.PageResponse(dev_, ev.fault.prm.grpid, VSVA_PAGE_RESP_SUCCESS), -EINVAL)
            << "the request was withdrawn";
}

TEST_F(PageRequest, FloodIsBounded) {
    // More page requests than the fault queue holds: the overflow becomes
    // unrecoverable faults (lost records), never unbounded memory.
    const unsigned n = 300;
    unsigned reqs = 0;
    std::vector<uint32_t> groups;
    for (unsigned i = 0; i < n; i++) {
        struct vsva_emu_dma d;
        uint64_t v;
        ASSERT_EQ(ctx_.Dma(dev_, pasid_, kVa + i * k4K, &v, 8, 0, &d), 0);
        ASSERT_NE(d.out_flags & VSVA_EMU_DMA_FAULTED, 0u);
        if (d.out_flags & VSVA_EMU_DMA_PAGE_REQ) {
            reqs++;
            groups.push_back(d.out_grpid);
        }
    }
    EXPECT_GT(reqs, 0u);
    EXPECT_LT(reqs, n);
    EXPECT_EQ(ctx_.Counters().out_page_requests, reqs);
    std::vector<struct vsva_fault_event> ev(n);
    ASSERT_EQ(fcntl(ffd_, F_SETFL, O_NONBLOCK), 0);
    EXPECT_EQ(ReadEvents(ev.data(), n), (int)reqs);
    for (uint32_t g : groups)
        EXPECT_EQ(ctx_.PageResponse(dev_, g, VSVA_PAGE_RESP_INVALID), 0);
    // Room again: the next fault is a page request, flagged after losses.
    struct vsva_emu_dma d;
    uint64_t v;
    ASSERT_EQ(ctx_.Dma(dev_, pasid_, kVa, &v, 8, 0, &d), 0);
    EXPECT_NE(d.out_flags & VSVA_EMU_DMA_PAGE_REQ, 0u);
    ASSERT_EQ(ReadEvents(ev.data(), 1), 1);
    EXPECT_EQ(ev[0].flags, (uint32_t)VSVA_FAULT_EVENT_LOST);
    EXPECT_EQ(ev[0].lost, n - reqs);
}

TEST_F(PageRequest, UnbindAnswersPendingRequests) {
    uint64_t v = 0;
    struct vsva_emu_dma d = {};
    int rc = -1;
    std::thread t([&] { rc = ctx_.Dma(dev_, pasid_, kVa, &v, 8, VSVA_EMU_DMA_WAIT, &d); });
    auto ev = NextRequest();
    ASSERT_EQ(ctx_.Unbind(dev_, pasid_, pt_->root()), 0);
    t.join();
    ASSERT_EQ(rc, 0);
    EXPECT_NE(d.out_flags & VSVA_EMU_DMA_FAULTED, 0u);
    EXPECT_EQ(ctx_.PageResponse(dev_, ev.fault.prm.grpid, VSVA_PAGE_RESP_SUCCESS), -EINVAL);
}

TEST_F(PageRequest, TeardownWithPendingRequests) {
    struct vsva_emu_dma d;
    uint64_t v;
    for (int i = 0; i < 10; i++)
        ASSERT_EQ(ctx_.Dma(dev_, pasid_, kVa + i * k4K, &v, 8, 0, &d), 0);
    ctx_.Close(); // release answers them; nothing leaks (kmemleak)
    struct vsva_fault_event ev[16];
    EXPECT_EQ(ReadEvents(ev, 16), 10);
    EXPECT_EQ(ReadEvents(ev, 16), 0);
}

// ---- partial results, signals, fault fd life, record bytes -------------

// Two host pages; the second made inaccessible to the kernel's user copy.
struct HalfBadBuffer {
    explicit HalfBadBuffer(int prot2) {
        p = (uint8_t*)mmap(nullptr, 2 * k4K, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                           -1, 0);
        if (p != MAP_FAILED)
            mprotect(p + k4K, k4K, prot2);
    }
    ~HalfBadBuffer() {
        if (p != MAP_FAILED)
            munmap(p, 2 * k4K);
    }
    uint8_t* p;
};

TEST_F(Datapath, WriteStoppedByBadUserBufferReportsBytesMoved) {
    Bind();
    pt_->Map4K(kVa, kData);
    pt_->Map4K(kVa + k4K, kData + k4K);
    HalfBadBuffer b(PROT_NONE);
    ASSERT_NE(b.p, MAP_FAILED);
    for (unsigned i = 0; i < k4K; i++)
        b.p[i] = (uint8_t)(i * 7 + 1);
    struct vsva_emu_dma d;
    // The first page moved before the copy from user failed: success, with
    // out_done saying how far it got, not -EFAULT discarding it.
    ASSERT_EQ(ctx_.Dma(dev_, pasid_, kVa, b.p, 2 * k4K, VSVA_EMU_DMA_WRITE, &d), 0);
    EXPECT_EQ(d.out_done, k4K);
    EXPECT_EQ(d.out_flags, 0u) << "stopped at an error, not a fault";
    EXPECT_EQ(memcmp(ram_.At(kData), b.p, k4K), 0) << "the first page really moved";
    // Nothing moved: the error itself.
    EXPECT_EQ(ctx_.Dma(dev_, pasid_, kVa + k4K, b.p + k4K, k4K, VSVA_EMU_DMA_WRITE, &d), -EFAULT);
}

TEST_F(Datapath, ReadStoppedByBadUserBufferReportsBytesMoved) {
    Bind();
    pt_->Map4K(kVa, kData);
    pt_->Map4K(kVa + k4K, kData + k4K);
    for (unsigned i = 0; i < k4K; i++)
        ram_.At(kData)[i] = (uint8_t)(i * 5 + 3);
    HalfBadBuffer b(PROT_READ);
    ASSERT_NE(b.p, MAP_FAILED);
    struct vsva_emu_dma d;
    ASSERT_EQ(ctx_.Dma(dev_, pasid_, kVa, b.p, 2 * k4K, 0, &d), 0);
    EXPECT_EQ(d.out_done, k4K);
    EXPECT_EQ(d.out_flags, 0u);
    EXPECT_EQ(memcmp(ram_.At(kData), b.p, k4K), 0);
}

TEST_F(Datapath, WriteFaultingAfterTheFirstPageReportsBytesMoved) {
    Bind();
    pt_->Map4K(kVa, kData);
    std::vector<uint8_t> pat(3 * k4K);
    for (size_t i = 0; i < pat.size(); i++)
        pat[i] = (uint8_t)(i * 11 + 2);
    struct vsva_emu_dma d;
    // Start mid-page: 2 KiB on the first page, then the fault.
    ASSERT_EQ(ctx_.Dma(dev_, pasid_, kVa + k4K / 2, pat.data(), pat.size(), VSVA_EMU_DMA_WRITE, &d),
              0);
    EXPECT_EQ(d.out_done, k4K / 2);
    EXPECT_EQ(d.out_flags, (uint32_t)VSVA_EMU_DMA_FAULTED);
    EXPECT_EQ(d.out_fault.addr, kVa + k4K);
    EXPECT_EQ(memcmp(ram_.At(kData + k4K / 2), pat.data(), k4K / 2), 0);
}

void NoopRestartHandler(int) {}

// Signal the thread in @t with SA_RESTART until @rc leaves 1 or @limit
// passes; whether it returned while being signalled.
bool SignalUntilReturn(std::thread& t, std::atomic<int>& rc, std::chrono::seconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (rc == 1 && std::chrono::steady_clock::now() < end) {
        pthread_kill(t.native_handle(), SIGUSR2);
        usleep(20000);
    }
    return rc != 1;
}

class SigRestart {
public:
    SigRestart() {
        struct sigaction sa = {};
        sa.sa_handler = NoopRestartHandler;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGUSR2, &sa, &old_);
    }
    ~SigRestart() { sigaction(SIGUSR2, &old_, nullptr); }

private:
    struct sigaction old_;
};

// A signal while waiting for a page response after a page moved: the call
// returns what it did instead of restarting the whole transfer (which
// would raise the same page request again and again).
TEST_F(PageRequest, SignalAfterProgressReturnsThePartialResult) {
    SigRestart sr;
    pt_->Map4K(kVa, kData);
    std::vector<uint8_t> pat(2 * k4K, 0x5a);
    struct vsva_emu_dma d = {};
    std::atomic<int> rc{1};
    std::thread t([&] {
        rc = ctx_.Dma(dev_, pasid_, kVa, pat.data(), pat.size(),
                      VSVA_EMU_DMA_WRITE | VSVA_EMU_DMA_WAIT, &d);
    });
    auto ev = NextRequest();
    bool returned = SignalUntilReturn(t, rc, std::chrono::seconds(5));
    if (!returned) // unblock the old behaviour so the test can end
        for (int i = 0; i < 50 && rc == 1; i++) {
            ctx_.PageResponse(dev_, (ev.fault.prm.grpid + i) % 512, VSVA_PAGE_RESP_INVALID);
            usleep(20000);
        }
    t.join();
    EXPECT_TRUE(returned) << "the ioctl restarted instead of returning";
    EXPECT_EQ(rc.load(), 0);
    EXPECT_EQ(d.out_done, k4K);
    EXPECT_EQ(d.out_flags, 0u) << "the request was withdrawn: no fault, no group";
    EXPECT_EQ(ctx_.Counters().out_page_requests, 1u) << "raised once, not per restart";
    EXPECT_EQ(ram_.At(kData)[0], 0x5a);
    EXPECT_EQ(ctx_.PageResponse(dev_, ev.fault.prm.grpid, VSVA_PAGE_RESP_SUCCESS), -EINVAL);
}

TEST_F(PageRequest, SignalBeforeProgressIsEintrEvenWithSaRestart) {
    SigRestart sr;
    uint64_t v = 0;
    struct vsva_emu_dma d = {};
    std::atomic<int> rc{1};
    std::thread t([&] { rc = ctx_.Dma(dev_, pasid_, kVa, &v, 8, VSVA_EMU_DMA_WAIT, &d); });
    auto ev = NextRequest();
    bool returned = SignalUntilReturn(t, rc, std::chrono::seconds(5));
    if (!returned)
        for (int i = 0; i < 50 && rc == 1; i++) {
            ctx_.PageResponse(dev_, (ev.fault.prm.grpid + i) % 512, VSVA_PAGE_RESP_INVALID);
            usleep(20000);
        }
    t.join();
    EXPECT_TRUE(returned) << "the ioctl restarted instead of returning";
    EXPECT_EQ(rc.load(), -EINTR);
    EXPECT_EQ(ctx_.Counters().out_page_requests, 1u);
}

TEST_F(FaultQueue, RecreatedOnceTheFdIsClosed) {
    Bind();
    ASSERT_EQ(ctx_.FaultAlloc(&ffd_), 0);
    int again = -1;
    EXPECT_EQ(ctx_.FaultAlloc(&again), -EBUSY) << "one live queue per context";
    Fault(kVa, 0); // a record nobody will read
    close(ffd_);
    ffd_ = -1;
    ASSERT_EQ(ctx_.FaultAlloc(&ffd_), 0) << "the previous fd is gone";
    EXPECT_EQ(ctx_.FaultAlloc(&again), -EBUSY);
    Fault(kVa + k4K, 0);
    ASSERT_EQ(fcntl(ffd_, F_SETFL, O_NONBLOCK), 0);
    struct vsva_fault_event ev[4];
    ASSERT_EQ(ReadEvents(ev, 4), 1) << "a fresh queue";
    EXPECT_EQ(ev[0].fault.event.addr, kVa + k4K);
    EXPECT_EQ(ev[0].seq, 0u);
}

TEST_F(PageRequest, NoPageRequestOnceTheFdIsClosed) {
    close(ffd_);
    ffd_ = -1;
    struct vsva_emu_dma d = {};
    uint64_t v;
    // Nobody could answer: an unrecoverable fault, at once, even with WAIT.
    std::atomic<int> rc{1};
    std::thread t([&] { rc = ctx_.Dma(dev_, pasid_, kVa, &v, 8, VSVA_EMU_DMA_WAIT, &d); });
    for (int i = 0; i < 300 && rc == 1; i++)
        usleep(10000);
    bool returned = rc != 1;
    for (uint32_t g = 0; g < 512 && rc == 1; g++) // unblock a waiting DMA
        ctx_.PageResponse(dev_, g, VSVA_PAGE_RESP_INVALID);
    t.join();
    ASSERT_TRUE(returned) << "the DMA waited for a request nobody can see";
    ASSERT_EQ(rc.load(), 0);
    EXPECT_EQ(d.out_flags, (uint32_t)VSVA_EMU_DMA_FAULTED);
    ASSERT_EQ(ctx_.FaultAlloc(&ffd_), 0);
    ASSERT_EQ(ctx_.Dma(dev_, pasid_, kVa, &v, 8, 0, &d), 0);
    EXPECT_EQ(d.out_flags, (uint32_t)(VSVA_EMU_DMA_FAULTED | VSVA_EMU_DMA_PAGE_REQ));
    EXPECT_EQ(ctx_.PageResponse(dev_, d.out_grpid, VSVA_PAGE_RESP_INVALID), 0);
}

TEST_F(FaultQueue, SecondNonBlockingReaderGetsEagain) {
    Bind();
    ASSERT_EQ(ctx_.FaultAlloc(&ffd_), 0);
    // Reader 1 blocks inside read() holding the queue's reader lock.
    std::atomic<int> r1{1};
    struct vsva_fault_event ev1 = {};
    std::thread t1([&] { r1 = ReadEvents(&ev1, 1); });
    usleep(200000);
    ASSERT_EQ(r1.load(), 1) << "reader 1 should be waiting";
    ASSERT_EQ(fcntl(ffd_, F_SETFL, O_NONBLOCK), 0);
    std::atomic<int> r2{1};
    struct vsva_fault_event ev2 = {};
    std::thread t2([&] { r2 = ReadEvents(&ev2, 1); });
    for (int i = 0; i < 200 && r2 == 1; i++)
        usleep(10000);
    int second = r2.load();
    // Wake everyone: one record per reader.
    Fault(kVa, 0);
    Fault(kVa + k4K, 0);
    t2.join();
    t1.join();
    EXPECT_EQ(second, -EAGAIN) << "the O_NONBLOCK reader slept on the reader lock";
    EXPECT_EQ(r1.load(), 1);
}

// A big pattern-filled argument: whatever stack the kernel copies it to
// holds 0xa5 bytes afterwards (best effort: fills the ioctl path's stack).
void SprayStack(const Ctx& ctx) {
    std::vector<uint8_t> junk(4096, 0xa5);
    auto* d = (struct vsva_emu_dma*)junk.data();
    d->argsz = sizeof(*d);
    d->flags = 0xa5a5a5a0; // unknown flags: copied in, then refused
    for (int i = 0; i < 8; i++)
        ioctl(ctx.fd(), VSVA_EMU_DMA, d);
}

bool AllZero(const void* p, size_t n) {
    const uint8_t* b = (const uint8_t*)p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

TEST_F(PageRequest, RecordBytesPastTheFieldsAreZero) {
    // An unrecoverable record (walk fault on a table outside stage 2).
    pt_->Pte(kVa, 2) = 0x7ff00000ull | kUser;
    struct vsva_fault_event ev[2];
    struct vsva_emu_dma d;
    uint64_t v;
    SprayStack(ctx_);
    ASSERT_EQ(ctx_.Dma(dev_, pasid_, kVa, &v, 8, 0, &d), 0);
    EXPECT_EQ(d.out_flags, (uint32_t)VSVA_EMU_DMA_FAULTED);
    ASSERT_EQ(ReadEvents(ev, 1), 1);
    ASSERT_EQ(ev[0].fault.type, (uint32_t)VSVA_FAULT_DMA_UNRECOV);
    EXPECT_EQ(ev[0].fault.padding, 0u);
    const uint8_t* u = ev[0].fault.padding2;
    EXPECT_TRUE(AllZero(u + sizeof(ev[0].fault.event), 56 - sizeof(ev[0].fault.event)))
            << "the union's tail after an unrecoverable fault";
    // A page request record (not present at another 2M region).
    SprayStack(ctx_);
    ASSERT_EQ(ctx_.Dma(dev_, pasid_, kVa + k2M, &v, 8, 0, &d), 0);
    ASSERT_NE(d.out_flags & VSVA_EMU_DMA_PAGE_REQ, 0u);
    ASSERT_EQ(ReadEvents(ev, 1), 1);
    ASSERT_EQ(ev[0].fault.type, (uint32_t)VSVA_FAULT_PAGE_REQ);
    EXPECT_EQ(ev[0].fault.padding, 0u);
    EXPECT_TRUE(AllZero(ev[0].fault.prm.private_data, sizeof(ev[0].fault.prm.private_data)));
    u = ev[0].fault.padding2;
    EXPECT_TRUE(AllZero(u + sizeof(ev[0].fault.prm), 56 - sizeof(ev[0].fault.prm)))
            << "the union's tail after a page request";
    EXPECT_EQ(ctx_.PageResponse(dev_, d.out_grpid, VSVA_PAGE_RESP_INVALID), 0);
}

} // namespace
