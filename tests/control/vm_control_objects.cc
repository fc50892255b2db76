// SPDX-License-Identifier: GPL-2.0
// Objects: GET_INFO, domains, stage-2 mappings (pinning, RLIMIT_MEMLOCK),
// device attach and IOMMU-group ownership, PASID allocation and quota.
#include <cerrno>
#include <set>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include "vsva_testlib.h"

using namespace vsva::test;

namespace {

class Objects : public ::testing::Test {
protected:
    void SetUp() override {
        VSVA_REQUIRE_DEV();
        fd = open_vsva();
        ASSERT_TRUE(fd);
        ASSERT_EQ(domain_alloc(fd.get(), &dom), 0);
    }
    Fd fd;
    uint32_t dom = 0;
};

TEST_F(Objects, GetInfo) {
    vsva_info i;
    ASSERT_EQ(get_info(fd.get(), &i), 0);
    EXPECT_EQ(i.out_uapi_version, 1u);
    EXPECT_EQ(i.out_bind_versions, 1u << 1);
    EXPECT_EQ(i.out_inv_versions, 1u << 1);
    EXPECT_EQ(i.out_page_resp_versions, 1u << 1);
    EXPECT_EQ(i.out_formats, 1u << VSVA_PASID_FORMAT_INTEL_VTD);
    uint32_t m = VSVA_INV_MATRIX_BIT(0, VSVA_INV_GRANU_DOMAIN) |
                 VSVA_INV_MATRIX_BIT(0, VSVA_INV_GRANU_PASID) |
                 VSVA_INV_MATRIX_BIT(0, VSVA_INV_GRANU_ADDR) |
                 VSVA_INV_MATRIX_BIT(1, VSVA_INV_GRANU_PASID) |
                 VSVA_INV_MATRIX_BIT(1, VSVA_INV_GRANU_ADDR) |
                 VSVA_INV_MATRIX_BIT(2, VSVA_INV_GRANU_DOMAIN) |
                 VSVA_INV_MATRIX_BIT(2, VSVA_INV_GRANU_PASID);
    EXPECT_EQ(i.out_inv_matrix, m);
    EXPECT_EQ(i.out_addr_widths, uint32_t(VSVA_AW_48 | VSVA_AW_57));
    EXPECT_EQ(i.out_pasid_bits, 20u);
    EXPECT_EQ(i.out_gpa_bits, 48u);
    EXPECT_EQ(i.out_pasid_quota, std::stoul(module_param("pasid_quota")));
    EXPECT_EQ(i.out_max_batch, 1024u);
    EXPECT_EQ(i.out_features,
              uint64_t(VSVA_FEAT_NESTING | VSVA_FEAT_CACHE_INV_BATCH | VSVA_FEAT_PAGE_REQUEST |
                       VSVA_FEAT_ERR_MSG | VSVA_FEAT_EMU | VSVA_FEAT_SYSWIDE_PASID |
                       VSVA_FEAT_INV_SEPARATE_DEVTLB | VSVA_FEAT_RID_PASID |
                       VSVA_FEAT_EMU_TRANSLATE | VSVA_FEAT_BIND_REPLACE));
    EXPECT_EQ(i.out_module_version, uint32_t(1 << 8));
}

TEST_F(Objects, DomainDestroy) {
    uint32_t d2;
    ASSERT_EQ(domain_alloc(fd.get(), &d2), 0);
    EXPECT_NE(d2, dom);
    EXPECT_EQ(domain_destroy(fd.get(), d2), 0);
    EXPECT_EQ(domain_destroy(fd.get(), d2), -ENOENT);
    EXPECT_EQ(domain_destroy(fd.get(), 0), -ENOENT);
    // In use: mappings, then devices.
    GuestRam ram(1 << 16);
    ASSERT_EQ(map(fd.get(), dom, 0, ram.size(), ram.ptr()), 0);
    EXPECT_EQ(domain_destroy(fd.get(), dom), -EBUSY);
    ASSERT_EQ(unmap(fd.get(), dom, 0, ram.size()), 0);
    uint32_t dev;
    ASSERT_EQ(attach(fd.get(), rid(0, 2, 0), dom, &dev), 0);
    EXPECT_EQ(domain_destroy(fd.get(), dom), -EBUSY);
    // A device id is not a domain id.
    EXPECT_EQ(domain_destroy(fd.get(), dev), -ENOENT);
    EXPECT_EQ(detach(fd.get(), dom), -ENOENT);
    ASSERT_EQ(detach(fd.get(), dev), 0);
    EXPECT_EQ(detach(fd.get(), dev), -ENOENT);
    EXPECT_EQ(domain_destroy(fd.get(), dom), 0);
}

TEST_F(Objects, MapErrors) {
    GuestRam ram(1 << 20);
    ASSERT_NE(ram.ptr(), nullptr);
    std::string msg;
    EXPECT_EQ(map(fd.get(), 777, 0, 4096, ram.ptr(), VSVA_MAP_READ, &msg), -ENOENT);
    EXPECT_EQ(msg, "map: no domain 777 in this context");
    EXPECT_EQ(map(fd.get(), dom, 0, 4096, ram.ptr(), 0, &msg), -EINVAL);
    EXPECT_EQ(msg, "map: flags 0x0 must be READ and/or WRITE");
    EXPECT_EQ(map(fd.get(), dom, 0, 0, ram.ptr(), VSVA_MAP_READ, &msg), -EINVAL);
    EXPECT_EQ(msg, "map: length 0x0 is not a non-zero multiple of 4 KiB");
    EXPECT_EQ(map(fd.get(), dom, 0, 100, ram.ptr(), VSVA_MAP_READ, &msg), -EINVAL);
    EXPECT_EQ(map(fd.get(), dom, 0x800, 4096, ram.ptr(), VSVA_MAP_READ, &msg), -EINVAL);
    EXPECT_EQ(msg, "map: gpa 0x800 is not 4 KiB aligned");
    EXPECT_EQ(map(fd.get(), dom, 0, 4096, ram.ptr() + 1, VSVA_MAP_READ, &msg), -EINVAL);
    EXPECT_NE(msg.find("is not 4 KiB aligned"), std::string::npos);
    EXPECT_EQ(map(fd.get(), dom, 1ULL << 48, 4096, ram.ptr(), VSVA_MAP_READ, &msg), -EINVAL);
    EXPECT_EQ(msg, "map: gpa 0x1000000000000 + length 0x1000 exceeds the 48-bit "
                   "guest-physical space");
    // Unmapped user memory cannot be pinned.
    EXPECT_EQ(map(fd.get(), dom, 0, 4096, reinterpret_cast<void*>(0x1000), VSVA_MAP_READ, &msg),
              -EFAULT);
    EXPECT_NE(msg.find("map: cannot pin vaddr 0x1000"), std::string::npos) << msg;
    // Overlap.
    ASSERT_EQ(map(fd.get(), dom, 0x100000, 0x10000, ram.ptr(), VSVA_MAP_READ, &msg), 0);
    EXPECT_EQ(msg, "");
    EXPECT_EQ(map(fd.get(), dom, 0x10f000, 0x2000, ram.ptr(), VSVA_MAP_READ, &msg), -EBUSY);
    EXPECT_EQ(msg, "map: [0x10f000, 0x111000) overlaps the mapping at gpa 0x100000");
    EXPECT_EQ(map(fd.get(), dom, 0xff000, 0x2000, ram.ptr(), VSVA_MAP_READ, &msg), -EBUSY);
    // Unmap: straddling an edge fails, whole mappings go.
    uint64_t gone = 1;
    EXPECT_EQ(unmap(fd.get(), dom, 0x100000, 0x8000, &gone), -EINVAL);
    EXPECT_EQ(unmap(fd.get(), dom, 0x101000, 0x10000, &gone), -EINVAL);
    EXPECT_EQ(unmap(fd.get(), dom, 0x1000, 0x1000 - 1, &gone), -EINVAL);
    EXPECT_EQ(unmap(fd.get(), 777, 0, 0x1000, &gone), -ENOENT);
    EXPECT_EQ(unmap(fd.get(), dom, 0, 0x1000, &gone), 0);
    EXPECT_EQ(gone, 0u);
    ASSERT_EQ(map(fd.get(), dom, 0x200000, 0x4000, ram.ptr(), VSVA_MAP_READ, &msg), 0);
    EXPECT_EQ(unmap(fd.get(), dom, 0, 0x1000000, &gone), 0);
    EXPECT_EQ(gone, 0x14000u);
}

TEST_F(Objects, PinnedPagesAccounted) {
    VSVA_REQUIRE_DEBUGFS();
    GuestRam ram(1 << 20);
    long long pin0 = proc_status_kb("VmPin"), lck0 = proc_status_kb("VmLck");
    long long g0 = vsva_summary()["pinned_pages"];
    ASSERT_EQ(map(fd.get(), dom, 0, ram.size(), ram.ptr()), 0);
    EXPECT_EQ(proc_status_kb("VmPin") - pin0, 1024);
    // Counted once: pinned, not mlocked.
    EXPECT_EQ(proc_status_kb("VmLck") - lck0, 0);
    EXPECT_EQ(vsva_summary()["pinned_pages"] - g0, 256);
    vsva_emu_counters c;
    ASSERT_EQ(counters(fd.get(), &c), 0);
    EXPECT_EQ(c.out_pinned_pages, 256u);
    int id = newest_ctx_id();
    EXPECT_NE(ctx_debugfs(id).find("pinned_pages 256\n"), std::string::npos);
    // Closing the context unpins and uncharges.
    fd.reset();
    EXPECT_EQ(proc_status_kb("VmPin"), pin0);
    EXPECT_EQ(proc_status_kb("VmLck"), lck0);
    EXPECT_EQ(vsva_summary()["pinned_pages"], g0);
}

// A MAP larger than one pinning chunk (512 pages) is one range: UNMAP of
// a part of it (a whole chunk) is refused like any straddling unmap, and
// the preview that returns out_unmapped agrees with the unmap itself
// (they disagreed once: -EINVAL after the output, and a kernel WARNING).
TEST_F(Objects, UnmapNeverSplitsAMultiChunkRange) {
    VSVA_REQUIRE_DEBUGFS();
    GuestRam ram(4 << 20); // 1024 pages: two chunks
    long long g0 = vsva_summary()["pinned_pages"];
    ASSERT_EQ(map(fd.get(), dom, 0, ram.size(), ram.ptr()), 0);
    uint64_t unmapped = 77;
    // A refused UNMAP returns no output (out_unmapped stays 0 as sent).
    EXPECT_EQ(unmap(fd.get(), dom, 0, 2 << 20, &unmapped), -EINVAL);
    EXPECT_EQ(unmapped, 0u);
    EXPECT_EQ(unmap(fd.get(), dom, 2 << 20, 2 << 20, &unmapped), -EINVAL);
    EXPECT_EQ(unmapped, 0u);
    EXPECT_EQ(vsva_summary()["pinned_pages"] - g0, 1024);
    ASSERT_EQ(unmap(fd.get(), dom, 0, 8 << 20, &unmapped), 0);
    EXPECT_EQ(unmapped, 4u << 20);
    EXPECT_EQ(vsva_summary()["pinned_pages"], g0);
}

// Without CAP_IPC_LOCK, pinning stops at RLIMIT_MEMLOCK with -ENOMEM.
TEST_F(Objects, MemlockLimit) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct d[2] = {};
        if (syscall(SYS_capget, &h, d))
            _exit(10);
        d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
        d[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
        if (syscall(SYS_capset, &h, d))
            _exit(11);
        struct rlimit rl = {64 << 10, 64 << 10};
        if (setrlimit(RLIMIT_MEMLOCK, &rl))
            _exit(12);
        Fd f = open_vsva();
        uint32_t d2;
        if (!f || domain_alloc(f.get(), &d2))
            _exit(13);
        vsva_info info;
        if (get_info(f.get(), &info) || info.out_max_pinned != (64 << 10))
            _exit(14);
        GuestRam ram(1 << 20);
        std::string msg;
        if (map(f.get(), d2, 0, 128 << 10, ram.ptr(), VSVA_MAP_READ, &msg) != -ENOMEM)
            _exit(15);
        if (msg != "map: pinning 32 pages exceeds RLIMIT_MEMLOCK (65536 bytes)")
            _exit(16);
        if (proc_status_kb("VmLck") != 0 || proc_status_kb("VmPin") != 0)
            _exit(17);
        if (map(f.get(), d2, 0, 32 << 10, ram.ptr(), VSVA_MAP_READ, &msg))
            _exit(18);
        if (proc_status_kb("VmLck") != 0 || proc_status_kb("VmPin") != 32)
            _exit(19);
        if (map(f.get(), d2, 1 << 20, 48 << 10, ram.ptr(), VSVA_MAP_READ, &msg) != -ENOMEM)
            _exit(20);
        f.reset();
        if (proc_status_kb("VmLck") != 0 || proc_status_kb("VmPin") != 0)
            _exit(21);
        _exit(0);
    }
    int st = 0;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    ASSERT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 0) << "child step " << WEXITSTATUS(st) << " failed";
}

TEST_F(Objects, AttachErrors) {
    std::string msg;
    uint32_t dev, caps = 0;
    EXPECT_EQ(attach(fd.get(), rid(0, 0x1f, 7), dom, &dev, 0, &msg), -ENOENT);
    EXPECT_EQ(msg, "attach: no endpoint 00:1f.7 (rid 0xff) in the emulated IOMMU topology");
    EXPECT_EQ(attach(fd.get(), 0x10000, dom, &dev, 0, &msg), -EINVAL);
    EXPECT_EQ(msg, "attach: rid 0x10000 is not a 16-bit requester id");
    EXPECT_EQ(attach(fd.get(), rid(0, 2, 0), 555, &dev, 0, &msg), -ENOENT);
    EXPECT_EQ(msg, "attach: no domain 555 in this context");
    EXPECT_EQ(attach(fd.get(), kRidPasidOnly, dom, &dev, VSVA_ATTACH_ENABLE_ATS, &msg), -EINVAL);
    EXPECT_EQ(msg, "attach: flags ask for ENABLE_ATS but 00:13.0 has no ATS capability");
    EXPECT_EQ(attach(fd.get(), kRidPasidOnly, dom, &dev, VSVA_ATTACH_ENABLE_PRI, &msg), -EINVAL);
    EXPECT_EQ(msg, "attach: flags ask for ENABLE_PRI but 00:13.0 has no PRI capability");
    ASSERT_EQ(attach(fd.get(), kRidPasidOnly, dom, &dev, 0, &msg, &caps), 0);
    EXPECT_EQ(caps, uint32_t(VSVA_DEV_CAP_PASID));
    EXPECT_EQ(attach(fd.get(), kRidPasidOnly, dom, &dev, 0, &msg), -EBUSY);
    EXPECT_EQ(msg, "attach: 00:13.0 is already attached in this context");
    ASSERT_EQ(attach(fd.get(), rid(0, 2, 0), dom, &dev,
                     VSVA_ATTACH_ENABLE_ATS | VSVA_ATTACH_ENABLE_PRI, &msg, &caps),
              0);
    EXPECT_EQ(caps, uint32_t(VSVA_DEV_CAP_PASID | VSVA_DEV_CAP_ATS | VSVA_DEV_CAP_PRI));
    ASSERT_EQ(attach(fd.get(), kRidNoCaps, dom, &dev, 0, &msg, &caps), 0);
    EXPECT_EQ(caps, 0u);
}

TEST_F(Objects, GroupOwnership) {
    std::string msg;
    uint32_t a, b;
    Fd other = open_vsva();
    uint32_t odom;
    ASSERT_EQ(domain_alloc(other.get(), &odom), 0);
    ASSERT_EQ(attach(fd.get(), kRidGroupA, dom, &a, 0, &msg), 0) << msg;
    // The other VM cannot take either device of the group.
    EXPECT_EQ(attach(other.get(), kRidGroupB, odom, &b, 0, &msg), -EBUSY);
    EXPECT_EQ(msg, "cannot attach 00:03.1: device 00:03.0 in the same IOMMU group 2 is "
                   "in use by another VM");
    EXPECT_EQ(attach(other.get(), kRidGroupA, odom, &b, 0, &msg), -EBUSY);
    EXPECT_EQ(msg, "cannot attach 00:03.0: it is in use by another VM (IOMMU group 2)");
    // In the owning VM a group shares one domain.
    uint32_t dom2;
    ASSERT_EQ(domain_alloc(fd.get(), &dom2), 0);
    EXPECT_EQ(attach(fd.get(), kRidGroupB, dom2, &b, 0, &msg), -EINVAL);
    EXPECT_EQ(msg, "cannot attach 00:03.1 to domain " + std::to_string(dom2) +
                           ": device 00:03.0 of IOMMU group 2 uses domain " + std::to_string(dom) +
                           "; a group shares one domain");
    ASSERT_EQ(attach(fd.get(), kRidGroupB, dom, &b, 0, &msg), 0) << msg;
    // Detaching one device keeps the claim; the last one releases it.
    ASSERT_EQ(detach(fd.get(), a), 0);
    EXPECT_EQ(attach(other.get(), kRidGroupA, odom, &a, 0, &msg), -EBUSY);
    EXPECT_EQ(msg, "cannot attach 00:03.0: device 00:03.1 in the same IOMMU group 2 is "
                   "in use by another VM");
    ASSERT_EQ(detach(fd.get(), b), 0);
    ASSERT_EQ(attach(other.get(), kRidGroupA, odom, &a, 0, &msg), 0) << msg;
    // Closing the owner releases the group too.
    EXPECT_EQ(attach(fd.get(), kRidGroupB, dom, &b, 0, &msg), -EBUSY);
    other.reset();
    EXPECT_EQ(attach(fd.get(), kRidGroupB, dom, &b, 0, &msg), 0) << msg;
    if (have_debugfs()) {
        std::string topo = read_file("/sys/kernel/debug/vsva/topology");
        EXPECT_NE(topo.find("00:03.1 group 2 caps pasid ats pri ctx " +
                            std::to_string(newest_ctx_id())),
                  std::string::npos)
                << topo;
    }
}

TEST_F(Objects, TopologyControlIsRootOnlyAndRefusedWhileInUse) {
    VSVA_REQUIRE_DEBUGFS();
    const std::string path = "/sys/kernel/debug/vsva/topology";
    std::string before = read_file(path);
    uint32_t dev;
    ASSERT_EQ(attach(fd.get(), rid(0, 2, 0), dom, &dev), 0);
    EXPECT_EQ(write_file(path, "00:02.0/1/pasid"), -EBUSY);
    ASSERT_EQ(detach(fd.get(), dev), 0);
    EXPECT_EQ(write_file(path, "00:02.0/1/bogus"), -EINVAL);
    EXPECT_EQ(write_file(path, "zz"), -EINVAL);
    ASSERT_EQ(write_file(path, "01:00.0/5/pasid+ats, 01:00.1/5"), 0);
    std::string msg;
    EXPECT_EQ(attach(fd.get(), rid(0, 2, 0), dom, &dev, 0, &msg), -ENOENT);
    uint32_t caps;
    ASSERT_EQ(attach(fd.get(), rid(1, 0, 1), dom, &dev, 0, &msg, &caps), 0) << msg;
    EXPECT_EQ(caps, 0u);
    ASSERT_EQ(detach(fd.get(), dev), 0);
    // Restore the default.
    std::string restore;
    for (size_t pos = 0; pos < before.size();) {
        size_t nl = before.find('\n', pos);
        std::string line = before.substr(pos, nl - pos);
        pos = nl + 1;
        char name[16];
        unsigned grp;
        if (sscanf(line.c_str(), "%15s group %u", name, &grp) != 2)
            continue;
        std::string caps_s;
        for (const char* c : {"pasid", "ats", "pri"})
            if (line.find(std::string(" ") + c) != std::string::npos)
                caps_s += (caps_s.empty() ? "" : "+") + std::string(c);
        restore += (restore.empty() ? "" : ",") + std::string(name) + "/" + std::to_string(grp) +
                   (caps_s.empty() ? "" : "/" + caps_s);
    }
    ASSERT_EQ(write_file(path, restore), 0);
    EXPECT_EQ(read_file(path), before);
}

TEST_F(Objects, PasidAllocRules) {
    std::string msg;
    uint32_t p1, p2;
    ASSERT_EQ(pasid_alloc(fd.get(), &p1, &msg), 0);
    EXPECT_GE(p1, 1u);
    EXPECT_LE(p1, 0xfffffu);
    EXPECT_EQ(pasid_alloc(fd.get(), &p2, &msg, false, 0, 10, 5), -EINVAL);
    EXPECT_EQ(msg, "pasid_alloc: min 10 is above max 5");
    EXPECT_EQ(pasid_alloc(fd.get(), &p2, &msg, false, 0, 0, 1u << 20), -EINVAL);
    EXPECT_EQ(msg, "pasid_alloc: max 1048576 exceeds the 20-bit PASID space (largest 1048575)");
    EXPECT_EQ(pasid_alloc(fd.get(), &p2, &msg, true, 1u << 20), -EINVAL);
    // A one-PASID range: the second allocation finds it taken.
    ASSERT_EQ(pasid_alloc(fd.get(), &p2, &msg, false, 0, 0xffff0, 0xffff0), 0) << msg;
    EXPECT_EQ(p2, 0xffff0u);
    EXPECT_EQ(pasid_alloc(fd.get(), &p2, &msg, false, 0, 0xffff0, 0xffff0), -ENOSPC);
    EXPECT_EQ(msg, "pasid_alloc: no free PASID in [1048560, 1048560]");
    // Guest PASIDs are unique per context.
    ASSERT_EQ(pasid_alloc(fd.get(), &p2, &msg, true, 42), 0);
    EXPECT_EQ(pasid_alloc(fd.get(), &p2, &msg, true, 42), -EBUSY);
    EXPECT_EQ(msg, "pasid_alloc: gpasid 42 is already mapped in this context");
    // Free.
    EXPECT_EQ(pasid_free(fd.get(), p1), 0);
    EXPECT_EQ(pasid_free(fd.get(), p1), -ENOENT);
    EXPECT_EQ(pasid_free(fd.get(), 0), -ENOENT);
    vsva_emu_counters c;
    ASSERT_EQ(counters(fd.get(), &c), 0);
    EXPECT_EQ(c.out_pasids, 2u);
}

TEST_F(Objects, PasidsAreSystemWideAndPrivate) {
    Fd other = open_vsva();
    std::set<uint32_t> mine, theirs;
    for (int i = 0; i < 32; i++) {
        uint32_t p;
        ASSERT_EQ(pasid_alloc(fd.get(), &p), 0);
        mine.insert(p);
        ASSERT_EQ(pasid_alloc(other.get(), &p), 0);
        theirs.insert(p);
    }
    for (uint32_t p : theirs) {
        EXPECT_EQ(mine.count(p), 0u) << "PASID " << p << " handed out twice";
        // Invisible to the other context: -ENOENT, never -EPERM.
        EXPECT_EQ(pasid_free(fd.get(), p), -ENOENT);
    }
    EXPECT_EQ(mine.count(0), 0u);
    EXPECT_EQ(pasid_free(other.get(), *theirs.begin()), 0);
}

TEST_F(Objects, PasidQuota) {
    std::string old = module_param("pasid_quota");
    ASSERT_EQ(set_module_param("pasid_quota", "5"), 0);
    Fd f = open_vsva();
    ASSERT_EQ(set_module_param("pasid_quota", old), 0);
    vsva_info info;
    ASSERT_EQ(get_info(f.get(), &info), 0);
    EXPECT_EQ(info.out_pasid_quota, 5u);
    std::string msg;
    uint32_t p[6];
    for (int i = 0; i < 5; i++)
        ASSERT_EQ(pasid_alloc(f.get(), &p[i], &msg), 0) << i;
    EXPECT_EQ(pasid_alloc(f.get(), &p[5], &msg), -ENOSPC);
    EXPECT_EQ(msg, "pasid_alloc: quota of 5 PASIDs reached");
    // Other contexts keep their own quota.
    uint32_t q;
    EXPECT_EQ(pasid_alloc(fd.get(), &q, &msg), 0);
    // Freeing makes room again.
    ASSERT_EQ(pasid_free(f.get(), p[2]), 0);
    EXPECT_EQ(pasid_alloc(f.get(), &p[5], &msg), 0) << msg;
}

} // namespace
