// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A fake /dev/vsva for the native unit tests: the library's ioctl funnel
 * is pointed at it (detail::open_with) on /dev/null.  It applies the
 * UAPI's size rules to GET_INFO (the kernel's struct may be older or newer
 * than the library's) and records every other call for the tests to check.
 */
#ifndef VSVA_TESTS_FAKE_KERNEL_H
#define VSVA_TESTS_FAKE_KERNEL_H

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <linux/vsva.h>

#include "core.h"

namespace vsva::test {

struct Call {
    unsigned long cmd;
    std::vector<unsigned char> arg;     // the argument as passed (argsz bytes)
    std::vector<unsigned char> payload; // data_uptr bytes, when there is one
};

class FakeKernel {
public:
    /** Size of struct vsva_info this "kernel" knows (72 = same as the library). */
    std::size_t info_size = sizeof(vsva_info);
    /** The reply, in the library's layout; truncated to info_size. */
    vsva_info info = {};
    /** Handler for every other command: return 0 or -errno. */
    std::function<int(unsigned long cmd, void* arg)> handler;
    std::vector<Call> calls;

    FakeKernel() {
        info.out_uapi_version = VSVA_UAPI_VERSION;
        info.out_module_version = (0 << 16) | (1 << 8) | 2;
        info.out_bind_versions = 1u << 1;
        info.out_inv_versions = 1u << 1;
        info.out_page_resp_versions = 1u << 1;
        info.out_formats = 1u << VSVA_PASID_FORMAT_INTEL_VTD;
        info.out_pasid_bits = 20;
        info.out_gpa_bits = 39;
        info.out_pasid_quota = 64;
        info.out_max_batch = 128;
        info.out_features = VSVA_FEAT_NESTING | VSVA_FEAT_CACHE_INV_BATCH | VSVA_FEAT_ERR_MSG;
        info.out_max_pinned = ~0ull;
    }

    static int trampoline(void* cookie, int, unsigned long cmd, void* arg) {
        return static_cast<FakeKernel*>(cookie)->ioctl(cmd, arg);
    }

    Result<Context> open(Feature require = Feature::None) {
        return detail::open_with({.path = "/dev/null", .require = require}, trampoline, this);
    }
    /* Context::adopt() of @fd through this fake kernel. */
    Result<Context> adopt(int fd, Feature require = Feature::None) {
        return detail::adopt_with(fd, require, trampoline, this);
    }

    int get_info_calls = 0;

private:
    int ioctl(unsigned long cmd, void* arg) {
        std::uint32_t argsz;
        std::memcpy(&argsz, arg, 4);
        if (cmd == VSVA_GET_INFO) {
            get_info_calls++;
            // copy_struct_from_user: the unknown tail must be zero.
            auto* bytes = static_cast<unsigned char*>(arg);
            for (std::size_t i = info_size; i < argsz; i++)
                if (bytes[i])
                    return -E2BIG;
            if (argsz < 8)
                return -EINVAL;
            // Write back what both sides know; a newer kernel's extra
            // fields are zero here, the library never sees them.
            std::vector<unsigned char> reply(std::max<std::size_t>(info_size, sizeof(info)));
            std::memcpy(reply.data(), &info, sizeof(info));
            std::memcpy(reply.data(), bytes, 8); // argsz, flags as given
            std::memcpy(bytes + 8, reply.data() + 8, std::min<std::size_t>(argsz, info_size) - 8);
            return 0;
        }
        Call c;
        c.cmd = cmd;
        auto* p = static_cast<unsigned char*>(arg);
        c.arg.assign(p, p + argsz);
        if (cmd == VSVA_BIND_GPASID || cmd == VSVA_UNBIND_GPASID || cmd == VSVA_CACHE_INVALIDATE ||
            cmd == VSVA_PAGE_RESPONSE) {
            auto* op = static_cast<vsva_nesting_op*>(arg);
            auto* d = reinterpret_cast<unsigned char*>(static_cast<std::uintptr_t>(op->data_uptr));
            c.payload.assign(d, d + op->data_len);
        } else if (cmd == VSVA_CACHE_INVALIDATE_BATCH) {
            auto* b = static_cast<vsva_cache_invalidate_batch*>(arg);
            auto* d = reinterpret_cast<unsigned char*>(static_cast<std::uintptr_t>(b->data_uptr));
            c.payload.assign(d, d + std::size_t(b->entry_len) * b->entry_num);
        }
        calls.push_back(std::move(c));
        return handler ? handler(cmd, arg) : 0;
    }
};

/** Write @msg into the call's err_uptr buffer, as the kernel does. */
template <class T>
void kernel_message(T* arg, const char* msg) {
    if (!arg->err_uptr || !arg->err_len)
        return;
    auto* dst = reinterpret_cast<char*>(static_cast<std::uintptr_t>(arg->err_uptr));
    std::snprintf(dst, arg->err_len, "%s", msg);
}

} // namespace vsva::test

#endif // VSVA_TESTS_FAKE_KERNEL_H
