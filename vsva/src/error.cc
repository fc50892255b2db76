// SPDX-License-Identifier: LGPL-2.1-or-later
/* Error formatting and other small pure helpers. */
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include <vsva/result.h>
#include <vsva/vsva.h>

#ifndef VSVA_VERSION_STRING
#define VSVA_VERSION_STRING "0.0.0"
#endif

namespace vsva {

std::string_view Error::code_name() const noexcept {
    const char* name = ::strerrorname_np(code_);
    return name ? std::string_view(name) : std::string_view("E?");
}

std::string Error::to_string() const {
    // strerrordesc_np: the text without locale or thread-safety concerns.
    const char* desc = ::strerrordesc_np(code_);
    std::string out = fmt::format("{}: {} ({})", op(), code_name(),
                                  desc ? desc : fmt::format("errno {}", code_));
    if (!message_.empty())
        out += fmt::format(": {}", message_);
    return out;
}

std::string_view library_version() noexcept {
    return VSVA_VERSION_STRING;
}

std::string_view feature_macro(Feature f) noexcept {
    switch (f) {
    case Feature::None:
        return "none";
    case Feature::Nesting:
        return "VSVA_FEAT_NESTING";
    case Feature::BatchInvalidate:
        return "VSVA_FEAT_CACHE_INV_BATCH";
    case Feature::PageRequest:
        return "VSVA_FEAT_PAGE_REQUEST";
    case Feature::ErrorMessages:
        return "VSVA_FEAT_ERR_MSG";
    case Feature::Emulation:
        return "VSVA_FEAT_EMU";
    case Feature::SystemWidePasid:
        return "VSVA_FEAT_SYSWIDE_PASID";
    case Feature::SeparateDevTlb:
        return "VSVA_FEAT_INV_SEPARATE_DEVTLB";
    case Feature::RidPasid:
        return "VSVA_FEAT_RID_PASID";
    case Feature::EmuTranslate:
        return "VSVA_FEAT_EMU_TRANSLATE";
    case Feature::BindReplace:
        return "VSVA_FEAT_BIND_REPLACE";
    }
    return "VSVA_FEAT_?";
}

std::string_view feature_description(Feature f) noexcept {
    switch (f) {
    case Feature::None:
        return "nothing";
    case Feature::Nesting:
        return "guest PASID table binding (nesting)";
    case Feature::BatchInvalidate:
        return "batched cache invalidation";
    case Feature::PageRequest:
        return "page requests and responses (PRI)";
    case Feature::ErrorMessages:
        return "error messages";
    case Feature::Emulation:
        return "the emulated IOMMU's commands";
    case Feature::SystemWidePasid:
        return "a system-wide PASID space";
    case Feature::SeparateDevTlb:
        return "device-TLB invalidations kept separate on request";
    case Feature::RidPasid:
        return "requests without PASID (RID_PASID)";
    case Feature::EmuTranslate:
        return "translation requests of emulated endpoints";
    case Feature::BindReplace:
        return "in-place rebind (replace)";
    }
    return "an unknown feature";
}

std::string Info::module_version_string() const {
    return fmt::format("{}.{}.{}", module_version >> 16, (module_version >> 8) & 0xff,
                       module_version & 0xff);
}

} // namespace vsva
