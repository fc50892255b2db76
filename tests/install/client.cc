// SPDX-License-Identifier: LGPL-2.1-or-later
/* A client of the installed libvsva: public headers and symbols only. */
#include <cerrno>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include <vsva/emu.h>
#include <vsva/vsva.h>

int main(int argc, char** argv) {
    int failed = 0;
    auto check = [&](bool ok, const std::string& what) {
        fmt::print("{} {}\n", ok ? "ok  " : "FAIL", what);
        failed += !ok;
    };
    check(vsva::library_version() == "0.1.0",
          fmt::format("library version {}", vsva::library_version()));

    auto inv = vsva::Invalidation::range(vsva::Cache::Iotlb, 5, 0x1000, 0x2000);
    check(inv.has_value() && inv->nb_granules() == 2, "Invalidation::range");
    vsva::InvalidationQueue q;
    q.add(*inv);
    q.add(*vsva::Invalidation::range(vsva::Cache::Iotlb, 5, 0x3000, 0x1000));
    check(q.prepared().size() == 1, "queue merges adjacent ranges");

    auto ctx = vsva::Context::open({.path = "/nonexistent/vsva"});
    check(!ctx.has_value() && ctx.error().code() == ENOENT &&
                  ctx.error().message().find("modprobe vsva") != std::string::npos,
          fmt::format("open of a missing node: {}",
                      ctx.has_value() ? "opened?" : ctx.error().to_string()));

    // With --in-vm (tests/install/run.sh runs it inside the test VM) the
    // module must be there and work through the installed library.
    if (argc > 1 && std::string(argv[1]) == "--in-vm") {
        auto real = vsva::Context::open({.require = vsva::Feature::Nesting});
        check(real.has_value(), fmt::format("open /dev/vsva: {}",
                                            real.has_value() ? real->info().module_version_string()
                                                             : real.error().to_string()));
        if (real.has_value()) {
            auto dom = real->create_domain();
            check(dom.has_value(), "create a stage-2 domain");
            auto pasid = real->alloc_pasid();
            check(pasid.has_value() && pasid->hpasid() != 0, "allocate a PASID");
        }
    } else if (auto real = vsva::Context::open(); real.has_value()) {
        fmt::print("note /dev/vsva: vsva module {}\n", real->info().module_version_string());
    }
    return failed ? 1 : 0;
}
