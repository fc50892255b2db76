// SPDX-License-Identifier: GPL-2.0
// Helpers for the in-VM compat suites that do not depend on any version of
// the vsva header: fds, guard-page buffers, raw ioctl returning -errno.
#ifndef VSVA_COMPAT_UTIL_H
#define VSVA_COMPAT_UTIL_H

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace compat {

// 0 or -errno: the value the test compares with the header's contract.
inline int xioctl(int fd, unsigned long cmd, const void* arg) {
    return ioctl(fd, cmd, arg) ? -errno : 0;
}

inline std::string errname(int rc) {
    if (rc == 0)
        return "0";
    const char* n = strerrordesc_np(-rc);
    const char* a = strerrorname_np(-rc);
    return std::string("-") + (a ? a : "?") + " (" + (n ? n : "?") + ")";
}

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(o.release()) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = o.release();
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset() {
        if (fd_ >= 0)
            close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

inline Fd open_vsva() {
    return Fd(open("/dev/vsva", O_RDWR | O_CLOEXEC));
}

// Anonymous memory followed by one PROT_NONE page: tail(n) returns a
// pointer whose n bytes end exactly where the unreadable page begins, so
// any access past them faults (-EFAULT from the kernel's user copy).
class GuardBuf {
public:
    explicit GuardBuf(size_t len) {
        size_t pg = (size_t)sysconf(_SC_PAGESIZE);
        len_ = (len + pg - 1) / pg * pg;
        base_ = mmap(nullptr, len_ + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                     0);
        if (base_ == MAP_FAILED)
            abort();
        if (mprotect((char*)base_ + len_, pg, PROT_NONE))
            abort();
        total_ = len_ + pg;
    }
    GuardBuf(const GuardBuf&) = delete;
    GuardBuf& operator=(const GuardBuf&) = delete;
    ~GuardBuf() { munmap(base_, total_); }
    char* tail(size_t n) {
        if (n > len_)
            abort();
        return (char*)base_ + len_ - n;
    }
    char* guard() { return (char*)base_ + len_; }
    size_t len() const { return len_; }

private:
    void* base_;
    size_t len_, total_;
};

// Page-aligned RAM the VMM would hand to a guest, zero-filled.
class Ram {
public:
    explicit Ram(size_t len) : len_(len) {
        p_ = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                  -1, 0);
        if (p_ == MAP_FAILED)
            abort();
    }
    Ram(const Ram&) = delete;
    Ram& operator=(const Ram&) = delete;
    ~Ram() { munmap(p_, len_); }
    uint8_t* data() { return (uint8_t*)p_; }
    uint64_t* page64(size_t idx) { return (uint64_t*)(data() + idx * 4096); }
    size_t len() const { return len_; }

private:
    void* p_;
    size_t len_;
};

} // namespace compat

#endif
