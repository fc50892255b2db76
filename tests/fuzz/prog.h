// SPDX-License-Identifier: GPL-2.0
// vsva-fuzz programs: a call sequence over every /dev/vsva ioctl plus the
// fault fd, guest page-table writes, open/close/fork/exit.  A program is
// plain data (POD calls), so it can be copied to the executor through shared
// memory, printed as text, parsed back and mutated.  tests/README.md
// documents the text format.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vfuzz {

// Every operation a call can make.  Append only: corpus files name them.
enum Op : uint8_t {
    kGetInfo,
    kDomainAlloc,
    kDomainDestroy,
    kMap,
    kUnmap,
    kAttach,
    kDetach,
    kPasidAlloc,
    kPasidFree,
    kBind,
    kUnbind,
    kInvalidate,
    kInvalidateBatch,
    kFaultAlloc,
    kFaultRead,
    kFaultPoll,
    kFaultClose,
    kPageResponse,
    kEmuDma,
    kEmuPasidEntry,
    kEmuCounters,
    kPtWrite, // write guest page-table entries into guest RAM
    kOpen,    // open one more /dev/vsva
    kClose,   // close a /dev/vsva fd mid-sequence
    kFork,    // fork: the child exits at once or runs the rest
    kExit,    // the executor exits mid-sequence (threads still in calls)
    kRaw,     // any command number, random argument bytes
    kSetup,   // macro: domain, map, attach, PASID, page tables, bind
    kNumOps,
};

const char* op_name(unsigned op);
int op_by_name(const std::string& name);

// Size of the ioctl argument (argsz) relative to the struct's size.
enum SizeMode : uint8_t {
    kSzExact,    // sizeof(struct)
    kSzSmall,    // szval % 8: below any minimum
    kSzOlder,    // between 8 and sizeof (an older user)
    kSzZeroTail, // sizeof + a zeroed tail (a newer user)
    kSzJunkTail, // sizeof + a tail with one non-zero byte
    kSzRaw,      // szval as is
    kNumSizeModes,
};

// Where the argument struct lives.
enum PtrMode : uint8_t {
    kPtrNormal,   // writable scratch page
    kPtrReadOnly, // a read-only view of the same bytes: copy-out fails
    kPtrStraddle, // ends in an unmapped guard page
    kPtrNull,
    kPtrKernel, // a kernel address
    kNumPtrModes,
};

constexpr int kArgs = 8;

// One call.  Argument meaning depends on the op (see exec in fuzz.cc);
// values that name an object (domain, device, PASID, page request group,
// fault fd) are references: see ref().
struct Call {
    uint8_t op = 0;
    uint8_t thr = 0; // 0 = the executor's main thread, 1..3 = workers (async)
    uint8_t fd = 0;  // which /dev/vsva fd of the program (modulo open ones)
    uint8_t sz = 0;  // SizeMode
    uint8_t pm = 0;  // PtrMode of the argument struct
    uint8_t pad[3] = {};
    uint32_t szval = 0;
    uint64_t a[kArgs] = {};
};

constexpr size_t kMaxCalls = 48;

struct Prog {
    std::vector<Call> calls;
};

// A value in an id argument: top nibble 0xF = the literal low 32 bits;
// else the (v % n)-th most recent object of that kind.
constexpr uint64_t kLit = 0xFull << 60;
inline uint64_t lit(uint32_t v) {
    return kLit | v;
}

// xorshift64*.
struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed ? seed : 0x9E3779B97F4A7C15ull) {}
    uint64_t next() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 2685821657736338717ull;
    }
    uint64_t below(uint64_t n) { return n ? next() % n : 0; }
    bool one_in(uint64_t n) { return below(n) == 0; }
};

// Text: one call per line,
//   NAME thr fd sz pm szval a0 a1 a2 a3 a4 a5 a6 a7
// numbers in hex (0x optional); '#' starts a comment.  Returns false and
// sets *err on a malformed line.
std::string to_text(const Prog& p);
bool from_text(const std::string& text, Prog* p, std::string* err);

// A fresh random call / program, and mutations of one.
Call gen_call(Rng& r, unsigned max_thr);
Prog gen_prog(Rng& r, unsigned max_thr);
void mutate(Rng& r, Prog& p, const Prog* other, unsigned max_thr);

} // namespace vfuzz
