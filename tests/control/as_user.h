// SPDX-License-Identifier: GPL-2.0
// Running a step as an unprivileged user: root has CAP_IPC_LOCK and
// CAP_SYS_ADMIN, which bypass exactly the limits these suites check.
#pragma once

#include <cerrno>
#include <functional>
#include <string>
#include <vector>

#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vsva::test {

// /dev/vsva opened to everybody for the test's lifetime (as for group kvm).
class DevOpenToAll {
public:
    DevOpenToAll() {
        struct stat st {};
        if (::stat("/dev/vsva", &st) == 0) {
            mode_ = st.st_mode & 07777;
            ok_ = ::chmod("/dev/vsva", 0666) == 0;
        }
    }
    ~DevOpenToAll() {
        if (ok_)
            ::chmod("/dev/vsva", mode_);
    }
    DevOpenToAll(const DevOpenToAll&) = delete;
    DevOpenToAll& operator=(const DevOpenToAll&) = delete;
    bool ok() const { return ok_; }

private:
    mode_t mode_ = 0;
    bool ok_ = false;
};

// Become @uid (gid @gid, supplementary @groups) for good: no capability
// is left.  Optionally set RLIMIT_MEMLOCK first.  0 or -errno.
inline int become_user(uid_t uid, gid_t gid, const std::vector<gid_t>& groups = {},
                       rlim_t memlock = RLIM_INFINITY) {
    if (memlock != RLIM_INFINITY) {
        struct rlimit rl = {memlock, memlock};
        if (::setrlimit(RLIMIT_MEMLOCK, &rl))
            return -errno;
    }
    if (::setgroups(groups.size(), groups.data()) || ::setresgid(gid, gid, gid) ||
        ::setresuid(uid, uid, uid))
        return -errno;
    return 0;
}

// Fork, become @uid, run @fn; its return value is the exit status (0 is
// success, anything else names the failing step).  Returns the status, or
// 255 for a child that did not exit normally.
inline int run_as(uid_t uid, const std::function<int()>& fn, rlim_t memlock = RLIM_INFINITY,
                  const std::vector<gid_t>& groups = {}) {
    pid_t pid = ::fork();
    if (pid < 0)
        return 254;
    if (pid == 0) {
        if (become_user(uid, uid, groups, memlock))
            ::_exit(253);
        ::_exit(fn());
    }
    int st = 0;
    if (::waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return 255;
    return WEXITSTATUS(st);
}

} // namespace vsva::test
