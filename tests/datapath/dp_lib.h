// SPDX-License-Identifier: GPL-2.0
// Small helpers for the emulated-IOMMU data-path suites and benchmark: a
// /dev/vsva context, guest RAM mapped into a stage-2 domain, and an x86-64
// stage-1 page-table builder writing into that guest RAM.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vsva.h>

#include "vsva_testlib.h"

namespace dp {

// For the benchmarks: monotonic time in ns, and the average ns of fn(i)
// over n calls, the best of 5 rounds (so that a host hiccup in a run
// without -icount does not skew a figure).
inline double NowNs() {
    using namespace std::chrono;
    return (double)duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
}

template <typename F>
double Avg(unsigned n, F fn) {
    double best = 0;
    for (int round = 0; round < 5; round++) {
        double t0 = NowNs();
        for (unsigned i = 0; i < n; i++)
            fn(i);
        double t = (NowNs() - t0) / n;
        if (round == 0 || t < best)
            best = t;
    }
    return best;
}

constexpr uint64_t kP = 1ull << 0;
constexpr uint64_t kRW = 1ull << 1;
constexpr uint64_t kUS = 1ull << 2;
constexpr uint64_t kA = 1ull << 5;
constexpr uint64_t kD = 1ull << 6;
constexpr uint64_t kPS = 1ull << 7;
constexpr uint64_t kEA = 1ull << 10;
constexpr uint64_t kNX = 1ull << 63;
constexpr uint64_t kUser = kP | kRW | kUS;
constexpr uint64_t k4K = 4096, k2M = 2ull << 20, k1G = 1ull << 30;

// A requester id on the emulated topology (00:DD.0); see kmod/topology.c.
constexpr uint32_t Rid(unsigned dev, unsigned fn = 0) {
    return (dev << 3) | fn;
}

class Ctx {
public:
    Ctx() { fd_ = open("/dev/vsva", O_RDWR | O_CLOEXEC); }
    ~Ctx() { Close(); }
    Ctx(const Ctx&) = delete;
    Ctx& operator=(const Ctx&) = delete;
    void Close() {
        if (fd_ >= 0)
            close(fd_);
        fd_ = -1;
    }
    bool ok() const { return fd_ >= 0; }
    int fd() const { return fd_; }

    // 0 or -errno.
    int Call(unsigned long cmd, void* arg) const { return ioctl(fd_, cmd, arg) == 0 ? 0 : -errno; }

    uint64_t Features() const {
        struct vsva_info info = {};
        info.argsz = sizeof(info);
        return Call(VSVA_GET_INFO, &info) ? 0 : info.out_features;
    }

    int DomainAlloc(uint32_t* id) const {
        struct vsva_domain_alloc a = {};
        a.argsz = sizeof(a);
        int rc = Call(VSVA_DOMAIN_ALLOC, &a);
        *id = a.out_domain_id;
        return rc;
    }

    int Map(uint32_t dom, uint64_t gpa, void* host, uint64_t len,
            uint32_t prot = VSVA_MAP_READ | VSVA_MAP_WRITE) const {
        struct vsva_map m = {};
        m.argsz = sizeof(m);
        m.flags = prot;
        m.domain_id = dom;
        m.gpa = gpa;
        m.length = len;
        m.vaddr = (uintptr_t)host;
        return Call(VSVA_MAP, &m);
    }

    int Unmap(uint32_t dom, uint64_t gpa, uint64_t len) const {
        struct vsva_unmap u = {};
        u.argsz = sizeof(u);
        u.domain_id = dom;
        u.gpa = gpa;
        u.length = len;
        return Call(VSVA_UNMAP, &u);
    }

    int Attach(uint32_t rid, uint32_t dom, uint32_t flags, uint32_t* dev) const {
        struct vsva_device_attach a = {};
        a.argsz = sizeof(a);
        a.flags = flags;
        a.rid = rid;
        a.domain_id = dom;
        int rc = Call(VSVA_DEVICE_ATTACH, &a);
        *dev = a.out_dev_id;
        return rc;
    }

    int PasidAlloc(uint32_t* hpasid, uint32_t gpasid = 0) const {
        struct vsva_pasid_alloc a = {};
        a.argsz = sizeof(a);
        if (gpasid) {
            a.flags = VSVA_PASID_GPASID_VALID;
            a.gpasid = gpasid;
        }
        int rc = Call(VSVA_PASID_ALLOC, &a);
        *hpasid = a.out_hpasid;
        return rc;
    }

    static struct vsva_gpasid_bind_data BindData(uint32_t hpasid, uint64_t gpgd, uint32_t aw,
                                                 uint64_t vtd_flags) {
        auto b = vsva::test::bind_data(hpasid, gpgd, aw);
        b.vendor.vtd.flags = vtd_flags;
        return b;
    }

    int Nesting(unsigned long cmd, uint32_t target, uint32_t flags, void* payload, uint32_t len,
                std::string* msg = nullptr) const {
        char err[256] = {};
        struct vsva_nesting_op op = {};
        op.argsz = sizeof(op);
        op.flags = flags;
        op.target_id = target;
        op.data_len = len;
        op.data_uptr = (uintptr_t)payload;
        op.err_uptr = (uintptr_t)err;
        op.err_len = sizeof(err);
        int rc = Call(cmd, &op);
        if (msg)
            *msg = err;
        return rc;
    }

    int Bind(uint32_t target, uint32_t hpasid, uint64_t gpgd, uint32_t aw = 48,
             uint64_t vtd_flags = 0, uint32_t flags = 0) const {
        auto b = BindData(hpasid, gpgd, aw, vtd_flags);
        return Nesting(VSVA_BIND_GPASID, target, flags, &b, sizeof(b));
    }

    int Unbind(uint32_t target, uint32_t hpasid, uint64_t gpgd, uint32_t aw = 48,
               uint64_t vtd_flags = 0, uint32_t flags = 0) const {
        auto b = BindData(hpasid, gpgd, aw, vtd_flags);
        return Nesting(VSVA_UNBIND_GPASID, target, flags, &b, sizeof(b));
    }

    static struct vsva_cache_invalidate_info InvAddr(uint8_t cache, uint32_t pasid, uint64_t addr,
                                                     uint64_t granule = k4K, uint64_t nb = 1,
                                                     bool leaf = false) {
        auto i = vsva::test::inv_addr(pasid, addr, granule, nb, cache);
        if (leaf)
            i.granu.addr_info.flags |= VSVA_INV_ADDR_FLAGS_LEAF;
        return i;
    }

    static struct vsva_cache_invalidate_info InvPasid(uint8_t cache, uint32_t pasid) {
        return vsva::test::inv_pasid(pasid, cache);
    }

    static struct vsva_cache_invalidate_info InvDomain(uint8_t cache) {
        return vsva::test::inv_domain(cache);
    }

    int Invalidate(uint32_t target, struct vsva_cache_invalidate_info inv,
                   uint32_t flags = 0) const {
        return Nesting(VSVA_CACHE_INVALIDATE, target, flags, &inv, inv.argsz);
    }

    int PageResponse(uint32_t dev, uint32_t grpid, uint32_t code,
                     std::string* msg = nullptr) const {
        auto r = vsva::test::page_resp(grpid, code);
        return Nesting(VSVA_PAGE_RESPONSE, dev, 0, &r, sizeof(r), msg);
    }

    int FaultAlloc(int* fault_fd) const {
        struct vsva_fault_alloc a = {};
        a.argsz = sizeof(a);
        int rc = Call(VSVA_FAULT_ALLOC, &a);
        *fault_fd = rc ? -1 : (int)a.out_fault_fd;
        return rc;
    }

    struct vsva_emu_counters Counters() const {
        struct vsva_emu_counters c = {};
        c.argsz = sizeof(c);
        if (Call(VSVA_EMU_COUNTERS, &c))
            memset(&c, 0xff, sizeof(c));
        return c;
    }

    // One emulated DMA; returns the ioctl result, fills *out.
    int Dma(uint32_t dev, uint32_t pasid, uint64_t iova, void* buf, uint64_t len, uint32_t flags,
            struct vsva_emu_dma* out) const {
        struct vsva_emu_dma d = {};
        d.argsz = sizeof(d);
        d.flags = flags;
        d.dev_id = dev;
        d.pasid = pasid;
        d.iova = iova;
        d.len = len;
        d.buf_uptr = (uintptr_t)buf;
        int rc = Call(VSVA_EMU_DMA, &d);
        *out = d;
        return rc;
    }

    // One translation request (VSVA_EMU_TRANSLATE); fills *out.
    int Translate(uint32_t dev, uint32_t pasid, uint64_t iova, uint32_t flags,
                  struct vsva_emu_translate* out) const {
        struct vsva_emu_translate t = {};
        t.argsz = sizeof(t);
        t.flags = flags;
        t.dev_id = dev;
        t.pasid = pasid;
        t.iova = iova;
        int rc = Call(VSVA_EMU_TRANSLATE, &t);
        *out = t;
        return rc;
    }

private:
    int fd_ = -1;
};

// Guest RAM: host memory mapped at guest-physical ranges of one domain.
class GuestRam {
public:
    ~GuestRam() {
        for (auto& r : ranges_)
            munmap(r.host, r.len);
    }
    // Allocate and map [gpa, gpa + len); 0 or -errno.
    int Add(const Ctx& ctx, uint32_t dom, uint64_t gpa, uint64_t len,
            uint32_t prot = VSVA_MAP_READ | VSVA_MAP_WRITE) {
        void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (p == MAP_FAILED)
            return -errno;
        int rc = ctx.Map(dom, gpa, p, len, prot);
        if (rc) {
            munmap(p, len);
            return rc;
        }
        ranges_.push_back({gpa, len, (uint8_t*)p});
        return 0;
    }
    // Host pointer of a guest-physical byte (nullptr if not guest RAM).
    uint8_t* At(uint64_t gpa) const {
        for (auto& r : ranges_)
            if (gpa >= r.gpa && gpa - r.gpa < r.len)
                return r.host + (gpa - r.gpa);
        return nullptr;
    }
    uint64_t& Q(uint64_t gpa) const { return *(uint64_t*)At(gpa); }

private:
    struct Range {
        uint64_t gpa, len;
        uint8_t* host;
    };
    std::vector<Range> ranges_;
};

// An x86-64 stage-1 table built in guest RAM; tables come from a bump
// allocator over [pool, pool_end).
class PageTables {
public:
    PageTables(GuestRam& ram, uint64_t pool, uint64_t pool_end, int levels = 4)
        : ram_(ram), next_(pool), end_(pool_end), levels_(levels) {
        root_ = NewTable();
    }
    uint64_t root() const { return root_; }
    int levels() const { return levels_; }
    uint32_t aw() const { return levels_ == 5 ? 57 : 48; }

    uint64_t NewTable() {
        if (next_ + k4K > end_)
            return 0;
        uint64_t t = next_;
        next_ += k4K;
        memset(ram_.At(t), 0, k4K);
        return t;
    }

    // GPA of the entry for @va at @level (1 = PT ... 5 = PML5); creates
    // missing tables above it with @tflags.
    uint64_t Entry(uint64_t va, int level, uint64_t tflags = kUser) {
        uint64_t table = root_;
        for (int l = levels_; l > level; l--) {
            uint64_t e = table + Index(va, l) * 8;
            uint64_t& q = ram_.Q(e);
            if (!(q & kP))
                q = NewTable() | tflags;
            table = q & 0x000ffffffffff000ull;
        }
        return table + Index(va, level) * 8;
    }
    uint64_t& Pte(uint64_t va, int level = 1) { return ram_.Q(Entry(va, level)); }
    void Map4K(uint64_t va, uint64_t gpa, uint64_t flags = kUser) { Pte(va, 1) = gpa | flags; }
    void Map2M(uint64_t va, uint64_t gpa, uint64_t flags = kUser) {
        Pte(va, 2) = gpa | flags | kPS;
    }
    void Map1G(uint64_t va, uint64_t gpa, uint64_t flags = kUser) {
        Pte(va, 3) = gpa | flags | kPS;
    }
    static unsigned Index(uint64_t va, int level) { return (va >> (12 + 9 * (level - 1))) & 511; }

private:
    GuestRam& ram_;
    uint64_t next_, end_;
    int levels_;
    uint64_t root_;
};

// --- for the benchmarks (inv_bench, iommufd_bench) ----------------------

// The split of an invalidation into UAPI layer and backend: with the
// harness's module build, debugfs bench_skip_inv_backend set makes an
// invalidation stop before the backend's flush.  False when absent.
constexpr const char* kSkipHook = "/sys/kernel/debug/vsva/bench_skip_inv_backend";
inline bool SetHook(bool on) {
    FILE* f = fopen(kSkipHook, "w");
    if (!f)
        return false;
    bool ok = fputs(on ? "1" : "0", f) >= 0;
    return fclose(f) == 0 && ok;
}

// Guest RAM and page tables of a benchmark VM: tables from [kBenchPool,
// kBenchPoolEnd), every 4 KiB page of the first 16 2 MiB regions from
// kBenchVa mapped to the page at kBenchDataGpa.
constexpr uint64_t kBenchRamGpa = 0x100000, kBenchRamLen = 8ull << 20;
constexpr uint64_t kBenchPool = 0x100000, kBenchPoolEnd = 0x500000;
constexpr uint64_t kBenchDataGpa = 0x600000;
constexpr uint64_t kBenchVa = 0x200000000000ull;

// One benchmark VM: a domain with guest RAM, a device at 00:@rid.0,
// @npasids PASIDs bound to one 4-level table (above).  A failed setup
// call is fatal (the program's name, the call, the errno).
struct Vm {
    Ctx ctx;
    GuestRam ram;
    std::unique_ptr<PageTables> pt;
    uint32_t dom = 0, dev = 0;
    std::vector<uint32_t> pasids;

    [[noreturn]] static void Die(const char* what, int rc) {
        fprintf(stderr, "%s: %s failed: %d (%s)\n", program_invocation_short_name, what, rc,
                strerror(rc < 0 ? -rc : rc));
        exit(1);
    }
    Vm(uint16_t rid, unsigned npasids) {
        int rc;
        if (!ctx.ok())
            Die("open /dev/vsva", -errno);
        if ((rc = ctx.DomainAlloc(&dom)))
            Die("domain alloc", rc);
        if ((rc = ram.Add(ctx, dom, kBenchRamGpa, kBenchRamLen)))
            Die("map", rc);
        pt = std::make_unique<PageTables>(ram, kBenchPool, kBenchPoolEnd, 4);
        uint64_t t = pt->NewTable();
        for (unsigned j = 0; j < 512; j++)
            ram.Q(t + j * 8) = kBenchDataGpa | kUser;
        for (unsigned r = 0; r < 16; r++)
            ram.Q(pt->Entry(kBenchVa + r * k2M, 2)) = t | kUser;
        if ((rc = ctx.Attach(Rid(rid), dom, 0, &dev)))
            Die("attach", rc);
        for (unsigned i = 0; i < npasids; i++) {
            uint32_t p;
            if ((rc = ctx.PasidAlloc(&p)))
                Die("pasid alloc", rc);
            if ((rc = ctx.Bind(dev, p, pt->root(), pt->aw())))
                Die("bind", rc);
            pasids.push_back(p);
        }
    }
    // A read DMA that must translate (fatal otherwise): caches it.
    void Dma(uint32_t pasid, uint64_t iova) {
        uint64_t v;
        struct vsva_emu_dma d;
        int rc = ctx.Dma(dev, pasid, iova, &v, sizeof(v), 0, &d);
        if (rc || (d.out_flags & VSVA_EMU_DMA_FAULTED))
            Die("dma", rc ? rc : -(int)d.out_fault.reason);
    }
    // @n translations cached, spread over the PASIDs.
    void Fill(unsigned n) {
        for (unsigned i = 0; i < n; i++)
            Dma(pasids[i % pasids.size()], kBenchVa + (i / pasids.size()) * k4K);
    }
    int Inv(const struct vsva_cache_invalidate_info& inv) { return ctx.Invalidate(dev, inv); }
    // VSVA_CACHE_INVALIDATE_BATCH of @v on the device: 0 or -errno.
    int Batch(std::vector<struct vsva_cache_invalidate_info>& v) {
        uint32_t done;
        return Batch(v, &done);
    }
    // The same, and *@done the entries applied (entry_num written back).
    int Batch(std::vector<struct vsva_cache_invalidate_info>& v, uint32_t* done) {
        struct vsva_cache_invalidate_batch b = {};
        b.argsz = sizeof(b);
        b.target_id = dev;
        b.entry_len = sizeof(v[0]);
        b.entry_num = (uint32_t)v.size();
        b.data_uptr = (uintptr_t)v.data();
        int rc = ctx.Call(VSVA_CACHE_INVALIDATE_BATCH, &b);
        *done = b.entry_num;
        return rc;
    }
    // 0 when the whole batch was applied, else -errno (or -EIO for a
    // short count).
    int BatchAll(std::vector<struct vsva_cache_invalidate_info>& v) {
        uint32_t done;
        int rc = Batch(v, &done);
        return rc ? rc : (done == v.size() ? 0 : -EIO);
    }
};

} // namespace dp
