// SPDX-License-Identifier: GPL-2.0
// vm_basic: the module is loaded and VSVA_GET_INFO obeys the UAPI's size and
// value rules (uapi/linux/vsva.h, "General rules and the errno contract").
// Runs inside the test VM; without /dev/vsva every test says SKIP.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vsva.h>

#include <gtest/gtest.h>

namespace {

constexpr const char* kDev = "/dev/vsva";

// A struct vsva_info followed by bytes a newer user space would know about.
struct InfoPlus {
    struct vsva_info info;
    uint8_t tail[64];
};
static_assert(offsetof(InfoPlus, tail) == sizeof(struct vsva_info));

class GetInfo : public ::testing::Test {
protected:
    void SetUp() override {
        if (access(kDev, F_OK) != 0)
            GTEST_SKIP() << kDev << " is missing: vsva.ko not loaded";
        fd_ = open(kDev, O_RDWR | O_CLOEXEC);
        ASSERT_GE(fd_, 0) << "open " << kDev << ": " << strerror(errno);
    }
    void TearDown() override {
        if (fd_ >= 0)
            close(fd_);
    }
    // ioctl result: 0 or -errno.
    int Call(unsigned long cmd, void* arg) { return ioctl(fd_, cmd, arg) == 0 ? 0 : -errno; }

    int fd_ = -1;
};

TEST_F(GetInfo, ReportsVersionAndPasidBits) {
    struct vsva_info info = {};
    info.argsz = sizeof(info);
    ASSERT_EQ(Call(VSVA_GET_INFO, &info), 0);
    EXPECT_EQ(info.argsz, sizeof(info)) << "argsz is an input";
    EXPECT_EQ(info.flags, 0u);
    EXPECT_EQ(info.out_uapi_version, (uint32_t)VSVA_UAPI_VERSION);
    EXPECT_EQ(info.out_pasid_bits, 20u);
    EXPECT_NE(info.out_bind_versions & (1u << VSVA_GPASID_BIND_VERSION_1), 0u);
    EXPECT_NE(info.out_formats & (1u << VSVA_PASID_FORMAT_INTEL_VTD), 0u);
}

TEST_F(GetInfo, ArgszTooSmallIsEinval) {
    struct vsva_info info = {};
    info.argsz = 4;
    EXPECT_EQ(Call(VSVA_GET_INFO, &info), -EINVAL);
    EXPECT_EQ(info.out_uapi_version, 0u) << "nothing written on failure";
}

TEST_F(GetInfo, ArgszOneShortIsEinval) {
    // The minimum is the whole v1 struct: one byte less is an error.
    struct vsva_info info = {};
    info.argsz = sizeof(info) - 1;
    EXPECT_EQ(Call(VSVA_GET_INFO, &info), -EINVAL);
}

TEST_F(GetInfo, ArgszExactIsOk) {
    struct vsva_info info = {};
    info.argsz = sizeof(info);
    EXPECT_EQ(Call(VSVA_GET_INFO, &info), 0);
    EXPECT_EQ(info.out_uapi_version, (uint32_t)VSVA_UAPI_VERSION);
}

TEST_F(GetInfo, LargerWithZeroTailIsOk) {
    InfoPlus p = {};
    p.info.argsz = sizeof(p);
    ASSERT_EQ(Call(VSVA_GET_INFO, &p), 0);
    EXPECT_EQ(p.info.out_uapi_version, (uint32_t)VSVA_UAPI_VERSION);
    EXPECT_EQ(p.info.out_pasid_bits, 20u);
    for (size_t i = 0; i < sizeof(p.tail); i++)
        ASSERT_EQ(p.tail[i], 0) << "kernel wrote past its struct at +" << i;
}

TEST_F(GetInfo, LargerWithNonZeroTailIsE2big) {
    for (size_t at : {size_t(0), sizeof(InfoPlus::tail) - 1}) {
        InfoPlus p = {};
        p.info.argsz = sizeof(p);
        p.tail[at] = 1;
        EXPECT_EQ(Call(VSVA_GET_INFO, &p), -E2BIG) << "non-zero byte at tail+" << at;
        EXPECT_EQ(p.info.out_uapi_version, 0u);
    }
}

TEST_F(GetInfo, BytesPastArgszAreNotTouched) {
    // argsz smaller than our buffer: bytes past argsz are not the kernel's.
    InfoPlus p = {};
    p.info.argsz = sizeof(p.info);
    p.tail[0] = 0xff;
    EXPECT_EQ(Call(VSVA_GET_INFO, &p), 0);
    EXPECT_EQ(p.tail[0], 0xff);
}

TEST_F(GetInfo, UnknownFlagsAreEopnotsupp) {
    for (uint32_t flag : {1u << 0, 1u << 31}) {
        struct vsva_info info = {};
        info.argsz = sizeof(info);
        info.flags = flag;
        EXPECT_EQ(Call(VSVA_GET_INFO, &info), -EOPNOTSUPP) << "flags 0x" << std::hex << flag;
        EXPECT_EQ(info.out_uapi_version, 0u);
    }
}

TEST_F(GetInfo, UnknownIoctlIsEnotty) {
    struct vsva_info info = {};
    info.argsz = sizeof(info);
    // Below the command base, far past the last command, and the right
    // number with the wrong type or direction bits.
    EXPECT_EQ(Call(_IO(VSVA_TYPE, VSVA_CMD_BASE - 1), &info), -ENOTTY);
    EXPECT_EQ(Call(_IO(VSVA_TYPE, 0xff), &info), -ENOTTY);
    EXPECT_EQ(Call(_IO(VSVA_TYPE + 1, VSVA_CMD_BASE), &info), -ENOTTY);
    EXPECT_EQ(Call(_IOWR(VSVA_TYPE, VSVA_CMD_BASE, struct vsva_info), &info), -ENOTTY);
}

TEST_F(GetInfo, BadPointerIsEfault) {
    EXPECT_EQ(Call(VSVA_GET_INFO, nullptr), -EFAULT);
}

} // namespace
