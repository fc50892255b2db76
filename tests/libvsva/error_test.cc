// SPDX-License-Identifier: LGPL-2.1-or-later
/* Error formatting and Result<T> semantics. */
#include <cerrno>
#include <memory>
#include <type_traits>

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

TEST(Result, IsTheStandardShapedExpected) {
    // One container: tl::expected, the std::expected interface (a rename away).
    static_assert(std::is_same_v<Result<int>, tl::expected<int, Error>>);
    static_assert(std::is_same_v<Result<void>, tl::expected<void, Error>>);
    static_assert(std::is_same_v<Unexpected, tl::unexpected<Error>>);
    EXPECT_EQ(fail(EIO, "op", "m").value(), Error(EIO, "op", "m"));
}

TEST(Result, ValueAndErrorAccess) {
    Result<int> ok = 5;
    EXPECT_TRUE(ok.has_value());
    EXPECT_EQ(*ok, 5);
    EXPECT_EQ(ok.value_or(7), 5);
    Result<int> bad = fail(EINVAL, "op");
    EXPECT_FALSE(bad);
    EXPECT_EQ(bad.value_or(7), 7);
    EXPECT_EQ(bad.error().code(), EINVAL);
    EXPECT_EQ(bad.error().op(), "op");
}

TEST(Result, MonadicOperationsOfStdExpected) {
    Result<int> ok = 5;
    auto doubled = ok.and_then([](int v) -> Result<int> { return v * 2; });
    EXPECT_EQ(doubled.value_or(0), 10);
    Result<int> bad = fail(ENOENT, "op");
    auto recovered = bad.or_else([](const Error& e) -> Result<int> { return e.code(); });
    EXPECT_EQ(recovered.value_or(0), ENOENT);
}

TEST(Result, MoveOnlyPayload) {
    Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
    ASSERT_TRUE(r.has_value());
    std::unique_ptr<int> p = std::move(r).value();
    EXPECT_EQ(*p, 3);
}

TEST(Result, Void) {
    Result<void> ok;
    EXPECT_TRUE(ok.has_value());
    Result<void> bad = Unexpected(Error(EIO, "op", "m"));
    EXPECT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().message(), "m");
}

TEST(Result, ValueOfErrorThrowsBadResultAccessWithTheError) {
    Result<int> bad = fail(EINVAL, "op", "why");
    try {
        (void)bad.value();
        ADD_FAILURE() << "value() of an error returned";
    } catch (const BadResultAccess& e) {
        EXPECT_EQ(e.error(), Error(EINVAL, "op", "why"));
    }
}

} // namespace
} // namespace vsva
