// SPDX-License-Identifier: GPL-2.0
// A production build ships no test hooks.  Run against a module built
// without VSVA_TEST_HOOKS (scripts/test.sh does):
//   tests/vm/run --kernel stock --module-opts VSVA_TEST_HOOKS=0 -- hooks_absent
// Not a vm_* suite: the default harness run builds the hooks in.
#include <unistd.h>

#include "vsva_testlib.h"

using namespace vsva::test;

namespace {

TEST(HooksAbsent, NoFailBindNth) {
    VSVA_REQUIRE_DEV();
    VSVA_REQUIRE_DEBUGFS();
    EXPECT_EQ(access("/sys/kernel/debug/vsva/summary", R_OK), 0);
    EXPECT_NE(access("/sys/kernel/debug/vsva/fail_bind_nth", F_OK), 0)
            << "a production build exposes fail_bind_nth";
    EXPECT_NE(access("/sys/kernel/debug/vsva/bench_skip_inv_backend", F_OK), 0)
            << "a production build exposes bench_skip_inv_backend";
}

TEST(HooksAbsent, NoConsumerUnbind) {
    VSVA_REQUIRE_DEV();
    VSVA_REQUIRE_DEBUGFS();
    ASSERT_EQ(load_consumer(), 0);
    EXPECT_EQ(access(VSVA_CONSUMER_DIR "/stats", R_OK), 0);
    EXPECT_NE(access(VSVA_CONSUMER_DIR "/unbind", F_OK), 0)
            << "a production build of vsva_consumer.ko exposes unbind";
    EXPECT_NE(access(VSVA_CONSUMER_DIR "/hold", F_OK), 0)
            << "a production build of vsva_consumer.ko exposes hold";
}

} // namespace
