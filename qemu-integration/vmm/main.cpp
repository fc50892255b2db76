// SPDX-License-Identifier: GPL-2.0
// vsva-vmm: the reference VMM.  Exit 0 when every check passed, 77 when
// /dev/vsva is not there (skip), 1 otherwise.  With --hold it stays alive
// with a bound PASID after the scenario, waiting to be killed.
#include <cstring>

#include <fmt/format.h>

#include "scenario.h"

int main(int argc, char** argv) {
    vsva::vmm::Options o;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--no-kvm")) {
            o.try_kvm = false;
        } else if (!std::strcmp(argv[i], "--hold")) {
            o.hold = true;
        } else if (!std::strcmp(argv[i], "--dev") && i + 1 < argc) {
            o.dev_path = argv[++i];
        } else {
            fmt::print(stderr, "usage: vsva-vmm [--no-kvm] [--hold] [--dev PATH]\n");
            return 2;
        }
    }
    const auto r = vsva::vmm::run(o);
    vsva::vmm::print(r);
    if (r.skipped)
        return 77;
    return r.ok() ? 0 : 1;
}
