// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vsva::Error and vsva::Result<T>: errors as values (expected-style).
 *
 * No function of libvsva throws.  A failing call returns an Error carrying
 * the errno, the operation that failed and, when the kernel wrote one into
 * the err_uptr buffer, its sentence ("bind: PASID 17 is already bound on
 * device 2").  Calling value() on an error aborts the process: test ok()
 * first.
 *
 * Thread safety: Error and Result are plain values (like std::string).
 */
#ifndef VSVA_RESULT_H
#define VSVA_RESULT_H

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace vsva {

/**
 * Error - why a call failed.
 *
 * code() is a positive errno value.  op() names the operation ("map",
 * "bind", "open"...) and points to static storage.  message() is the
 * kernel's sentence for the failing call, or a library sentence (e.g. the
 * feature an old kernel lacks), or empty.
 */
class Error {
public:
    /** Build an error; @op must point to static storage (a literal). */
    Error(int code, const char* op, std::string message = {}) noexcept
        : code_(code), op_(op), message_(std::move(message)) {}

    /** The errno value (positive). */
    int code() const noexcept { return code_; }
    /** The failing operation, e.g. "cache-invalidate". */
    std::string_view op() const noexcept { return op_; }
    /** The kernel's or the library's explanation; may be empty. */
    const std::string& message() const noexcept { return message_; }
    /** The errno's symbolic name, e.g. "EBUSY" ("E?" if unknown). */
    std::string_view code_name() const noexcept;

    /**
     * One line: "bind: EBUSY (Device or resource busy): PASID 17 is ..."
     * (the message part only when there is one).
     */
    std::string to_string() const;

    friend bool operator==(const Error& a, const Error& b) noexcept {
        return a.code_ == b.code_ && a.op() == b.op() && a.message_ == b.message_;
    }

private:
    int code_;
    const char* op_;
    std::string message_;
};

namespace detail {
[[noreturn]] void result_value_on_error(const Error& e) noexcept;
} // namespace detail

/**
 * Result<T> - a T or an Error.  Move-only when T is.  [[nodiscard]]: every
 * result must be looked at.
 */
template <class T>
class [[nodiscard]] Result {
public:
    /** A success holding @v. */
    Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}
    /** A failure. */
    Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}

    /** True on success. */
    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    /** The value; aborts the process on an error. */
    T& value() & {
        check();
        return *std::get_if<0>(&v_);
    }
    const T& value() const& {
        check();
        return *std::get_if<0>(&v_);
    }
    T&& value() && {
        check();
        return std::move(*std::get_if<0>(&v_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    /** The value, or @fallback on an error. */
    template <class U>
    T value_or(U&& fallback) const& {
        return ok() ? *std::get_if<0>(&v_) : static_cast<T>(std::forward<U>(fallback));
    }

    /** The error; only meaningful when !ok(). */
    const Error& error() const& { return *std::get_if<1>(&v_); }
    Error&& error() && { return std::move(*std::get_if<1>(&v_)); }

private:
    void check() const {
        if (!ok())
            detail::result_value_on_error(*std::get_if<1>(&v_));
    }
    std::variant<T, Error> v_;
};

/** Result<void> - success, or an Error. */
template <>
class [[nodiscard]] Result<void> {
public:
    /** Success. */
    Result() noexcept = default;
    /** A failure. */
    Result(Error e) : e_(std::move(e)) {}

    bool ok() const noexcept { return !e_.has_value(); }
    explicit operator bool() const noexcept { return ok(); }
    /** Aborts the process on an error (for symmetry with Result<T>). */
    void value() const {
        if (e_)
            detail::result_value_on_error(*e_);
    }
    const Error& error() const& { return *e_; }
    Error&& error() && { return std::move(*e_); }

private:
    std::optional<Error> e_;
};

} // namespace vsva

/** fmt::format("{}", error) prints Error::to_string(). */
template <>
struct fmt::formatter<vsva::Error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const vsva::Error& e, FormatContext& ctx) const -> decltype(ctx.out()) {
        return fmt::formatter<std::string_view>::format(e.to_string(), ctx);
    }
};

#endif // VSVA_RESULT_H
