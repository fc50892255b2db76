// SPDX-License-Identifier: LGPL-2.1-or-later
/* Context: open, negotiation (GET_INFO and the size probe), the fd's life. */
#include <cerrno>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core.h"

namespace vsva {
namespace detail {

int sys_ioctl(void*, int fd, unsigned long cmd, void* arg) {
    int rc = ::ioctl(fd, cmd, arg);
    return rc < 0 ? -errno : rc;
}

Core::~Core() {
    if (fd >= 0)
        ::close(fd);
}

namespace {

/*
 * Is the kernel's struct vsva_info at least @n bytes?  Pass our full size
 * with byte n-1 (inside an out_ field, overwritten by any kernel that knows
 * it) non-zero: a kernel whose struct ends before it sees a non-zero
 * unknown tail and answers -E2BIG.
 */
bool kernel_knows(const Core& core, std::size_t n, std::size_t total) {
    alignas(8) unsigned char buf[sizeof(vsva_info) + 8] = {};
    std::uint32_t argsz = static_cast<std::uint32_t>(total);
    std::memcpy(buf, &argsz, sizeof(argsz));
    buf[n - 1] = 0x5a;
    return core.raw(VSVA_GET_INFO, buf) == 0;
}

/* The size of struct vsva_info the kernel knows; sets Info::kernel_newer. */
void probe_info_size(const Core& core, Info& info) {
    constexpr std::size_t ours = sizeof(vsva_info);
    info.library_info_size = ours;
    if (kernel_knows(core, ours, ours)) {
        info.kernel_info_size = ours;
        info.kernel_newer = kernel_knows(core, ours + 8, ours + 8);
        return;
    }
    // Older kernel: the largest n (a multiple of 4, past flags) it accepts.
    std::size_t lo = offsetof(vsva_info, out_uapi_version); // assumed known
    std::size_t hi = ours - 4;                              // largest candidate
    while (lo < hi) {
        std::size_t mid = (lo + hi + 4) / 2 / 4 * 4;
        if (kernel_knows(core, mid, ours))
            lo = mid;
        else
            hi = mid - 4;
    }
    info.kernel_info_size = static_cast<std::uint32_t>(lo);
}

Unexpected open_error(int err, const char* path) {
    switch (err) {
    case ENOENT:
        return fail(err, "open",
                    fmt::format("{} does not exist: the vsva kernel module is not loaded "
                                "(load it with `modprobe vsva`)",
                                path));
    case ENXIO:
    case ENODEV:
        return fail(err, "open",
                    fmt::format("{} has no driver behind it: the vsva module was unloaded "
                                "(load it with `modprobe vsva`)",
                                path));
    case EACCES:
    case EPERM:
        return fail(err, "open",
                    fmt::format("permission denied on {} (mode 0660, root-owned): run as root, "
                                "or give this user the device's group (a udev rule with "
                                "GROUP=/MODE= for vsva)",
                                path));
    default:
        return fail(err, "open", fmt::format("cannot open {}", path));
    }
}

} // namespace

/*
 * The negotiation both ways in share: GET_INFO, the size probe, the UAPI
 * version and the required features.  @core owns its fd already; @name
 * says what it is in messages.
 */
Result<Context> negotiate(std::shared_ptr<Core> core, Feature require, const std::string& name) {
    vsva_info raw = {};
    if (auto r = core->call(raw, "get-info"); !r) {
        Error e = std::move(r).error();
        if (e.code() == ENOTTY)
            return fail(ENOTTY, "get-info",
                        fmt::format("{} is not a vsva device (VSVA_GET_INFO unknown)", name));
        return Unexpected(std::move(e));
    }
    Info& info = core->info;
    info.uapi_version = raw.out_uapi_version;
    info.module_version = raw.out_module_version;
    info.bind_versions = raw.out_bind_versions;
    info.inv_versions = raw.out_inv_versions;
    info.page_resp_versions = raw.out_page_resp_versions;
    info.formats = raw.out_formats;
    info.inv_matrix = raw.out_inv_matrix;
    info.addr_widths = raw.out_addr_widths;
    info.pasid_bits = raw.out_pasid_bits;
    info.gpa_bits = raw.out_gpa_bits;
    info.pasid_quota = raw.out_pasid_quota;
    info.max_batch = raw.out_max_batch;
    info.features = raw.out_features;
    info.max_pinned = raw.out_max_pinned;
    probe_info_size(*core, info);
    // Every v1 argument that takes err_uptr has had it from the start.
    core->err_msg = true;

    if (info.uapi_version != VSVA_UAPI_VERSION)
        return fail(EPROTO, "open",
                    fmt::format("the kernel speaks vsva UAPI v{}, this library v{}",
                                info.uapi_version, VSVA_UAPI_VERSION));

    const auto want = static_cast<std::uint64_t>(require);
    if (std::uint64_t missing = want & ~info.features) {
        std::string list;
        for (int bit = 0; bit < 64; bit++) {
            if (!(missing & (1ull << bit)))
                continue;
            auto f = static_cast<Feature>(1ull << bit);
            list += fmt::format("{}{} ({})", list.empty() ? "" : ", ", feature_description(f),
                                feature_macro(f));
        }
        return fail(EOPNOTSUPP, "open",
                    fmt::format("kernel too old for this feature: vsva module {} lacks {}",
                                info.module_version_string(), list));
    }
    return Access::make_context(std::move(core));
}

Result<Context> open_with(const OpenOptions& opts, IoctlFn fn, void* cookie) {
    auto core = std::make_shared<Core>();
    core->ioctl = fn;
    core->cookie = cookie;
    core->fd = ::open(opts.path, O_RDWR | O_CLOEXEC);
    if (core->fd < 0)
        return open_error(errno, opts.path);
    return negotiate(std::move(core), opts.require, opts.path);
}

Result<Context> adopt_with(int fd, Feature require, IoctlFn fn, void* cookie) {
    auto core = std::make_shared<Core>();
    core->ioctl = fn;
    core->cookie = cookie;
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0)
        return fail(errno, "adopt", fmt::format("fd {} is not an open file", fd));
    core->fd = fd; // ours from here on: closed with the Core, also on failure
    if ((fl & O_ACCMODE) != O_RDWR)
        return fail(EBADF, "adopt",
                    fmt::format("fd {} is not open for reading and writing (O_RDWR)", fd));
    // Like open(): not inherited across exec (SCM_RIGHTS does not carry it).
    const int fdfl = ::fcntl(fd, F_GETFD);
    if (fdfl < 0 || ::fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
        return fail(errno, "adopt", fmt::format("cannot set FD_CLOEXEC on fd {}", fd));
    return negotiate(std::move(core), require, fmt::format("fd {}", fd));
}

} // namespace detail

Result<Context> Context::open(const OpenOptions& opts) {
    return detail::open_with(opts, detail::sys_ioctl, nullptr);
}

Result<Context> Context::adopt(int fd, Feature require) {
    return detail::adopt_with(fd, require, detail::sys_ioctl, nullptr);
}

Context::Context(std::shared_ptr<detail::Core> core) noexcept : core_(std::move(core)) {}
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;
Context::~Context() = default;

const Info& Context::info() const noexcept {
    return core_->info;
}

int Context::fd() const noexcept {
    return core_->fd;
}

} // namespace vsva
