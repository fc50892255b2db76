// SPDX-License-Identifier: GPL-2.0
// Per-user limits for unprivileged VMMs (issue 11, items 2, 3, 4, 8, 10):
// VSVA_MAP checks its bounds before allocating anything; pinned pages are
// charged once, to the user, across execve(); PASIDs are limited per user
// and allocated cyclically; writable mappings are dirtied on unpin; long-
// term write pins of dirty-tracked shared files are refused; in-kernel
// consumers hold PASIDs by handle.  The limit checks run as uid 1000/1001
// without capabilities: root would bypass them.
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "as_user.h"
#include "vsva_testlib.h"

using namespace vsva::test;

namespace {

constexpr uid_t kUserA = 1000;
constexpr uid_t kUserB = 1001;
constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kTiB = 1ULL << 40;

long long mem_available_kb() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    long long v;
    while (in >> key >> v) {
        if (key == "MemAvailable:")
            return v;
        in.ignore(256, '\n');
    }
    return -1;
}

// ---- the execve() chain ----------------------------------------------------
// A re-executed image of this binary: with VSVA_EXEC_LEFT set it maps 4 MiB
// more through the inherited fd, reports the errno on the pipe, and either
// executes itself again or waits for the parent to close VSVA_EXEC_HOLD.
int exec_step() {
    const char* left_s = std::getenv("VSVA_EXEC_LEFT");
    if (!left_s)
        return 0;
    int left = std::atoi(left_s);
    int fd = std::atoi(std::getenv("VSVA_EXEC_FD"));
    uint32_t dom = static_cast<uint32_t>(std::atoi(std::getenv("VSVA_EXEC_DOM")));
    int out = std::atoi(std::getenv("VSVA_EXEC_OUT"));
    int hold = std::atoi(std::getenv("VSVA_EXEC_HOLD"));
    uint64_t gpa = std::strtoull(std::getenv("VSVA_EXEC_GPA"), nullptr, 0);
    int rc;
    {
        GuestRam ram(4 * kMiB);
        rc = ram.ptr() ? map(fd, dom, gpa, 4 * kMiB, ram.ptr()) : -1000;
        if (::write(out, &rc, sizeof(rc)) != sizeof(rc))
            ::_exit(2);
    }
    if (left > 1) {
        ::setenv("VSVA_EXEC_LEFT", std::to_string(left - 1).c_str(), 1);
        ::setenv("VSVA_EXEC_GPA", std::to_string(gpa + 4 * kMiB).c_str(), 1);
        char* argv[] = {const_cast<char*>("vm_control_limits"), nullptr};
        ::execv("/proc/self/exe", argv);
        ::_exit(3);
    }
    char c;
    while (::read(hold, &c, 1) > 0) {
    }
    ::_exit(0);
}
const int kExecStep = exec_step();

class Limits : public ::testing::Test {
protected:
    void SetUp() override {
        VSVA_REQUIRE_DEV();
        ASSERT_EQ(getuid(), 0u) << "the suite switches users: run it as root";
        ASSERT_TRUE(dev_.ok());
    }
    DevOpenToAll dev_;
};

// Item 2: 1 TiB and just below the kvmalloc bound fail on the limit, with
// the limit's message, before anything is allocated (no WARN, no dip).
TEST_F(Limits, HugeMapFailsOnTheLimitBeforeAllocating) {
    long long before = mem_available_kb();
    std::atomic<long long> lowest{before};
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (become_user(kUserA, kUserA, {}, 4 * kMiB))
            ::_exit(9);
        Fd f = open_vsva();
        uint32_t dom;
        if (!f || domain_alloc(f.get(), &dom))
            ::_exit(10);
        // A user address range that is valid but mostly not mapped.
        const void* va = reinterpret_cast<const void*>(0x100000000ULL);
        const uint64_t lens[] = {kTiB, kTiB / 2, kTiB - 4096};
        int bad = 0; // the first failing step; every call is made anyway
        for (int i = 0; i < 3; i++) {
            std::string msg;
            if (map(f.get(), dom, 0, lens[i], va, VSVA_MAP_READ | VSVA_MAP_WRITE, &msg) != -ENOMEM)
                bad = bad ? bad : 20 + i;
            if (msg != "map: pinning " + std::to_string(lens[i] >> 12) +
                               " pages exceeds RLIMIT_MEMLOCK (4194304 bytes)")
                bad = bad ? bad : 30 + i;
        }
        ::_exit(bad);
    }
    int st = 0;
    for (;;) {
        pid_t r = ::waitpid(pid, &st, WNOHANG);
        ASSERT_GE(r, 0);
        if (r == pid)
            break;
        long long now = mem_available_kb();
        if (now < lowest)
            lowest = now;
        ::usleep(200);
    }
    ASSERT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 0) << "child step " << WEXITSTATUS(st) << " failed";
    // The old code allocated the page array first: up to 2 GiB per call.
    EXPECT_LT(before - lowest, 64 << 10)
            << "MemAvailable dipped by " << (before - lowest) << " kB during the calls";
}

// Item 4: pages are counted once, as VmPin; VmLck (mlock) stays untouched.
TEST_F(Limits, PinnedPagesCountedOnce) {
    int st = run_as(
            kUserA,
            [] {
                Fd f = open_vsva();
                uint32_t dom;
                if (!f || domain_alloc(f.get(), &dom))
                    return 10;
                GuestRam ram(kMiB);
                long long pin0 = proc_status_kb("VmPin"), lck0 = proc_status_kb("VmLck");
                if (map(f.get(), dom, 0, kMiB, ram.ptr()))
                    return 11;
                if (proc_status_kb("VmPin") - pin0 != 1024)
                    return 12;
                if (proc_status_kb("VmLck") - lck0 != 0)
                    return 13;
                // A second context of the same user shares its budget.
                Fd g = open_vsva();
                uint32_t dom2;
                if (!g || domain_alloc(g.get(), &dom2))
                    return 14;
                GuestRam ram2(4 * kMiB);
                std::string msg;
                if (map(g.get(), dom2, 0, 4 * kMiB, ram2.ptr(), VSVA_MAP_READ, &msg) != -ENOMEM)
                    return 15;
                if (map(g.get(), dom2, 0, 3 * kMiB, ram2.ptr(), VSVA_MAP_READ, &msg))
                    return 16;
                f.reset();
                g.reset();
                if (proc_status_kb("VmPin") != pin0)
                    return 17;
                return 0;
            },
            4 * kMiB);
    EXPECT_EQ(st, 0) << "child step " << st << " failed";
}

// Item 4: pins survive execve() (the fd does) but stay charged to the user:
// after four execve()s the user still holds at most RLIMIT_MEMLOCK.  The
// old code charged each new mm afresh: 20 MiB pinned under a 4 MiB limit.
TEST_F(Limits, MemlockChargeSurvivesExecve) {
    VSVA_REQUIRE_DEBUGFS();
    long long g0 = vsva_summary()["pinned_pages"];
    int out[2], hold[2];
    ASSERT_EQ(::pipe(out), 0);
    ASSERT_EQ(::pipe(hold), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(out[0]);
        ::close(hold[1]);
        if (become_user(kUserA, kUserA, {}, 4 * kMiB))
            ::_exit(9);
        int fd = ::open("/dev/vsva", O_RDWR); // inherited across execve()
        uint32_t dom;
        if (fd < 0 || domain_alloc(fd, &dom))
            ::_exit(10);
        int rc;
        {
            GuestRam ram(4 * kMiB);
            rc = map(fd, dom, 0, 4 * kMiB, ram.ptr());
        }
        if (::write(out[1], &rc, sizeof(rc)) != sizeof(rc))
            ::_exit(11);
        ::setenv("VSVA_EXEC_LEFT", "4", 1);
        ::setenv("VSVA_EXEC_FD", std::to_string(fd).c_str(), 1);
        ::setenv("VSVA_EXEC_DOM", std::to_string(dom).c_str(), 1);
        ::setenv("VSVA_EXEC_OUT", std::to_string(out[1]).c_str(), 1);
        ::setenv("VSVA_EXEC_HOLD", std::to_string(hold[0]).c_str(), 1);
        ::setenv("VSVA_EXEC_GPA", std::to_string(4 * kMiB).c_str(), 1);
        char* argv[] = {const_cast<char*>("vm_control_limits"), nullptr};
        ::execv("/proc/self/exe", argv);
        ::_exit(12);
    }
    ::close(out[1]);
    ::close(hold[0]);
    int rcs[5] = {1, 1, 1, 1, 1};
    for (int i = 0; i < 5; i++)
        ASSERT_EQ(::read(out[0], &rcs[i], sizeof(int)), static_cast<ssize_t>(sizeof(int)))
                << "step " << i;
    EXPECT_EQ(rcs[0], 0) << "the first 4 MiB fit the limit";
    for (int i = 1; i < 5; i++)
        EXPECT_EQ(rcs[i], -ENOMEM) << "map after execve() #" << i;
    long long pinned = vsva_summary()["pinned_pages"] - g0;
    EXPECT_EQ(pinned, 1024) << "pages pinned by uid 1000 under a 4 MiB limit: " << pinned;
    ::close(hold[1]);
    ::close(out[0]);
    int st = 0;
    ASSERT_EQ(::waitpid(pid, &st, 0), pid);
    ASSERT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 0);
    EXPECT_EQ(vsva_summary()["pinned_pages"], g0);
}

// Item 3: one user's contexts share vsva.max_user_pasids; another user
// still gets PASIDs.
TEST_F(Limits, PasidsLimitedPerUser) {
    std::string old_max = module_param("max_user_pasids");
    std::string old_quota = module_param("pasid_quota");
    ASSERT_EQ(set_module_param("max_user_pasids", "100"), 0);
    ASSERT_EQ(set_module_param("pasid_quota", "20"), 0);
    int got[2], go[2];
    ASSERT_EQ(::pipe(got), 0);
    ASSERT_EQ(::pipe(go), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(got[0]);
        ::close(go[1]);
        if (become_user(kUserA, kUserA))
            ::_exit(9);
        std::vector<Fd> ctxs;
        int total = 0, last = 0;
        std::string msg;
        for (int c = 0; c < 16; c++) {
            ctxs.push_back(open_vsva());
            for (;;) {
                uint32_t p;
                last = pasid_alloc(ctxs.back().get(), &p, &msg);
                if (last)
                    break;
                total++;
            }
        }
        int ok = last == -ENOSPC &&
                 msg == "pasid_alloc: uid 1000 holds 100 PASIDs, the per-user limit "
                        "(vsva.max_user_pasids)";
        int report[2] = {total, ok};
        if (::write(got[1], report, sizeof(report)) != sizeof(report))
            ::_exit(10);
        char c;
        while (::read(go[0], &c, 1) > 0) {
        }
        ::_exit(0);
    }
    ::close(got[1]);
    ::close(go[0]);
    int report[2] = {-1, 0};
    ASSERT_EQ(::read(got[0], report, sizeof(report)), static_cast<ssize_t>(sizeof(report)));
    EXPECT_EQ(report[0], 100) << "PASIDs held by 16 contexts of uid 1000";
    EXPECT_TRUE(report[1]) << "last errno and message";
    // While uid 1000 holds its 100, uid 1001 is not affected.
    int st = run_as(kUserB, [] {
        Fd f = open_vsva();
        uint32_t p;
        for (int i = 0; i < 20; i++)
            if (!f || pasid_alloc(f.get(), &p))
                return 10 + i;
        return 0;
    });
    EXPECT_EQ(st, 0) << "uid 1001: step " << st;
    ::close(go[1]);
    ::close(got[0]);
    int cst = 0;
    ASSERT_EQ(::waitpid(pid, &cst, 0), pid);
    EXPECT_TRUE(WIFEXITED(cst) && WEXITSTATUS(cst) == 0);
    // The charge went away with the contexts.
    st = run_as(kUserA, [] {
        Fd f = open_vsva();
        uint32_t p;
        for (int i = 0; i < 20; i++)
            if (!f || pasid_alloc(f.get(), &p))
                return 10 + i;
        return 0;
    });
    EXPECT_EQ(st, 0) << "uid 1000 after closing: step " << st;
    EXPECT_EQ(set_module_param("max_user_pasids", old_max), 0);
    EXPECT_EQ(set_module_param("pasid_quota", old_quota), 0);
}

// Item 10: a freed PASID is not handed out again at once.
TEST_F(Limits, PasidsAllocatedCyclically) {
    Vm vm;
    ASSERT_EQ(vm.create(0, {}), 0);
    uint32_t p1, p2, p3;
    ASSERT_EQ(vm.alloc_pasid(&p1), 0);
    ASSERT_EQ(pasid_free(vm.fd.get(), p1), 0);
    ASSERT_EQ(vm.alloc_pasid(&p2), 0);
    EXPECT_NE(p2, p1) << "the PASID just freed was reused at once";
    // Asked for explicitly, the old number is still available.
    ASSERT_EQ(pasid_alloc(vm.fd.get(), &p3, nullptr, false, 0, p1, p1), 0);
    EXPECT_EQ(p3, p1);
}

// Item 10: an in-kernel consumer holds PASIDs by handle; it can drop only
// the references it holds, never another context's by number.
TEST_F(Limits, ConsumerHoldsPasidsByHandle) {
    VSVA_REQUIRE_DEBUGFS();
    ASSERT_EQ(load_consumer(), 0);
    const std::string hold = VSVA_CONSUMER_DIR "/hold";
    Vm a;
    ASSERT_EQ(a.create(0, {}), 0);
    int ctx_a = newest_ctx_id();
    Vm b;
    ASSERT_EQ(b.create(0, {}), 0);
    uint32_t p, q, r;
    ASSERT_EQ(a.alloc_pasid(&p), 0);
    ASSERT_EQ(b.alloc_pasid(&r), 0);
    ASSERT_EQ(write_file(hold, "get " + std::to_string(ctx_a) + " " + std::to_string(p)), 0);
    EXPECT_EQ(read_file(hold), "pasid " + std::to_string(p) + "\n");
    // Another context's PASID is not this context's.
    EXPECT_EQ(write_file(hold, "get " + std::to_string(ctx_a) + " " + std::to_string(r)), -ENOENT);
    // Freed by its context, the number stays taken while the handle is held.
    ASSERT_EQ(pasid_free(a.fd.get(), p), 0);
    EXPECT_EQ(pasid_alloc(a.fd.get(), &q, nullptr, false, 0, p, p), -ENOSPC);
    // Nothing held on r: no way to drop b's reference.
    EXPECT_EQ(write_file(hold, "put " + std::to_string(r)), -ENOENT);
    ASSERT_EQ(pasid_free(b.fd.get(), r), 0);
    ASSERT_EQ(pasid_alloc(b.fd.get(), &q, nullptr, false, 0, r, r), 0);
    EXPECT_EQ(q, r);
    ASSERT_EQ(write_file(hold, "put " + std::to_string(p)), 0);
    EXPECT_EQ(read_file(hold), "");
    ASSERT_EQ(pasid_alloc(a.fd.get(), &q, nullptr, false, 0, p, p), 0);
    EXPECT_EQ(q, p);
}

// /proc/kpageflags of the page at @addr (root), or ~0.
uint64_t page_flags(const void* addr) {
    Fd pm(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
    Fd kf(::open("/proc/kpageflags", O_RDONLY | O_CLOEXEC));
    uint64_t e = 0, f = 0;
    off_t off = static_cast<off_t>(reinterpret_cast<uintptr_t>(addr) / 4096 * 8);
    if (!pm || !kf || ::pread(pm.get(), &e, 8, off) != 8 || !(e >> 63))
        return ~0ULL;
    uint64_t pfn = e & ((1ULL << 55) - 1);
    if (::pread(kf.get(), &f, 8, static_cast<off_t>(pfn * 8)) != 8)
        return ~0ULL;
    return f;
}
constexpr uint64_t kKpfDirty = 1ULL << 4;

// Item 8: a writable mapping's pages are marked dirty when unpinned (the
// device may have written them); a read-only mapping's are not.
TEST_F(Limits, WritableMappingDirtiedOnUnpin) {
    Vm vm;
    ASSERT_EQ(vm.create(0, {}), 0);
    auto* mem = static_cast<uint8_t*>(
            ::mmap(nullptr, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(mem, MAP_FAILED);
    ::madvise(mem, 4 * 4096, MADV_NOHUGEPAGE);
    for (int i = 0; i < 4; i++)
        mem[i * 4096] = 1;
    for (int i = 0; i < 4; i++) {
        uint64_t f = page_flags(mem + i * 4096);
        ASSERT_NE(f, ~0ULL) << "no /proc/kpageflags";
        if (f & kKpfDirty)
            GTEST_SKIP() << "anonymous page " << i << " is PG_dirty before any pin";
    }
    ASSERT_EQ(map(vm.fd.get(), vm.dom, 0, 2 * 4096, mem), 0);
    ASSERT_EQ(map(vm.fd.get(), vm.dom, kMiB, 2 * 4096, mem + 2 * 4096, VSVA_MAP_READ), 0);
    ASSERT_EQ(unmap(vm.fd.get(), vm.dom, 0, 2 * kMiB), 0);
    EXPECT_TRUE(page_flags(mem) & kKpfDirty);
    EXPECT_TRUE(page_flags(mem + 4096) & kKpfDirty);
    EXPECT_FALSE(page_flags(mem + 2 * 4096) & kKpfDirty);
    EXPECT_FALSE(page_flags(mem + 3 * 4096) & kKpfDirty);
    ::munmap(mem, 4 * 4096);
}

// Item 8: a long-term write pin of a shared mapping of a file whose
// filesystem tracks dirty pages is refused, on 6.1 as GUP does from 6.5,
// with a message; a read-only mapping of it is fine.
TEST_F(Limits, SharedFileWritePinRefused) {
    const char* dir = "/tmp/vsva-ramfs";
    ::mkdir("/tmp", 01777);
    ::mkdir(dir, 0700);
    ASSERT_EQ(::mount("none", dir, "ramfs", 0, nullptr), 0) << strerror(errno);
    {
        Fd file(::open("/tmp/vsva-ramfs/ram", O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        ASSERT_TRUE(file);
        ASSERT_EQ(::ftruncate(file.get(), 64 << 10), 0);
        void* p = ::mmap(nullptr, 64 << 10, PROT_READ | PROT_WRITE, MAP_SHARED, file.get(), 0);
        ASSERT_NE(p, MAP_FAILED);
        std::memset(p, 0x5a, 64 << 10);
        Vm vm;
        ASSERT_EQ(vm.create(0, {}), 0);
        std::string msg;
        EXPECT_EQ(map(vm.fd.get(), vm.dom, 0, 64 << 10, p, VSVA_MAP_READ | VSVA_MAP_WRITE, &msg),
                  -EFAULT);
        EXPECT_NE(msg.find("cannot be pinned long-term for write"), std::string::npos) << msg;
        EXPECT_EQ(map(vm.fd.get(), vm.dom, 0, 64 << 10, p, VSVA_MAP_READ, &msg), 0) << msg;
        vm.fd.reset();
        ::munmap(p, 64 << 10);
    }
    EXPECT_EQ(::umount(dir), 0);
    ::rmdir(dir);
}

} // namespace
