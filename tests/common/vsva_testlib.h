// SPDX-License-Identifier: GPL-2.0
// vsva_testlib: small helpers for the in-VM GoogleTest suites.
//
// Every ioctl helper returns 0 or a negative errno (never throws) and, where
// the command takes err_uptr, fills an optional message string.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <linux/vsva.h>

#include <gtest/gtest.h>

namespace vsva::test {

// A file descriptor owner.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(o.release()) {}
    Fd& operator=(Fd&& o) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    int release() {
        int f = fd_;
        fd_ = -1;
        return f;
    }
    void reset(int fd = -1);
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

// A zeroed struct with argsz set.
template <class T>
T make() {
    T t;
    std::memset(&t, 0, sizeof(t));
    t.argsz = sizeof(T);
    return t;
}

// ioctl(): 0 or -errno.
int raw_ioctl(int fd, unsigned long cmd, void* arg);

// A message buffer for err_uptr/err_len.
struct ErrBuf {
    char buf[256];
    ErrBuf() {
        std::memset(buf, 'X', sizeof(buf));
        buf[sizeof(buf) - 1] = 0;
    }
    std::string str() const { return buf; }
    template <class T>
    void attach(T& cmd) {
        cmd.err_uptr = reinterpret_cast<uintptr_t>(buf);
        cmd.err_len = sizeof(buf);
    }
};

// ioctl() on a struct carrying err_uptr: attaches a buffer, returns the
// message in *msg.
template <class T>
int ioctl_msg(int fd, unsigned long cmd, T& arg, std::string* msg) {
    ErrBuf eb;
    eb.attach(arg);
    int rc = raw_ioctl(fd, cmd, &arg);
    if (msg)
        *msg = eb.str();
    arg.err_uptr = 0;
    arg.err_len = 0;
    return rc;
}

bool have_vsva();
Fd open_vsva();

// Requester id from bus/device/function.
constexpr uint32_t rid(unsigned bus, unsigned dev, unsigned fn) {
    return (bus << 8) | (dev << 3) | fn;
}
// The default topology's PASID+ATS+PRI endpoints in single-device groups:
// 00:02.0 and 00:04.0 .. 00:12.0 (16 devices).
std::vector<uint32_t> single_group_rids();
constexpr uint32_t kRidGroupA = rid(0, 3, 0); // group 2, with kRidGroupB
constexpr uint32_t kRidGroupB = rid(0, 3, 1);
constexpr uint32_t kRidPasidOnly = rid(0, 0x13, 0);
constexpr uint32_t kRidNoCaps = rid(0, 0x14, 0);

// Typed helpers.
int get_info(int fd, vsva_info* info);
int domain_alloc(int fd, uint32_t* id);
int domain_destroy(int fd, uint32_t id);
int map(int fd, uint32_t dom, uint64_t gpa, uint64_t len, const void* vaddr,
        uint32_t flags = VSVA_MAP_READ | VSVA_MAP_WRITE, std::string* msg = nullptr);
int unmap(int fd, uint32_t dom, uint64_t gpa, uint64_t len, uint64_t* unmapped = nullptr);
int attach(int fd, uint32_t rid, uint32_t dom, uint32_t* dev_id, uint32_t flags = 0,
           std::string* msg = nullptr, uint32_t* caps = nullptr);
int detach(int fd, uint32_t dev_id);
int pasid_alloc(int fd, uint32_t* out, std::string* msg = nullptr, bool gpasid_valid = false,
                uint32_t gpasid = 0, uint32_t min = 0, uint32_t max = 0);
int pasid_free(int fd, uint32_t hpasid);

vsva_gpasid_bind_data bind_data(uint64_t hpasid, uint64_t gpgd, uint32_t addr_width = 48);
vsva_cache_invalidate_info inv_domain(uint8_t cache = VSVA_CACHE_INV_TYPE_IOTLB);
vsva_cache_invalidate_info inv_pasid(uint64_t pasid, uint8_t cache = VSVA_CACHE_INV_TYPE_IOTLB);
vsva_cache_invalidate_info inv_addr(uint64_t pasid, uint64_t addr, uint64_t granule = 4096,
                                    uint64_t nb = 1, uint8_t cache = VSVA_CACHE_INV_TYPE_IOTLB);
vsva_page_response page_resp(uint32_t grpid, uint32_t code = VSVA_PAGE_RESP_SUCCESS);

// A nesting op (bind/unbind/invalidate/page response) on any payload;
// data_len defaults to the payload's argsz.
int nesting(int fd, unsigned long cmd, uint32_t target, uint32_t flags, const void* payload,
            uint32_t data_len, std::string* msg = nullptr);
template <class P>
int nesting(int fd, unsigned long cmd, uint32_t target, uint32_t flags, const P& p,
            std::string* msg = nullptr) {
    return nesting(fd, cmd, target, flags, &p, p.argsz, msg);
}
int bind(int fd, uint32_t target, const vsva_gpasid_bind_data& d, std::string* msg = nullptr,
         uint32_t flags = 0);
int unbind(int fd, uint32_t target, const vsva_gpasid_bind_data& d, std::string* msg = nullptr,
           uint32_t flags = 0);
int invalidate(int fd, uint32_t target, const vsva_cache_invalidate_info& inv,
               std::string* msg = nullptr, uint32_t flags = 0);
// Batch of entries with stride entry_len; *handled gets entry_num back.
int invalidate_batch(int fd, uint32_t target, uint32_t flags, const void* entries,
                     uint32_t entry_len, uint32_t entry_num, uint32_t* handled,
                     std::string* msg = nullptr);
int counters(int fd, vsva_emu_counters* c);
int pasid_entry(int fd, uint32_t dev, uint32_t pasid, vsva_emu_pasid_entry* e);

// Guest RAM: a memfd mapped shared, to be mapped into a domain at gpa.
class GuestRam {
public:
    GuestRam() = default;
    explicit GuestRam(size_t size);
    GuestRam(GuestRam&& o) noexcept;
    GuestRam& operator=(GuestRam&& o) noexcept;
    GuestRam(const GuestRam&) = delete;
    ~GuestRam();
    uint8_t* ptr() const { return ptr_; }
    size_t size() const { return size_; }

private:
    Fd memfd_;
    uint8_t* ptr_ = nullptr;
    size_t size_ = 0;
};

// A VM: a context with one domain, guest RAM mapped at gpa 0 and devices.
struct Vm {
    Fd fd;
    uint32_t dom = 0;
    GuestRam ram;
    std::vector<uint32_t> devs;
    uint64_t gpgd = 0x1000; // a mapped, 4K-aligned GPA to bind

    // Returns 0 or -errno (the step that failed).
    int create(size_t ram_size, const std::vector<uint32_t>& rids, uint32_t attach_flags = 0);
    int alloc_pasid(uint32_t* hpasid) { return pasid_alloc(fd.get(), hpasid); }
};

// Files (debugfs, /proc).
std::string read_file(const std::string& path);
// 0 or -errno.
int write_file(const std::string& path, const std::string& s);
// "key value" lines -> map (first token -> second token as integer).
std::map<std::string, long long> read_kv(const std::string& path);
// /sys/kernel/debug/vsva/summary.
std::map<std::string, long long> vsva_summary();
// The debugfs topology file's "BB:DD.F group G caps ..." lines back in the
// syntax the file (and the topology parameter) takes: to restore it.
std::string topology_spec(const std::string& shown);
bool have_debugfs();
// The id of the newest context (the one this process opened last).
int newest_ctx_id();
std::string ctx_debugfs(int ctx_id);
// /proc/<pid>/status field in kB (VmPin, VmLck), -1 if absent.
long long proc_status_kb(const std::string& field, const std::string& pid = "self");
// Module parameter access.
std::string module_param(const std::string& name);
int set_module_param(const std::string& name, const std::string& value);

// vsva_consumer.ko: load it (0 if loaded or already there, else -errno).
int load_consumer();
std::map<std::string, long long> consumer_stats();
#define VSVA_CONSUMER_DIR "/sys/kernel/debug/vsva_consumer"

// Skip the test when /dev/vsva is missing (outside the VM).
#define VSVA_REQUIRE_DEV()                                                                         \
    do {                                                                                           \
        if (!::vsva::test::have_vsva())                                                            \
            GTEST_SKIP() << "/dev/vsva not present (vsva.ko not loaded)";                          \
    } while (0)
#define VSVA_REQUIRE_DEBUGFS()                                                                     \
    do {                                                                                           \
        if (!::vsva::test::have_debugfs())                                                         \
            GTEST_SKIP() << "vsva debugfs not mounted";                                            \
    } while (0)

} // namespace vsva::test
