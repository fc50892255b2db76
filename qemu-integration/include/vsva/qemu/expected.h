// SPDX-License-Identifier: GPL-2.0
// Errors as values for the VT-d adapter: an errno plus a readable message.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace vsva::qemu {

/// What went wrong: a positive errno and a sentence naming field and rule.
struct Error {
    int err = 0;
    std::string msg;
};

/// A value or an Error (std::expected is C++23; this is the subset we use).
template <class T>
class [[nodiscard]] Expected {
public:
    Expected(T v) : v_(std::in_place_index<0>, std::move(v)) {}     // NOLINT
    Expected(Error e) : v_(std::in_place_index<1>, std::move(e)) {} // NOLINT

    [[nodiscard]] bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    [[nodiscard]] const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

/// Success or an Error.
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Error e) : err_(std::move(e)), failed_(true) {} // NOLINT
    [[nodiscard]] bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    [[nodiscard]] const Error& error() const { return err_; }

private:
    Error err_;
    bool failed_ = false;
};

} // namespace vsva::qemu
