// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vm_libvsva: every libvsva operation against the real module, inside a
 * VM (tests/vm/run --suite vm_libvsva).  Checks values (PASID entries, DMA
 * bytes, counters), that destructors release everything (per-context
 * counters and /sys/kernel/debug/vsva/summary back to where they were),
 * and that a killed process's live objects are torn down by the kernel.
 */
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>

#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm_env.h"

namespace vsva::test {
namespace {

constexpr std::uint64_t kGpa = 0x40000000; // guest RAM base
constexpr std::size_t kRam = 4 << 20;      // 4 MiB
constexpr std::uint64_t kPageA = 0x100000; // offsets of two data pages
constexpr std::uint64_t kPageB = 0x101000;
constexpr std::uint64_t kIova = 0x7f1234560000;

bool wait_for(const std::function<bool()>& cond) {
    for (int i = 0; i < 200; i++) {
        if (cond())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return cond();
}

emu::Counters counters(const Context& ctx) {
    auto c = emu::counters(ctx);
    EXPECT_TRUE(c.has_value()) << c.error().to_string();
    return c.has_value() ? *c : emu::Counters{};
}

/* Open, map guest RAM, attach a free endpoint: the common start. */
class Vm : public ::testing::Test {
protected:
    void SetUp() override {
        auto ctx = Context::open({.require = Feature::Nesting | Feature::Emulation});
        if (!ctx.has_value() && (ctx.error().code() == ENOENT || ctx.error().code() == EOPNOTSUPP))
            GTEST_SKIP() << ctx.error().to_string();
        ASSERT_TRUE(ctx.has_value()) << ctx.error().to_string();
        ctx_.emplace(std::move(*ctx));
        eps_ = free_endpoints();
        ASSERT_FALSE(eps_.empty()) << "no free PASID-capable endpoint in the topology";
        ASSERT_NE(ram_.data(), nullptr);
        base_ = summary();
    }

    Context& ctx() { return *ctx_; }

    std::optional<Context> ctx_;
    std::vector<Endpoint> eps_;
    GuestRam ram_{kRam};
    std::map<std::string, long long> base_;
};

TEST_F(Vm, NegotiatedWithThisModule) {
    const Info& i = ctx().info();
    EXPECT_EQ(i.uapi_version, 1u);
    EXPECT_EQ(i.kernel_info_size, sizeof(vsva_info));
    EXPECT_FALSE(i.kernel_newer);
    EXPECT_EQ(i.pasid_bits, 20u);
    EXPECT_TRUE(i.bind_versions & 2u);
    EXPECT_TRUE(i.inv_versions & 2u);
    EXPECT_GT(i.max_batch, 0u);
    EXPECT_TRUE(i.has(Feature::ErrorMessages));
    EXPECT_NE(i.module_version, 0u);
}

TEST_F(Vm, EveryObjectAndDestructorsReleaseEverything) {
    const Endpoint ep = eps_[0];
    {
        auto dom = ctx().create_domain();
        ASSERT_OK(dom);
        auto map = dom->map(kGpa, ram_.data(), kRam);
        ASSERT_OK(map);
        auto dev = dom->attach(ep.rid);
        ASSERT_OK(dev);
        EXPECT_EQ(dev->rid(), ep.rid);
        EXPECT_EQ(dev->caps().pasid, ep.pasid);
        EXPECT_EQ(dev->caps().ats, ep.ats);
        EXPECT_EQ(dev->caps().pri, ep.pri);
        auto pasid = ctx().alloc_pasid({.gpasid = 7});
        ASSERT_OK(pasid);
        EXPECT_GE(pasid->hpasid(), 1u);
        auto root = emu::write_stage1_4k(ram_.span(), kGpa, 0, kIova, kGpa + kPageA);
        ASSERT_OK(root);
        auto bound = dev->bind(*pasid, {.gpgd = *root, .write_protect = true});
        ASSERT_OK(bound);

        auto entry = emu::pasid_entry(*dev, pasid->hpasid());
        ASSERT_OK(entry);
        EXPECT_TRUE(entry->present);
        EXPECT_EQ(entry->gpgd, *root);
        EXPECT_EQ(entry->addr_width, 48u);
        EXPECT_EQ(entry->gpasid, std::optional<std::uint32_t>(7));
        EXPECT_EQ(entry->vtd_flags, std::uint64_t(VSVA_VTD_GPASID_WPE));
        EXPECT_EQ(entry->domain_id, dom->id());

        auto c = counters(ctx());
        EXPECT_EQ(c.pinned_pages, kRam / 4096);
        EXPECT_EQ(c.pasids, 1u);
        EXPECT_EQ(c.bindings, 1u);
        auto s = summary();
        if (!s.empty()) {
            EXPECT_EQ(s["pinned_pages"],
                      base_["pinned_pages"] + static_cast<long long>(kRam / 4096));
            EXPECT_EQ(s["pasids"], base_["pasids"] + 1);
        }
        // Owners go out of scope here, in reverse order.
    }
    auto c = counters(ctx());
    EXPECT_EQ(c.pinned_pages, 0u);
    EXPECT_EQ(c.pasids, 0u);
    EXPECT_EQ(c.bindings, 0u);
    EXPECT_EQ(c.binds, 1u);
    EXPECT_EQ(c.unbinds, 1u);
    if (!base_.empty()) {
        EXPECT_EQ(summary(), base_);
    }
    for (const auto& e : topology()) {
        if (e.rid == ep.rid) {
            EXPECT_FALSE(e.owned) << "the endpoint's group claim ends with the detach";
        }
    }
}

TEST_F(Vm, OwnersInAnyOrderAndContextFirst) {
    std::optional<Binding> bound;
    std::optional<Mapping> map;
    {
        auto dom = ctx().create_domain();
        ASSERT_OK(dom);
        auto m = dom->map(kGpa, ram_.data(), kRam);
        ASSERT_OK(m);
        map.emplace(std::move(*m));
        auto dev = dom->attach(eps_[0].rid);
        ASSERT_OK(dev);
        auto pasid = ctx().alloc_pasid();
        ASSERT_OK(pasid);
        auto b = dev->bind(*pasid, {.gpgd = kGpa});
        ASSERT_OK(b);
        bound.emplace(std::move(*b));
    }
    ctx_.reset(); // the Context goes first: children keep the fd open
    auto s = summary();
    if (!s.empty()) {
        EXPECT_EQ(s["contexts"], base_["contexts"]) << "the fd is still open";
    }
    bound.reset();
    map.reset();
    if (!base_.empty()) {
        EXPECT_TRUE(wait_for([&] { return summary()["contexts"] == base_["contexts"] - 1; }));
    }
}

TEST_F(Vm, ExplicitReleaseCallsReportErrors) {
    auto dom = ctx().create_domain();
    ASSERT_OK(dom);
    auto dev = dom->attach(eps_[0].rid);
    ASSERT_OK(dev);
    auto other = ctx().create_domain();
    ASSERT_OK(other);
    // A device's group belongs to one domain: the kernel says so.
    auto again = other->attach(eps_[0].rid);
    ASSERT_FALSE(again.has_value());
    EXPECT_FALSE(again.error().message().empty()) << again.error().to_string();
    EXPECT_OK(dev->detach());
    EXPECT_OK(dom->destroy());
    EXPECT_OK(other->destroy());
}

TEST_F(Vm, KernelMessagesReachErrors) {
    auto dom = ctx().create_domain();
    ASSERT_OK(dom);
    auto bad = dom->map(kGpa + 1, ram_.data(), kRam);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code(), EINVAL);
    EXPECT_EQ(bad.error().op(), "map");
    EXPECT_FALSE(bad.error().message().empty());
    auto map = dom->map(kGpa, ram_.data(), kRam);
    ASSERT_OK(map);
    auto dev = dom->attach(eps_[0].rid);
    ASSERT_OK(dev);
    auto pasid = ctx().alloc_pasid();
    ASSERT_OK(pasid);
    auto b1 = dev->bind(*pasid, {.gpgd = kGpa});
    ASSERT_OK(b1);
    auto b2 = dev->bind(*pasid, {.gpgd = kGpa});
    ASSERT_FALSE(b2.has_value());
    EXPECT_EQ(b2.error().code(), EBUSY) << b2.error().to_string();
    EXPECT_NE(b2.error().message().find("bind"), std::string::npos) << b2.error().to_string();
}

/* A bound device with real stage-1 tables: the base of the data-path tests. */
class Bound : public Vm {
protected:
    void SetUp() override {
        Vm::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        auto dom = ctx().create_domain();
        ASSERT_OK(dom);
        dom_.emplace(std::move(*dom));
        auto map = dom_->map(kGpa, ram_.data(), kRam);
        ASSERT_OK(map);
        map_.emplace(std::move(*map));
        const Endpoint& ep = eps_[0];
        auto dev = dom_->attach(ep.rid, {.enable_ats = ep.ats, .enable_pri = ep.pri});
        ASSERT_OK(dev);
        dev_.emplace(std::move(*dev));
        auto pasid = ctx().alloc_pasid({.gpasid = 3});
        ASSERT_OK(pasid);
        pasid_.emplace(std::move(*pasid));
        auto root = emu::write_stage1_4k(ram_.span(), kGpa, 0, kIova, kGpa + kPageA);
        ASSERT_OK(root);
        root_ = *root;
        auto b = dev_->bind(*pasid_, {.gpgd = root_});
        ASSERT_OK(b);
        bound_.emplace(std::move(*b));
        std::memcpy(ram_.data() + kPageA, "AAAA", 4);
        std::memcpy(ram_.data() + kPageB, "BBBB", 4);
    }

    std::string read4(std::uint64_t iova) {
        std::byte buf[4] = {};
        auto r = emu::dma(*dev_, pasid_->hpasid(), iova, buf, {});
        EXPECT_TRUE(r.has_value()) << r.error().to_string();
        if (!r.has_value() || r->faulted)
            return "fault";
        return std::string(reinterpret_cast<const char*>(buf), 4);
    }

    /* Point the leaf PTE of kIova at another guest page. */
    void retarget(std::uint64_t page_off) {
        const std::uint64_t pt = 3 * 4096; // the fourth table page
        const std::uint64_t index = (kIova >> 12) & 0x1ff;
        std::uint64_t pte = (kGpa + page_off) | 0x7;
        std::memcpy(ram_.data() + pt + index * 8, &pte, 8);
    }

    std::uint32_t pasid() const { return pasid_->hpasid(); }

    std::optional<Domain> dom_;
    std::optional<Mapping> map_;
    std::optional<Device> dev_;
    std::optional<Pasid> pasid_;
    std::optional<Binding> bound_;
    std::uint64_t root_ = 0;
};

TEST_F(Bound, DmaThroughTheBoundTable) {
    EXPECT_EQ(read4(kIova), "AAAA");
    const char msg[] = "written by the device";
    std::byte buf[sizeof(msg)];
    std::memcpy(buf, msg, sizeof(msg));
    auto w = emu::dma(*dev_, pasid(), kIova + 64, buf, {.write = true});
    ASSERT_OK(w);
    EXPECT_FALSE(w->faulted);
    EXPECT_EQ(w->done, sizeof(msg));
    EXPECT_EQ(std::memcmp(ram_.data() + kPageA + 64, msg, sizeof(msg)), 0);
    // An unmapped IOVA faults; a fault is a value, not an error.
    std::byte one[1];
    auto f = emu::dma(*dev_, pasid(), kIova + (1 << 21), one, {});
    ASSERT_OK(f);
    EXPECT_TRUE(f->faulted);
    EXPECT_EQ(f->done, 0u);
}

TEST_F(Bound, StaleTranslationUntilRangeInvalidation) {
    EXPECT_EQ(read4(kIova), "AAAA"); // fills the IOTLB (and the device TLB)
    retarget(kPageB);
    EXPECT_EQ(read4(kIova), "AAAA") << "cached translation, as on hardware";
    CacheSet caches = Cache::Iotlb;
    if (dev_->caps().ats)
        caches = caches | Cache::DeviceTlb;
    auto inv = Invalidation::range(caches, pasid(), kIova, 4096, Granule::Size4K, Leaf::Yes);
    ASSERT_OK(inv);
    ASSERT_OK(dev_->invalidate(*inv));
    EXPECT_EQ(read4(kIova), "BBBB");
}

TEST_F(Bound, StaleTranslationUntilBatchedInvalidation) {
    EXPECT_EQ(read4(kIova), "AAAA");
    retarget(kPageB);
    InvalidationQueue q;
    for (int i = 0; i < 16; i++) // merges into one range around kIova
        q.add(*Invalidation::range(Cache::Iotlb | Cache::DeviceTlb, pasid(),
                                   kIova - 0x8000 + i * 0x1000ull, 0x1000));
    auto out = dom_->invalidate(q);
    ASSERT_OK(out);
    EXPECT_TRUE(out->complete());
    EXPECT_EQ(out->total, 1u);
    EXPECT_EQ(read4(kIova), "BBBB");
}

TEST_F(Bound, StaleTranslationUntilArrayInvalidation) {
    EXPECT_EQ(read4(kIova), "AAAA");
    retarget(kPageB);
    std::vector<Invalidation> arr; // the caller's array, submitted in place
    for (int i = 0; i < 16; i++)
        arr.push_back(*Invalidation::range(Cache::Iotlb | Cache::DeviceTlb, pasid(),
                                           kIova - 0x8000 + i * 0x1000ull, 0x1000));
    const auto before = counters(ctx()).invalidations;
    auto out = dev_->invalidate(std::span<const Invalidation>(arr).first(8));
    ASSERT_OK(out);
    EXPECT_EQ(out->total, 8u) << "not merged";
    EXPECT_EQ(counters(ctx()).invalidations, before + 8);
    EXPECT_EQ(read4(kIova), "AAAA") << "kIova is entry 8: not submitted yet";
    out = dom_->invalidate(arr);
    ASSERT_OK(out);
    EXPECT_TRUE(out->complete());
    EXPECT_EQ(counters(ctx()).invalidations, before + 8 + 16);
    EXPECT_EQ(read4(kIova), "BBBB");

    // An entry the kernel refuses stops the batch there: the ones before it
    // are applied, the rest are not.
    arr[3] = *Invalidation::pasid(Cache::Iotlb, pasid() + 1000);
    out = dev_->invalidate(arr);
    ASSERT_OK(out);
    EXPECT_EQ(out->done, 3u);
    ASSERT_TRUE(out->error.has_value());
    EXPECT_EQ(out->error->code(), ENOENT) << out->error->to_string();
    EXPECT_EQ(counters(ctx()).invalidations, before + 8 + 16 + 3);
}

TEST_F(Bound, EveryValidMatrixEntryAccepted) {
    const auto before = counters(ctx()).invalidations;
    std::vector<Invalidation> all = {
            *Invalidation::domain(Cache::Iotlb),
            *Invalidation::domain(Cache::PasidCache),
            *Invalidation::domain(Cache::Iotlb | Cache::PasidCache),
            *Invalidation::pasid(Cache::Iotlb, pasid()),
            *Invalidation::pasid(Cache::DeviceTlb, pasid()),
            *Invalidation::pasid(Cache::PasidCache, pasid()),
            *Invalidation::pasid(Cache::Iotlb | Cache::DeviceTlb | Cache::PasidCache, pasid()),
            *Invalidation::range(Cache::Iotlb, pasid(), kIova, 0x2000),
            *Invalidation::range(Cache::DeviceTlb, pasid(), 0x200000, 0x400000, Granule::Size2M),
            *Invalidation::range(Cache::Iotlb | Cache::DeviceTlb, pasid(), 1ull << 30, 1ull << 30,
                                 Granule::Size1G, Leaf::Yes),
    };
    for (const auto& inv : all) {
        EXPECT_OK(dev_->invalidate(inv));
        EXPECT_OK(dom_->invalidate(inv));
    }
    EXPECT_EQ(counters(ctx()).invalidations, before + 2 * all.size());
}

TEST_F(Bound, BatchOfSixtyFour) {
    const auto before = counters(ctx()).invalidations;
    InvalidationQueue q;
    for (int i = 0; i < 64; i++) // gaps: nothing merges
        q.add(*Invalidation::range(Cache::Iotlb, pasid(), kIova + i * 0x2000ull, 0x1000));
    auto out = dev_->invalidate(q);
    ASSERT_OK(out);
    EXPECT_TRUE(out->complete());
    EXPECT_EQ(out->total, 64u);
    EXPECT_EQ(counters(ctx()).invalidations, before + 64);

    for (int i = 0; i < 64; i++) // adjacent: one entry
        q.add(*Invalidation::range(Cache::Iotlb, pasid(), kIova + i * 0x1000ull, 0x1000));
    out = dev_->invalidate(q);
    ASSERT_OK(out);
    EXPECT_EQ(out->total, 1u);
    EXPECT_EQ(counters(ctx()).invalidations, before + 65);
}

TEST_F(Bound, PageRequestReadAndAnswered) {
    if (!dev_->caps().pri || !ctx().has(Feature::PageRequest))
        GTEST_SKIP() << "endpoint or kernel without PRI";
    auto fq = ctx().fault_queue();
    ASSERT_OK(fq);
    ASSERT_OK(fq->set_nonblocking(true));
    FaultRecord recs[4];
    auto none = fq->read(recs);
    ASSERT_OK(none);
    EXPECT_EQ(*none, 0u) << "empty queue, non-blocking: zero records";

    const std::uint64_t missing = kIova + (1 << 21); // not in the stage-1 table
    std::byte buf[8];
    auto d = emu::dma(*dev_, pasid(), missing, buf, {.write = true});
    ASSERT_OK(d);
    EXPECT_TRUE(d->faulted);
    ASSERT_TRUE(d->page_request);
    auto n = fq->read(recs);
    ASSERT_OK(n);
    ASSERT_EQ(*n, 1u);
    const auto* pr = std::get_if<PageRequest>(&recs[0].fault);
    ASSERT_NE(pr, nullptr);
    EXPECT_EQ(pr->dev_id, dev_->id());
    EXPECT_EQ(pr->pasid, pasid());
    EXPECT_EQ(pr->grpid, d->grpid);
    EXPECT_EQ(pr->addr, missing & ~0xfffull);
    EXPECT_OK(ctx().respond(*pr, PageResponseCode::Invalid));
    // Answered once: a second answer names a request that is gone.
    auto again = ctx().respond(*pr, PageResponseCode::Invalid);
    EXPECT_FALSE(again.has_value());
    auto second = ctx().fault_queue();
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error().code(), EBUSY);
}

TEST_F(Bound, ManyThreadsShareOneContext) {
    const auto before = counters(ctx()).invalidations;
    constexpr int kThreads = 8, kCalls = 100;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
        threads.emplace_back([&, t] {
            InvalidationQueue q; // one queue per thread
            for (int i = 0; i < kCalls; i++) {
                auto inv = Invalidation::range(Cache::Iotlb, pasid(),
                                               kIova + (t * kCalls + i) * 0x1000ull, 0x1000);
                if (!dev_->invalidate(*inv).has_value())
                    failures++;
                q.add(*inv);
            }
            auto out = dev_->invalidate(q);
            if (!out.has_value() || !out->complete())
                failures++;
            if (!read4(kIova).starts_with("A"))
                failures++;
        });
    }
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(counters(ctx()).invalidations, before + kThreads * (kCalls + 1));
}

/* ---- an fd handed over by a privileged helper (the libvirt model) ---- */

bool send_fd(int sock, int fd) {
    char byte = 'f';
    iovec iov{&byte, 1};
    alignas(cmsghdr) char buf[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = buf;
    msg.msg_controllen = sizeof(buf);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return ::sendmsg(sock, &msg, 0) == 1;
}

int recv_fd(int sock) {
    char byte = 0;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char buf[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = buf;
    msg.msg_controllen = sizeof(buf);
    if (::recvmsg(sock, &msg, 0) != 1)
        return -1;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

/*
 * Issue 12: a privileged parent opens /dev/vsva (mode 0600 root for the
 * test) and passes the fd over a UNIX socket to a child running as uid
 * 1000, which cannot open the node itself; the child adopts the fd with the
 * same negotiation as open() and makes objects with it.
 */
TEST_F(Vm, AdoptsAnFdPassedWithScmRights) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to drop privileges in the child";
    if (base_.empty())
        GTEST_SKIP() << "no " << kDebugfs << "/summary";
    int sv[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 && errno == EAFNOSUPPORT)
        GTEST_SKIP() << "no AF_UNIX in this kernel (CONFIG_UNIX)";
    ASSERT_GE(sv[0], 0) << std::strerror(errno);
    struct stat st {};
    ASSERT_EQ(::stat("/dev/vsva", &st), 0);
    ASSERT_EQ(::chmod("/dev/vsva", 0600), 0);
    // Whatever happens below, the node gets its mode back.
    std::unique_ptr<void, std::function<void(void*)>> restore(
            reinterpret_cast<void*>(1), [&](void*) { ::chmod("/dev/vsva", st.st_mode & 07777); });
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // The unprivileged VMM.  It must neither use nor destroy the
        // parent's objects: it only ever leaves through _exit().
        ::close(sv[0]);
        auto report = [&](const std::string& what) {
            (void)!::write(sv[1], what.data(), what.size());
            ::_exit(0);
        };
        if (::setgroups(0, nullptr) != 0 || ::setgid(1000) != 0 || ::setuid(1000) != 0)
            report("cannot drop to uid 1000");
        const int own = ::open("/dev/vsva", O_RDWR | O_CLOEXEC);
        if (own >= 0 || errno != EACCES)
            report("uid 1000 could open /dev/vsva itself (fd " + std::to_string(own) + ", errno " +
                   std::to_string(errno) + ")");
        if (::write(sv[1], "r", 1) != 1)
            ::_exit(1);
        const int fd = recv_fd(sv[1]);
        if (fd < 0)
            report("no fd received");
        auto ctx = Context::adopt(fd, Feature::Nesting);
        if (!ctx)
            report("adopt: " + ctx.error().to_string());
        auto dom = ctx->create_domain();
        auto pasid = ctx->alloc_pasid({.gpasid = 7});
        if (!dom || !pasid)
            report("objects: " + (dom ? pasid.error() : dom.error()).to_string());
        const bool cloexec = ::fcntl(ctx->fd(), F_GETFD) & FD_CLOEXEC;
        const std::string line = "ok uapi " + std::to_string(ctx->info().uapi_version) + " info " +
                                 std::to_string(ctx->info().kernel_info_size) + " gpasid " +
                                 std::to_string(pasid->gpasid().value_or(0)) + " cloexec " +
                                 std::to_string(cloexec);
        if (::write(sv[1], line.data(), line.size()) != static_cast<ssize_t>(line.size()))
            ::_exit(1);
        char done;
        (void)!::read(sv[1], &done, 1); // hold the objects until the parent has looked
        ::_exit(0);
    }
    ::close(sv[1]);
    char ready = 0;
    const ssize_t n = ::read(sv[0], &ready, 1);
    restore.reset();
    ASSERT_EQ(n, 1);
    if (ready != 'r') {
        char rest[256] = {};
        (void)!::read(sv[0], rest, sizeof(rest) - 1);
        ::waitpid(pid, nullptr, 0);
        FAIL() << "child: " << ready << rest;
    }
    // The privileged helper: open, pass, close its own copy.
    const int fd = ::open("/dev/vsva", O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_fd(sv[0], fd));
    ::close(fd);
    char line[256] = {};
    ASSERT_GT(::read(sv[0], line, sizeof(line) - 1), 0);
    EXPECT_STREQ(line,
                 ("ok uapi 1 info " + std::to_string(sizeof(vsva_info)) + " gpasid 7 cloexec 1")
                         .c_str());
    // The child's context and PASID exist, held only through the passed fd.
    auto live = summary();
    EXPECT_EQ(live["contexts"], base_["contexts"] + 1);
    EXPECT_EQ(live["pasids"], base_["pasids"] + 1);
    ASSERT_EQ(::write(sv[0], "x", 1), 1);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ::close(sv[0]);
    EXPECT_TRUE(wait_for([&] { return summary() == base_; })) << "the child's objects went";
}

/* ---- teardown by the kernel ----------------------------------------- */

TEST_F(Vm, ForkedChildKilledWithLiveObjects) {
    if (base_.empty())
        GTEST_SKIP() << "no " << kDebugfs << "/summary";
    const Endpoint ep = eps_[0];
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // The child: a VM with live objects of every kind, then killed.
        ::close(pipefd[0]);
        auto c = Context::open();
        auto dom = c->create_domain();
        auto map = dom->map(kGpa, ram_.data(), kRam);
        auto dev = dom->attach(ep.rid, {.enable_ats = ep.ats, .enable_pri = ep.pri});
        std::vector<Pasid> pasids;
        std::vector<Binding> binds;
        for (int i = 0; i < 16; i++) {
            auto p = c->alloc_pasid({.gpasid = 100u + i});
            if (!p.has_value())
                ::_exit(2);
            auto b = dev->bind(*p, {.gpgd = kGpa});
            if (!b.has_value())
                ::_exit(3);
            pasids.push_back(std::move(*p));
            binds.push_back(std::move(*b));
        }
        auto fq = c->fault_queue();
        std::byte one[1];
        (void)emu::dma(*dev, pasids[0].hpasid(), kIova, one, {}); // a pending request
        char ok = (c.has_value() && dom.has_value() && map.has_value() && dev.has_value() &&
                   fq.has_value())
                          ? 'y'
                          : 'n';
        if (::write(pipefd[1], &ok, 1) != 1)
            ::_exit(4);
        ::pause();
        ::_exit(0);
    }
    ::close(pipefd[1]);
    char ok = 0;
    ASSERT_EQ(::read(pipefd[0], &ok, 1), 1) << "the child died early";
    ::close(pipefd[0]);
    EXPECT_EQ(ok, 'y');
    auto live = summary();
    EXPECT_EQ(live["contexts"], base_["contexts"] + 1);
    EXPECT_EQ(live["pasids"], base_["pasids"] + 16);
    EXPECT_EQ(live["pinned_pages"], base_["pinned_pages"] + static_cast<long long>(kRam / 4096));

    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_TRUE(wait_for([&] { return summary() == base_; }))
            << "contexts " << summary()["contexts"] << " pasids " << summary()["pasids"]
            << " pinned " << summary()["pinned_pages"];
    // The endpoint is free again: this context can take it.
    auto dom = ctx().create_domain();
    ASSERT_OK(dom);
    EXPECT_OK(dom->attach(ep.rid));
}

} // namespace
} // namespace vsva::test
