// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libvsva internals: the shared context state, the object states and the
 * one funnel through which every ioctl passes.  Not installed; the native
 * unit tests include it to inject a fake kernel and to check encodings.
 */
#ifndef VSVA_SRC_CORE_H
#define VSVA_SRC_CORE_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include <linux/vsva.h>

#include <vsva/emu.h>
#include <vsva/vsva.h>

namespace vsva::detail {

/**
 * The system call behind the funnel: returns 0 or a negative errno.  The
 * default calls ioctl(2); unit tests pass a fake kernel.
 */
using IoctlFn = int (*)(void* cookie, int fd, unsigned long cmd, void* arg);

int sys_ioctl(void* cookie, int fd, unsigned long cmd, void* arg);

/** Size of the kernel's message buffer passed as err_uptr. */
inline constexpr std::size_t kErrLen = 256;

/* What the funnel needs to know about each argument struct. */
template <class T>
struct Cmd;

#define VSVA_CMD(T, nr, has_err)                                                                   \
    template <>                                                                                    \
    struct Cmd<T> {                                                                                \
        static constexpr unsigned long number = nr;                                                \
        static constexpr bool takes_err = has_err;                                                 \
    }

VSVA_CMD(vsva_info, VSVA_GET_INFO, false);
VSVA_CMD(vsva_domain_alloc, VSVA_DOMAIN_ALLOC, false);
VSVA_CMD(vsva_map, VSVA_MAP, true);
VSVA_CMD(vsva_unmap, VSVA_UNMAP, false);
VSVA_CMD(vsva_device_attach, VSVA_DEVICE_ATTACH, true);
VSVA_CMD(vsva_pasid_alloc, VSVA_PASID_ALLOC, true);
VSVA_CMD(vsva_pasid_free, VSVA_PASID_FREE, false);
VSVA_CMD(vsva_cache_invalidate_batch, VSVA_CACHE_INVALIDATE_BATCH, true);
VSVA_CMD(vsva_fault_alloc, VSVA_FAULT_ALLOC, false);
VSVA_CMD(vsva_emu_dma, VSVA_EMU_DMA, false);
VSVA_CMD(vsva_emu_pasid_entry, VSVA_EMU_PASID_ENTRY, false);
VSVA_CMD(vsva_emu_counters, VSVA_EMU_COUNTERS, false);
VSVA_CMD(vsva_emu_translate, VSVA_EMU_TRANSLATE, false);
#undef VSVA_CMD
/* vsva_nesting_op and vsva_destroy serve several commands: see call_as(). */

/* The layout this library was written against (upstream v1 byte layouts). */
static_assert(sizeof(vsva_gpasid_bind_data) == 72);
static_assert(sizeof(vsva_cache_invalidate_info) == 56);
static_assert(offsetof(vsva_cache_invalidate_info, granu) == 16);
static_assert(sizeof(vsva_inv_addr_info) == 40);
static_assert(sizeof(vsva_page_response) == 24);
static_assert(sizeof(vsva_fault) == 64);
static_assert(sizeof(vsva_fault_event) == 80);
static_assert(sizeof(vsva_info) == 72);
static_assert(sizeof(vsva_nesting_op) == 40);
static_assert(sizeof(vsva_cache_invalidate_batch) == 48);

/** The state every object of one context shares. */
struct Core {
    int fd = -1;
    IoctlFn ioctl = sys_ioctl;
    void* cookie = nullptr;
    Info info;
    bool err_msg = false; ///< pass err_uptr (the kernel knows the field)

    Core() = default;
    Core(const Core&) = delete;
    Core& operator=(const Core&) = delete;
    ~Core();

    /** The bare call, for the GET_INFO size probe only. */
    int raw(unsigned long cmd, void* arg) const { return ioctl(cookie, fd, cmd, arg); }

    /**
     * The funnel.  Sets argsz, wires the message buffer when the command
     * takes one, makes the call and turns a failure into an Error.
     */
    template <class T>
    Result<void> call(T& arg, const char* op) const {
        return call_as(Cmd<T>::number, arg, op);
    }

    /** The funnel for argument structs shared by several commands. */
    template <class T>
    Result<void> call_as(unsigned long cmd, T& arg, const char* op) const {
        static_assert(std::is_standard_layout_v<T> && std::is_trivially_copyable_v<T>);
        static_assert(offsetof(T, argsz) == 0 && sizeof(arg.argsz) == 4);
        static_assert(offsetof(T, flags) == 4, "every argument starts argsz, flags");
        static_assert(sizeof(T) % 8 == 0, "argument sizes are multiples of 8");
        arg.argsz = sizeof(T);
        if constexpr (requires { arg.err_uptr; }) {
            char msg[kErrLen];
            msg[0] = '\0';
            if (err_msg) {
                arg.err_uptr = reinterpret_cast<std::uintptr_t>(msg);
                arg.err_len = sizeof(msg);
            }
            int rc = ioctl(cookie, fd, cmd, &arg);
            arg.err_uptr = 0;
            arg.err_len = 0;
            if (rc < 0) [[unlikely]] {
                msg[sizeof(msg) - 1] = '\0';
                return fail(-rc, op, std::string(msg));
            }
            return {};
        } else {
            int rc = ioctl(cookie, fd, cmd, &arg);
            if (rc < 0) [[unlikely]]
                return fail(-rc, op);
            return {};
        }
    }
};

struct DomainState {
    std::shared_ptr<Core> core;
    std::uint32_t id = 0;
    bool released = false;
    ~DomainState();
};

struct DeviceState {
    std::shared_ptr<DomainState> dom;
    std::uint32_t id = 0;
    std::uint16_t rid = 0;
    DeviceCaps caps;
    bool released = false;
    ~DeviceState();
};

struct PasidState {
    std::shared_ptr<Core> core;
    std::uint32_t hpasid = 0;
    std::optional<std::uint32_t> gpasid;
    bool released = false;
    ~PasidState();
};

/** v1 payload encoders (exact bytes checked by the unit tests). */
void encode(const Invalidation& inv, vsva_cache_invalidate_info* out) noexcept;
void encode_bind(std::uint32_t hpasid, std::optional<std::uint32_t> gpasid, const BindConfig& cfg,
                 vsva_gpasid_bind_data* out) noexcept;

/** How far back (in merged entries) a new entry looks for one to join. */
inline constexpr std::size_t kMergeWindow = 128;

/**
 * Merge @v in place: the algorithm of InvalidationQueue.  In queue order,
 * each entry joins the nearest earlier entry of the same caches/PASID/LEAF/
 * granule key it touches, overlaps or duplicates, unless an entry between
 * them must stay ordered with it (other caches, same PASID or the domain).
 * Entries are never reordered otherwise.
 */
void merge_in_place(std::vector<Invalidation>& v);

/** A kernel fault record to its typed form; EPROTO for an unknown type. */
Result<FaultRecord> decode_fault(const vsva_fault_event& ev);

/** Reach into the public classes. */
struct Access {
    static const Core& core(const Context& c) { return *c.core_; }
    static const Core& core(const Device& d) { return *d.s_->dom->core; }
    static std::uint32_t device_id(const Device& d) { return d.s_->id; }
    static const std::shared_ptr<PasidState>& pasid_state(const Pasid& p) { return p.s_; }
    static Context make_context(std::shared_ptr<Core> core) { return Context(std::move(core)); }
    static FaultQueue make_fault_queue(int fd) { return FaultQueue(fd); }
    static const std::vector<Invalidation>& pending(const InvalidationQueue& q) {
        return q.pending_;
    }
    /* Invalidation mirrors struct vsva_cache_invalidate_info byte for byte. */
    static constexpr bool invalidation_layout_ok() {
        using I = Invalidation;
        using V = vsva_cache_invalidate_info;
        static_assert(sizeof(I) == sizeof(V) && alignof(I) == alignof(V));
        static_assert(std::is_standard_layout_v<I> && std::is_trivially_copyable_v<I>);
        static_assert(offsetof(I, argsz_) == offsetof(V, argsz));
        static_assert(offsetof(I, version_) == offsetof(V, version));
        static_assert(offsetof(I, cache_) == offsetof(V, cache));
        static_assert(offsetof(I, granu_) == offsetof(V, granularity));
        static_assert(offsetof(I, padding_) == offsetof(V, padding));
        static_assert(offsetof(I, flags_) == offsetof(V, granu.addr_info.flags));
        static_assert(offsetof(I, flags_) == offsetof(V, granu.pasid_info.flags));
        static_assert(offsetof(I, archid_) == offsetof(V, granu.addr_info.archid));
        static_assert(offsetof(I, pasid_) == offsetof(V, granu.addr_info.pasid));
        static_assert(offsetof(I, pasid_) == offsetof(V, granu.pasid_info.pasid));
        static_assert(offsetof(I, addr_) == offsetof(V, granu.addr_info.addr));
        static_assert(offsetof(I, granule_) == offsetof(V, granu.addr_info.granule_size));
        static_assert(offsetof(I, nb_) == offsetof(V, granu.addr_info.nb_granules));
        static_assert(Invalidation::kLeafFlag == VSVA_INV_ADDR_FLAGS_LEAF);
        return true;
    }
    static std::vector<Invalidation>& prepare(InvalidationQueue& q) { return q.prepare_in_place(); }
    /* A range entry's new extent (merging: aligned, checked by the caller). */
    static void set_extent(Invalidation& inv, std::uint64_t addr, std::uint64_t nb) {
        inv.addr_ = addr;
        inv.nb_ = nb;
    }
};

/**
 * Open a context through a given ioctl function (unit tests: a fake kernel
 * on /dev/null).  Context::open() is open_with(opts, sys_ioctl, nullptr).
 */
Result<Context> open_with(const OpenOptions& opts, IoctlFn fn, void* cookie);

/** Context::adopt() through a given ioctl function. */
Result<Context> adopt_with(int fd, Feature require, IoctlFn fn, void* cookie);

/** Submit prepared entries to a target (device id or domain id). */
Result<BatchOutcome> submit_batch(const Core& core, std::uint32_t flags, std::uint32_t target,
                                  std::span<const Invalidation> entries);

} // namespace vsva::detail

#endif // VSVA_SRC_CORE_H
