// SPDX-License-Identifier: LGPL-2.1-or-later
/* Error formatting and Result<T> semantics. */
#include <memory>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <vsva/result.h>

namespace vsva {
namespace {

TEST(Error, FormatsOpNameDescriptionAndKernelMessage) {
    Error e(EBUSY, "bind", "PASID 17 is already bound on device 2");
    EXPECT_EQ(e.code_name(), "EBUSY");
    EXPECT_EQ(e.to_string(),
              "bind: EBUSY (Device or resource busy): PASID 17 is already bound on device 2");
    EXPECT_EQ(fmt::format("{}", e), e.to_string());
    EXPECT_EQ(fmt::format("[{:>5}]", Error(ENOENT, "x")),
              "[x: ENOENT (No such file or directory)]");
}

TEST(Error, WithoutMessage) {
    Error e(E2BIG, "map");
    EXPECT_EQ(e.to_string(), "map: E2BIG (Argument list too long)");
}

TEST(Error, UnknownErrno) {
    Error e(4095, "x");
    EXPECT_EQ(e.code_name(), "E?");
    EXPECT_NE(e.to_string().find("x: E? ("), std::string::npos);
}

TEST(Result, ValueAndErrorAccess) {
    Result<int> ok = 5;
    EXPECT_TRUE(ok.ok());
    EXPECT_EQ(*ok, 5);
    EXPECT_EQ(ok.value_or(7), 5);
    Result<int> bad = Error(EINVAL, "op");
    EXPECT_FALSE(bad);
    EXPECT_EQ(bad.value_or(7), 7);
    EXPECT_EQ(bad.error().code(), EINVAL);
}

TEST(Result, MoveOnlyPayload) {
    Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
    ASSERT_TRUE(r.ok());
    std::unique_ptr<int> p = std::move(r).value();
    EXPECT_EQ(*p, 3);
}

TEST(Result, Void) {
    Result<void> ok;
    EXPECT_TRUE(ok.ok());
    Result<void> bad = Error(EIO, "op", "m");
    EXPECT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message(), "m");
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
    Result<int> bad = Error(EINVAL, "op", "why");
    EXPECT_DEATH((void)bad.value(), "value\\(\\) of a failed Result: op: EINVAL");
}

} // namespace
} // namespace vsva
