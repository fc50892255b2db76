// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libvsva: the C++20 shim a VMM links to drive /dev/vsva.
 *
 *   auto ctx = vsva::Context::open({.require = vsva::Feature::Nesting});
 *   auto dom = ctx->create_domain();
 *   auto ram = dom->map(gpa, host_ptr, size);
 *   auto dev = dom->attach(rid);
 *   auto pasid = ctx->alloc_pasid({.gpasid = 5});
 *   auto bound = dev->bind(*pasid, {.gpgd = guest_cr3});
 *   dev->invalidate(*vsva::Invalidation::pasid(vsva::Cache::Iotlb, pasid->hpasid()));
 *
 * Ownership.  Context, Domain, Mapping, Device, Pasid, Binding and
 * FaultQueue are move-only owners.  Each comes from its parent's factory
 * (Context -> Domain -> Device/Mapping; Context -> Pasid; Device/Domain +
 * Pasid -> Binding).  A child keeps what it depends on alive: the kernel
 * object behind a Domain is destroyed when the Domain and every Mapping and
 * Device made from it are gone; a Device is detached when the Device and its
 * Bindings are gone; the /dev/vsva fd is closed when the last object of the
 * context is gone.  Owners can therefore be destroyed in any order, and
 * destructors never fail: they release through the kernel and ignore what
 * cannot be reported (the kernel also releases everything when the fd
 * closes or the process dies).  The explicit release calls (unmap(),
 * detach(), free(), unbind(), destroy()) report errors.
 *
 * Threads.  Every const-qualified operation (map, attach, alloc_pasid,
 * bind, invalidate, respond, info...) may be called concurrently from any
 * number of threads on the same or different objects of one Context: the
 * library keeps no mutable shared state, each call is one ioctl with
 * buffers on the caller's stack, and the kernel serialises what needs it.
 * Not thread-safe, as for any C++ object: moving, assigning or destroying
 * an object (or calling its non-const release calls) while another thread
 * uses that same object.  InvalidationQueue and FaultQueue::read() are
 * meant for one thread each.  Destroying different objects of one Context
 * on different threads is safe (reference counts are atomic).
 *
 * Moved-from objects may only be assigned to or destroyed (like
 * std::unique_ptr, their accessors assume an object).  After fork(), the
 * child must neither use nor destroy the parent's objects: they share the
 * parent's fd, so a destructor would release the parent's kernel objects
 * (exec or _exit instead; the kernel cleans up when the last fd closes).
 *
 * Errors are values (vsva/result.h); nothing throws except std::bad_alloc
 * from the allocator.  Every call that takes an err_uptr buffer passes one
 * (a 256-byte buffer on the caller's stack; the field is part of every v1
 * struct that has it), and the kernel's sentence ends up in
 * Error::message().
 */
#ifndef VSVA_VSVA_H
#define VSVA_VSVA_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include <vsva/export.h> // first: states the C++20 requirement
#include <vsva/invalidate.h>
#include <vsva/result.h>

namespace vsva {

namespace detail {
struct Core;
struct DomainState;
struct DeviceState;
struct PasidState;
struct Access;
} // namespace detail

/** Library version, as "major.minor.patch". */
VSVA_EXPORT std::string_view library_version() noexcept;

/** Kernel features (VSVA_FEAT_*); combine with |. */
enum class Feature : std::uint64_t {
    None = 0,
    Nesting = 1ull << 0,         ///< bind guest PASID tables over stage 2
    BatchInvalidate = 1ull << 1, ///< VSVA_CACHE_INVALIDATE_BATCH
    PageRequest = 1ull << 2,     ///< page requests and responses (PRI)
    ErrorMessages = 1ull << 3,   ///< failing calls return a sentence
    Emulation = 1ull << 4,       ///< the emulated IOMMU's commands (vsva/emu.h)
    SystemWidePasid = 1ull << 5, ///< one system-wide PASID space
    SeparateDevTlb = 1ull << 6,  ///< VSVA_INV_SEPARATE_DEVTLB (device TLB flushed only when asked)
    RidPasid = 1ull << 7,        ///< requests without PASID (VSVA_RID_PASID_OK)
    EmuTranslate = 1ull << 8,    ///< VSVA_EMU_TRANSLATE (emu::translate)
    BindReplace = 1ull << 9,     ///< VSVA_BIND_REPLACE: a bound PASID repointed in place
};
constexpr Feature operator|(Feature a, Feature b) noexcept {
    return static_cast<Feature>(static_cast<std::uint64_t>(a) | static_cast<std::uint64_t>(b));
}
constexpr Feature operator&(Feature a, Feature b) noexcept {
    return static_cast<Feature>(static_cast<std::uint64_t>(a) & static_cast<std::uint64_t>(b));
}
/** The VSVA_FEAT_* macro name of a single feature ("VSVA_FEAT_NESTING"). */
VSVA_EXPORT std::string_view feature_macro(Feature single) noexcept;
/** A human description of a single feature ("batched cache invalidation"). */
VSVA_EXPORT std::string_view feature_description(Feature single) noexcept;

/**
 * Info - what the kernel reported in VSVA_GET_INFO, plus what negotiation
 * learned.  Fields an older kernel does not know read as 0.
 */
struct Info {
    std::uint32_t uapi_version = 0;       ///< VSVA_UAPI_VERSION of the module
    std::uint32_t module_version = 0;     ///< (major << 16) | (minor << 8) | patch
    std::uint32_t bind_versions = 0;      ///< bit N: bind payload vN accepted
    std::uint32_t inv_versions = 0;       ///< bit N: invalidate payload vN
    std::uint32_t page_resp_versions = 0; ///< bit N: page response vN
    std::uint32_t formats = 0;            ///< bit N: PASID table format N
    std::uint32_t inv_matrix = 0;         ///< VSVA_INV_MATRIX_BIT() set
    std::uint32_t addr_widths = 0;        ///< VSVA_AW_*
    std::uint32_t pasid_bits = 0;         ///< system-wide PASID width
    std::uint32_t gpa_bits = 0;           ///< stage-2 input width
    std::uint32_t pasid_quota = 0;        ///< PASIDs this context may allocate
    std::uint32_t max_batch = 0;          ///< entries per batch (0: no batch)
    std::uint64_t features = 0;           ///< VSVA_FEAT_* bits, incl. unknown ones
    std::uint64_t max_pinned = 0;         ///< bytes this context may pin (~0: no limit)
    /**
     * Size of struct vsva_info the kernel knows, found by probing: equal to
     * library_info_size for the same UAPI, smaller for an older kernel.
     * When the kernel is newer, kernel_newer is set and this is the
     * library's size (the kernel knows at least that much).
     */
    std::uint32_t kernel_info_size = 0;
    std::uint32_t library_info_size = 0; ///< sizeof(struct vsva_info) here
    bool kernel_newer = false;           ///< kernel knows a larger vsva_info

    /** True when every feature of @f is present. */
    bool has(Feature f) const noexcept {
        auto bits = static_cast<std::uint64_t>(f);
        return (features & bits) == bits;
    }
    /** "major.minor.patch" of module_version. */
    VSVA_EXPORT std::string module_version_string() const;
};

/** Options of Context::open(). */
struct OpenOptions {
    /** Device node; /dev/vsva unless a test or a container says otherwise. */
    const char* path = "/dev/vsva";
    /** Features the caller cannot work without; open fails if one is missing. */
    Feature require = Feature::None;
};

class Domain;
class Device;
class Mapping;
class Pasid;
class Binding;
class FaultQueue;
struct PageRequest;

/** What a device may do with a mapping. */
enum class Access : std::uint32_t { Read = 1, Write = 2, ReadWrite = 3 };

/** Device capabilities (VSVA_DEV_CAP_*). */
struct DeviceCaps {
    bool pasid = false; ///< supports PASID
    bool ats = false;   ///< has a device TLB
    bool pri = false;   ///< can issue page requests
};

/** Options of Domain::attach(). */
struct AttachOptions {
    bool enable_ats = false; ///< turn on the device TLB (needs DeviceCaps::ats)
    bool enable_pri = false; ///< faults become page requests (needs DeviceCaps::pri)
};

/** Options of Context::alloc_pasid(). */
struct PasidOptions {
    /** The guest PASID this host PASID stands for (unique per context). */
    std::optional<std::uint32_t> gpasid = std::nullopt;
    std::uint32_t min = 0; ///< lowest acceptable PASID (0: 1)
    std::uint32_t max = 0; ///< highest acceptable PASID (0: 2^20 - 1)
};

/** Stage-1 address width of a bound guest table. */
enum class AddrWidth : std::uint32_t { Bits48 = 48, Bits57 = 57 };

/** What to bind: the guest's stage-1 table (VT-d format). */
struct BindConfig {
    std::uint64_t gpgd = 0; ///< stage-1 root, a GPA, 4 KiB aligned
    AddrWidth addr_width = AddrWidth::Bits48;
    /** Guest PASID; defaults to the Pasid's own gpasid when it has one. */
    std::optional<std::uint32_t> gpasid = std::nullopt;
    bool supervisor = false;      ///< VSVA_VTD_GPASID_SRE
    bool write_protect = false;   ///< VSVA_VTD_GPASID_WPE
    bool extended_access = false; ///< VSVA_VTD_GPASID_EAFE
};

/** Answer to a page request (VSVA_PAGE_RESP_*). */
enum class PageResponseCode : std::uint32_t { Success = 0, Invalid = 1, Failure = 2 };

/**
 * Context - one open /dev/vsva: one VM.
 *
 * Movable, not copyable.  The fd closes when the Context and every object
 * made from it are gone.
 */
class Context {
public:
    /**
     * Open @opts.path, read VSVA_GET_INFO, probe the kernel's struct size,
     * and check @opts.require.
     * Errors: ENOENT (module not loaded: "load it with modprobe vsva"),
     * EACCES/EPERM (no access to the node: the message says what to do),
     * ENOTTY (not a vsva device), EPROTO (the kernel speaks another UAPI
     * version), EOPNOTSUPP (a required feature is missing: the message
     * names it), or any errno of open(2)/ioctl(2).
     */
    VSVA_EXPORT static Result<Context> open(const OpenOptions& opts = {});

    /**
     * Adopt @fd, a /dev/vsva file descriptor opened elsewhere (the libvirt
     * model: a privileged helper opens the node and passes the fd over a
     * UNIX socket with SCM_RIGHTS), with the same negotiation as open():
     * VSVA_GET_INFO, the size probe, the UAPI version and @require.
     * Ownership of @fd passes to the library in every case: it is closed
     * when the Context and every object made from it are gone, or before an
     * error is returned.  FD_CLOEXEC is set on it, as open() does.
     * Errors: EBADF (not an open fd, or not open O_RDWR), ENOTTY (not a
     * vsva device), EPROTO, EOPNOTSUPP (as open()), or any errno of ioctl(2).
     */
    VSVA_EXPORT static Result<Context> adopt(int fd, Feature require = Feature::None);

    VSVA_EXPORT Context(Context&&) noexcept;
    VSVA_EXPORT Context& operator=(Context&&) noexcept;
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;
    VSVA_EXPORT ~Context();

    /** What the kernel offers. */
    VSVA_EXPORT const Info& info() const noexcept;
    /** Shorthand for info().has(@f). */
    bool has(Feature f) const noexcept { return info().has(f); }
    /** The /dev/vsva fd (for poll or diagnostics; do not close it). */
    VSVA_EXPORT int fd() const noexcept;

    /**
     * A new stage-2 domain (VSVA_DOMAIN_ALLOC).
     * Errors: ENOMEM, ENOSPC, EOPNOTSUPP, ENOTTY (kernel without domains).
     */
    VSVA_EXPORT Result<Domain> create_domain() const;

    /**
     * A host PASID from this VM's IOASID set (VSVA_PASID_ALLOC).  Freed
     * when the Pasid and every Binding of it are gone.
     * Errors: ENOSPC (quota or space exhausted), EINVAL (bad range),
     * EBUSY/EEXIST (gpasid already used in this context, per the kernel).
     */
    VSVA_EXPORT Result<Pasid> alloc_pasid(const PasidOptions& opts = {}) const;

    /**
     * The context's fault queue (VSVA_FAULT_ALLOC): an fd for the event
     * loop, read with FaultQueue::read().
     * Errors: EBUSY (the context already has one), EOPNOTSUPP (kernel
     * without page requests), EMFILE/ENFILE.
     */
    VSVA_EXPORT Result<FaultQueue> fault_queue() const;

    /**
     * Answer @req (VSVA_PAGE_RESPONSE) for the device that raised it.
     * Errors: ENOENT (no such pending request or device), EINVAL.
     */
    VSVA_EXPORT Result<void> respond(const PageRequest& req, PageResponseCode code) const;

private:
    friend struct detail::Access;
    explicit Context(std::shared_ptr<detail::Core> core) noexcept;
    std::shared_ptr<detail::Core> core_;
};

/**
 * Mapping - guest RAM mapped into a domain (pinned); unmapped on
 * destruction.
 */
class Mapping {
public:
    VSVA_EXPORT Mapping(Mapping&&) noexcept;
    VSVA_EXPORT Mapping& operator=(Mapping&&) noexcept;
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    /** Unmaps (VSVA_UNMAP); errors are ignored. */
    VSVA_EXPORT ~Mapping();

    std::uint64_t gpa() const noexcept { return gpa_; }
    std::uint64_t length() const noexcept { return length_; }
    /** False after unmap() or a move. */
    bool valid() const noexcept { return dom_ != nullptr; }

    /**
     * Unmap now (VSVA_UNMAP).  The object is empty afterwards, also on
     * failure (the kernel still unmaps everything when the context closes).
     * Errors: ENOENT (already gone), EINVAL.
     */
    VSVA_EXPORT Result<void> unmap();

private:
    friend class Domain;
    Mapping(std::shared_ptr<detail::DomainState> dom, std::uint64_t gpa,
            std::uint64_t length) noexcept;
    std::shared_ptr<detail::DomainState> dom_;
    std::uint64_t gpa_ = 0;
    std::uint64_t length_ = 0;
};

/**
 * Domain - a stage-2 domain: guest-physical to the VMM's memory.
 */
class Domain {
public:
    VSVA_EXPORT Domain(Domain&&) noexcept;
    VSVA_EXPORT Domain& operator=(Domain&&) noexcept;
    Domain(const Domain&) = delete;
    Domain& operator=(const Domain&) = delete;
    VSVA_EXPORT ~Domain();

    /** The kernel's id of this domain in the context. */
    VSVA_EXPORT std::uint32_t id() const noexcept;

    /**
     * Map [@gpa, @gpa + @length) to the caller's memory at @vaddr
     * (VSVA_MAP).  The pages are pinned and charged to RLIMIT_MEMLOCK
     * until the Mapping goes.
     * Errors: EINVAL (alignment, zero length, overlap, beyond gpa_bits),
     * ENOMEM (RLIMIT_MEMLOCK), EFAULT (@vaddr not mapped), ENOENT.
     */
    VSVA_EXPORT Result<Mapping> map(std::uint64_t gpa, void* vaddr, std::uint64_t length,
                                    Access access = Access::ReadWrite) const;

    /**
     * Attach the endpoint with requester id @rid to this domain
     * (VSVA_DEVICE_ATTACH).
     * Errors: ENOENT (no such endpoint), EBUSY (its group belongs to another
     * context or domain), EINVAL (ATS/PRI requested without the capability).
     */
    VSVA_EXPORT Result<Device> attach(std::uint16_t rid, const AttachOptions& opts = {}) const;

    /**
     * Bind @pasid on every device of this domain (VSVA_TARGET_DOMAIN): all
     * or none.
     * Errors: as Device::bind().
     */
    VSVA_EXPORT Result<Binding> bind(const Pasid& pasid, const BindConfig& cfg) const;

    /**
     * One invalidation for every device of this domain.
     * Errors: EINVAL (matrix, alignment: the message says which), ENOENT.
     */
    VSVA_EXPORT Result<void> invalidate(const Invalidation& inv) const;

    /**
     * Submit and empty @queue for every device of this domain: one batch
     * call per info().max_batch entries, or one call per entry when the
     * kernel lacks Feature::BatchInvalidate.
     * Returns {done, total}; an Error only when nothing was handled.
     */
    VSVA_EXPORT Result<BatchOutcome> invalidate(InvalidationQueue& queue) const;

    /**
     * Submit @entries for every device of this domain as they are: in
     * order, not merged, and not copied (an Invalidation is the v1 payload,
     * so the kernel reads the caller's array in place; it must stay valid
     * for the duration of the call only).  For a caller that keeps its
     * entries in an array of its own (built once, or rewritten in place)
     * and wants no queue in between.  Chunks, the fallback to single calls
     * and the result are those of invalidate(InvalidationQueue&).
     */
    VSVA_EXPORT Result<BatchOutcome> invalidate(std::span<const Invalidation> entries) const;

    /**
     * Destroy now (VSVA_DOMAIN_DESTROY).  The object is empty afterwards.
     * Errors: EBUSY (Mappings or Devices of it still exist).
     */
    VSVA_EXPORT Result<void> destroy();

private:
    friend struct detail::Access;
    friend class Context;
    explicit Domain(std::shared_ptr<detail::DomainState> s) noexcept;
    std::shared_ptr<detail::DomainState> s_;
};

/** Device - an endpoint attached to a domain; detached on destruction. */
class Device {
public:
    VSVA_EXPORT Device(Device&&) noexcept;
    VSVA_EXPORT Device& operator=(Device&&) noexcept;
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;
    VSVA_EXPORT ~Device();

    /** The kernel's id of the device in the context. */
    VSVA_EXPORT std::uint32_t id() const noexcept;
    /** Requester id. */
    VSVA_EXPORT std::uint16_t rid() const noexcept;
    /** The endpoint's capabilities. */
    VSVA_EXPORT DeviceCaps caps() const noexcept;

    /**
     * Point this device's PASID entry for @pasid at the guest table
     * described by @cfg (VSVA_BIND_GPASID).  Unbound when the Binding goes.
     * Errors: EBUSY (already bound), EINVAL (gpgd alignment or outside
     * stage 2, width, flags), ENOENT (PASID not of this context),
     * EOPNOTSUPP (kernel without nesting).
     */
    VSVA_EXPORT Result<Binding> bind(const Pasid& pasid, const BindConfig& cfg) const;

    /**
     * One invalidation for this device (VSVA_CACHE_INVALIDATE).
     * Errors: EINVAL (the message says which rule), ENOENT.
     */
    VSVA_EXPORT Result<void> invalidate(const Invalidation& inv) const;

    /** Submit and empty @queue for this device; see Domain::invalidate(). */
    VSVA_EXPORT Result<BatchOutcome> invalidate(InvalidationQueue& queue) const;

    /** Submit @entries for this device, in place; see Domain::invalidate(). */
    VSVA_EXPORT Result<BatchOutcome> invalidate(std::span<const Invalidation> entries) const;

    /**
     * Detach now (VSVA_DEVICE_DETACH).  The object is empty afterwards.
     * Errors: EBUSY (Bindings of it still exist).
     */
    VSVA_EXPORT Result<void> detach();

private:
    friend struct detail::Access;
    friend class Domain;
    explicit Device(std::shared_ptr<detail::DeviceState> s) noexcept;
    std::shared_ptr<detail::DeviceState> s_;
};

/** Pasid - an allocated host PASID; freed on destruction. */
class Pasid {
public:
    VSVA_EXPORT Pasid(Pasid&&) noexcept;
    VSVA_EXPORT Pasid& operator=(Pasid&&) noexcept;
    Pasid(const Pasid&) = delete;
    Pasid& operator=(const Pasid&) = delete;
    VSVA_EXPORT ~Pasid();

    /** The host PASID. */
    VSVA_EXPORT std::uint32_t hpasid() const noexcept;
    /** The guest PASID given at allocation, if any. */
    VSVA_EXPORT std::optional<std::uint32_t> gpasid() const noexcept;

    /**
     * Free now (VSVA_PASID_FREE).  The object is empty afterwards.
     * Errors: EBUSY (Bindings of it still exist).
     */
    VSVA_EXPORT Result<void> free();

private:
    friend struct detail::Access;
    friend class Context;
    explicit Pasid(std::shared_ptr<detail::PasidState> s) noexcept;
    std::shared_ptr<detail::PasidState> s_;
};

/** Binding - a bound guest PASID table; unbound on destruction (noexcept). */
class Binding {
public:
    VSVA_EXPORT Binding(Binding&&) noexcept;
    VSVA_EXPORT Binding& operator=(Binding&&) noexcept;
    Binding(const Binding&) = delete;
    Binding& operator=(const Binding&) = delete;
    VSVA_EXPORT ~Binding();

    /** The bound host PASID. */
    VSVA_EXPORT std::uint32_t hpasid() const noexcept;
    /** The device id, or the domain id when whole_domain(). */
    VSVA_EXPORT std::uint32_t target_id() const noexcept;
    /** True for a Domain::bind() binding. */
    VSVA_EXPORT bool whole_domain() const noexcept;
    /** False after unbind() or a move. */
    VSVA_EXPORT bool valid() const noexcept;

    /**
     * Unbind now (VSVA_UNBIND_GPASID).  The object is empty afterwards, also
     * on failure.
     * Errors: ENOENT (not bound any more).
     */
    VSVA_EXPORT Result<void> unbind();

private:
    friend struct detail::Access;
    friend class Device;
    friend class Domain;
    struct State;
    explicit Binding(std::unique_ptr<State> s) noexcept;
    std::unique_ptr<State> s_;
};

/** A page request read from the fault queue (VSVA_FAULT_PAGE_REQ). */
struct PageRequest {
    std::uint32_t dev_id = 0; ///< the device (Device::id())
    std::uint32_t flags = 0;  ///< VSVA_FAULT_PAGE_REQUEST_* bits
    std::uint32_t pasid = 0;
    std::uint32_t grpid = 0; ///< echoed by the response
    std::uint32_t perm = 0;  ///< VSVA_FAULT_PERM_*
    std::uint64_t addr = 0;
    std::uint64_t private_data[2] = {0, 0};
    bool pasid_valid() const noexcept { return flags & 1u; }
    bool last_page() const noexcept { return flags & 2u; }
};

/** An unrecoverable fault read from the fault queue. */
struct UnrecoverableFault {
    std::uint32_t dev_id = 0;
    std::uint32_t reason = 0; ///< VSVA_FAULT_REASON_*
    std::uint32_t flags = 0;  ///< VSVA_FAULT_UNRECOV_*
    std::uint32_t pasid = 0;
    std::uint32_t perm = 0;
    std::uint64_t addr = 0;
    std::uint64_t fetch_addr = 0;
};

/** One record of the fault queue. */
struct FaultRecord {
    std::uint32_t seq = 0;  ///< sequence number
    std::uint32_t lost = 0; ///< records dropped just before this one
    std::variant<PageRequest, UnrecoverableFault> fault;
};

/** FaultQueue - the context's fault fd (owned; closed on destruction). */
class FaultQueue {
public:
    VSVA_EXPORT FaultQueue(FaultQueue&&) noexcept;
    VSVA_EXPORT FaultQueue& operator=(FaultQueue&&) noexcept;
    FaultQueue(const FaultQueue&) = delete;
    FaultQueue& operator=(const FaultQueue&) = delete;
    VSVA_EXPORT ~FaultQueue();

    /** The fd to poll (EPOLLIN while records are queued). Do not close it. */
    int fd() const noexcept { return fd_; }

    /**
     * Read up to out.size() records.  In blocking mode waits for at least
     * one; in non-blocking mode returns 0 when the queue is empty.
     * Errors: EINTR, EBADF, EPROTO (a record of an unknown type or size).
     */
    VSVA_EXPORT Result<std::size_t> read(std::span<FaultRecord> out);

    /** Switch O_NONBLOCK.  Errors: those of fcntl(2). */
    VSVA_EXPORT Result<void> set_nonblocking(bool on);

private:
    friend class Context;
    friend struct detail::Access;
    explicit FaultQueue(int fd) noexcept : fd_(fd) {}
    int fd_ = -1;
};

} // namespace vsva

#endif // VSVA_VSVA_H
