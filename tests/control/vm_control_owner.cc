// SPDX-License-Identifier: GPL-2.0
// Endpoint owners (issue 11, item 5): root assigns an endpoint's IOMMU
// group to a uid or gid through the topology; any other unprivileged user
// gets -EPERM with a message.  The callers run as uids 1000..1003 without
// capabilities (CAP_SYS_ADMIN may always attach).
#include <cerrno>
#include <string>

#include "as_user.h"
#include "vsva_testlib.h"

using namespace vsva::test;

namespace {

const char* const kTopo = "/sys/kernel/debug/vsva/topology";

class Owner : public ::testing::Test {
protected:
    void SetUp() override {
        VSVA_REQUIRE_DEV();
        VSVA_REQUIRE_DEBUGFS();
        ASSERT_EQ(getuid(), 0u) << "the suite switches users: run it as root";
        ASSERT_TRUE(dev_.ok());
        before_ = read_file(kTopo);
    }
    void TearDown() override {
        if (!before_.empty()) {
            EXPECT_EQ(write_file(kTopo, topology_spec(before_)), 0);
        }
    }
    // Attach @rid in a fresh context as @uid: 0 or the errno, and the message.
    static int attach_as(uid_t uid, uint32_t r, std::string* msg,
                         const std::vector<gid_t>& groups = {}) {
        int p[2];
        if (::pipe(p))
            return -1000;
        int st = run_as(
                uid,
                [&] {
                    ::close(p[0]);
                    Fd f = open_vsva();
                    uint32_t dom, dev;
                    if (!f || domain_alloc(f.get(), &dom))
                        return 200;
                    std::string m;
                    int rc = attach(f.get(), r, dom, &dev, 0, &m);
                    if (::write(p[1], m.c_str(), m.size()) < 0)
                        return 201;
                    return -rc;
                },
                RLIM_INFINITY, groups);
        ::close(p[1]);
        char buf[512];
        ssize_t n = ::read(p[0], buf, sizeof(buf));
        ::close(p[0]);
        if (msg)
            *msg = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
        return st >= 200 ? -1000 - st : -st;
    }
    DevOpenToAll dev_;
    std::string before_;
};

TEST_F(Owner, OwnedEndpointRefusesOtherUsers) {
    ASSERT_EQ(write_file(kTopo, "00:02.0/1/pasid+ats+pri/uid=1000,"
                                "00:03.0/2/pasid,00:03.1/2/gid=1002,"
                                "00:04.0/3/pasid"),
              0);
    std::string topo = read_file(kTopo);
    EXPECT_NE(topo.find("00:02.0 group 1 caps pasid ats pri uid 1000\n"), std::string::npos)
            << topo;
    // The group's owner applies to every endpoint of the group.
    EXPECT_NE(topo.find("00:03.0 group 2 caps pasid gid 1002\n"), std::string::npos) << topo;
    EXPECT_NE(topo.find("00:04.0 group 3 caps pasid\n"), std::string::npos) << topo;

    std::string msg;
    EXPECT_EQ(attach_as(1001, rid(0, 2, 0), &msg), -EPERM);
    EXPECT_EQ(msg, "attach: 00:02.0 (IOMMU group 1) is assigned to uid 1000; uid 1001 may not "
                   "attach it");
    EXPECT_EQ(attach_as(1000, rid(0, 2, 0), &msg), 0) << msg;
    EXPECT_EQ(attach_as(1001, rid(0, 3, 0), &msg), -EPERM);
    EXPECT_EQ(msg, "attach: 00:03.0 (IOMMU group 2) is assigned to gid 1002; uid 1001 may not "
                   "attach it");
    EXPECT_EQ(attach_as(1003, rid(0, 3, 0), &msg, {1002}), 0) << msg;
    // An endpoint without an owner stays open to every user.
    EXPECT_EQ(attach_as(1001, rid(0, 4, 0), &msg), 0) << msg;
    // Root (CAP_SYS_ADMIN) may always.
    Vm vm;
    ASSERT_EQ(vm.create(0, {rid(0, 2, 0)}), 0);
}

TEST_F(Owner, OwnerSyntaxChecked) {
    EXPECT_EQ(write_file(kTopo, "00:02.0/1/uid=1000,00:02.1/1/uid=1001"), -EINVAL)
            << "two owners in one group";
    EXPECT_EQ(write_file(kTopo, "00:02.0/1/uid=x"), -EINVAL);
    EXPECT_EQ(write_file(kTopo, "00:02.0/1/uid=1000/uid=1001"), -EINVAL);
    EXPECT_EQ(write_file(kTopo, "00:02.0/1/owner=1000"), -EINVAL);
    EXPECT_EQ(write_file(kTopo, "00:02.0/1/uid=4294967295"), -EINVAL);
    // Capabilities may be left out; uid and gid together.
    ASSERT_EQ(write_file(kTopo, "00:02.0/1/uid=1000/gid=1002,00:02.1/1"), 0);
    std::string topo = read_file(kTopo);
    EXPECT_NE(topo.find("00:02.1 group 1 caps none uid 1000 gid 1002\n"), std::string::npos)
            << topo;
    std::string msg;
    EXPECT_EQ(attach_as(1001, rid(0, 2, 1), &msg, {1002}), 0) << msg;
    EXPECT_EQ(attach_as(1001, rid(0, 2, 1), &msg), -EPERM);
}

} // namespace
