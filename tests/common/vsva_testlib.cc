// SPDX-License-Identifier: GPL-2.0
#include "vsva_testlib.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace vsva::test {

Fd& Fd::operator=(Fd&& o) noexcept {
    if (this != &o)
        reset(o.release());
    return *this;
}

void Fd::reset(int fd) {
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = fd;
}

int raw_ioctl(int fd, unsigned long cmd, void* arg) {
    return ::ioctl(fd, cmd, arg) ? -errno : 0;
}

bool have_vsva() {
    return ::access("/dev/vsva", R_OK | W_OK) == 0;
}

Fd open_vsva() {
    return Fd(::open("/dev/vsva", O_RDWR | O_CLOEXEC));
}

std::vector<uint32_t> single_group_rids() {
    std::vector<uint32_t> r{rid(0, 2, 0)};
    for (unsigned d = 4; d <= 0x12; d++)
        r.push_back(rid(0, d, 0));
    return r;
}

int get_info(int fd, vsva_info* info) {
    *info = make<vsva_info>();
    return raw_ioctl(fd, VSVA_GET_INFO, info);
}

int domain_alloc(int fd, uint32_t* id) {
    auto c = make<vsva_domain_alloc>();
    int rc = raw_ioctl(fd, VSVA_DOMAIN_ALLOC, &c);
    if (!rc)
        *id = c.out_domain_id;
    return rc;
}

int domain_destroy(int fd, uint32_t id) {
    auto c = make<vsva_destroy>();
    c.id = id;
    return raw_ioctl(fd, VSVA_DOMAIN_DESTROY, &c);
}

int map(int fd, uint32_t dom, uint64_t gpa, uint64_t len, const void* vaddr, uint32_t flags,
        std::string* msg) {
    auto c = make<vsva_map>();
    c.flags = flags;
    c.domain_id = dom;
    c.gpa = gpa;
    c.length = len;
    c.vaddr = reinterpret_cast<uintptr_t>(vaddr);
    return ioctl_msg(fd, VSVA_MAP, c, msg);
}

int unmap(int fd, uint32_t dom, uint64_t gpa, uint64_t len, uint64_t* unmapped) {
    auto c = make<vsva_unmap>();
    c.domain_id = dom;
    c.gpa = gpa;
    c.length = len;
    int rc = raw_ioctl(fd, VSVA_UNMAP, &c);
    if (unmapped)
        *unmapped = c.out_unmapped;
    return rc;
}

int attach(int fd, uint32_t r, uint32_t dom, uint32_t* dev_id, uint32_t flags, std::string* msg,
           uint32_t* caps) {
    auto c = make<vsva_device_attach>();
    c.flags = flags;
    c.rid = r;
    c.domain_id = dom;
    int rc = ioctl_msg(fd, VSVA_DEVICE_ATTACH, c, msg);
    if (!rc) {
        if (dev_id)
            *dev_id = c.out_dev_id;
        if (caps)
            *caps = c.out_caps;
    }
    return rc;
}

int detach(int fd, uint32_t dev_id) {
    auto c = make<vsva_destroy>();
    c.id = dev_id;
    return raw_ioctl(fd, VSVA_DEVICE_DETACH, &c);
}

int pasid_alloc(int fd, uint32_t* out, std::string* msg, bool gpasid_valid, uint32_t gpasid,
                uint32_t min, uint32_t max) {
    auto c = make<vsva_pasid_alloc>();
    c.flags = gpasid_valid ? VSVA_PASID_GPASID_VALID : 0;
    c.gpasid = gpasid;
    c.min = min;
    c.max = max;
    int rc = ioctl_msg(fd, VSVA_PASID_ALLOC, c, msg);
    if (!rc && out)
        *out = c.out_hpasid;
    return rc;
}

int pasid_free(int fd, uint32_t hpasid) {
    auto c = make<vsva_pasid_free>();
    c.hpasid = hpasid;
    return raw_ioctl(fd, VSVA_PASID_FREE, &c);
}

vsva_gpasid_bind_data bind_data(uint64_t hpasid, uint64_t gpgd, uint32_t addr_width) {
    auto d = make<vsva_gpasid_bind_data>();
    d.version = VSVA_GPASID_BIND_VERSION_1;
    d.format = VSVA_PASID_FORMAT_INTEL_VTD;
    d.addr_width = addr_width;
    d.gpgd = gpgd;
    d.hpasid = hpasid;
    return d;
}

vsva_cache_invalidate_info inv_domain(uint8_t cache) {
    auto i = make<vsva_cache_invalidate_info>();
    i.version = VSVA_CACHE_INVALIDATE_INFO_VERSION_1;
    i.cache = cache;
    i.granularity = VSVA_INV_GRANU_DOMAIN;
    return i;
}

vsva_cache_invalidate_info inv_pasid(uint64_t pasid, uint8_t cache) {
    auto i = inv_domain(cache);
    i.granularity = VSVA_INV_GRANU_PASID;
    i.granu.pasid_info.flags = VSVA_INV_PASID_FLAGS_PASID;
    i.granu.pasid_info.pasid = pasid;
    return i;
}

vsva_cache_invalidate_info inv_addr(uint64_t pasid, uint64_t addr, uint64_t granule, uint64_t nb,
                                    uint8_t cache) {
    auto i = inv_domain(cache);
    i.granularity = VSVA_INV_GRANU_ADDR;
    i.granu.addr_info.flags = VSVA_INV_ADDR_FLAGS_PASID;
    i.granu.addr_info.pasid = pasid;
    i.granu.addr_info.addr = addr;
    i.granu.addr_info.granule_size = granule;
    i.granu.addr_info.nb_granules = nb;
    return i;
}

vsva_page_response page_resp(uint32_t grpid, uint32_t code) {
    auto r = make<vsva_page_response>();
    r.version = VSVA_PAGE_RESP_VERSION_1;
    r.grpid = grpid;
    r.code = code;
    return r;
}

int nesting(int fd, unsigned long cmd, uint32_t target, uint32_t flags, const void* payload,
            uint32_t data_len, std::string* msg) {
    auto op = make<vsva_nesting_op>();
    op.flags = flags;
    op.target_id = target;
    op.data_len = data_len;
    op.data_uptr = reinterpret_cast<uintptr_t>(payload);
    return ioctl_msg(fd, cmd, op, msg);
}

int bind(int fd, uint32_t target, const vsva_gpasid_bind_data& d, std::string* msg,
         uint32_t flags) {
    return nesting(fd, VSVA_BIND_GPASID, target, flags, d, msg);
}

int unbind(int fd, uint32_t target, const vsva_gpasid_bind_data& d, std::string* msg,
           uint32_t flags) {
    return nesting(fd, VSVA_UNBIND_GPASID, target, flags, d, msg);
}

int invalidate(int fd, uint32_t target, const vsva_cache_invalidate_info& inv, std::string* msg,
               uint32_t flags) {
    return nesting(fd, VSVA_CACHE_INVALIDATE, target, flags, inv, msg);
}

int invalidate_batch(int fd, uint32_t target, uint32_t flags, const void* entries,
                     uint32_t entry_len, uint32_t entry_num, uint32_t* handled, std::string* msg) {
    auto b = make<vsva_cache_invalidate_batch>();
    b.flags = flags;
    b.target_id = target;
    b.entry_len = entry_len;
    b.entry_num = entry_num;
    b.data_uptr = reinterpret_cast<uintptr_t>(entries);
    int rc = ioctl_msg(fd, VSVA_CACHE_INVALIDATE_BATCH, b, msg);
    if (handled)
        *handled = b.entry_num;
    return rc;
}

int counters(int fd, vsva_emu_counters* c) {
    *c = make<vsva_emu_counters>();
    return raw_ioctl(fd, VSVA_EMU_COUNTERS, c);
}

int pasid_entry(int fd, uint32_t dev, uint32_t pasid, vsva_emu_pasid_entry* e) {
    *e = make<vsva_emu_pasid_entry>();
    e->dev_id = dev;
    e->pasid = pasid;
    return raw_ioctl(fd, VSVA_EMU_PASID_ENTRY, e);
}

GuestRam::GuestRam(size_t size) : size_(size) {
    memfd_.reset(static_cast<int>(::syscall(SYS_memfd_create, "vsva-guest-ram", 0)));
    if (!memfd_ || ::ftruncate(memfd_.get(), static_cast<off_t>(size)))
        return;
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd_.get(), 0);
    if (p != MAP_FAILED) {
        ptr_ = static_cast<uint8_t*>(p);
        std::memset(ptr_, 0, size);
    }
}

GuestRam::GuestRam(GuestRam&& o) noexcept
    : memfd_(std::move(o.memfd_)), ptr_(o.ptr_), size_(o.size_) {
    o.ptr_ = nullptr;
    o.size_ = 0;
}

GuestRam& GuestRam::operator=(GuestRam&& o) noexcept {
    if (this != &o) {
        if (ptr_)
            ::munmap(ptr_, size_);
        memfd_ = std::move(o.memfd_);
        ptr_ = o.ptr_;
        size_ = o.size_;
        o.ptr_ = nullptr;
        o.size_ = 0;
    }
    return *this;
}

GuestRam::~GuestRam() {
    if (ptr_)
        ::munmap(ptr_, size_);
}

int Vm::create(size_t ram_size, const std::vector<uint32_t>& rids, uint32_t attach_flags) {
    fd = open_vsva();
    if (!fd)
        return -errno;
    int rc = domain_alloc(fd.get(), &dom);
    if (rc)
        return rc;
    if (ram_size) {
        ram = GuestRam(ram_size);
        if (!ram.ptr())
            return -ENOMEM;
        rc = map(fd.get(), dom, 0, ram_size, ram.ptr());
        if (rc)
            return rc;
    }
    for (uint32_t r : rids) {
        uint32_t id;
        rc = attach(fd.get(), r, dom, &id, attach_flags);
        if (rc)
            return rc;
        devs.push_back(id);
    }
    return 0;
}

std::string read_file(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

int write_file(const std::string& path, const std::string& s) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = ::write(fd, s.data(), s.size());
    int rc = n < 0 ? -errno : 0;
    ::close(fd);
    return rc;
}

std::string topology_spec(const std::string& shown) {
    std::string spec;
    for (size_t pos = 0; pos < shown.size();) {
        size_t nl = shown.find('\n', pos);
        std::string line = shown.substr(pos, nl - pos);
        pos = nl == std::string::npos ? shown.size() : nl + 1;
        char name[16];
        unsigned grp;
        if (sscanf(line.c_str(), "%15s group %u", name, &grp) != 2)
            continue;
        std::string caps;
        for (const char* c : {"pasid", "ats", "pri"})
            if (line.find(std::string(" ") + c) != std::string::npos)
                caps += (caps.empty() ? "" : "+") + std::string(c);
        spec += (spec.empty() ? "" : ",") + std::string(name) + "/" + std::to_string(grp) +
                (caps.empty() ? "" : "/" + caps);
    }
    return spec;
}

std::map<std::string, long long> read_kv(const std::string& path) {
    std::map<std::string, long long> m;
    std::istringstream in(read_file(path));
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string k;
        long long v;
        if (ls >> k >> v && !m.count(k))
            m[k] = v;
    }
    return m;
}

std::map<std::string, long long> vsva_summary() {
    return read_kv("/sys/kernel/debug/vsva/summary");
}

bool have_debugfs() {
    return ::access("/sys/kernel/debug/vsva/summary", R_OK) == 0;
}

int newest_ctx_id() {
    int best = -1;
    DIR* d = ::opendir("/sys/kernel/debug/vsva/ctx");
    if (!d)
        return -1;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        best = std::max(best, std::atoi(e->d_name));
    }
    ::closedir(d);
    return best;
}

std::string ctx_debugfs(int ctx_id) {
    return read_file("/sys/kernel/debug/vsva/ctx/" + std::to_string(ctx_id));
}

long long proc_status_kb(const std::string& field, const std::string& pid) {
    std::istringstream in(read_file("/proc/" + pid + "/status"));
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field + ":", 0) == 0)
            return std::atoll(line.c_str() + field.size() + 1);
    }
    return -1;
}

std::string module_param(const std::string& name) {
    std::string s = read_file("/sys/module/vsva/parameters/" + name);
    while (!s.empty() && (s.back() == '\n'))
        s.pop_back();
    return s;
}

int set_module_param(const std::string& name, const std::string& value) {
    return write_file("/sys/module/vsva/parameters/" + name, value);
}

int load_consumer() {
    if (::access(VSVA_CONSUMER_DIR, F_OK) == 0)
        return 0;
    const char* dir = std::getenv("VSVA_MODULE_DIR");
    std::string path = std::string(dir ? dir : "/vsva/modules") + "/vsva_consumer.ko";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    long rc = ::syscall(SYS_finit_module, fd, "", 0);
    int err = rc ? errno : 0;
    ::close(fd);
    return err == EEXIST ? 0 : -err;
}

std::map<std::string, long long> consumer_stats() {
    return read_kv(VSVA_CONSUMER_DIR "/stats");
}

} // namespace vsva::test
