// SPDX-License-Identifier: GPL-2.0
// vm_trace: the vsva trace system (kmod/trace.h, issue 15 item 4).  The
// events are enabled through tracefs, a scenario runs on raw ioctls, and
// every event is asserted with its fields: the PASID, the granularity and
// range of an invalidation, the errno of a failing call, a batch's count
// and how many it applied, page request and response, the unrecoverable
// fault, and what closing the context released.  Then `vsva trace` prints
// a failing bind and the release live and restores the tracing settings.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dp_lib.h"
#include "vsva_testlib.h"

using namespace vsva::test;

namespace {

constexpr uint64_t kRamGpa = 0x100000; // guest RAM: 1 MiB .. 5 MiB
constexpr uint64_t kRamLen = 4ull << 20;
constexpr uint64_t kPool = 0x100000;
constexpr uint64_t kPoolEnd = 0x200000;
constexpr uint64_t kData = 0x300000;
constexpr uint64_t kVa = 0x7f1200000000ull;
constexpr uint64_t kUnmappedVa = kVa + (1ull << 21);
constexpr uint32_t kNoSuchPasid = 0xfffff; // in range, never allocated here

struct Event {
    std::string name; // without the vsva_ prefix
    std::map<std::string, std::string> f;
    long long num(const std::string& k) const {
        auto it = f.find(k);
        return it == f.end() ? -999999 : std::strtoll(it->second.c_str(), nullptr, 0);
    }
    std::string str(const std::string& k) const {
        auto it = f.find(k);
        return it == f.end() ? "<none>" : it->second;
    }
};

std::string tracefs() {
    for (const char* d : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
        struct stat st;
        if (::stat((std::string(d) + "/events").c_str(), &st) == 0)
            return d;
    }
    return "";
}

// The vsva events in the (non-consuming) trace buffer.
std::vector<Event> read_events(const std::string& tfs) {
    std::vector<Event> out;
    std::istringstream in(read_file(tfs + "/trace"));
    for (std::string line; std::getline(in, line);) {
        size_t p = line.find(": vsva_");
        if (p == std::string::npos)
            continue;
        size_t q = line.find(": ", p + 2);
        if (q == std::string::npos)
            continue;
        Event e;
        e.name = line.substr(p + 7, q - (p + 7));
        std::istringstream fields(line.substr(q + 2));
        for (std::string kv; fields >> kv;) {
            size_t eq = kv.find('=');
            if (eq != std::string::npos)
                e.f[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
        out.push_back(std::move(e));
    }
    return out;
}

// Empty the trace buffer (opening "trace" with O_TRUNC does it).
int clear_trace(const std::string& tfs) {
    int fd = ::open((tfs + "/trace").c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ::close(fd);
    return 0;
}

class Trace : public ::testing::Test {
protected:
    void SetUp() override {
        VSVA_REQUIRE_DEV();
        VSVA_REQUIRE_DEBUGFS();
        tfs_ = tracefs();
        ASSERT_FALSE(tfs_.empty()) << "no tracefs (kernel without CONFIG_EVENT_TRACING?)";
        ASSERT_EQ(access((tfs_ + "/events/vsva/vsva_bind").c_str(), F_OK), 0)
                << "vsva.ko has no vsva_bind event";
        // Empty buffer, only our events.
        ASSERT_EQ(clear_trace(tfs_), 0);
        ASSERT_EQ(write_file(tfs_ + "/events/vsva/enable", "1"), 0);
        ASSERT_EQ(write_file(tfs_ + "/tracing_on", "1"), 0);
    }
    void TearDown() override {
        if (!tfs_.empty()) {
            write_file(tfs_ + "/events/vsva/enable", "0");
            clear_trace(tfs_);
        }
    }
    // The events of context @ctx named @name.
    std::vector<Event> of(const std::vector<Event>& all, int ctx, const std::string& name) {
        std::vector<Event> r;
        for (const Event& e : all)
            if (e.name == name && e.num("ctx") == ctx)
                r.push_back(e);
        return r;
    }
    std::string tfs_;
};

TEST_F(Trace, ScenarioEventsAndFields) {
    int ctx_id;
    uint32_t dom, dev_a, dev_b, p1, p2, grp1 = 0, grp2 = 0;
    {
        dp::Ctx ctx;
        ASSERT_TRUE(ctx.ok());
        ctx_id = newest_ctx_id();
        ASSERT_GT(ctx_id, 0);
        dp::GuestRam ram;
        ASSERT_EQ(ctx.DomainAlloc(&dom), 0);
        ASSERT_EQ(ram.Add(ctx, dom, kRamGpa, kRamLen), 0);
        dp::PageTables pt(ram, kPool, kPoolEnd, 4);
        pt.Map4K(kVa, kData);
        ASSERT_EQ(ctx.Attach(dp::Rid(2), dom, VSVA_ATTACH_ENABLE_ATS | VSVA_ATTACH_ENABLE_PRI,
                             &dev_a),
                  0);
        ASSERT_EQ(ctx.Attach(dp::Rid(4), dom, 0, &dev_b), 0);
        ASSERT_EQ(ctx.PasidAlloc(&p1), 0);
        ASSERT_EQ(ctx.PasidAlloc(&p2), 0);

        ASSERT_EQ(ctx.Bind(dev_a, p1, pt.root(), pt.aw()), 0);
        ASSERT_EQ(ctx.Bind(dev_a, kNoSuchPasid, pt.root(), pt.aw()), -ENOENT);
        ASSERT_EQ(ctx.Bind(dom, p2, pt.root(), pt.aw(), 0, VSVA_TARGET_DOMAIN), 0);
        ASSERT_EQ(ctx.Invalidate(dev_a, dp::Ctx::InvPasid(VSVA_CACHE_INV_TYPE_IOTLB, p1)), 0);
        ASSERT_EQ(ctx.Invalidate(dev_a, dp::Ctx::InvAddr(VSVA_CACHE_INV_TYPE_IOTLB |
                                                                 VSVA_CACHE_INV_TYPE_DEV_IOTLB,
                                                         p1, kVa, dp::k4K, 4)),
                  0);
        ASSERT_EQ(ctx.Invalidate(dev_a, dp::Ctx::InvPasid(VSVA_CACHE_INV_TYPE_IOTLB, kNoSuchPasid)),
                  -ENOENT);
        vsva_cache_invalidate_info batch[3] = {
                dp::Ctx::InvPasid(VSVA_CACHE_INV_TYPE_PASID, p1),
                dp::Ctx::InvDomain(VSVA_CACHE_INV_TYPE_IOTLB),
                dp::Ctx::InvPasid(VSVA_CACHE_INV_TYPE_IOTLB, kNoSuchPasid)};
        uint32_t handled = 99;
        ASSERT_EQ(invalidate_batch(ctx.fd(), dom, VSVA_TARGET_DOMAIN, batch, sizeof(batch[0]), 3,
                                   &handled),
                  -ENOENT);
        ASSERT_EQ(handled, 2u);

        int ffd;
        ASSERT_EQ(ctx.FaultAlloc(&ffd), 0);
        uint64_t v;
        vsva_emu_dma d;
        ASSERT_EQ(ctx.Dma(dev_a, p1, kUnmappedVa, &v, 8, 0, &d), 0);
        ASSERT_EQ(d.out_flags, (uint32_t)(VSVA_EMU_DMA_FAULTED | VSVA_EMU_DMA_PAGE_REQ));
        grp1 = d.out_grpid;
        ASSERT_EQ(ctx.PageResponse(dev_a, grp1, VSVA_PAGE_RESP_SUCCESS), 0);
        ASSERT_EQ(ctx.PageResponse(dev_a, grp1, VSVA_PAGE_RESP_SUCCESS), -EINVAL);
        // dev_b has no PRI: an unrecoverable fault, queued on the fault fd.
        ASSERT_EQ(ctx.Dma(dev_b, p2, kUnmappedVa + 0x10, &v, 8, 0, &d), 0);
        ASSERT_EQ(d.out_flags, (uint32_t)VSVA_EMU_DMA_FAULTED);
        ASSERT_EQ(ctx.Unbind(dev_b, p2, pt.root(), pt.aw()), 0);
        // Left pending at close: the release answers it.
        ASSERT_EQ(ctx.Dma(dev_a, p1, kUnmappedVa + dp::k4K, &v, 8, 0, &d), 0);
        ASSERT_EQ(d.out_flags, (uint32_t)(VSVA_EMU_DMA_FAULTED | VSVA_EMU_DMA_PAGE_REQ));
        grp2 = d.out_grpid;
        ctx.Close();
        close(ffd);
        // Left: p1 on dev_a, p2 on dev_a (the domain bind), 2 PASIDs, one
        // domain, two devices, 1024 pinned pages, one page request.
    }
    const auto all = read_events(tfs_);

    auto binds = of(all, ctx_id, "bind");
    ASSERT_EQ(binds.size(), 3u);
    EXPECT_EQ(binds[0].num("device"), dev_a);
    EXPECT_EQ(binds[0].num("pasid"), p1);
    EXPECT_EQ(binds[0].num("devices"), 1);
    EXPECT_EQ(binds[0].num("gpgd"), (long long)kPool);
    EXPECT_EQ(binds[0].num("result"), 0);
    EXPECT_EQ(binds[1].num("pasid"), kNoSuchPasid);
    EXPECT_EQ(binds[1].num("result"), -ENOENT);
    EXPECT_EQ(binds[2].num("domain"), dom) << "a TARGET_DOMAIN bind names its domain";
    EXPECT_EQ(binds[2].num("pasid"), p2);
    EXPECT_EQ(binds[2].num("devices"), 2);
    EXPECT_EQ(binds[2].num("result"), 0);

    auto invs = of(all, ctx_id, "invalidate");
    ASSERT_EQ(invs.size(), 6u) << "3 single + 3 batch entries";
    EXPECT_EQ(invs[0].str("granu"), "pasid");
    EXPECT_EQ(invs[0].str("cache"), "iotlb");
    EXPECT_EQ(invs[0].num("pasid"), p1);
    EXPECT_EQ(invs[0].num("result"), 0);
    EXPECT_EQ(invs[1].str("granu"), "addr");
    EXPECT_EQ(invs[1].str("cache"), "iotlb|devtlb");
    EXPECT_EQ(invs[1].num("addr"), (long long)kVa);
    EXPECT_EQ(invs[1].num("size"), 0x4000);
    EXPECT_EQ(invs[2].num("pasid"), kNoSuchPasid);
    EXPECT_EQ(invs[2].num("result"), -ENOENT);
    EXPECT_EQ(invs[3].str("cache"), "pasid");
    EXPECT_EQ(invs[3].num("domain"), dom);
    EXPECT_EQ(invs[4].str("granu"), "domain");
    EXPECT_EQ(invs[4].num("result"), 0);
    EXPECT_EQ(invs[5].num("result"), -ENOENT);

    auto batches = of(all, ctx_id, "invalidate_batch");
    ASSERT_EQ(batches.size(), 1u);
    EXPECT_EQ(batches[0].num("domain"), dom);
    EXPECT_EQ(batches[0].num("count"), 3);
    EXPECT_EQ(batches[0].num("done"), 2);
    EXPECT_EQ(batches[0].num("result"), -ENOENT);

    auto prs = of(all, ctx_id, "page_request");
    ASSERT_EQ(prs.size(), 2u);
    EXPECT_EQ(prs[0].num("dev"), dev_a);
    EXPECT_EQ(prs[0].num("pasid"), p1);
    EXPECT_EQ(prs[0].num("grpid"), grp1);
    EXPECT_EQ(prs[0].num("addr"), (long long)kUnmappedVa);
    EXPECT_EQ(prs[1].num("grpid"), grp2);

    auto resps = of(all, ctx_id, "page_response");
    ASSERT_EQ(resps.size(), 2u);
    EXPECT_EQ(resps[0].num("grpid"), grp1);
    EXPECT_EQ(resps[0].str("code"), "success");
    EXPECT_EQ(resps[0].num("result"), 0);
    EXPECT_EQ(resps[1].num("result"), -EINVAL) << "the group was answered already";

    auto faults = of(all, ctx_id, "fault");
    ASSERT_EQ(faults.size(), 1u);
    EXPECT_EQ(faults[0].num("dev"), dev_b);
    EXPECT_EQ(faults[0].num("pasid"), p2);
    EXPECT_EQ(faults[0].num("addr"), (long long)(kUnmappedVa + 0x10));
    EXPECT_EQ(faults[0].num("queued"), 1);

    auto unbinds = of(all, ctx_id, "unbind");
    ASSERT_EQ(unbinds.size(), 1u) << "the release unbinds without one event per binding";
    EXPECT_EQ(unbinds[0].num("device"), dev_b);
    EXPECT_EQ(unbinds[0].num("pasid"), p2);
    EXPECT_EQ(unbinds[0].num("result"), 0);

    auto rel = of(all, ctx_id, "ctx_release");
    ASSERT_EQ(rel.size(), 1u);
    EXPECT_EQ(rel[0].num("pid"), getpid());
    EXPECT_EQ(rel[0].num("bindings"), 2);
    EXPECT_EQ(rel[0].num("pasids"), 2);
    EXPECT_EQ(rel[0].num("domains"), 1);
    EXPECT_EQ(rel[0].num("devices"), 2);
    EXPECT_EQ(rel[0].num("pinned_pages"), (long long)(kRamLen / dp::k4K));
    EXPECT_EQ(rel[0].num("page_requests"), 1);
}

// Disabled events record nothing.
TEST_F(Trace, DisabledEventsAreSilent) {
    ASSERT_EQ(write_file(tfs_ + "/events/vsva/enable", "0"), 0);
    int ctx_id;
    {
        Vm vm;
        ASSERT_EQ(vm.create(0, {}), 0);
        ctx_id = newest_ctx_id();
        uint32_t p;
        ASSERT_EQ(vm.alloc_pasid(&p), 0);
    }
    EXPECT_TRUE(of(read_events(tfs_), ctx_id, "ctx_release").empty());
}

// `vsva trace --count 2`: prints a failing bind (with its errno's name)
// and the release, then exits and restores the events' enable files.
TEST_F(Trace, ToolPrintsLiveAndRestores) {
    ASSERT_EQ(write_file(tfs_ + "/events/vsva/enable", "0"), 0);
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execlp("vsva", "vsva", "trace", "--count", "2", "--timeout", "30", nullptr);
        _exit(127);
    }
    close(out[1]);
    // Wait until the tool enabled every event (the system's enable file
    // says 1 when all are on, X when some are).
    auto t0 = std::chrono::steady_clock::now();
    while (read_file(tfs_ + "/events/vsva/enable").rfind('1', 0) != 0 &&
           std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_EQ(read_file(tfs_ + "/events/vsva/enable").substr(0, 1), "1");
    int ctx_id;
    uint32_t dev;
    {
        Vm vm;
        ASSERT_EQ(vm.create(1 << 20, {dp::Rid(2)}), 0);
        ctx_id = newest_ctx_id();
        dev = vm.devs[0];
        ASSERT_EQ(bind(vm.fd.get(), dev, bind_data(kNoSuchPasid, vm.gpgd)), -ENOENT);
    }
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = read(out[0], buf, sizeof(buf))) > 0;)
        text.append(buf, static_cast<size_t>(n));
    close(out[0]);
    int st;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << text;
    std::printf("vsva trace printed:\n%s", text.c_str());
    std::printf("left in the trace buffer:\n%s", read_file(tfs_ + "/trace").c_str());
    const std::string c = "ctx=" + std::to_string(ctx_id) + " ";
    EXPECT_NE(text.find("bind"), std::string::npos) << text;
    EXPECT_NE(text.find(c + "device=" + std::to_string(dev) +
                        " pasid=" + std::to_string(kNoSuchPasid)),
              std::string::npos)
            << text;
    EXPECT_NE(text.find("result=-2 (ENOENT: No such file or directory)"), std::string::npos)
            << text;
    EXPECT_NE(text.find("ctx_release"), std::string::npos) << text;
    EXPECT_NE(text.find(c + "pid=" + std::to_string(getpid()) +
                        " bindings=0 pasids=0 domains=1 devices=1 pinned_pages=256"),
              std::string::npos)
            << text;
    // Restored: the events are off again, as before the tool ran.
    EXPECT_EQ(read_file(tfs_ + "/events/vsva/vsva_bind/enable").substr(0, 1), "0");
    EXPECT_EQ(read_file(tfs_ + "/events/vsva/vsva_ctx_release/enable").substr(0, 1), "0");
}

// SIGINT ends it (restoring), --timeout without events ends it too.
TEST_F(Trace, ToolTimeoutAndSigint) {
    ASSERT_EQ(write_file(tfs_ + "/events/vsva/enable", "0"), 0);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(system("vsva trace --timeout 0.5 --events fault >/tmp/trace.out 2>&1"), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
    EXPECT_NE(read_file("/tmp/trace.out").find("1 events enabled"), std::string::npos)
            << read_file("/tmp/trace.out");
    EXPECT_EQ(read_file(tfs_ + "/events/vsva/vsva_fault/enable").substr(0, 1), "0");

    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execlp("vsva", "vsva", "trace", nullptr);
        _exit(127);
    }
    t0 = std::chrono::steady_clock::now();
    while (read_file(tfs_ + "/events/vsva/vsva_fault/enable").rfind('1', 0) != 0 &&
           std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_EQ(kill(pid, SIGINT), 0);
    int st;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    EXPECT_EQ(read_file(tfs_ + "/events/vsva/vsva_fault/enable").substr(0, 1), "0");
    EXPECT_EQ(system("vsva trace --events nosuch >/dev/null 2>&1") >> 8, 2);
}

} // namespace
