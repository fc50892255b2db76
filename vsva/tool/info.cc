// SPDX-License-Identifier: LGPL-2.1-or-later
/* vsva info: what the kernel offers, as a table or as JSON. */
#include <linux/vsva.h>

#include <fmt/format.h>

#include "tool.h"

namespace vsva::tool {

namespace {

constexpr Feature kFeatures[] = {Feature::Nesting,        Feature::BatchInvalidate,
                                 Feature::PageRequest,    Feature::ErrorMessages,
                                 Feature::Emulation,      Feature::SystemWidePasid,
                                 Feature::SeparateDevTlb, Feature::RidPasid,
                                 Feature::EmuTranslate,   Feature::BindReplace};

const char* const kCacheNames[] = {"iotlb", "dev-iotlb", "pasid-cache"};
const char* const kGranuNames[] = {"domain", "pasid", "addr"};

std::string versions(std::uint32_t mask) {
    std::string s;
    for (int v = 0; v < 32; v++)
        if (mask & (1u << v))
            s += fmt::format("{}v{}", s.empty() ? "" : ",", v);
    return s.empty() ? "none" : s;
}

std::string matrix_row(std::uint32_t matrix, int type) {
    std::string s;
    for (int g = 0; g < VSVA_INV_GRANU_NR; g++)
        if (matrix & VSVA_INV_MATRIX_BIT(type, g))
            s += fmt::format("{}{}", s.empty() ? "" : " ", kGranuNames[g]);
    return s.empty() ? "-" : s;
}

std::string widths(std::uint32_t aw, bool json) {
    std::string s;
    if (aw & VSVA_AW_48)
        s += json ? "48" : "48 (4-level)";
    if (aw & VSVA_AW_57)
        s += fmt::format("{}{}", s.empty() ? "" : json ? "," : ", ", json ? "57" : "57 (5-level)");
    return s;
}

std::string pinned(std::uint64_t v) {
    if (v == ~0ull)
        return "unlimited";
    if (v == 0)
        return "0 (unknown or none)";
    return fmt::format("{} bytes ({} MiB)", v, v >> 20);
}

void print_table(const Info& i) {
    auto row = [](std::string_view k, const std::string& v) { fmt::print("{:<24} {}\n", k, v); };
    row("device", device_path);
    row("module version", i.module_version_string());
    row("library version", std::string(library_version()));
    row("UAPI version", fmt::format("{} (library {})", i.uapi_version, VSVA_UAPI_VERSION));
    row("bind payload", versions(i.bind_versions));
    row("invalidate payload", versions(i.inv_versions));
    row("page-response payload", versions(i.page_resp_versions));
    row("PASID table formats",
        i.formats & (1u << VSVA_PASID_FORMAT_INTEL_VTD) ? "intel-vtd" : "none");
    for (Feature f : kFeatures)
        row(fmt::format("feature {}", feature_macro(f).substr(10)),
            fmt::format("{:<4} {}", i.has(f) ? "yes" : "no", feature_description(f)));
    const std::uint64_t unknown = i.features & ~0x3full;
    if (unknown)
        row("unknown features", fmt::format("{:#x} (kernel newer than library)", unknown));
    for (int t = 0; t < VSVA_CACHE_INV_TYPE_NR; t++)
        row(fmt::format("invalidate {}", kCacheNames[t]), matrix_row(i.inv_matrix, t));
    row("stage-1 widths", i.addr_widths ? widths(i.addr_widths, false) : "none");
    row("PASID bits", fmt::format("{}", i.pasid_bits));
    row("GPA bits", fmt::format("{}", i.gpa_bits));
    row("PASID quota", fmt::format("{}", i.pasid_quota));
    row("max batch", i.max_batch ? fmt::format("{}", i.max_batch) : "0 (no batch)");
    row("max pinned", pinned(i.max_pinned));
    row("vsva_info size", fmt::format("kernel {}{}, library {}", i.kernel_info_size,
                                      i.kernel_newer ? "+" : "", i.library_info_size));
}

void print_json(const Info& i) {
    std::string feats;
    for (Feature f : kFeatures)
        feats += fmt::format("{}\"{}\": {}", feats.empty() ? "" : ", ", feature_macro(f).substr(10),
                             i.has(f) ? "true" : "false");
    std::string matrix;
    for (int t = 0; t < VSVA_CACHE_INV_TYPE_NR; t++) {
        std::string g;
        for (int k = 0; k < VSVA_INV_GRANU_NR; k++)
            if (i.inv_matrix & VSVA_INV_MATRIX_BIT(t, k))
                g += fmt::format("{}\"{}\"", g.empty() ? "" : ", ", kGranuNames[k]);
        matrix += fmt::format("{}\"{}\": [{}]", matrix.empty() ? "" : ", ", kCacheNames[t], g);
    }
    fmt::print("{{\n");
    fmt::print("  \"device\": \"{}\",\n", device_path);
    fmt::print("  \"module_version\": \"{}\",\n", i.module_version_string());
    fmt::print("  \"library_version\": \"{}\",\n", library_version());
    fmt::print("  \"uapi_version\": {},\n", i.uapi_version);
    fmt::print("  \"library_uapi_version\": {},\n", VSVA_UAPI_VERSION);
    fmt::print("  \"bind_versions\": {},\n", i.bind_versions);
    fmt::print("  \"inv_versions\": {},\n", i.inv_versions);
    fmt::print("  \"page_resp_versions\": {},\n", i.page_resp_versions);
    fmt::print("  \"formats\": {},\n", i.formats);
    fmt::print("  \"features\": {},\n", i.features);
    fmt::print("  \"feature_names\": {{{}}},\n", feats);
    fmt::print("  \"inv_matrix\": {{{}}},\n", matrix);
    fmt::print("  \"addr_widths\": [{}],\n", widths(i.addr_widths, true));
    fmt::print("  \"pasid_bits\": {},\n", i.pasid_bits);
    fmt::print("  \"gpa_bits\": {},\n", i.gpa_bits);
    fmt::print("  \"pasid_quota\": {},\n", i.pasid_quota);
    fmt::print("  \"max_batch\": {},\n", i.max_batch);
    fmt::print("  \"max_pinned\": {},\n", i.max_pinned);
    fmt::print("  \"kernel_info_size\": {},\n", i.kernel_info_size);
    fmt::print("  \"kernel_newer\": {},\n", i.kernel_newer ? "true" : "false");
    fmt::print("  \"library_info_size\": {}\n", i.library_info_size);
    fmt::print("}}\n");
}

} // namespace

int cmd_info(std::span<const std::string_view> args) {
    bool json = false;
    for (auto a : args) {
        if (a == "--json") {
            json = true;
        } else {
            fmt::print(stderr, "vsva info: unknown option '{}'\n", a);
            return kExitUsage;
        }
    }
    auto ctx = Context::open({.path = device_path});
    if (!ctx)
        return report(ctx.error());
    if (json)
        print_json(ctx->info());
    else
        print_table(ctx->info());
    return 0;
}

} // namespace vsva::tool
