// SPDX-License-Identifier: GPL-2.0
// The vsva-vmm scenario (see scenario.h).
#include "scenario.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <linux/vsva.h>

#include <fmt/format.h>

#include <vsva/emu.h>
#include <vsva/vsva.h>

#include "guest.h"
#include "vsva/qemu/adapter.h"
#include "vsva/qemu/libvsva_host.h"

namespace vsva::vmm {
namespace {

// Guest-physical layout.
constexpr size_t kRamSize = 8u << 20;
constexpr uint64_t kDir = 0x10000;    // PASID directory (PDTS 0: 128 entries)
constexpr uint64_t kTable = 0x11000;  // PASID table for PASIDs 0..63
constexpr uint64_t kQueue = 0x20000;  // invalidation queue, 128 × 256-bit
constexpr uint64_t kStatus = 0x30000; // wait-descriptor status words
constexpr uint64_t kPtPool = 0x100000, kPtEnd = 0x200000;
constexpr uint64_t kPage1 = 0x400000, kPage3 = 0x402000, kPage4 = 0x403000;
// The guest process's virtual addresses.
constexpr uint64_t kVaA = 0x7f12'3450'0000ull;
constexpr uint64_t kVaC = kVaA + 0x10000;
constexpr uint32_t kGpasid = 5;
constexpr uint16_t kDid = 1;

std::string kvm_probe(GuestRam& ram, int* vm_fd) {
    const int kvm = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        return fmt::format("/dev/kvm not usable here ({}): no KVM VM, the IOMMU path runs all the "
                           "same (it needs no vCPU)",
                           std::strerror(errno));
    const int api = ::ioctl(kvm, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        ::close(kvm);
        return fmt::format("/dev/kvm API version {} (want {}): not used", api, KVM_API_VERSION);
    }
    const int vm = ::ioctl(kvm, KVM_CREATE_VM, 0);
    ::close(kvm);
    if (vm < 0)
        return fmt::format("KVM_CREATE_VM failed ({}): not usable here, running without KVM",
                           std::strerror(errno));
    kvm_userspace_memory_region slot{};
    slot.slot = 0;
    slot.guest_phys_addr = 0;
    slot.memory_size = ram.size();
    slot.userspace_addr = reinterpret_cast<uintptr_t>(ram.hva());
    if (::ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
        const int e = errno;
        ::close(vm);
        return fmt::format("KVM_SET_USER_MEMORY_REGION failed ({}): running without KVM",
                           std::strerror(e));
    }
    *vm_fd = vm;
    return fmt::format("KVM VM created; guest RAM (memfd, {} MiB) registered as memslot 0 at GPA 0 "
                       "(no vCPU is run: the scenario drives the guest side itself)",
                       ram.size() >> 20);
}

std::span<std::byte> bytes(std::string& s) {
    return {reinterpret_cast<std::byte*>(s.data()), s.size()};
}

} // namespace

bool Report::ok() const {
    if (skipped)
        return false;
    for (const auto& c : checks)
        if (!c.ok)
            return false;
    return !checks.empty();
}

Report run(const Options& o) {
    Report r;
    auto say = [&](std::string s) { r.log.push_back(std::move(s)); };
    auto check = [&](std::string what, bool ok, std::string detail = {}) {
        r.checks.push_back({std::move(what), ok, std::move(detail)});
        return ok;
    };
    auto fail = [&](std::string what, const vsva::Error& e) {
        check(std::move(what), false, e.to_string());
        return r;
    };

    // --- the VM: guest RAM, KVM, the vsva context and its stage-2 domain ---
    GuestRam ram;
    std::string why;
    if (!check("guest RAM from a memfd", ram.create(kRamSize, &why), why))
        return r;
    int vm_fd = -1;
    if (o.try_kvm)
        r.kvm = kvm_probe(ram, &vm_fd);
    else
        r.kvm = "KVM not tried (--no-kvm)";
    say(r.kvm);
    struct CloseVm {
        int& fd;
        ~CloseVm() {
            if (fd >= 0)
                ::close(fd);
        }
    } close_vm{vm_fd};

    if (::access(o.dev_path, F_OK) != 0) {
        r.skipped = true;
        r.skip_reason =
                fmt::format("{} not present (load vsva.ko; run inside tests/vm/run)", o.dev_path);
        return r;
    }

    vsva::OpenOptions oo;
    oo.path = o.dev_path;
    oo.require = vsva::Feature::Nesting | vsva::Feature::Emulation;
    auto ctx = vsva::Context::open(oo);
    if (!ctx) {
        if (ctx.error().code() == EOPNOTSUPP || ctx.error().code() == ENOTTY) {
            r.skipped = true;
            r.skip_reason = ctx.error().to_string();
            return r;
        }
        return fail("open the vsva context", ctx.error());
    }
    say(fmt::format("vsva module {} (uapi {}), features {:#x}, max batch {}",
                    ctx->info().module_version_string(), ctx->info().uapi_version,
                    ctx->info().features, ctx->info().max_batch));
    auto dom = ctx->create_domain();
    if (!dom)
        return fail("create the stage-2 domain", dom.error());
    auto map = dom->map(0, ram.hva(), ram.size());
    if (!map)
        return fail("map guest RAM into stage 2", map.error());
    say(fmt::format("stage 2: GPA [0, {:#x}) -> memfd at {}", ram.size(),
                    static_cast<void*>(ram.hva())));

    auto dev = dom->attach(o.rid, {.enable_ats = true, .enable_pri = true});
    if (!dev && dev.error().code() == EINVAL)
        dev = dom->attach(o.rid);
    if (!dev)
        return fail(fmt::format("attach endpoint {:04x}", o.rid), dev.error());
    const vsva::DeviceCaps caps = dev->caps();
    say(fmt::format("device {:02x}:{:02x}.{:x} attached as id {} (pasid {}, ats {}, pri {})",
                    o.rid >> 8, (o.rid >> 3) & 0x1f, o.rid & 7, dev->id(), caps.pasid, caps.ats,
                    caps.pri));
    std::optional<vsva::FaultQueue> fq;
    if (caps.pri) {
        auto q = ctx->fault_queue();
        if (!q)
            return fail("allocate the fault queue", q.error());
        if (auto nb = q->set_nonblocking(true); !nb)
            return fail("fault queue O_NONBLOCK", nb.error());
        fq.emplace(std::move(*q));
    }

    // --- the virtual VT-d ---------------------------------------------------
    qemu::LibvsvaHost host(*ctx);
    host.add_device(*dev);
    qemu::VtdAdapter ad(host, ram);
    ad.set_logger([&](const std::string& s) { say("  vIOMMU: " + s); });
    const uint16_t sid = o.rid;
    (void)ad.add_device(sid, dev->id());
    GuestQueue q(ram, kQueue);
    ad.set_iqa(q.iqa());
    auto ring = [&](const char* what) {
        auto res = ad.write_iqt(q.iqt());
        check(fmt::format("queue run '{}' without IQE", what), !res.iqe, res.error);
        return res;
    };

    // --- guest: a process address space, a PASID entry, PC invalidation ----
    PageTables pt(ram, kPtPool, kPtEnd);
    pt.map(kVaA, kPage1);
    ram.put64(kDir, kTable | 1);
    write_fs_pasid_entry(ram, kTable, kGpasid, pt.root(), kDid);
    if (auto s = ad.set_pasid_dir(sid, kDir, 0); !s) {
        check("context entry", false, s.error().message());
        return r;
    }
    say(fmt::format("guest: PASID {} -> first-stage root GPA {:#x} (4-level), VA {:#x} -> GPA "
                    "{:#x}",
                    kGpasid, pt.root(), kVaA, kPage1));
    q.push(desc::pc_pasid(kDid, kGpasid));
    q.push(desc::piotlb_pasid(kDid, kGpasid));
    q.push(desc::pdevtlb_all(sid, kGpasid));
    q.push(desc::wait(kStatus, 1, false));
    ring("bind");
    check("wait status written after bind", ram.get32(kStatus) == 1);
    auto hp = ad.hpasid_of(kGpasid);
    if (!check("guest PASID bound to a host PASID", hp.has_value()))
        return r;
    r.gpasid = kGpasid;
    r.hpasid = *hp;
    auto pe = vsva::emu::pasid_entry(*dev, *hp);
    r.bound = pe && pe->present && pe->gpgd == pt.root() && pe->addr_width == 48 &&
              pe->gpasid == kGpasid;
    check("host PASID entry nests the guest table", r.bound,
          pe ? fmt::format("present {} gpgd {:#x} width {}", pe->present, pe->gpgd, pe->addr_width)
             : pe.error().to_string());
    say(fmt::format("bound: gPASID {} = hPASID {} on device {}, gpgd {:#x}, 48-bit", kGpasid, *hp,
                    dev->id(), pt.root()));

    auto dma = [&](uint64_t va, std::string& buf, bool write) {
        vsva::emu::DmaFlags f;
        f.write = write;
        auto res = vsva::emu::dma(*dev, *hp, va, bytes(buf), f);
        if (res && !res->faulted) {
            ++r.dmas;
            r.dma_bytes += res->done;
        }
        return res;
    };

    // --- DMA 1: lands on the guest page the process VA maps to ---------------
    std::string msg1 = "vsva-dma-1: hello guest";
    auto d1 = dma(kVaA + 0x10, msg1, true);
    r.dma_verified = d1 && !d1->faulted && d1->done == msg1.size() &&
                     std::memcmp(ram.hva(kPage1 + 0x10), msg1.data(), msg1.size()) == 0;
    check("DMA write lands at GPA of VA (page 1)", r.dma_verified,
          d1 ? fmt::format("done {} faulted {}", d1->done, d1->faulted) : d1.error().to_string());
    std::string back(msg1.size(), '\0');
    auto d1r = dma(kVaA + 0x10, back, false);
    check("DMA read returns the same bytes", d1r && !d1r->faulted && back == msg1);
    say(fmt::format("DMA: wrote {} bytes at VA {:#x} -> GPA {:#x}, read back, verified",
                    msg1.size(), kVaA + 0x10, kPage1 + 0x10));

    // --- remap VA A to page 3; DMA before invalidating is stale -------------
    pt.map(kVaA, kPage3);
    std::string msg2 = "vsva-dma-2: stale?";
    auto d2 = dma(kVaA + 0x100, msg2, true);
    const bool in_old = std::memcmp(ram.hva(kPage1 + 0x100), msg2.data(), msg2.size()) == 0;
    const bool in_new = std::memcmp(ram.hva(kPage3 + 0x100), msg2.data(), msg2.size()) == 0;
    r.stale_seen = d2 && !d2->faulted && in_old && !in_new;
    check("before the invalidation the cached translation is used (old page)", r.stale_seen,
          fmt::format("old page {} new page {}", in_old, in_new));
    say(fmt::format("guest remapped VA {:#x} -> GPA {:#x}; DMA before invalidation went to the "
                    "{} page (as hardware with a cached translation)",
                    kVaA, kPage3, in_old ? "OLD" : (in_new ? "new" : "no")));

    // --- P_IOTLB + P_DEVTLB + wait: one batch -----------------------------------
    const uint64_t calls0 = host.batch_calls();
    q.push(desc::piotlb_page(kDid, kGpasid, kVaA, 0, true));
    q.push(desc::pdevtlb(sid, kGpasid, kVaA));
    q.push(desc::wait(kStatus + 4, 2, true));
    auto inv = ring("invalidate");
    check("wait status written after invalidation", ram.get32(kStatus + 4) == 2);
    check("completion interrupt requested (IF=1)", inv.interrupt);
    const auto& bs = ad.stats().batch_sizes;
    check("P_IOTLB + P_DEVTLB forwarded as one batch of 2", !bs.empty() && bs.back() == 2,
          bs.empty() ? "no batch" : fmt::format("last batch {}", bs.back()));
    check("one kernel batch call for it", host.batch_calls() == calls0 + 1,
          fmt::format("{} calls", host.batch_calls() - calls0));
    std::string msg3 = "vsva-dma-3: fresh";
    auto d3 = dma(kVaA + 0x200, msg3, true);
    r.fresh_after_inv = d3 && !d3->faulted &&
                        std::memcmp(ram.hva(kPage3 + 0x200), msg3.data(), msg3.size()) == 0 &&
                        std::memcmp(ram.hva(kPage1 + 0x200), msg3.data(), msg3.size()) != 0;
    check("after the invalidation DMA lands on the new page", r.fresh_after_inv);
    say(fmt::format("invalidated (P_IOTLB AM 0 IH 1 + P_DEVTLB, one batch); DMA now at GPA {:#x}",
                    kPage3 + 0x200));

    // --- page fault: unmapped VA, page request, guest maps it, responds ----------
    std::string msg4 = "vsva-dma-4: after the fault";
    auto d4 = dma(kVaC, msg4, true);
    if (!d4) {
        check("DMA to an unmapped VA", false, d4.error().to_string());
    } else if (!caps.pri) {
        check("DMA to an unmapped VA faults (no PRI: unrecoverable)", d4->faulted);
        say("device has no PRI: the fault is unrecoverable, no page request to serve");
    } else {
        check("DMA to an unmapped VA faults with a page request", d4->faulted && d4->page_request,
              fmt::format("faulted {} page_request {} reason {}", d4->faulted, d4->page_request,
                          d4->fault.reason));
        std::array<vsva::FaultRecord, 8> recs;
        auto n = fq->read(recs);
        const vsva::PageRequest* pr = nullptr;
        if (n)
            for (size_t i = 0; i < *n; ++i)
                if (auto* p = std::get_if<vsva::PageRequest>(&recs[i].fault))
                    pr = p;
        if (check("page request read from the fault queue", pr != nullptr,
                  n ? fmt::format("{} records", *n) : n.error().to_string())) {
            check("page request names the PASID and the page",
                  pr->pasid == *hp && (pr->addr & ~0xfffull) == kVaC && pr->dev_id == dev->id(),
                  fmt::format("pasid {} addr {:#x} dev {}", pr->pasid, pr->addr, pr->dev_id));
            say(fmt::format("page request: device {} hPASID {} (gPASID {}) addr {:#x} grp {}",
                            pr->dev_id, pr->pasid, ad.gpasid_of(pr->pasid).value_or(~0u), pr->addr,
                            pr->grpid));
            pt.map(kVaC, kPage4); // the guest's fault handler
            auto resp = ctx->respond(*pr, vsva::PageResponseCode::Success);
            check("page response SUCCESS accepted", resp.has_value(),
                  resp ? "" : resp.error().to_string());
            auto d5 = dma(kVaC, msg4, true);
            r.fault_served = resp && d5 && !d5->faulted &&
                             std::memcmp(ram.hva(kPage4), msg4.data(), msg4.size()) == 0;
            check("retried DMA lands on the page the guest mapped", r.fault_served);
            if (r.fault_served)
                ++r.faults_served;
            say(fmt::format("guest mapped VA {:#x} -> GPA {:#x}, answered SUCCESS, DMA retried and "
                            "verified",
                            kVaC, kPage4));
        }
    }

    // --- unbind: clear the PASID entry, PC invalidation, wait -----------------
    clear_pasid_entry(ram, kTable, kGpasid);
    q.push(desc::pc_pasid(kDid, kGpasid));
    q.push(desc::piotlb_pasid(kDid, kGpasid));
    q.push(desc::wait(kStatus + 8, 3, false));
    ring("unbind");
    check("wait status written after unbind", ram.get32(kStatus + 8) == 3);
    auto pe2 = vsva::emu::pasid_entry(*dev, *hp);
    r.unbound = !ad.binding(sid, kGpasid) && (!pe2 || !pe2->present);
    check("host PASID entry gone after the guest cleared it", r.unbound);
    std::string msg6 = "must not land";
    std::memset(ram.hva(kPage3 + 0x300), 0, msg6.size());
    auto d6 = dma(kVaA + 0x300, msg6, true);
    check("DMA after unbind does not reach guest memory",
          (!d6 || d6->faulted) &&
                  std::memcmp(ram.hva(kPage3 + 0x300), msg6.data(), msg6.size()) != 0);
    say(fmt::format("guest cleared PASID {}: unbound, hPASID {} freed", kGpasid, *hp));

    // --- hold: a live VM for the caller to kill ----------------------------------
    if (o.hold && r.ok()) {
        write_fs_pasid_entry(ram, kTable, kGpasid, pt.root(), kDid);
        q.push(desc::pc_pasid(kDid, kGpasid));
        q.push(desc::wait(kStatus + 16, 4, false));
        ring("bind again to hold");
        auto live = vsva::emu::counters(*ctx);
        check("bound again for the kill",
              ad.hpasid_of(kGpasid).has_value() && live && live->bindings == 1);
        print(r);
        if (r.ok() && live)
            fmt::print("holding: pid {} with {} binding(s), {} PASID(s), {} pinned page(s); "
                       "kill me\n",
                       ::getpid(), live->bindings, live->pasids, live->pinned_pages);
        std::fflush(stdout);
        while (r.ok())
            ::pause();
        return r;
    }

    // --- totals -------------------------------------------------------------------
    const auto& st = ad.stats();
    r.batch_sizes = st.batch_sizes;
    r.host_batch_calls = host.batch_calls();
    r.status_writes = st.status_writes;
    say(fmt::format(
            "vIOMMU: {} descriptors, {} binds, {} unbinds, {} invalidations forwarded in "
            "{} submissions (sizes {}), {} waits, {} status writes, {} invalid",
            [&] {
                uint64_t n = 0;
                for (auto x : st.descriptors)
                    n += x;
                return n;
            }(),
            st.binds, st.unbinds, st.invalidations, st.submissions, fmt::join(st.batch_sizes, ","),
            st.waits, st.status_writes, st.invalid_descriptors));
    if (auto c = vsva::emu::counters(*ctx))
        say(fmt::format(
                "host: {} payload copies, {} binds, {} unbinds, {} invalidations, IOTLB "
                "{} hits / {} misses, dev-TLB {} / {}, {} walks, {} faults, {} page requests",
                c->payload_copies, c->binds, c->unbinds, c->invalidations, c->iotlb_hits,
                c->iotlb_misses, c->devtlb_hits, c->devtlb_misses, c->walks, c->faults,
                c->page_requests));
    return r;
}

void print(const Report& r) {
    fmt::print("vsva-vmm: reference VMM over /dev/vsva (virtual VT-d, scalable mode)\n");
    if (r.skipped) {
        if (!r.kvm.empty())
            fmt::print("  {}\n", r.kvm);
        fmt::print("SKIP: {}\n", r.skip_reason);
        return;
    }
    for (const auto& l : r.log)
        fmt::print("  {}\n", l);
    fmt::print("checks:\n");
    for (const auto& c : r.checks)
        fmt::print("  [{}] {}{}\n", c.ok ? "ok" : "FAIL", c.what,
                   c.ok || c.detail.empty() ? "" : " — " + c.detail);
    fmt::print("summary: bound gPASID {} as hPASID {}; {} DMAs ({} bytes) verified; stale until "
               "invalidated: {}; {} fault(s) served; batches {}; result {}\n",
               r.gpasid, r.hpasid, r.dmas, r.dma_bytes, r.stale_seen ? "yes" : "no",
               r.faults_served, fmt::join(r.batch_sizes, ","), r.ok() ? "PASS" : "FAIL");
}

} // namespace vsva::vmm
