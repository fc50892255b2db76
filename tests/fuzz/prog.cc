// SPDX-License-Identifier: GPL-2.0
// vsva-fuzz programs: names, text format, generation and mutation.  What
// each argument means is documented at the top of exec.cc (one place).
#include "prog.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace vfuzz {

namespace {

const char* const kNames[kNumOps] = {
        "GET_INFO",
        "DOMAIN_ALLOC",
        "DOMAIN_DESTROY",
        "MAP",
        "UNMAP",
        "DEVICE_ATTACH",
        "DEVICE_DETACH",
        "PASID_ALLOC",
        "PASID_FREE",
        "BIND_GPASID",
        "UNBIND_GPASID",
        "CACHE_INVALIDATE",
        "CACHE_INV_BATCH",
        "FAULT_ALLOC",
        "FAULT_READ",
        "FAULT_POLL",
        "FAULT_CLOSE",
        "PAGE_RESPONSE",
        "EMU_DMA",
        "EMU_PASID_ENTRY",
        "EMU_COUNTERS",
        "PT_WRITE",
        "OPEN",
        "CLOSE",
        "FORK",
        "EXIT",
        "RAW",
        "SETUP",
};

// How often each op is generated (relative).
const unsigned kWeight[kNumOps] = {
        1, // GET_INFO
        4, // DOMAIN_ALLOC
        2, // DOMAIN_DESTROY
        4, // MAP
        3, // UNMAP
        4, // DEVICE_ATTACH
        2, // DEVICE_DETACH
        4, // PASID_ALLOC
        2, // PASID_FREE
        6, // BIND_GPASID
        3, // UNBIND_GPASID
        5, // CACHE_INVALIDATE
        4, // CACHE_INV_BATCH
        2, // FAULT_ALLOC
        3, // FAULT_READ
        1, // FAULT_POLL
        1, // FAULT_CLOSE
        3, // PAGE_RESPONSE
        8, // EMU_DMA
        2, // EMU_PASID_ENTRY
        1, // EMU_COUNTERS
        5, // PT_WRITE
        1, // OPEN
        1, // CLOSE
        1, // FORK
        1, // EXIT (rarer still: see gen_call)
        1, // RAW
        4, // SETUP
};

uint32_t interesting32(Rng& r) {
    static const uint32_t v[] = {0,          1,          2,          3,          0xff,
                                 0x100,      0xffff,     0x10000,    0xfffff,    0x100000,
                                 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 4096,
                                 4095,       56,         57,         80,         1024};
    if (r.one_in(4))
        return static_cast<uint32_t>(r.next());
    return v[r.below(sizeof(v) / sizeof(v[0]))];
}

uint64_t interesting64(Rng& r) {
    static const uint64_t v[] = {0,
                                 1,
                                 0xfff,
                                 0x1000,
                                 0x200000,
                                 0x40000000,
                                 1ull << 39,
                                 1ull << 40,
                                 1ull << 47,
                                 1ull << 48,
                                 0x00007ffffffff000ull,
                                 0x0000800000000000ull,
                                 0xffff800000000000ull,
                                 0x7fffffffffffffffull,
                                 0x8000000000000000ull,
                                 ~0ull,
                                 ~0xfffull};
    if (r.one_in(3))
        return r.next();
    return v[r.below(sizeof(v) / sizeof(v[0]))];
}

// An object reference: mostly a recent object, sometimes a literal.
uint64_t ref(Rng& r) {
    if (r.one_in(6))
        return lit(interesting32(r));
    return r.below(3);
}

// Mostly the given sane value, sometimes something else.
uint64_t flags_or(Rng& r, uint64_t sane, unsigned bits = 32) {
    if (!r.one_in(8))
        return sane;
    uint64_t v = r.one_in(2) ? (1ull << r.below(bits)) : r.next();
    return bits >= 64 ? v : (v & ((1ull << bits) - 1));
}

uint64_t reserved(Rng& r) {
    return r.one_in(16) ? interesting32(r) : 0;
}

// A "selector": mode in the low bits (mostly the sane mode 0), a random
// parameter above.
uint64_t sel(Rng& r, unsigned modes, unsigned sane_pct = 70) {
    uint64_t mode = r.below(100) < sane_pct ? 0 : r.below(modes);
    return mode | (r.next() << 8);
}

// Payload modifications (exec.cc: struct PayloadMods).
uint64_t pmods(Rng& r) {
    if (!r.one_in(4))
        return 0;
    uint64_t m = 0;
    m |= r.below(6);                  // payload argsz mode
    m |= r.below(6) << 3;             // data_len mode
    m |= uint64_t(r.one_in(4)) << 6;  // bad version
    m |= uint64_t(r.one_in(4)) << 7;  // bad format
    m |= uint64_t(r.one_in(4)) << 8;  // non-zero padding
    m |= uint64_t(r.one_in(2)) << 9;  // gpasid valid
    m |= uint64_t(r.one_in(4)) << 10; // junk payload flags
    m |= uint64_t(r.one_in(4)) << 11; // PASID_VALID off (page response)
    m |= (r.next() & 0xffffull) << 16;
    m |= (r.next() & 0xffffffffull) << 32;
    return m;
}

uint64_t err_sel(Rng& r) {
    return r.one_in(2) ? 0 : r.below(6);
}

} // namespace

const char* op_name(unsigned op) {
    return op < kNumOps ? kNames[op] : "?";
}

int op_by_name(const std::string& name) {
    for (unsigned i = 0; i < kNumOps; i++)
        if (name == kNames[i])
            return static_cast<int>(i);
    return -1;
}

Call gen_call(Rng& r, unsigned max_thr) {
    unsigned total = 0;
    for (unsigned w : kWeight)
        total += w;
    unsigned op;
    // Exit ends the executor (a restart costs as much as several programs)
    // and fork splits a program: keep both rare wherever a call is made,
    // in a new program and in a mutation alike.
    do {
        uint64_t pick = r.below(total);
        op = 0;
        while (pick >= kWeight[op]) {
            pick -= kWeight[op];
            op++;
        }
    } while ((op == kExit && !r.one_in(8)) || (op == kFork && !r.one_in(3)));
    Call c;
    c.op = static_cast<uint8_t>(op);
    c.thr = (max_thr > 1 && r.one_in(4)) ? static_cast<uint8_t>(1 + r.below(max_thr - 1)) : 0;
    c.fd = r.one_in(5) ? static_cast<uint8_t>(r.below(4)) : 0;
    if (r.one_in(6)) {
        c.sz = static_cast<uint8_t>(r.below(kNumSizeModes));
        c.szval = r.one_in(2) ? static_cast<uint32_t>(r.below(64)) : interesting32(r);
    }
    if (r.one_in(12))
        c.pm = static_cast<uint8_t>(r.below(kNumPtrModes));
    uint64_t* a = c.a;
    switch (op) {
    case kGetInfo:
    case kEmuCounters:
        a[0] = flags_or(r, 0);
        break;
    case kDomainAlloc:
    case kFaultAlloc:
        a[0] = flags_or(r, 0);
        a[1] = reserved(r);
        break;
    case kDomainDestroy:
    case kDetach:
    case kPasidFree:
        a[0] = ref(r);
        a[1] = flags_or(r, 0);
        a[2] = reserved(r);
        break;
    case kMap:
        a[0] = flags_or(r, r.one_in(4) ? 1 + r.below(2) : 3, 8);
        a[1] = ref(r);
        a[2] = sel(r, 8);
        a[3] = sel(r, 8);
        a[4] = sel(r, 8);
        a[5] = err_sel(r);
        a[6] = reserved(r);
        break;
    case kUnmap:
        a[0] = flags_or(r, 0);
        a[1] = ref(r);
        a[2] = sel(r, 8);
        a[3] = sel(r, 8);
        a[4] = reserved(r);
        break;
    case kAttach:
        a[0] = flags_or(r, r.below(4), 8);
        a[1] = r.below(100) < 90 ? r.below(20) : sel(r, 32, 0);
        a[2] = ref(r);
        a[3] = err_sel(r);
        a[4] = reserved(r);
        break;
    case kPasidAlloc:
        a[0] = flags_or(r, r.one_in(2) ? 1 : 0, 8);
        a[1] = r.one_in(2) ? r.below(64) : interesting32(r);
        a[2] = r.one_in(4) ? interesting32(r) : 0;
        a[3] = r.one_in(4) ? interesting32(r) : 0;
        a[4] = err_sel(r);
        a[5] = reserved(r);
        break;
    case kBind:
    case kUnbind:
        a[0] = flags_or(r, r.one_in(4) ? 1 : 0, 8);
        a[1] = ref(r);
        a[2] = ref(r);
        a[3] = sel(r, 6);
        a[4] = (r.one_in(3) ? 1 : (r.one_in(10) ? 2 : 0)) |
               (r.one_in(4) ? (r.next() & 0xff) << 8 : 0) | (uint64_t(interesting32(r)) << 32);
        a[5] = pmods(r);
        a[6] = err_sel(r);
        a[7] = reserved(r);
        break;
    case kInvalidate: {
        a[0] = flags_or(r, r.one_in(4) ? 1 : 0, 8);
        a[1] = ref(r);
        a[2] = ref(r);
        uint64_t cache = 1 + r.below(7);
        uint64_t granu = r.below(r.one_in(10) ? 256 : 3);
        uint64_t aflags = r.one_in(8) ? r.below(8) : (1 | (r.below(2) << 2));
        a[3] = cache | (granu << 8) | (aflags << 16) |
               (r.one_in(10) ? (1ull << 24) | (r.next() & 0xff) << 32 : 0);
        a[4] = r.one_in(4) ? interesting64(r) : 0x400000 + r.below(64) * 4096;
        a[5] = r.below(r.one_in(6) ? 4 : 3) |
               ((r.one_in(4) ? interesting32(r) : 1 + r.below(64)) << 8);
        a[6] = pmods(r);
        a[7] = err_sel(r);
        break;
    }
    case kInvalidateBatch:
        a[0] = flags_or(r, r.one_in(4) ? 1 : 0, 8);
        a[1] = ref(r);
        a[2] = sel(r, 6);
        a[3] = r.one_in(8) ? interesting32(r) : r.below(9);
        a[4] = r.next();
        a[5] = r.one_in(10) ? r.below(kNumPtrModes) : 0;
        a[6] = err_sel(r);
        a[7] = reserved(r);
        break;
    case kFaultRead:
        a[0] = ref(r);
        a[1] = sel(r, 6);
        a[2] = (r.one_in(8) ? 0 : 1) | (r.one_in(10) ? r.below(kNumPtrModes) << 8 : 0);
        break;
    case kFaultPoll:
        a[0] = ref(r);
        a[1] = r.below(3);
        break;
    case kFaultClose:
        a[0] = ref(r);
        break;
    case kPageResponse:
        a[0] = ref(r);
        a[1] = ref(r);
        a[2] = r.one_in(6) ? interesting32(r) : r.below(3);
        a[3] = ref(r);
        a[4] = pmods(r);
        a[5] = err_sel(r);
        a[6] = flags_or(r, 0, 8);
        break;
    case kEmuDma:
        // VSVA_EMU_DMA_WAIT (8) blocks until a page response: not too often.
        a[0] = flags_or(r, r.below(8) | (r.one_in(8) ? 8 : 0), 8);
        a[1] = ref(r);
        a[2] = ref(r);
        a[3] = sel(r, 6);
        a[4] = sel(r, 6);
        a[5] = r.one_in(10) ? r.below(kNumPtrModes) : 0;
        break;
    case kEmuPasidEntry:
        a[0] = ref(r);
        a[1] = ref(r);
        a[2] = flags_or(r, 0);
        break;
    case kPtWrite:
        a[0] = r.below(8);
        a[1] = r.next() & 0xffff;
        a[2] = r.next() & 0xffff;
        a[3] = r.one_in(2) ? interesting64(r) : r.next();
        break;
    case kClose:
    case kFork:
        a[0] = r.below(4);
        break;
    case kRaw:
        a[0] = r.one_in(4) ? r.next() : r.below(0x30);
        a[1] = r.next();
        a[2] = r.below(256);
        break;
    case kSetup:
        a[0] = r.below(100) < 90 ? r.below(20) : r.next();
        a[1] = r.below(4);
        a[2] = r.one_in(4) ? 1 : 0;
        a[3] = r.next();
        break;
    default:
        break;
    }
    return c;
}

Prog gen_prog(Rng& r, unsigned max_thr) {
    Prog p;
    // About 22 calls on average: opening and tearing down a context per
    // program is a third of the time of a short one.
    size_t n = 8 + r.below(r.one_in(3) ? kMaxCalls - 8 : 24);
    if (r.one_in(2)) {
        Call s;
        s.op = kSetup;
        s.a[0] = r.below(20);
        s.a[1] = r.below(4);
        s.a[2] = r.one_in(4);
        p.calls.push_back(s);
    }
    while (p.calls.size() < n)
        p.calls.push_back(gen_call(r, max_thr));
    return p;
}

void mutate(Rng& r, Prog& p, const Prog* other, unsigned max_thr) {
    unsigned n = 1 + static_cast<unsigned>(r.below(4));
    for (unsigned k = 0; k < n; k++) {
        unsigned what = static_cast<unsigned>(r.below(10));
        if (p.calls.empty())
            what = 0;
        switch (what) {
        case 0: // insert a new call
        case 1:
            if (p.calls.size() < kMaxCalls)
                p.calls.insert(p.calls.begin() + static_cast<long>(r.below(p.calls.size() + 1)),
                               gen_call(r, max_thr));
            break;
        case 2: // remove a call
            if (p.calls.size() > 1)
                p.calls.erase(p.calls.begin() + static_cast<long>(r.below(p.calls.size())));
            break;
        case 3: { // one argument: bit flip, small delta, interesting, random
            Call& c = p.calls[r.below(p.calls.size())];
            uint64_t& v = c.a[r.below(kArgs)];
            switch (r.below(5)) {
            case 0:
                v ^= 1ull << r.below(64);
                break;
            case 1:
                v += r.below(9) - 4;
                break;
            case 2:
                v = interesting64(r);
                break;
            case 3:
                v = lit(interesting32(r));
                break;
            default:
                v = r.below(4);
                break;
            }
            break;
        }
        case 4: { // size / pointer / thread / fd
            Call& c = p.calls[r.below(p.calls.size())];
            switch (r.below(4)) {
            case 0:
                c.sz = static_cast<uint8_t>(r.below(kNumSizeModes));
                c.szval = r.one_in(2) ? static_cast<uint32_t>(r.below(64)) : interesting32(r);
                break;
            case 1:
                c.pm = static_cast<uint8_t>(r.below(kNumPtrModes));
                break;
            case 2:
                c.thr = max_thr > 1 ? static_cast<uint8_t>(r.below(max_thr)) : 0;
                break;
            default:
                c.fd = static_cast<uint8_t>(r.below(4));
                break;
            }
            break;
        }
        case 5: // regenerate a call's arguments, same op
        {
            Call& c = p.calls[r.below(p.calls.size())];
            Call g;
            do
                g = gen_call(r, max_thr);
            while (g.op != c.op && !r.one_in(8));
            c = g;
            break;
        }
        case 6: // duplicate a call
            if (p.calls.size() < kMaxCalls) {
                size_t i = r.below(p.calls.size());
                p.calls.insert(p.calls.begin() + static_cast<long>(i), p.calls[i]);
            }
            break;
        case 7: // swap two calls
        {
            size_t i = r.below(p.calls.size()), j = r.below(p.calls.size());
            std::swap(p.calls[i], p.calls[j]);
            break;
        }
        case 8: // splice another program's tail
            if (other && !other->calls.empty()) {
                size_t keep = r.below(p.calls.size() + 1);
                size_t from = r.below(other->calls.size());
                p.calls.resize(keep);
                for (size_t i = from; i < other->calls.size() && p.calls.size() < kMaxCalls; i++)
                    p.calls.push_back(other->calls[i]);
            }
            break;
        default: // re-run a call on another thread (races)
            if (p.calls.size() < kMaxCalls && max_thr > 1) {
                Call c = p.calls[r.below(p.calls.size())];
                c.thr = static_cast<uint8_t>(1 + r.below(max_thr - 1));
                p.calls.insert(p.calls.begin() + static_cast<long>(r.below(p.calls.size() + 1)), c);
            }
            break;
        }
    }
    if (p.calls.size() > kMaxCalls)
        p.calls.resize(kMaxCalls);
}

std::string to_text(const Prog& p) {
    std::string s;
    char line[512];
    for (const Call& c : p.calls) {
        int n = std::snprintf(line, sizeof(line), "%s %x %x %x %x %" PRIx32, op_name(c.op), c.thr,
                              c.fd, c.sz, c.pm, c.szval);
        for (uint64_t v : c.a)
            n += std::snprintf(line + n, sizeof(line) - static_cast<size_t>(n), " %" PRIx64, v);
        s += line;
        s += '\n';
    }
    return s;
}

bool from_text(const std::string& text, Prog* p, std::string* err) {
    std::istringstream in(text);
    std::string line;
    int lineno = 0;
    p->calls.clear();
    while (std::getline(in, line)) {
        lineno++;
        if (auto h = line.find('#'); h != std::string::npos)
            line.resize(h);
        std::istringstream ls(line);
        std::string name;
        if (!(ls >> name))
            continue;
        int op = op_by_name(name);
        if (op < 0) {
            *err = "line " + std::to_string(lineno) + ": unknown op " + name;
            return false;
        }
        Call c;
        c.op = static_cast<uint8_t>(op);
        uint64_t f[5 + kArgs] = {};
        std::string tok;
        int i = 0;
        while (ls >> tok) {
            if (i >= 5 + kArgs) {
                *err = "line " + std::to_string(lineno) + ": too many fields";
                return false;
            }
            char* end = nullptr;
            f[i++] = std::strtoull(tok.c_str(), &end, 16);
            if (!end || *end) {
                *err = "line " + std::to_string(lineno) + ": bad number " + tok;
                return false;
            }
        }
        c.thr = static_cast<uint8_t>(f[0] & 3);
        c.fd = static_cast<uint8_t>(f[1]);
        c.sz = static_cast<uint8_t>(f[2] % kNumSizeModes);
        c.pm = static_cast<uint8_t>(f[3] % kNumPtrModes);
        c.szval = static_cast<uint32_t>(f[4]);
        for (int k = 0; k < kArgs; k++)
            c.a[k] = f[5 + k];
        if (p->calls.size() >= kMaxCalls) {
            *err = "more than " + std::to_string(kMaxCalls) + " calls";
            return false;
        }
        p->calls.push_back(c);
    }
    return true;
}

} // namespace vfuzz
