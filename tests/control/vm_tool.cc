// SPDX-License-Identifier: GPL-2.0
// vm_tool: the operator commands of the vsva tool against the loaded
// module (issue 15 item 6): `vsva stat` shows a VM's owner, pinned pages,
// PASIDs, bindings, domains, devices, cache hit rates, faults and lost
// fault records; `vsva topo` the endpoints, their owners and which context
// holds each; --json of each is valid JSON (checked by a strict parser
// here: the VM has no python) with the same values; --help of each
// command.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <regex>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "dp_lib.h"
#include "vsva_testlib.h"

using namespace vsva::test;

namespace {

const char* const kTopo = "/sys/kernel/debug/vsva/topology";
constexpr uint64_t kVa = 0x7f1200000000ull;

// Run a shell command; its stdout, *status its exit status.
std::string run(const std::string& cmd, int* status = nullptr) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p)
        return out;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;)
        out.append(buf, n);
    int st = pclose(p);
    if (status)
        *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

// A strict JSON (RFC 8259) recogniser: true when @s is one JSON value.
class JsonCheck {
public:
    explicit JsonCheck(const std::string& s) : s_(s) {}
    bool ok() {
        ws();
        if (!value())
            return false;
        ws();
        return i_ == s_.size();
    }
    std::string where() const { return s_.substr(i_ > 20 ? i_ - 20 : 0, 60); }

private:
    void ws() {
        while (i_ < s_.size() &&
               (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r'))
            i_++;
    }
    bool lit(const char* w) {
        size_t n = std::strlen(w);
        if (s_.compare(i_, n, w))
            return false;
        i_ += n;
        return true;
    }
    bool str() {
        if (s_[i_] != '"')
            return false;
        for (i_++; i_ < s_.size(); i_++) {
            unsigned char c = s_[i_];
            if (c == '"') {
                i_++;
                return true;
            }
            if (c < 0x20)
                return false;
            if (c == '\\') {
                i_++;
                if (i_ >= s_.size())
                    return false;
                if (s_[i_] == 'u') {
                    for (int k = 0; k < 4; k++)
                        if (++i_ >= s_.size() || !isxdigit((unsigned char)s_[i_]))
                            return false;
                } else if (!std::strchr("\"\\/bfnrt", s_[i_])) {
                    return false;
                }
            }
        }
        return false;
    }
    bool number() {
        size_t b = i_;
        if (s_[i_] == '-')
            i_++;
        if (i_ >= s_.size() || !isdigit((unsigned char)s_[i_]))
            return false;
        if (s_[i_] == '0')
            i_++;
        else
            while (i_ < s_.size() && isdigit((unsigned char)s_[i_]))
                i_++;
        if (i_ < s_.size() && s_[i_] == '.') {
            i_++;
            if (i_ >= s_.size() || !isdigit((unsigned char)s_[i_]))
                return false;
            while (i_ < s_.size() && isdigit((unsigned char)s_[i_]))
                i_++;
        }
        return i_ > b;
    }
    bool value() {
        if (i_ >= s_.size())
            return false;
        char c = s_[i_];
        if (c == '{' || c == '[') {
            const char end = c == '{' ? '}' : ']';
            i_++;
            ws();
            if (i_ < s_.size() && s_[i_] == end) {
                i_++;
                return true;
            }
            for (;;) {
                ws();
                if (c == '{') {
                    if (i_ >= s_.size() || !str())
                        return false;
                    ws();
                    if (i_ >= s_.size() || s_[i_++] != ':')
                        return false;
                    ws();
                }
                if (!value())
                    return false;
                ws();
                if (i_ >= s_.size())
                    return false;
                if (s_[i_] == ',') {
                    i_++;
                    continue;
                }
                if (s_[i_] == end) {
                    i_++;
                    return true;
                }
                return false;
            }
        }
        if (c == '"')
            return str();
        if (c == 't')
            return lit("true");
        if (c == 'f')
            return lit("false");
        if (c == 'n')
            return lit("null");
        return number();
    }
    const std::string& s_;
    size_t i_ = 0;
};

bool has(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

TEST(JsonCheck, RecognisesJson) {
    EXPECT_TRUE(JsonCheck(R"({"a": [1, -2.5, "x\n", true, null, {}], "b": {"c": 0}})").ok());
    EXPECT_FALSE(JsonCheck(R"({"a": 1,})").ok());
    EXPECT_FALSE(JsonCheck(R"({"a": 01})").ok());
    EXPECT_FALSE(JsonCheck("{\"a\": \"\x01\"}").ok());
    EXPECT_FALSE(JsonCheck(R"({"a": 1} x)").ok());
}

class Tool : public ::testing::Test {
protected:
    void SetUp() override {
        VSVA_REQUIRE_DEV();
        VSVA_REQUIRE_DEBUGFS();
        ASSERT_EQ(getuid(), 0u);
    }
};

// After mapping N pages, stat shows N pinned; after a bind, one binding;
// the owner is this process; cache lookups give a hit rate; faults past
// the fault queue's depth count as lost.
TEST_F(Tool, StatShowsTheContext) {
    dp::Ctx ctx;
    ASSERT_TRUE(ctx.ok());
    const int id = newest_ctx_id();
    uint32_t dom, dev, nopri, pasid;
    dp::GuestRam ram;
    ASSERT_EQ(ctx.DomainAlloc(&dom), 0);
    constexpr uint64_t kPages = 40; // 160 KiB at 1 MiB
    ASSERT_EQ(ram.Add(ctx, dom, 0x100000, kPages * dp::k4K), 0);
    dp::PageTables pt(ram, 0x100000, 0x110000, 4);
    pt.Map4K(kVa, 0x120000);
    ASSERT_EQ(ctx.Attach(dp::Rid(2), dom, VSVA_ATTACH_ENABLE_ATS | VSVA_ATTACH_ENABLE_PRI, &dev),
              0);
    ASSERT_EQ(ctx.Attach(dp::Rid(4), dom, 0, &nopri), 0);
    ASSERT_EQ(ctx.PasidAlloc(&pasid), 0);
    ASSERT_EQ(ctx.Bind(dev, pasid, pt.root(), pt.aw()), 0);
    // Two reads of one page: a miss, then a hit, in the IOTLB.
    uint64_t v;
    vsva_emu_dma d;
    ASSERT_EQ(ctx.Dma(dev, pasid, kVa, &v, 8, 0, &d), 0);
    ASSERT_EQ(ctx.Dma(dev, pasid, kVa, &v, 8, 0, &d), 0);
    // 130 unrecoverable faults into a fault queue of 128 records: 2 lost.
    ASSERT_EQ(ctx.Bind(nopri, pasid, pt.root(), pt.aw()), 0);
    int ffd;
    ASSERT_EQ(ctx.FaultAlloc(&ffd), 0);
    for (int i = 0; i < 130; i++)
        ASSERT_EQ(ctx.Dma(nopri, pasid, kVa + (1ull << 21), &v, 8, 0, &d), 0);

    int st;
    const std::string sid = std::to_string(id);
    std::string text = run("vsva stat --ctx " + sid, &st);
    std::printf("%s", text.c_str());
    EXPECT_EQ(st, 0);
    EXPECT_TRUE(has(text, "ctx " + sid + "  pid " + std::to_string(getpid()) + " (vm_tool) uid 0"))
            << text;
    EXPECT_TRUE(has(text, "pinned          40 pages (0.2 MiB)")) << text;
    EXPECT_TRUE(has(text, "PASIDs          1 (quota")) << text;
    EXPECT_TRUE(has(text, "bindings        2")) << text;
    EXPECT_TRUE(has(text, "domain " + std::to_string(dom) + ": 2 devices, 40 pages")) << text;
    EXPECT_TRUE(has(text, "device " + std::to_string(dev) + ": 00:02.0 in domain " +
                                  std::to_string(dom) + ", 1 PASIDs bound"))
            << text;
    EXPECT_TRUE(has(text, "faults          130 (0 page requests, 0 pending)")) << text;
    EXPECT_TRUE(has(text, "fault fd        128/128 records queued")) << text;
    EXPECT_TRUE(has(text, "lost            2 fault records")) << text;
    // 00:02.0 has ATS: its first read missed the device TLB, the second hit.
    EXPECT_TRUE(has(text, "devtlb          50.0% (1 hits, 1 misses)")) << text;
    EXPECT_TRUE(std::regex_search(
            text,
            std::regex(R"(pasid-cache +[0-9]+\.[0-9]% \([1-9][0-9]* hits, [1-9][0-9]* misses\))")))
            << text;

    std::string json = run("vsva stat --json --ctx " + sid, &st);
    EXPECT_EQ(st, 0);
    JsonCheck jc(json);
    EXPECT_TRUE(jc.ok()) << "invalid JSON near: " << jc.where() << "\n" << json;
    EXPECT_TRUE(has(json, "\"id\": " + sid + ", \"pid\": " + std::to_string(getpid()) +
                                  ", \"uid\": 0, \"comm\": \"vm_tool\", \"pinned_pages\": 40, "
                                  "\"pinned_bytes\": 163840, \"pasids\": 1"))
            << json;
    EXPECT_TRUE(has(json, "\"bindings\": 2")) << json;
    EXPECT_TRUE(has(json, "\"faults\": 130")) << json;
    EXPECT_TRUE(has(json, "\"lost_events\": 2")) << json;
    EXPECT_TRUE(has(json, "\"fault_queue\": {\"used\": 128, \"depth\": 128}")) << json;
    EXPECT_TRUE(has(json, "\"rid\": \"00:02.0\", \"domain\": " + std::to_string(dom))) << json;
    EXPECT_TRUE(has(json, "\"devtlb\": {\"hits\": 1, \"misses\": 1, \"flushed\": 0, "
                          "\"hit_rate\": 0.5000}"))
            << json;

    // All contexts: valid JSON too, and the summary counts ours.
    json = run("vsva stat --json", &st);
    EXPECT_EQ(st, 0);
    EXPECT_TRUE(JsonCheck(json).ok()) << json;
    EXPECT_TRUE(has(json, "\"summary\": {\"contexts\": ")) << json;

    close(ffd);
    ctx.Close();
    // Gone: --ctx names nothing.
    run("vsva stat --ctx " + sid + " 2>/dev/null", &st);
    EXPECT_EQ(st, 1);
    text = run("vsva stat --raw", &st);
    EXPECT_EQ(st, 0);
    EXPECT_TRUE(has(text, "summary")) << text;
}

// The topology's owners and which context holds each endpoint.
TEST_F(Tool, TopoShowsOwnersAndHolders) {
    const std::string before = read_file(kTopo);
    ASSERT_FALSE(before.empty());
    ASSERT_EQ(write_file(kTopo, "00:02.0/1/pasid+ats+pri/uid=1000,00:04.0/3/pasid+ats/gid=100,"
                                "00:05.0/4"),
              0);
    {
        dp::Ctx ctx;
        ASSERT_TRUE(ctx.ok());
        const int id = newest_ctx_id();
        uint32_t dom, dev;
        ASSERT_EQ(ctx.DomainAlloc(&dom), 0);
        // Root may attach an endpoint assigned to another user.
        ASSERT_EQ(ctx.Attach(dp::Rid(2), dom, 0, &dev), 0);
        int st;
        std::string text = run("vsva topo", &st);
        std::printf("%s", text.c_str());
        EXPECT_EQ(st, 0);
        EXPECT_TRUE(has(text, "ENDPOINT")) << text;
        EXPECT_TRUE(has(text, "00:02.0       1  pasid,ats,pri  uid 1000           ctx " +
                                      std::to_string(id) + " domain " + std::to_string(dom) +
                                      " (pid " + std::to_string(getpid()) + " vm_tool)"))
                << text;
        EXPECT_TRUE(has(text, "00:04.0       3  pasid,ats      gid 100            -")) << text;
        EXPECT_TRUE(has(text, "00:05.0       4  none           -                  -")) << text;

        std::string json = run("vsva topo --json", &st);
        EXPECT_EQ(st, 0);
        JsonCheck jc(json);
        EXPECT_TRUE(jc.ok()) << "invalid JSON near: " << jc.where() << "\n" << json;
        EXPECT_TRUE(has(json, "{\"rid\": \"00:02.0\", \"group\": 1, \"caps\": [\"pasid\", "
                              "\"ats\", \"pri\"], \"owner_uid\": 1000, \"owner_gid\": null, "
                              "\"held_by\": {\"ctx\": " +
                                      std::to_string(id) + ", \"domain\": " + std::to_string(dom) +
                                      ", \"pid\": " + std::to_string(getpid()) +
                                      ", \"comm\": \"vm_tool\"}}"))
                << json;
        EXPECT_TRUE(has(json, "{\"rid\": \"00:04.0\", \"group\": 3, \"caps\": [\"pasid\", "
                              "\"ats\"], \"owner_uid\": null, \"owner_gid\": 100, "
                              "\"held_by\": null}"))
                << json;
        EXPECT_TRUE(has(json, "{\"rid\": \"00:05.0\", \"group\": 4, \"caps\": [], ")) << json;
    }
    // Restore the topology as it was.
    EXPECT_EQ(write_file(kTopo, topology_spec(before)), 0);
    EXPECT_EQ(read_file(kTopo), before);
}

// Every command explains itself; bad options are usage errors.
TEST_F(Tool, HelpPerCommand) {
    for (const char* c : {"info", "stat", "topo", "trace", "selftest"}) {
        int st;
        std::string text = run(std::string("vsva ") + c + " --help", &st);
        EXPECT_EQ(st, 0) << c;
        EXPECT_TRUE(has(text, std::string("usage: vsva ")) && has(text, c)) << text;
        EXPECT_GT(text.size(), 300u) << c << ": help too short to act on:\n" << text;
        run(std::string("vsva ") + c + " --frob 2>/dev/null", &st);
        EXPECT_EQ(st, 2) << c;
    }
    int st;
    std::string text = run("vsva --help", &st);
    EXPECT_EQ(st, 0);
    for (const char* c : {"info", "stat", "topo", "trace", "selftest"})
        EXPECT_TRUE(has(text, std::string("  ") + c)) << text;
}

} // namespace
