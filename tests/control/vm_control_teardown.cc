// SPDX-License-Identifier: GPL-2.0
// Teardown: close, SIGKILL with threads inside ioctls, an fd passed to
// another process, and the in-kernel consumer (notifications, kernel-
// internal unbind).
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <thread>

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vsva_testlib.h"

using namespace vsva::test;

namespace {

constexpr size_t kRam = 2 << 20;

struct Baseline {
    std::map<std::string, long long> summary, consumer;
    void take() {
        summary = vsva_summary();
        consumer = consumer_stats();
    }
};

class Teardown : public ::testing::Test {
protected:
    void SetUp() override {
        VSVA_REQUIRE_DEV();
        VSVA_REQUIRE_DEBUGFS();
        ASSERT_EQ(load_consumer(), 0);
    }
};

// The child: a VM with @m devices and @n PASIDs bound on all of them,
// threads hammering invalidations; reports readiness, then waits to die.
[[noreturn]] void vm_child(int ready_fd, int m, int n) {
    auto rids = single_group_rids();
    rids.resize(m);
    Vm vm;
    if (vm.create(kRam, rids, VSVA_ATTACH_ENABLE_ATS | VSVA_ATTACH_ENABLE_PRI))
        _exit(2);
    std::vector<uint32_t> pasids;
    for (int i = 0; i < n; i++) {
        uint32_t p;
        if (pasid_alloc(vm.fd.get(), &p, nullptr, true, 100 + i))
            _exit(3);
        auto d = bind_data(p, vm.gpgd);
        if (bind(vm.fd.get(), vm.dom, d, nullptr, VSVA_TARGET_DOMAIN))
            _exit(4);
        pasids.push_back(p);
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; t++) {
        threads.emplace_back([&, t] {
            vsva_cache_invalidate_info arr[8];
            for (unsigned i = 0;; i++) {
                uint32_t p = pasids[(i + t) % pasids.size()];
                if (t % 2) {
                    invalidate(vm.fd.get(), vm.dom, inv_pasid(p), nullptr, VSVA_TARGET_DOMAIN);
                } else {
                    uint32_t h;
                    for (auto& e : arr)
                        e = inv_addr(p, 0x1000ULL * (i % 64));
                    invalidate_batch(vm.fd.get(), vm.devs[i % vm.devs.size()], 0, arr,
                                     sizeof(arr[0]), 8, &h, nullptr);
                }
            }
        });
    }
    char c = 'r';
    if (write(ready_fd, &c, 1) != 1)
        _exit(5);
    for (;;)
        pause();
}

TEST_F(Teardown, SigkillWithThreadsInIoctls) {
    const char* k = std::getenv("VSVA_KERNEL");
    const int rounds = (k && std::string(k) == "debug") ? 50 : 10;
    const int m = 4, n = 16;
    Baseline b;
    b.take();
    for (int r = 0; r < rounds; r++) {
        int pfd[2];
        ASSERT_EQ(pipe(pfd), 0);
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            close(pfd[0]);
            vm_child(pfd[1], m, n);
        }
        close(pfd[1]);
        char c = 0;
        ASSERT_EQ(read(pfd[0], &c, 1), 1) << "round " << r << ": child did not start";
        close(pfd[0]);
        usleep(1000 * (r % 7));
        ASSERT_EQ(kill(pid, SIGKILL), 0);
        int st = 0;
        ASSERT_EQ(waitpid(pid, &st, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(st)) << "round " << r;
        auto s = vsva_summary();
        EXPECT_EQ(s["contexts"], b.summary["contexts"]) << "round " << r;
        EXPECT_EQ(s["pasids"], b.summary["pasids"]) << "round " << r;
        EXPECT_EQ(s["pinned_pages"], b.summary["pinned_pages"]) << "round " << r;
        auto cs = consumer_stats();
        EXPECT_EQ(cs["alloc"] - b.consumer["alloc"], (r + 1) * n);
        EXPECT_EQ(cs["free"] - b.consumer["free"], (r + 1) * n);
        EXPECT_EQ(cs["bind"] - b.consumer["bind"], (r + 1) * n * m);
        EXPECT_EQ(cs["unbind"] - b.consumer["unbind"], (r + 1) * n * m);
        if (HasFailure())
            break;
    }
    EXPECT_EQ(proc_status_kb("VmPin"), 0);
}

// The fd outlives the process that charged the pages: the mapping owner's
// mm is uncharged whoever closes last.
TEST_F(Teardown, FdClosedByAnotherProcess) {
    Baseline b;
    b.take();
    long long pin0 = proc_status_kb("VmPin");
    {
        Vm vm;
        ASSERT_EQ(vm.create(kRam, {rid(0, 2, 0)}), 0);
        uint32_t p;
        ASSERT_EQ(vm.alloc_pasid(&p), 0);
        ASSERT_EQ(bind(vm.fd.get(), vm.devs[0], bind_data(p, vm.gpgd)), 0);
        EXPECT_EQ(proc_status_kb("VmPin") - pin0, 2048);
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            // The child holds the only reference after the parent closes.
            usleep(100000);
            vsva_emu_counters c;
            _exit(counters(vm.fd.get(), &c) || c.out_bindings != 1 ? 1 : 0);
        }
        vm.fd.reset();
        EXPECT_EQ(vsva_summary()["pinned_pages"] - b.summary["pinned_pages"], 512);
        int st;
        ASSERT_EQ(waitpid(pid, &st, 0), pid);
        EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    EXPECT_EQ(proc_status_kb("VmPin"), pin0);
    EXPECT_EQ(vsva_summary()["pinned_pages"], b.summary["pinned_pages"]);
    EXPECT_EQ(vsva_summary()["contexts"], b.summary["contexts"]);
}

TEST_F(Teardown, FdOutlivesTheChargedProcess) {
    Baseline b;
    b.take();
    // The child builds a VM, then hands its fd over (pidfd_getfd: the
    // debug kernel has no AF_UNIX) and exits.
    int ready[2], go[2];
    ASSERT_EQ(pipe(ready), 0);
    ASSERT_EQ(pipe(go), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        Vm vm;
        if (vm.create(kRam, {rid(0, 2, 0)}))
            _exit(2);
        uint32_t p;
        if (vm.alloc_pasid(&p) || bind(vm.fd.get(), vm.devs[0], bind_data(p, vm.gpgd)))
            _exit(3);
        int fdnum = vm.fd.get();
        if (write(ready[1], &fdnum, sizeof(fdnum)) != sizeof(fdnum))
            _exit(4);
        char c;
        _exit(read(go[0], &c, 1) == 1 ? 0 : 5);
    }
    int fdnum = -1;
    ASSERT_EQ(read(ready[0], &fdnum, sizeof(fdnum)), (ssize_t)sizeof(fdnum));
    Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    ASSERT_TRUE(pidfd) << errno;
    Fd f(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), fdnum, 0)));
    ASSERT_TRUE(f) << errno;
    ASSERT_EQ(write(go[1], "g", 1), 1);
    int st;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
    for (int x : {ready[0], ready[1], go[0], go[1]})
        close(x);
    // The child and its mm are gone; the pages stay pinned and charged to it.
    EXPECT_EQ(vsva_summary()["pinned_pages"] - b.summary["pinned_pages"], 512);
    EXPECT_EQ(vsva_summary()["contexts"] - b.summary["contexts"], 1);
    EXPECT_EQ(proc_status_kb("VmPin"), 0);
    vsva_emu_counters c;
    ASSERT_EQ(counters(f.get(), &c), 0);
    EXPECT_EQ(c.out_bindings, 1u);
    f.reset();
    auto s = vsva_summary();
    EXPECT_EQ(s["pinned_pages"], b.summary["pinned_pages"]);
    EXPECT_EQ(s["pasids"], b.summary["pasids"]);
    EXPECT_EQ(s["contexts"], b.summary["contexts"]);
    auto cs = consumer_stats();
    EXPECT_EQ(cs["unbind"] - b.consumer["unbind"], 1);
    EXPECT_EQ(cs["free"] - b.consumer["free"], 1);
}

TEST_F(Teardown, ConsumerSeesEventsAndUnbindsInKernel) {
    ASSERT_EQ(write_file(VSVA_CONSUMER_DIR "/clear", "1"), 0);
    Vm vm;
    ASSERT_EQ(vm.create(kRam, {rid(0, 2, 0), rid(0, 4, 0)}), 0);
    int ctx = newest_ctx_id();
    uint32_t p;
    ASSERT_EQ(pasid_alloc(vm.fd.get(), &p, nullptr, true, 7), 0);
    std::string msg;
    ASSERT_EQ(bind(vm.fd.get(), vm.dom, bind_data(p, vm.gpgd), &msg, VSVA_TARGET_DOMAIN), 0) << msg;
    std::string ev = read_file(VSVA_CONSUMER_DIR "/events");
    const std::string c = "ctx " + std::to_string(ctx) + " ";
    EXPECT_NE(ev.find("alloc " + c), std::string::npos) << ev;
    EXPECT_NE(ev.find("pasid " + std::to_string(p) + " gpasid 7\n"), std::string::npos) << ev;
    EXPECT_NE(ev.find(" gpasid 7 dev " + std::to_string(vm.devs[0]) + " rid 0x0010\n"),
              std::string::npos)
            << ev;
    EXPECT_NE(ev.find(" gpasid 7 dev " + std::to_string(vm.devs[1]) + " rid 0x0020\n"),
              std::string::npos)
            << ev;
    // Unbind device 0 from the kernel side: no user buffer involved.
    const std::string cmd =
            std::to_string(ctx) + " " + std::to_string(vm.devs[0]) + " " + std::to_string(p);
    ASSERT_EQ(write_file(VSVA_CONSUMER_DIR "/unbind", cmd), 0);
    EXPECT_EQ(read_file(VSVA_CONSUMER_DIR "/result"), "0 \n");
    vsva_emu_pasid_entry e;
    ASSERT_EQ(pasid_entry(vm.fd.get(), vm.devs[0], p, &e), 0);
    EXPECT_EQ(e.out_present, 0u);
    ASSERT_EQ(pasid_entry(vm.fd.get(), vm.devs[1], p, &e), 0);
    EXPECT_EQ(e.out_present, 1u);
    EXPECT_EQ(write_file(VSVA_CONSUMER_DIR "/unbind", cmd), -ENOENT);
    EXPECT_EQ(read_file(VSVA_CONSUMER_DIR "/result"), "-2 unbind: PASID " + std::to_string(p) +
                                                              " is not bound on device " +
                                                              std::to_string(vm.devs[0]) + "\n");
    EXPECT_EQ(write_file(VSVA_CONSUMER_DIR "/unbind", "99999 1 1"), -ENOENT);
    auto st = consumer_stats();
    EXPECT_EQ(st["alloc"], 1);
    EXPECT_EQ(st["bind"], 2);
    EXPECT_EQ(st["unbind"], 1);
    EXPECT_EQ(st["live_bindings"], 1);
    // Closing unbinds the rest and frees the PASID, with notifications.
    vm.fd.reset();
    st = consumer_stats();
    EXPECT_EQ(st["unbind"], 2);
    EXPECT_EQ(st["free"], 1);
    EXPECT_EQ(st["live_pasids"], 0);
    EXPECT_EQ(st["live_bindings"], 0);
    ev = read_file(VSVA_CONSUMER_DIR "/events");
    EXPECT_NE(ev.rfind("free " + c), std::string::npos) << ev;
    // A consumer call on a closed context.
    EXPECT_EQ(write_file(VSVA_CONSUMER_DIR "/unbind", cmd), -ENOENT);
}

} // namespace
