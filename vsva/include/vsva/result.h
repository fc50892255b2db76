// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vsva::Error and vsva::Result<T>: errors as values.
 *
 * No function of libvsva throws.  A failing call returns an Error carrying
 * the errno, the operation that failed and, when the kernel wrote one into
 * the err_uptr buffer, its sentence ("bind: PASID 17 is already bound on
 * device 2").
 *
 * The container is tl::expected (Debian's libexpected-dev, header only),
 * whose interface is C++23's std::expected: has_value() / operator bool,
 * value(), operator* and ->, error(), value_or(), and_then(), or_else().
 * Use only what std::expected also has, and moving to std::expected is the
 * change of the aliases below.  As with std::expected, value() on an error
 * throws vsva::BadResultAccess (uncaught: the process terminates), and *
 * or -> on an error is undefined: test the result first.
 *
 * Thread safety: Error and Result are plain values (like std::string).
 */
#ifndef VSVA_RESULT_H
#define VSVA_RESULT_H

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

#include <fmt/format.h>

#include <vsva/export.h>

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
    VSVA_EXPORT std::string_view code_name() const noexcept;

    /**
     * One line: "bind: EBUSY (Device or resource busy): PASID 17 is ..."
     * (the message part only when there is one).
     */
    VSVA_EXPORT std::string to_string() const;

    friend bool operator==(const Error& a, const Error& b) noexcept {
        return a.code_ == b.code_ && a.op() == b.op() && a.message_ == b.message_;
    }

private:
    int code_;
    const char* op_;
    std::string message_;
};

/** A T or an Error (std::expected<T, Error> once C++23 is the baseline). */
template <class T>
using Result = tl::expected<T, Error>;

/** The failure side of a Result: `return Unexpected(Error(EINVAL, "op"));`. */
using Unexpected = tl::unexpected<Error>;

/** What value() throws on an error (std::bad_expected_access<Error>). */
using BadResultAccess = tl::bad_expected_access<Error>;

/** Shorthand for Unexpected(Error(@code, @op, @message)). */
inline Unexpected fail(int code, const char* op, std::string message = {}) {
    return Unexpected(Error(code, op, std::move(message)));
}

} // namespace vsva

#ifndef VSVA_NO_FMT
/*
 * fmt::format("{}", error) prints Error::to_string().  Why libfmt is in a
 * public header, and the contract: this specialisation is all of it; it
 * only uses formatter<string_view>, so any libfmt >= 9 works, and it is
 * compiled with the user's libfmt.  libvsva.so uses libfmt internally but
 * exports no fmt symbol and passes no fmt type across its ABI (fmt's
 * versioned inline namespace keeps two libfmt majors apart in one
 * process).  Define VSVA_NO_FMT to leave libfmt out of the headers.
 */
template <>
struct fmt::formatter<vsva::Error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const vsva::Error& e, FormatContext& ctx) const -> decltype(ctx.out()) {
        return fmt::formatter<std::string_view>::format(e.to_string(), ctx);
    }
};
#endif // VSVA_NO_FMT

#endif // VSVA_RESULT_H
