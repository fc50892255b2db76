// SPDX-License-Identifier: GPL-2.0
// The executor: runs vsva-fuzz programs against /dev/vsva.
//
// What the arguments of each call mean (a0..a7; "ref" = an object
// reference, see prog.h; "sel" = a selector, mode in the low 8 bits and a
// parameter above):
//
//   GET_INFO, EMU_COUNTERS   a0 flags
//   DOMAIN_ALLOC, FAULT_ALLOC a0 flags, a1 __reserved
//   DOMAIN_DESTROY, DEVICE_DETACH, PASID_FREE  a0 ref, a1 flags, a2 __reserved
//   MAP      a0 flags, a1 domain, a2 gpa sel, a3 length sel, a4 vaddr sel (0 guest
//            RAM, 1 its read-only view, 2 unmapped, 3 raw, 4 scratch, 5 a file,
//            6 unaligned, 7 a low address),
//            a5 err sel, a6 __reserved (low) / __reserved2 (high)
//   UNMAP    a0 flags, a1 domain, a2 gpa sel, a3 length sel, a4 __reserved
//   DEVICE_ATTACH  a0 flags, a1 rid sel (< 20: an endpoint of the default
//            topology, else bits 8..23), a2 domain, a3 err sel, a4 __reserved
//   PASID_ALLOC  a0 flags, a1 gpasid, a2 min, a3 max, a4 err sel, a5 __reserved2
//   BIND_GPASID, UNBIND_GPASID  a0 op flags, a1 target (a domain with
//            VSVA_TARGET_DOMAIN, else a device), a2 hpasid, a3 gpgd sel,
//            a4 width (0: 48, 1: 57, 2: bits 32..63) | VT-d flags << 8,
//            a5 payload mods, a6 err sel | data pointer mode << 8, a7 __reserved
//   CACHE_INVALIDATE  a0 op flags, a1 target, a2 PASID, a3 cache | granu << 8 |
//            addr flags << 16 (| 1 << 24: cache = bits 32..39), a4 address,
//            a5 granule (0 4K, 1 2M, 2 1G, 3 random) | nb_granules << 8,
//            a6 payload mods, a7 err sel
//   CACHE_INV_BATCH  a0 op flags, a1 target, a2 entry_len sel (56, 64, 4096,
//            raw, 0, 57), a3 entry_num, a4 seed of the entries, a5 data pointer
//            mode, a6 err sel, a7 __reserved
//   FAULT_READ  a0 fault fd, a1 length sel (80, 79, 160, 4096, 0, raw),
//            a2 bit 0 O_NONBLOCK, bits 8..15 buffer pointer mode
//   FAULT_POLL  a0 fault fd, a1 timeout (ms)      FAULT_CLOSE  a0 fault fd
//   PAGE_RESPONSE  a0 device, a1 group (from a page request seen), a2 code,
//            a3 PASID, a4 payload mods, a5 err sel, a6 op flags
//   EMU_DMA  a0 flags, a1 device, a2 PASID, a3 iova sel, a4 length sel,
//            a5 buffer pointer mode
//   EMU_PASID_ENTRY  a0 device, a1 PASID, a2 flags
//   PT_WRITE a0 kind (0 a valid 4/5-level chain, 1 self-reference, 2 PS at a
//            level, 3 reserved / non-canonical bits, 4 outside stage 2,
//            5 any entry, 6 a loop, 7 zero a table), a1 page/level, a2 index,
//            a3 value
//   OPEN     -                 CLOSE  a0 which fd     EXIT  -
//   FORK     a0 bit 0: the child runs the rest of the program, else exits
//   RAW      a0 command number, a1 seed of the bytes, a2 length
//   SETUP    a0 rid sel, a1 attach flags, a2 width (1: 57), a3 -
//
// Payload mods (a5/a6/a4 above): bits 0-2 payload argsz (exact, small,
// older, zero tail, junk tail, raw = bits 32..47), bits 3-5 data_len
// (= payload argsz, = sizeof, + 8, raw = bits 16..31, 0, 4097), bit 6 bad
// version, 7 bad format, 8 non-zero padding, 9 gpasid valid, 10 junk
// payload flags, 11 no PASID_VALID (page response).
// Err sel: 0 none, 1 a 256-byte buffer, 2 err_len 1, 3 read-only buffer,
// 4 unmapped, 5 running into a guard page.
#include "exec.h"

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vsva.h>

namespace vfuzz {

namespace {

constexpr unsigned long kKcovEnable = _IO('c', 100);
constexpr unsigned long kKcovDisable = _IO('c', 101);
constexpr unsigned long kKcovTracePc = 0;

// Guest RAM: kPages pages at kGpaBase.  Page tables in pages 0..15 (0 PML4,
// 1 PDPT, 2 PD, 3 PT, 4 PML5), data from page 16; kIova + i * 4K maps to
// data page 16 + i.
constexpr uint64_t kPages = 128;
constexpr uint64_t kGpaBase = 0x100000;
constexpr uint64_t kIova = 0x400000;
constexpr uint64_t kRamSize = kPages * 4096;
constexpr uint64_t kP = 1, kRW = 2, kUS = 4, kA = 1 << 5, kD = 1 << 6, kPS = 1 << 7;

// Per-thread scratch: kArena bytes read-write, a guard page, then a
// read-only view of the same bytes.  The struct lives at offset 0, a
// payload at 4096, a message buffer at 2048, DMA and batch data at 8192.
constexpr size_t kArena = (1 << 20) + 4 * 4096;
constexpr size_t kPayloadOff = 4096, kErrOff = 2048, kBufOff = 8192;
constexpr uint64_t kKernelPtr = 0xffff888000000000ull;

const uint32_t kRids[20] = {
        0x10, 0x18, 0x19, 0x20, 0x28, 0x30, 0x38, 0x40, 0x48, 0x50,
        0x58, 0x60, 0x68, 0x70, 0x78, 0x80, 0x88, 0x90, 0x98, 0xa0,
};

struct Arena {
    uint8_t* rw = nullptr;
    uint8_t* ro = nullptr;
    uint8_t* guard = nullptr; // first byte after rw
};

Arena make_arena() {
    int fd = static_cast<int>(syscall(SYS_memfd_create, "vsva-fuzz-arena", 0));
    if (fd < 0 || ftruncate(fd, kArena) != 0)
        _exit(70);
    size_t total = 2 * kArena + 4096;
    auto* base = static_cast<uint8_t*>(
            mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (base == MAP_FAILED)
        _exit(70);
    Arena a;
    a.rw = static_cast<uint8_t*>(
            mmap(base, kArena, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0));
    a.guard = base + kArena;
    a.ro = static_cast<uint8_t*>(
            mmap(base + kArena + 4096, kArena, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0));
    if (a.rw == MAP_FAILED || a.ro == MAP_FAILED)
        _exit(70);
    close(fd);
    return a;
}

// Objects of one /dev/vsva fd, most recent last.
struct Objs {
    std::vector<uint32_t> doms, devs, pasids, grpids;
};

struct FaultFd {
    int fd;
    unsigned owner; // index of the /dev/vsva fd
};

struct Exec;

struct Worker {
    std::thread th;
    pthread_t handle{};
    std::mutex m;
    std::condition_variable cv;
    bool has = false, busy = false, stop = false, done = false;
    Call call;
};

void on_signal(int) {}

uint64_t mode_of(uint64_t v) {
    return v & 0xff;
}
uint64_t param_of(uint64_t v) {
    return v >> 8;
}

struct Exec {
    Shm* shm;
    ExecConfig cfg;
    uint8_t* ram = nullptr;    // guest RAM, read-write
    uint8_t* ram_ro = nullptr; // the same pages, read-only
    uint8_t* filemap = nullptr;
    Arena arenas[kMaxThreads];
    uint64_t* kcov_area[kMaxThreads] = {};

    // Program state, under mu.
    std::mutex mu;
    std::vector<int> vfds;
    std::vector<Objs> objs;
    std::vector<FaultFd> ffds;
    std::vector<pid_t> children;
    bool forked_child = false;

    Worker workers[kMaxThreads];

    void init() {
        int fd = static_cast<int>(syscall(SYS_memfd_create, "vsva-fuzz-ram", 0));
        if (fd < 0 || ftruncate(fd, kRamSize) != 0)
            _exit(71);
        ram = static_cast<uint8_t*>(
                mmap(nullptr, kRamSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
        ram_ro = static_cast<uint8_t*>(mmap(nullptr, kRamSize, PROT_READ, MAP_SHARED, fd, 0));
        if (ram == MAP_FAILED || ram_ro == MAP_FAILED)
            _exit(71);
        close(fd);
        // A file-backed MAP_SHARED range (tmpfs or the initramfs).
        char path[] = "/tmp/vsva-fuzz-XXXXXX";
        fd = mkstemp(path);
        if (fd >= 0 && ftruncate(fd, 16 * 4096) == 0) {
            void* p = mmap(nullptr, 16 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            filemap = p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
        }
        if (fd >= 0) {
            unlink(path);
            close(fd);
        }
        for (auto& a : arenas)
            a = make_arena();
        for (unsigned t = 0; t < kMaxThreads; t++)
            kcov_area[t] = cfg.kcov_area[t];
        struct sigaction sa = {};
        sa.sa_handler = on_signal; // no SA_RESTART: blocked calls see EINTR
        sigaction(SIGUSR1, &sa, nullptr);
        sigaction(SIGALRM, &sa, nullptr);
        signal(SIGPIPE, SIG_IGN);
    }

    void cover_begin(unsigned t) {
        if (!cfg.kcov || !kcov_area[t] || forked_child)
            return;
        __atomic_store_n(&kcov_area[t][0], 0, __ATOMIC_RELAXED);
        ioctl(cfg.kcov_fd[t], kKcovEnable, kKcovTracePc);
    }
    void cover_end(unsigned t) {
        if (!cfg.kcov || !kcov_area[t] || forked_child)
            return;
        ioctl(cfg.kcov_fd[t], kKcovDisable, 0);
    }

    // --- object references -------------------------------------------
    static uint32_t pick(const std::vector<uint32_t>& v, uint64_t r) {
        if ((r >> 60) == 0xF)
            return static_cast<uint32_t>(r);
        if (v.empty())
            return static_cast<uint32_t>(r & 3);
        return v[v.size() - 1 - r % v.size()];
    }
    unsigned fdi(const Call& c) {
        std::lock_guard<std::mutex> g(mu);
        return vfds.empty() ? 0 : c.fd % vfds.size();
    }
    int vfd(unsigned i) {
        std::lock_guard<std::mutex> g(mu);
        return i < vfds.size() ? vfds[i] : -1;
    }
    uint32_t dom(unsigned i, uint64_t r) {
        std::lock_guard<std::mutex> g(mu);
        return pick(objs[i].doms, r);
    }
    uint32_t dev(unsigned i, uint64_t r) {
        std::lock_guard<std::mutex> g(mu);
        return pick(objs[i].devs, r);
    }
    uint32_t pasid(unsigned i, uint64_t r) {
        std::lock_guard<std::mutex> g(mu);
        return pick(objs[i].pasids, r);
    }
    uint32_t grpid(unsigned i, uint64_t r) {
        std::lock_guard<std::mutex> g(mu);
        return pick(objs[i].grpids, r);
    }
    void add(std::vector<uint32_t> Objs::*list, unsigned i, uint32_t id) {
        std::lock_guard<std::mutex> g(mu);
        auto& v = objs[i].*list;
        if (v.size() >= 64)
            v.erase(v.begin());
        v.push_back(id);
    }
    void drop(std::vector<uint32_t> Objs::*list, unsigned i, uint32_t id) {
        std::lock_guard<std::mutex> g(mu);
        auto& v = objs[i].*list;
        for (size_t k = 0; k < v.size(); k++)
            if (v[k] == id) {
                v.erase(v.begin() + static_cast<long>(k));
                break;
            }
    }

    // --- pointers and sizes ------------------------------------------
    // A user pointer to n bytes that start at arena offset off, per mode.
    uint64_t place(unsigned t, unsigned mode, size_t off, size_t n, uint32_t szval) {
        Arena& a = arenas[t];
        switch (mode % kNumPtrModes) {
        case kPtrReadOnly:
            return reinterpret_cast<uint64_t>(a.ro + off);
        case kPtrStraddle: {
            size_t k = n ? 1 + szval % n : 1;
            // Move the bytes so that the last n - k of them are unmapped.
            std::memmove(a.guard - k, a.rw + off, k);
            return reinterpret_cast<uint64_t>(a.guard - k);
        }
        case kPtrNull:
            return 0;
        case kPtrKernel:
            return kKernelPtr + off;
        default:
            return reinterpret_cast<uint64_t>(a.rw + off);
        }
    }

    void err(unsigned t, uint64_t sel, __u64* uptr, __u32* len) {
        Arena& a = arenas[t];
        switch (sel & 7) {
        case 1:
            *uptr = reinterpret_cast<uint64_t>(a.rw + kErrOff);
            *len = 256;
            break;
        case 2:
            *uptr = reinterpret_cast<uint64_t>(a.rw + kErrOff);
            *len = 1;
            break;
        case 3:
            *uptr = reinterpret_cast<uint64_t>(a.ro + kErrOff);
            *len = 256;
            break;
        case 4:
            *uptr = reinterpret_cast<uint64_t>(a.guard);
            *len = 64;
            break;
        case 5:
            *uptr = reinterpret_cast<uint64_t>(a.guard - 16);
            *len = 4096;
            break;
        default:
            *uptr = 0;
            *len = 0;
            break;
        }
    }

    static uint32_t argsz_of(const Call& c, size_t full) {
        switch (c.sz) {
        case kSzSmall:
            return c.szval % 8;
        case kSzOlder:
            return static_cast<uint32_t>(8 + c.szval % (full - 7));
        case kSzZeroTail:
        case kSzJunkTail:
            return static_cast<uint32_t>(full + 8 * (1 + c.szval % 8));
        case kSzRaw:
            return c.szval;
        default:
            return static_cast<uint32_t>(full);
        }
    }

    // ioctl on a struct whose first field is argsz, honouring the call's
    // size and pointer modes; outputs are copied back.  0 or -errno.
    template <class T>
    int call_struct(unsigned t, const Call& c, int fd, unsigned long cmd, T& s) {
        Arena& a = arenas[t];
        uint32_t argsz = argsz_of(c, sizeof(T));
        s.argsz = argsz;
        size_t tail = 0;
        if (argsz > sizeof(T))
            tail = std::min<size_t>(argsz - sizeof(T), kErrOff - sizeof(T));
        std::memcpy(a.rw, &s, sizeof(T));
        std::memset(a.rw + sizeof(T), 0, tail);
        if (c.sz == kSzJunkTail && tail)
            a.rw[sizeof(T) + c.szval % tail] = static_cast<uint8_t>(1 + (c.szval >> 8) % 255);
        uint64_t p = place(t, c.pm, 0, sizeof(T), c.szval);
        int rc = ioctl(fd, cmd, reinterpret_cast<void*>(p)) == 0 ? 0 : -errno;
        std::memcpy(&s, a.rw, sizeof(T));
        return rc;
    }

    // --- guest RAM and page tables -------------------------------------
    uint64_t* table(uint64_t page) {
        return reinterpret_cast<uint64_t*>(ram + (page % kPages) * 4096);
    }
    static uint64_t gpa_of(uint64_t page) { return kGpaBase + page * 4096; }

    void pt_chain(bool five, uint64_t flags_tweak) {
        uint64_t f = kP | kRW | kUS | kA;
        if (flags_tweak & 1)
            f &= ~kRW;
        if (flags_tweak & 2)
            f &= ~kUS;
        if (five)
            table(4)[0] = gpa_of(0) | f;
        table(0)[0] = gpa_of(1) | f;
        table(1)[0] = gpa_of(2) | f;
        table(2)[(kIova >> 21) & 511] = gpa_of(3) | f;
        uint64_t leaf = f | ((flags_tweak & 4) ? kD : 0) | ((flags_tweak & 8) ? (1ull << 63) : 0);
        for (uint64_t i = 0; i < 64; i++)
            table(3)[((kIova >> 12) + i) & 511] = gpa_of(16 + i) | leaf;
    }

    // The chain's entry for kIova at a level: 0 PML4 .. 3 PT.
    uint64_t& chain_entry(uint64_t level) {
        static const uint64_t idx[4] = {0, 0, (kIova >> 21) & 511, (kIova >> 12) & 511};
        level %= 4;
        return table(level)[idx[level]];
    }

    void pt_write(const Call& c) {
        uint64_t a1 = c.a[1], a2 = c.a[2], a3 = c.a[3];
        switch (c.a[0] % 8) {
        case 0:
            pt_chain(a1 & 1, a3);
            break;
        case 1: { // a table entry pointing to its own table
            uint64_t pg = a1 % 16;
            table(pg)[a2 % 512] = gpa_of(pg) | kP | kRW | kUS | (a3 & (kA | kD | kPS));
            break;
        }
        case 2: // a huge page at any level (PML4 and PML5 included)
            chain_entry(a1) |= kPS | (a3 & 0x1ff000);
            if (a1 & 4)
                table(4)[0] |= kPS;
            break;
        case 3: // reserved / high bits
            chain_entry(a1) |= (a3 | 0x7ff0000000000000ull) & ~0xfffull;
            break;
        case 4: // a table outside the mapped stage-2 range (or beyond 2^48)
            chain_entry(a1) = (((a3 % 3) == 0   ? gpa_of(kPages)
                                : (a3 % 3) == 1 ? (a3 & 0x000ffffffffff000ull)
                                                : (1ull << 52) - 4096)) |
                              kP | kRW | kUS;
            break;
        case 5:
            table(a1)[a2 % 512] = a3;
            break;
        case 6: // PD -> PDPT and PDPT -> PML4: the walk loops
            table(2)[(kIova >> 21) & 511] = gpa_of(1) | kP | kRW | kUS;
            table(1)[0] = gpa_of(a1 & 1 ? 0 : 2) | kP | kRW | kUS;
            break;
        default:
            std::memset(table(a1 % 16), 0, 4096);
            break;
        }
    }

    // --- selectors ---------------------------------------------------
    static uint64_t gpa_sel(uint64_t v) {
        uint64_t p = param_of(v);
        switch (mode_of(v) % 8) {
        case 1:
            return gpa_of(p % kPages);
        case 2:
            return (p << 12) & ((1ull << 52) - 1);
        case 3:
            return p;
        case 4:
            return (1ull << 48) - 4096;
        case 5:
            return 1ull << 48;
        case 6:
            return ~0xfffull;
        case 7:
            return gpa_of(kPages);
        default:
            return kGpaBase;
        }
    }
    static uint64_t len_sel(uint64_t v) {
        uint64_t p = param_of(v);
        switch (mode_of(v) % 8) {
        case 1:
            return (1 + p % kPages) * 4096;
        case 2:
            return 1ull << 40;
        case 3:
            return p;
        case 4:
            return (p & 0xffffff) << 12;
        case 5:
            return 0;
        case 6:
            return 1ull << 63;
        case 7:
            return kRamSize - 4096;
        default:
            return kRamSize;
        }
    }
    uint64_t vaddr_sel(unsigned t, uint64_t v) {
        uint64_t p = param_of(v);
        switch (mode_of(v) % 8) {
        case 1:
            return reinterpret_cast<uint64_t>(ram_ro + (p % kPages) * 4096);
        case 2:
            return reinterpret_cast<uint64_t>(arenas[t].guard);
        case 3:
            return p;
        case 4:
            return reinterpret_cast<uint64_t>(arenas[t].rw);
        case 5:
            return filemap ? reinterpret_cast<uint64_t>(filemap) : 0;
        case 6:
            return reinterpret_cast<uint64_t>(ram + 1);
        case 7: // low and page aligned: vaddr + a huge length stays below TASK_SIZE
            return (p & 0xffffff) << 12;
        default:
            return reinterpret_cast<uint64_t>(ram + (p % kPages) * 4096);
        }
    }
    static uint64_t iova_sel(uint64_t v) {
        uint64_t p = param_of(v);
        switch (mode_of(v) % 8) {
        case 1:
            return p;
        case 2:
            return 0x0000800000000000ull + (p & 0xfffffff);
        case 3:
            return kIova + (2ull << 20);
        case 4:
            return 0;
        case 5:
            return ~0xfffull;
        default:
            return kIova + (p % 64) * 4096 + ((p >> 24) & 0xfff);
        }
    }
    static uint64_t dma_len_sel(uint64_t v) {
        uint64_t p = param_of(v);
        switch (mode_of(v) % 8) {
        case 1:
            return 4096;
        case 2:
            return 1 << 20;
        case 3:
            return (1 << 20) + 1;
        case 4:
            return 0;
        case 5:
            return p;
        default:
            return 1 + p % 8192;
        }
    }

    // --- nesting payloads ----------------------------------------------
    // Writes the payload (natural size n) at kPayloadOff, applies the mods,
    // returns data_len; *uptr gets the pointer per pointer mode.
    uint32_t payload(unsigned t, const void* p, size_t n, uint64_t mods, unsigned ptr_mode,
                     __u64* uptr) {
        uint8_t* b = arenas[t].rw + kPayloadOff;
        std::memset(b, 0, 4096 + 16);
        std::memcpy(b, p, n);
        uint32_t hi = static_cast<uint32_t>(mods >> 32);
        uint32_t argsz;
        switch (mods & 7) {
        case 1:
            argsz = hi % 16;
            break;
        case 2:
            argsz = static_cast<uint32_t>(16 + hi % n);
            break;
        case 3:
        case 4:
            argsz = static_cast<uint32_t>(n + 8 * (1 + hi % 4));
            if ((mods & 7) == 4)
                b[n + hi % (argsz - n)] = 0x5a;
            break;
        case 5:
            argsz = hi & 0xffff;
            break;
        default:
            argsz = *static_cast<const uint32_t*>(p);
            break;
        }
        std::memcpy(b, &argsz, 4);
        uint32_t dlen;
        switch ((mods >> 3) & 7) {
        case 1:
            dlen = static_cast<uint32_t>(n);
            break;
        case 2:
            dlen = argsz + 8;
            break;
        case 3:
            dlen = static_cast<uint32_t>(mods >> 16) & 0xffff;
            break;
        case 4:
            dlen = 0;
            break;
        case 5:
            dlen = 4097;
            break;
        default:
            dlen = argsz;
            break;
        }
        *uptr = place(t, ptr_mode, kPayloadOff, std::min<size_t>(dlen, 4096), hi);
        return dlen;
    }

    int nesting(unsigned t, const Call& c, int fd, unsigned long cmd, uint32_t flags,
                uint32_t target, const void* p, size_t n, uint64_t mods, uint64_t errsel) {
        vsva_nesting_op op = {};
        op.flags = flags;
        op.target_id = target;
        op.data_len =
                payload(t, p, n, mods, static_cast<unsigned>(errsel >> 8) & 0xff, &op.data_uptr);
        err(t, errsel, &op.err_uptr, &op.err_len);
        op.__reserved = 0;
        return call_struct(t, c, fd, cmd, op);
    }

    uint32_t target(unsigned i, uint32_t flags, uint64_t r) {
        return (flags & VSVA_TARGET_DOMAIN) ? dom(i, r) : dev(i, r);
    }

    vsva_gpasid_bind_data bind_data(unsigned i, const Call& c) {
        vsva_gpasid_bind_data b = {};
        uint64_t mods = c.a[5];
        b.argsz = sizeof(b);
        b.version = (mods & (1 << 6)) ? static_cast<uint32_t>(mods >> 16) & 0xff
                                      : VSVA_GPASID_BIND_VERSION_1;
        b.format = (mods & (1 << 7)) ? static_cast<uint32_t>(mods >> 24) & 0xff
                                     : VSVA_PASID_FORMAT_INTEL_VTD;
        switch (c.a[4] & 0xff) {
        case 1:
            b.addr_width = 57;
            break;
        case 2:
            b.addr_width = static_cast<uint32_t>(c.a[4] >> 32);
            break;
        default:
            b.addr_width = 48;
            break;
        }
        b.hpasid = pasid(i, c.a[2]);
        if (mods & (1 << 9)) {
            b.flags = VSVA_SVA_GPASID_VAL;
            b.gpasid = (mods >> 16) & 0xff;
        }
        if (mods & (1 << 10))
            b.flags |= 1ull << (2 + (mods >> 40) % 62);
        if (mods & (1 << 8))
            b.padding[(mods >> 48) % 8] = 1;
        uint64_t g = c.a[3], gp = param_of(g);
        switch (mode_of(g) % 8) {
        case 1:
            b.gpgd = gpa_of(gp % kPages);
            break;
        case 2:
            b.gpgd = gp;
            break;
        case 3:
            b.gpgd = gpa_of(kPages + gp % 64);
            break;
        case 4:
            b.gpgd = kGpaBase + 8;
            break;
        case 5:
            b.gpgd = gpa_of(4); // the PML5 page
            break;
        default:
            b.gpgd = b.addr_width == 57 ? gpa_of(4) : gpa_of(0);
            break;
        }
        b.vendor.vtd.flags = (c.a[4] >> 8) & 0xff;
        return b;
    }

    vsva_cache_invalidate_info inv_info(unsigned i, uint64_t pasid_ref, uint64_t kind,
                                        uint64_t addr, uint64_t gran) {
        vsva_cache_invalidate_info inv = {};
        inv.argsz = sizeof(inv);
        inv.version = VSVA_CACHE_INVALIDATE_INFO_VERSION_1;
        inv.cache = static_cast<uint8_t>((kind & (1 << 24)) ? (kind >> 32) & 0xff : kind & 7);
        inv.granularity = static_cast<uint8_t>(kind >> 8);
        uint32_t pasid_v = pasid(i, pasid_ref);
        uint32_t aflags = static_cast<uint32_t>(kind >> 16) & 0xff;
        if (inv.granularity == VSVA_INV_GRANU_PASID) {
            inv.granu.pasid_info.flags = aflags & 3 ? aflags & 3 : VSVA_INV_PASID_FLAGS_PASID;
            inv.granu.pasid_info.pasid = pasid_v;
        } else if (inv.granularity == VSVA_INV_GRANU_ADDR) {
            static const uint64_t g[4] = {4096, 2 << 20, 1 << 30, 0};
            inv.granu.addr_info.flags = aflags;
            inv.granu.addr_info.pasid = pasid_v;
            inv.granu.addr_info.addr = addr;
            inv.granu.addr_info.granule_size = g[gran & 3] ? g[gran & 3] : (gran >> 40);
            inv.granu.addr_info.nb_granules = (gran >> 8) & 0xffffffff;
        }
        return inv;
    }

    // --- the calls -------------------------------------------------------
    void run_call(unsigned t, const Call& c);
    void run_prog();
    void finish_prog();
    void dispatch(const Call& c, size_t idx);
    void worker_loop(unsigned t);
};

void Exec::run_call(unsigned t, const Call& c) {
    const uint64_t* a = c.a;
    unsigned i = fdi(c);
    int fd = vfd(i);
    int rc = 0;
    switch (c.op) {
    case kGetInfo: {
        vsva_info s = {};
        s.flags = static_cast<uint32_t>(a[0]);
        call_struct(t, c, fd, VSVA_GET_INFO, s);
        break;
    }
    case kDomainAlloc: {
        vsva_domain_alloc s = {};
        s.flags = static_cast<uint32_t>(a[0]);
        s.__reserved = static_cast<uint32_t>(a[1]);
        if (call_struct(t, c, fd, VSVA_DOMAIN_ALLOC, s) == 0)
            add(&Objs::doms, i, s.out_domain_id);
        break;
    }
    case kDomainDestroy:
    case kDetach: {
        vsva_destroy s = {};
        bool d = c.op == kDomainDestroy;
        s.id = d ? dom(i, a[0]) : dev(i, a[0]);
        s.flags = static_cast<uint32_t>(a[1]);
        s.__reserved = static_cast<uint32_t>(a[2]);
        if (call_struct(t, c, fd, d ? VSVA_DOMAIN_DESTROY : VSVA_DEVICE_DETACH, s) == 0)
            drop(d ? &Objs::doms : &Objs::devs, i, s.id);
        break;
    }
    case kMap: {
        vsva_map s = {};
        s.flags = static_cast<uint32_t>(a[0]);
        s.domain_id = dom(i, a[1]);
        s.gpa = gpa_sel(a[2]);
        s.length = len_sel(a[3]);
        s.vaddr = vaddr_sel(t, a[4]);
        err(t, a[5], &s.err_uptr, &s.err_len);
        s.__reserved = static_cast<uint32_t>(a[6]);
        s.__reserved2 = static_cast<uint32_t>(a[6] >> 32);
        call_struct(t, c, fd, VSVA_MAP, s);
        break;
    }
    case kUnmap: {
        vsva_unmap s = {};
        s.flags = static_cast<uint32_t>(a[0]);
        s.domain_id = dom(i, a[1]);
        s.gpa = gpa_sel(a[2]);
        s.length = len_sel(a[3]);
        s.__reserved = static_cast<uint32_t>(a[4]);
        call_struct(t, c, fd, VSVA_UNMAP, s);
        break;
    }
    case kAttach: {
        vsva_device_attach s = {};
        s.flags = static_cast<uint32_t>(a[0]);
        s.rid = a[1] < 20 ? kRids[a[1]] : static_cast<uint32_t>(param_of(a[1]) & 0xffff);
        s.domain_id = dom(i, a[2]);
        err(t, a[3], &s.err_uptr, &s.err_len);
        s.__reserved = static_cast<uint32_t>(a[4]);
        if (call_struct(t, c, fd, VSVA_DEVICE_ATTACH, s) == 0)
            add(&Objs::devs, i, s.out_dev_id);
        break;
    }
    case kPasidAlloc: {
        vsva_pasid_alloc s = {};
        s.flags = static_cast<uint32_t>(a[0]);
        s.gpasid = static_cast<uint32_t>(a[1]);
        s.min = static_cast<uint32_t>(a[2]);
        s.max = static_cast<uint32_t>(a[3]);
        err(t, a[4], &s.err_uptr, &s.err_len);
        s.__reserved2 = static_cast<uint32_t>(a[5]);
        if (call_struct(t, c, fd, VSVA_PASID_ALLOC, s) == 0)
            add(&Objs::pasids, i, s.out_hpasid);
        break;
    }
    case kPasidFree: {
        vsva_pasid_free s = {};
        s.hpasid = pasid(i, a[0]);
        s.flags = static_cast<uint32_t>(a[1]);
        s.__reserved = static_cast<uint32_t>(a[2]);
        if (call_struct(t, c, fd, VSVA_PASID_FREE, s) == 0)
            drop(&Objs::pasids, i, s.hpasid);
        break;
    }
    case kBind:
    case kUnbind: {
        auto b = bind_data(i, c);
        uint32_t fl = static_cast<uint32_t>(a[0]);
        nesting(t, c, fd, c.op == kBind ? VSVA_BIND_GPASID : VSVA_UNBIND_GPASID, fl,
                target(i, fl, a[1]), &b, sizeof(b), a[5], a[6]);
        break;
    }
    case kInvalidate: {
        auto inv = inv_info(i, a[2], a[3], a[4], a[5]);
        uint32_t fl = static_cast<uint32_t>(a[0]);
        nesting(t, c, fd, VSVA_CACHE_INVALIDATE, fl, target(i, fl, a[1]), &inv, sizeof(inv), a[6],
                a[7]);
        break;
    }
    case kInvalidateBatch: {
        vsva_cache_invalidate_batch s = {};
        s.flags = static_cast<uint32_t>(a[0]);
        s.target_id = target(i, s.flags, a[1]);
        static const uint32_t lens[6] = {56, 64, 4096, 0, 0, 57};
        uint64_t lm = mode_of(a[2]) % 6;
        s.entry_len = lm == 3 ? static_cast<uint32_t>(param_of(a[2])) : lens[lm];
        s.entry_num = static_cast<uint32_t>(a[3]);
        uint8_t* buf = arenas[t].rw + kBufOff;
        size_t room = kArena - kBufOff;
        Rng r(a[4]);
        size_t stride = s.entry_len ? s.entry_len : 56;
        for (size_t e = 0; e < s.entry_num && (e + 1) * stride <= room && e < 256; e++) {
            uint8_t* p = buf + e * stride;
            std::memset(p, 0, stride);
            if (r.one_in(8)) {
                for (size_t k = 0; k < std::min<size_t>(stride, 64); k++)
                    p[k] = static_cast<uint8_t>(r.next());
                continue;
            }
            uint64_t kind = (1 + r.below(7)) | (r.below(3) << 8) | ((1 | (r.below(2) << 2)) << 16);
            auto inv = inv_info(i, r.below(4), kind, kIova + r.below(64) * 4096,
                                r.below(3) | ((1 + r.below(8)) << 8));
            std::memcpy(p, &inv, std::min(stride, sizeof(inv)));
            if (stride > sizeof(inv) && r.one_in(8))
                p[sizeof(inv) + r.below(stride - sizeof(inv))] = 1;
        }
        s.data_uptr = place(t, static_cast<unsigned>(a[5]), kBufOff,
                            std::min<size_t>(size_t(s.entry_len) * s.entry_num, room), c.szval);
        err(t, a[6], &s.err_uptr, &s.err_len);
        s.__reserved = static_cast<uint32_t>(a[7]);
        s.__reserved2 = static_cast<uint32_t>(a[7] >> 32);
        call_struct(t, c, fd, VSVA_CACHE_INVALIDATE_BATCH, s);
        break;
    }
    case kFaultAlloc: {
        vsva_fault_alloc s = {};
        s.flags = static_cast<uint32_t>(a[0]);
        s.__reserved = static_cast<uint32_t>(a[1]);
        if (call_struct(t, c, fd, VSVA_FAULT_ALLOC, s) == 0) {
            std::lock_guard<std::mutex> g(mu);
            ffds.push_back({static_cast<int>(s.out_fault_fd), i});
        }
        break;
    }
    case kFaultRead:
    case kFaultPoll:
    case kFaultClose: {
        int ffd;
        unsigned owner;
        {
            std::lock_guard<std::mutex> g(mu);
            if (ffds.empty() || (a[0] >> 60) == 0xF) {
                ffd = fd; // a literal: the /dev/vsva fd itself
                owner = i;
            } else {
                const FaultFd& f = ffds[ffds.size() - 1 - a[0] % ffds.size()];
                ffd = f.fd;
                owner = f.owner;
            }
        }
        if (c.op == kFaultClose) {
            std::lock_guard<std::mutex> g(mu);
            for (auto& f : ffds)
                if (f.fd == ffd && ffd != fd) {
                    close(f.fd);
                    f.fd = -1;
                }
            break;
        }
        if (c.op == kFaultPoll) {
            pollfd p = {ffd, POLLIN, 0};
            poll(&p, 1, static_cast<int>(a[1] % 4));
            break;
        }
        static const size_t lens[6] = {80, 79, 160, 4096, 0, 0};
        size_t lm = mode_of(a[1]) % 6;
        size_t len = lm == 5 ? param_of(a[1]) : lens[lm];
        int fl = fcntl(ffd, F_GETFL);
        if (fl >= 0)
            fcntl(ffd, F_SETFL, (a[2] & 1) ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK));
        uint8_t* buf = arenas[t].rw + kBufOff;
        uint64_t p = place(t, static_cast<unsigned>(a[2] >> 8) & 0xff, kBufOff,
                           std::min<size_t>(len, 4096), c.szval);
        if (t == 0 && !(a[2] & 1)) {
            itimerval it = {{0, 20000}, {0, 20000}}; // until disarmed
            setitimer(ITIMER_REAL, &it, nullptr);
        }
        ssize_t n = read(ffd, reinterpret_cast<void*>(p), std::min<size_t>(len, 1 << 20));
        if (t == 0 && !(a[2] & 1)) {
            itimerval it = {};
            setitimer(ITIMER_REAL, &it, nullptr);
        }
        if (p == reinterpret_cast<uint64_t>(buf))
            for (ssize_t off = 0; off + 80 <= n; off += 80) {
                vsva_fault_event ev;
                std::memcpy(&ev, buf + off, sizeof(ev));
                if (ev.fault.type == VSVA_FAULT_PAGE_REQ)
                    add(&Objs::grpids, owner, ev.fault.prm.grpid);
            }
        break;
    }
    case kPageResponse: {
        vsva_page_response pr = {};
        pr.argsz = sizeof(pr);
        pr.version = (a[4] & (1 << 6)) ? 2 : VSVA_PAGE_RESP_VERSION_1;
        pr.flags = (a[4] & (1 << 11)) ? 0 : VSVA_PAGE_RESP_PASID_VALID;
        if (a[4] & (1 << 10))
            pr.flags |= 1u << (1 + (a[4] >> 40) % 31);
        pr.pasid = pasid(i, a[3]);
        pr.grpid = grpid(i, a[1]);
        pr.code = static_cast<uint32_t>(a[2]);
        nesting(t, c, fd, VSVA_PAGE_RESPONSE, static_cast<uint32_t>(a[6]), dev(i, a[0]), &pr,
                sizeof(pr), a[4], a[5]);
        break;
    }
    case kEmuDma: {
        vsva_emu_dma s = {};
        s.flags = static_cast<uint32_t>(a[0]);
        s.dev_id = dev(i, a[1]);
        s.pasid = pasid(i, a[2]);
        s.iova = iova_sel(a[3]);
        s.len = dma_len_sel(a[4]);
        s.buf_uptr = place(t, static_cast<unsigned>(a[5]), kBufOff,
                           std::min<size_t>(s.len, kArena - kBufOff), c.szval);
        bool wait = s.flags & VSVA_EMU_DMA_WAIT;
        if (t == 0 && wait) {
            itimerval it = {{0, 20000}, {0, 20000}}; // until disarmed
            setitimer(ITIMER_REAL, &it, nullptr);
        }
        rc = call_struct(t, c, fd, VSVA_EMU_DMA, s);
        if (t == 0 && wait) {
            itimerval it = {};
            setitimer(ITIMER_REAL, &it, nullptr);
        }
        if (rc == 0 && (s.out_flags & VSVA_EMU_DMA_PAGE_REQ))
            add(&Objs::grpids, i, s.out_grpid);
        break;
    }
    case kEmuPasidEntry: {
        vsva_emu_pasid_entry s = {};
        s.dev_id = dev(i, a[0]);
        s.pasid = pasid(i, a[1]);
        s.flags = static_cast<uint32_t>(a[2]);
        call_struct(t, c, fd, VSVA_EMU_PASID_ENTRY, s);
        break;
    }
    case kEmuCounters: {
        vsva_emu_counters s = {};
        s.flags = static_cast<uint32_t>(a[0]);
        call_struct(t, c, fd, VSVA_EMU_COUNTERS, s);
        break;
    }
    case kPtWrite:
        pt_write(c);
        break;
    case kOpen: {
        int nfd = open("/dev/vsva", O_RDWR | O_CLOEXEC);
        std::lock_guard<std::mutex> g(mu);
        if (vfds.size() < 4) {
            vfds.push_back(nfd);
            objs.emplace_back();
        } else if (nfd >= 0) {
            close(nfd);
        }
        break;
    }
    case kClose: {
        std::lock_guard<std::mutex> g(mu);
        if (!vfds.empty()) {
            unsigned k = static_cast<unsigned>(a[0] % vfds.size());
            if (vfds[k] >= 0)
                close(vfds[k]);
            vfds[k] = -1;
            objs[k] = Objs();
        }
        break;
    }
    case kRaw: {
        Rng r(a[1]);
        size_t n = a[2] % 256;
        uint8_t* b = arenas[t].rw;
        for (size_t k = 0; k < n; k++)
            b[k] = static_cast<uint8_t>(r.next());
        if (n >= 4 && !r.one_in(4)) {
            uint32_t sz = static_cast<uint32_t>(n);
            std::memcpy(b, &sz, 4);
        }
        unsigned long cmd;
        if (a[0] < 0x30)
            cmd = _IO(VSVA_TYPE, VSVA_CMD_BASE + a[0]);
        else // any direction, size and number, but only this driver's type
            cmd = _IOC((a[0] >> 8) & 3, VSVA_TYPE, a[0] & 0xff, (a[0] >> 16) & 0x3fff);
        uint64_t p = place(t, c.pm, 0, n, c.szval);
        ioctl(fd, cmd, reinterpret_cast<void*>(p));
        break;
    }
    case kSetup: {
        Call n; // default sizes and pointers
        vsva_domain_alloc d = {};
        if (call_struct(t, n, fd, VSVA_DOMAIN_ALLOC, d) != 0)
            break;
        add(&Objs::doms, i, d.out_domain_id);
        vsva_map m = {};
        m.flags = VSVA_MAP_READ | VSVA_MAP_WRITE;
        m.domain_id = d.out_domain_id;
        m.gpa = kGpaBase;
        m.length = kRamSize;
        m.vaddr = reinterpret_cast<uint64_t>(ram);
        call_struct(t, n, fd, VSVA_MAP, m);
        vsva_device_attach at = {};
        at.flags = static_cast<uint32_t>(a[1] & 3);
        at.rid = a[0] < 20 ? kRids[a[0]] : static_cast<uint32_t>(a[0] & 0xffff);
        at.domain_id = d.out_domain_id;
        if (call_struct(t, n, fd, VSVA_DEVICE_ATTACH, at) == 0)
            add(&Objs::devs, i, at.out_dev_id);
        vsva_pasid_alloc pa = {};
        if (call_struct(t, n, fd, VSVA_PASID_ALLOC, pa) == 0)
            add(&Objs::pasids, i, pa.out_hpasid);
        bool five = a[2] & 1;
        pt_chain(five, 0);
        vsva_gpasid_bind_data b = {};
        b.argsz = sizeof(b);
        b.version = VSVA_GPASID_BIND_VERSION_1;
        b.format = VSVA_PASID_FORMAT_INTEL_VTD;
        b.addr_width = five ? 57 : 48;
        b.gpgd = five ? gpa_of(4) : gpa_of(0);
        b.hpasid = pa.out_hpasid;
        nesting(t, n, fd, VSVA_BIND_GPASID, 0, at.out_dev_id, &b, sizeof(b), 0, 0);
        break;
    }
    default:
        break;
    }
    (void)rc;
    shm->calls_done.fetch_add(1, std::memory_order_relaxed);
}

void Exec::worker_loop(unsigned t) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    cover_begin(t);
    Worker& w = workers[t];
    std::unique_lock<std::mutex> lk(w.m);
    for (;;) {
        w.cv.wait(lk, [&] { return w.has || w.stop; });
        if (!w.has)
            break;
        Call c = w.call;
        w.has = false;
        w.busy = true;
        lk.unlock();
        run_call(t, c);
        lk.lock();
        w.busy = false;
        w.cv.notify_all();
    }
    w.done = true;
    w.cv.notify_all();
    lk.unlock();
    cover_end(t);
}

// Wait until worker t is idle: true, or false when it stays busy (blocked
// in a call even after a signal).
static bool wait_idle(Worker& w, std::unique_lock<std::mutex>& lk) {
    using namespace std::chrono_literals;
    if (w.cv.wait_for(lk, 20ms, [&] { return !w.has && !w.busy; }))
        return true;
    pthread_kill(w.handle, SIGUSR1);
    return w.cv.wait_for(lk, 100ms, [&] { return !w.has && !w.busy; });
}

void Exec::dispatch(const Call& c, size_t idx) {
    shm->cur_call.store(static_cast<uint32_t>(idx), std::memory_order_relaxed);
    unsigned t = c.thr % cfg.max_thr;
    if (t == 0 || forked_child || c.op == kFork || c.op == kExit) {
        if (c.op == kExit)
            _exit(0);
        if (c.op == kFork) {
            pid_t pid;
            {
                std::lock_guard<std::mutex> g(mu);
                pid = fork();
            }
            if (pid == 0) {
                forked_child = true;
                if (!(c.a[0] & 1))
                    _exit(0);
                return; // the child runs the rest of the program
            }
            if (pid > 0)
                children.push_back(pid);
            shm->calls_done.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        run_call(0, c);
        return;
    }
    Worker& w = workers[t];
    if (!w.th.joinable()) {
        w.has = w.busy = w.stop = w.done = false;
        w.th = std::thread([this, t] { worker_loop(t); });
        w.handle = w.th.native_handle();
    }
    std::unique_lock<std::mutex> lk(w.m);
    if (!wait_idle(w, lk))
        return; // still blocked: drop the call
    w.call = c;
    w.has = true;
    w.cv.notify_all();
}

// Workers stay alive across programs (their KCOV stays enabled): a
// program ends when each of them is idle again.
void Exec::finish_prog() {
    bool stuck = false;
    for (unsigned t = 1; t < kMaxThreads; t++) {
        Worker& w = workers[t];
        if (!w.th.joinable())
            continue;
        std::unique_lock<std::mutex> lk(w.m);
        bool ok =
                w.cv.wait_for(lk, std::chrono::milliseconds(20), [&] { return !w.has && !w.busy; });
        for (int k = 0; !ok && k < 10; k++) {
            pthread_kill(w.handle, SIGUSR1);
            ok = w.cv.wait_for(lk, std::chrono::milliseconds(50),
                               [&] { return !w.has && !w.busy; });
        }
        if (!ok)
            stuck = true;
    }
    for (pid_t pid : children) {
        int st;
        // Up to 200 ms for a child running the rest of the program.
        for (int k = 0; k < 400 && waitpid(pid, &st, WNOHANG) == 0; k++)
            usleep(500);
        if (kill(pid, SIGKILL) == 0)
            waitpid(pid, &st, 0);
    }
    children.clear();
    if (stuck)
        _exit(3); // a worker blocked in the kernel: exit_group ends it
    for (auto& f : ffds)
        if (f.fd >= 0)
            close(f.fd);
    ffds.clear();
    for (int fd : vfds)
        if (fd >= 0)
            close(fd);
    vfds.clear();
    objs.clear();
}

static uint64_t ns_now() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void Exec::run_prog() {
    uint64_t t0 = ns_now();
    std::memset(ram, 0, kRamSize);
    vfds.push_back(open("/dev/vsva", O_RDWR | O_CLOEXEC));
    objs.emplace_back();
    cover_begin(0);
    uint64_t t1 = ns_now();
    for (uint32_t k = 0; k < shm->ncalls && k < kMaxCalls; k++)
        dispatch(shm->calls[k], k);
    if (forked_child)
        _exit(0);
    uint64_t t2 = ns_now();
    finish_prog();
    cover_end(0);
    uint64_t t3 = ns_now();
    shm->ns_setup.fetch_add(t1 - t0, std::memory_order_relaxed);
    shm->ns_calls.fetch_add(t2 - t1, std::memory_order_relaxed);
    shm->ns_finish.fetch_add(t3 - t2, std::memory_order_relaxed);
}

} // namespace

void executor_main(int req_fd, int resp_fd, Shm* shm, const ExecConfig& cfg) {
    static Exec e; // large; lives for the process
    e.shm = shm;
    e.cfg = cfg;
    e.init();
    for (;;) {
        char b;
        if (read(req_fd, &b, 1) != 1)
            _exit(0);
        e.run_prog();
        b = 'k';
        if (write(resp_fd, &b, 1) != 1)
            _exit(0);
    }
}

} // namespace vfuzz
