// SPDX-License-Identifier: GPL-2.0
// vsva-fuzz: a coverage-guided, structure-aware fuzzer of /dev/vsva, run in
// the test VM (tests/vm/run -- vsva-fuzz ...; scripts/fuzz.sh).
//
// The fuzzer process keeps the corpus and the coverage bitmap; an executor
// child (exec.cc) runs one program at a time.  Coverage comes from KCOV
// (/sys/kernel/debug/kcov, KCOV_TRACE_PC), one buffer per executor thread;
// edges (previous PC, PC) inside vsva.ko are hashed into a bitmap, and a
// program that sets a new bit joins the corpus.  Without KCOV it runs in
// random mode ("coverage: unavailable").  /dev/kmsg is watched for kernel
// reports (the same kinds tests/vm/check fails on); on one, the last
// programs are printed between "@@fuzz-repro-begin" / "@@fuzz-repro-end"
// lines so the host can save them (scripts/fuzz.sh), and the run stops.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "prog.h"

namespace vfuzz {
// The repository's corpus (tests/fuzz/corpus/*.prog), compiled in.
struct SeedFile {
    const char* name;
    const char* text;
};
extern const SeedFile kSeedFiles[];
extern const size_t kNumSeedFiles;
} // namespace vfuzz

using namespace vfuzz;

namespace {

constexpr unsigned long kKcovInitTrace = _IOR('c', 1, unsigned long);

struct Options {
    double seconds = 60;
    uint64_t seed = 0;
    unsigned threads = kMaxThreads;
    double interval = 30;
    std::string replay;
    unsigned repeat = 1;
    bool seeds = true;
    bool print_corpus = false;
    bool keep_going = false;
    double hang_seconds = 90;
    bool verbose = false;
    std::string corpus_out = "/tmp/vsva-fuzz-corpus";
};

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: vsva-fuzz [--seconds N] [--seed S] [--threads 1-4] [--interval S]\n"
                 "                 [--no-seeds] [--print-corpus] [--keep-going] [--verbose]\n"
                 "                 [--corpus-out DIR] [--hang-seconds S]\n"
                 "                 [--replay FILE [--repeat N]]\n");
    std::exit(2);
}

double now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// --- coverage ------------------------------------------------------------
struct Coverage {
    bool on = false;
    uint64_t mod_lo = 0, mod_hi = 0; // vsva.ko, from /proc/modules
    std::vector<uint8_t> all, mod;   // bitmaps
    size_t n_all = 0, n_mod = 0;
    static constexpr size_t kBits = 1 << 22;

    Coverage() : all(kBits / 8), mod(kBits / 8) {}

    static uint64_t h(uint64_t pc) { return (pc * 0x9E3779B97F4A7C15ull) >> 32; }
    static bool set(std::vector<uint8_t>& bm, uint64_t e) {
        e &= kBits - 1;
        uint8_t bit = static_cast<uint8_t>(1u << (e & 7));
        if (bm[e >> 3] & bit)
            return false;
        bm[e >> 3] |= bit;
        return true;
    }
    // New edges (in vsva.ko when its range is known, else anywhere).
    size_t add(const uint64_t* area) {
        uint64_t n = __atomic_load_n(&area[0], __ATOMIC_RELAXED);
        n = std::min<uint64_t>(n, kCoverWords - 1);
        size_t fresh = 0;
        uint64_t prev = 0;
        bool have_mod = mod_hi > mod_lo;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t pc = area[i + 1];
            uint64_t e = (h(prev) >> 1) ^ h(pc);
            prev = pc;
            if (set(all, e)) {
                n_all++;
                if (!have_mod)
                    fresh++;
            }
            if (have_mod && pc >= mod_lo && pc < mod_hi && set(mod, e)) {
                n_mod++;
                fresh++;
            }
        }
        return fresh;
    }
};

bool module_range(uint64_t* lo, uint64_t* hi) {
    std::ifstream f("/proc/modules");
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream s(line);
        std::string name, state, deps, addr;
        unsigned long size;
        int refs;
        if (!(s >> name >> size >> refs >> deps >> state >> addr) || name != "vsva")
            continue;
        *lo = std::strtoull(addr.c_str(), nullptr, 16);
        *hi = *lo + size;
        return *lo != 0;
    }
    return false;
}

// --- kernel reports --------------------------------------------------------
struct Kmsg {
    int fd = -1;
    std::regex bad{"BUG: |kernel BUG at|WARNING: |KASAN|UBSAN|possible circular locking|"
                   "possible recursive locking|inconsistent lock state|bad unlock balance|"
                   "lock held when returning|held lock freed|INFO: |Oops|Kernel panic|"
                   "general protection fault|rcu.* stall|blocked for more than|soft lockup|"
                   "hard LOCKUP|kmemleak: [0-9]+ new suspected"};

    void open_end() {
        fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0)
            lseek(fd, 0, SEEK_END);
    }
    // Reads what is new; returns the message lines, *hit when one is a report.
    std::vector<std::string> poll(bool* hit) {
        std::vector<std::string> out;
        if (fd < 0)
            return out;
        char buf[8192];
        for (;;) {
            ssize_t n = read(fd, buf, sizeof(buf) - 1);
            if (n < 0) {
                if (errno == EPIPE)
                    continue; // overwritten records
                break;
            }
            buf[n] = 0;
            char* msg = std::strchr(buf, ';');
            std::string m = msg ? msg + 1 : buf;
            if (auto nl = m.find('\n'); nl != std::string::npos)
                m.resize(nl);
            if (std::regex_search(m, bad))
                *hit = true;
            out.push_back(m);
        }
        return out;
    }
};

// --- the executor ---------------------------------------------------------
struct Executor {
    pid_t pid = -1;
    int req = -1, resp = -1;
    Shm* shm = nullptr;
    ExecConfig cfg;
    uint64_t starts = 0;

    double start_s = 0, reap_s = 0;
    void start() {
        starts++;
        double ts = now();
        int a[2], b[2];
        if (pipe2(a, O_CLOEXEC) || pipe2(b, O_CLOEXEC)) {
            std::perror("pipe");
            std::exit(1);
        }
        std::fflush(stdout);
        pid = fork();
        if (pid == 0) {
            close(a[1]);
            close(b[0]);
            executor_main(a[0], b[1], shm, cfg);
        }
        close(a[0]);
        close(b[1]);
        req = a[1];
        resp = b[0];
        start_s += now() - ts;
    }
    void reap(bool kill_it) {
        if (pid <= 0)
            return;
        if (kill_it)
            kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        close(req);
        close(resp);
        pid = -1;
    }
    // 0 ok, 1 the executor exited (EXIT, a stuck worker, a signal),
    // 2 no answer in time.
    int run(const Prog& p, int* status) {
        if (pid < 0)
            start();
        shm->ncalls = static_cast<uint32_t>(p.calls.size());
        std::copy(p.calls.begin(), p.calls.end(), shm->calls);
        shm->cur_call = 0;
        char b = 'g';
        if (write(req, &b, 1) != 1) {
            reap(true);
            return 1;
        }
        pollfd pf = {resp, POLLIN, 0};
        int r = ::poll(&pf, 1, 30000);
        if (r == 1 && read(resp, &b, 1) == 1)
            return 0;
        if (r == 0) {
            reap(true);
            return 2;
        }
        int st = 0;
        double tw = now();
        waitpid(pid, &st, 0);
        reap_s += now() - tw;
        close(req);
        close(resp);
        pid = -1;
        *status = st;
        return 1;
    }
};

// Seconds spent in each phase of the fuzzer's loop.
struct Phases {
    uint64_t stuck = 0;
    double gen = 0, exec = 0, exec_died = 0, cover = 0, kmsg = 0, keep = 0;
};

struct Timed {
    double* acc;
    double t;
    explicit Timed(double* a) : acc(a), t(now()) {}
    ~Timed() { *acc += now() - t; }
};

struct Entry {
    Prog p;
    uint64_t picked = 0;
};

struct Fuzzer {
    Options o;
    Rng rng{1};
    Coverage cov;
    Phases ph;
    Kmsg kmsg;
    Executor ex;
    std::vector<Entry> corpus;
    std::deque<Prog> last; // the last programs run
    uint64_t execs = 0, kept = 0;
    int reports = 0;
    double t0 = 0;
    std::string old_panic_on_oops;
    std::atomic<double> last_done{0};
    std::mutex out_mu;

    // A program that does not finish (the executor stuck in the kernel, so
    // that even SIGKILL cannot end it) would hang the run silently: say
    // where every executor thread is, print the program and stop.
    void watchdog() {
        for (;;) {
            sleep(5);
            double idle = now() - last_done.load();
            if (idle < o.hang_seconds)
                continue;
            std::lock_guard<std::mutex> g(out_mu);
            std::printf("fuzz: HANG: no program finished for %.0f s (executor pid %d)\n", idle,
                        ex.pid);
            dump_tasks(ex.pid);
            reports++;
            print_repro("hang");
            std::fflush(stdout);
            _exit(1);
        }
    }

    static void dump_tasks(pid_t pid) {
        if (pid <= 0)
            return;
        std::string dir = "/proc/" + std::to_string(pid) + "/task";
        DIR* d = opendir(dir.c_str());
        if (!d)
            return;
        while (dirent* de = readdir(d)) {
            if (de->d_name[0] == '.')
                continue;
            std::string t = dir + "/" + de->d_name;
            std::string state, wchan, line;
            std::ifstream st(t + "/status");
            while (std::getline(st, line))
                if (line.rfind("State:", 0) == 0)
                    state = line;
            std::ifstream(t + "/wchan") >> wchan;
            std::printf("fuzz: task %s %s wchan=%s\n", de->d_name, state.c_str(), wchan.c_str());
            std::ifstream stack(t + "/stack");
            while (std::getline(stack, line))
                std::printf("fuzz:   %s\n", line.c_str());
        }
        closedir(d);
    }

    void setup_kcov() {
        for (unsigned t = 0; t < kMaxThreads; t++) {
            int fd = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC);
            if (fd < 0) {
                std::printf("coverage: unavailable (/sys/kernel/debug/kcov: %s): random mode\n",
                            std::strerror(errno));
                return;
            }
            if (ioctl(fd, kKcovInitTrace, kCoverWords) != 0) {
                std::printf("coverage: unavailable (KCOV_INIT_TRACE: %s): random mode\n",
                            std::strerror(errno));
                return;
            }
            void* p = mmap(nullptr, kCoverWords * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (p == MAP_FAILED) {
                std::printf("coverage: unavailable (mmap: %s): random mode\n",
                            std::strerror(errno));
                return;
            }
            ex.cfg.kcov_fd[t] = fd;
            ex.cfg.kcov_area[t] = static_cast<uint64_t*>(p);
        }
        ex.cfg.kcov = cov.on = true;
        if (module_range(&cov.mod_lo, &cov.mod_hi))
            std::printf("coverage: kcov, edges in vsva.ko [0x%" PRIx64 ", 0x%" PRIx64 ") keep "
                        "an input\n",
                        cov.mod_lo, cov.mod_hi);
        else
            std::printf("coverage: kcov, vsva.ko address unknown: every kernel edge counts\n");
    }

    void print_repro(const char* why) {
        std::printf("fuzz: KERNEL REPORT (%s) after %" PRIu64 " programs; call %u of the last "
                    "was running\n",
                    why, execs, ex.shm->cur_call.load());
        int k = 0;
        for (auto it = last.rbegin(); it != last.rend(); ++it, ++k) {
            std::printf("@@fuzz-repro-begin %d (%s)\n%s@@fuzz-repro-end\n", k,
                        k == 0 ? "last program" : "earlier program", to_text(*it).c_str());
            char path[64];
            std::snprintf(path, sizeof(path), "/tmp/vsva-fuzz-repro-%d.prog", k);
            std::ofstream(path) << to_text(*it);
        }
        std::fflush(stdout);
    }

    // Runs one program; returns the number of new edges.
    size_t run(const Prog& p) {
        last.push_back(p);
        if (last.size() > 3)
            last.pop_front();
        if (o.verbose)
            std::printf("fuzz: program %" PRIu64 ":\n%s", execs, to_text(p).c_str());
        int st = 0;
        double ta = now();
        int r = ex.run(p, &st);
        last_done = now();
        ph.exec += last_done - ta;
        if (r != 0) {
            ph.exec_died += last_done - ta;
            if (r == 1 && WIFEXITED(st) && WEXITSTATUS(st) == 3)
                ph.stuck++;
        }
        std::lock_guard<std::mutex> g(out_mu);
        execs++;
        size_t fresh = 0;
        double tb = now();
        if (cov.on)
            for (unsigned t = 0; t < kMaxThreads; t++) {
                fresh += cov.add(ex.cfg.kcov_area[t]);
                // A thread the next program does not start leaves it empty.
                __atomic_store_n(&ex.cfg.kcov_area[t][0], 0, __ATOMIC_RELAXED);
            }
        double tc = now();
        ph.cover += tc - tb;
        bool hit = false;
        auto lines = kmsg.poll(&hit);
        ph.kmsg += now() - tc;
        if (r == 1 && WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL) {
            std::printf("fuzz: the executor died by signal %d\n", WTERMSIG(st));
            hit = true;
        }
        if (r == 2)
            std::printf("fuzz: a program ran for more than 30 s (executor killed)\n");
        if (hit) {
            reports++;
            usleep(500000); // the rest of the report
            auto more = kmsg.poll(&hit);
            lines.insert(lines.end(), more.begin(), more.end());
            int shown = 0;
            for (auto& l : lines)
                if (shown++ < 40)
                    std::printf("fuzz: kmsg: %s\n", l.c_str());
            print_repro("see kmsg lines above");
        }
        return fresh;
    }

    void keep(const Prog& p) {
        Timed tm(&ph.keep);
        corpus.push_back({p, 0});
        kept++;
        if (o.corpus_out.empty())
            return;
        mkdir(o.corpus_out.c_str(), 0755);
        char path[256];
        std::snprintf(path, sizeof(path), "%s/%06" PRIu64 ".prog", o.corpus_out.c_str(), kept);
        std::ofstream(path) << to_text(p);
    }

    void progress(double t) {
        double el = t - t0;
        uint64_t calls = ex.shm->calls_done.load();
        std::printf("fuzz: t=%.0fs calls=%" PRIu64 " calls/s=%.0f execs=%" PRIu64
                    " edges=%zu vsva-edges=%zu corpus=%zu reports=%d\n",
                    el, calls, el > 0 ? calls / el : 0.0, execs, cov.n_all, cov.n_mod,
                    corpus.size(), reports);
        print_phases();
        std::fflush(stdout);
    }

    // Where the time went, in microseconds per program (execs), so that a
    // slow run can be told from a slow kernel.
    void print_phases() {
        if (!execs)
            return;
        double n = static_cast<double>(execs) / 1e6;
        double setup = static_cast<double>(ex.shm->ns_setup.load()) / 1e9;
        double calls = static_cast<double>(ex.shm->ns_calls.load()) / 1e9;
        double fin = static_cast<double>(ex.shm->ns_finish.load()) / 1e9;
        double total = now() - t0;
        std::printf("fuzz: phases us/prog: total=%.0f gen=%.0f exec=%.0f [setup=%.0f calls=%.0f "
                    "finish=%.0f pipe+restart=%.0f] cover=%.0f kmsg=%.0f keep=%.0f "
                    "executor-starts=%" PRIu64 " (fork %.0f, programs that ended it %.0f, of which "
                    "waitpid %.0f; %" PRIu64 " stuck)\n",
                    total / n, ph.gen / n, ph.exec / n, setup / n, calls / n, fin / n,
                    (ph.exec - setup - calls - fin) / n, ph.cover / n, ph.kmsg / n, ph.keep / n,
                    ex.starts, ex.start_s / n, ph.exec_died / n, ex.reap_s / n, ph.stuck);
    }

    bool stop() const { return reports && !o.keep_going; }

    int replay_file() {
        std::ifstream f(o.replay);
        std::stringstream ss;
        ss << f.rdbuf();
        Prog p;
        std::string err;
        if (!f || !from_text(ss.str(), &p, &err)) {
            std::printf("fuzz: cannot use %s: %s\n", o.replay.c_str(),
                        f ? err.c_str() : "unreadable");
            return 2;
        }
        for (unsigned k = 0; k < o.repeat && !stop(); k++)
            run(p);
        std::printf("fuzz: replayed %s %u times: calls=%" PRIu64 " reports=%d\n", o.replay.c_str(),
                    o.repeat, ex.shm->calls_done.load(), reports);
        return reports ? 1 : 0;
    }

    int main() {
        t0 = now();
        last_done = t0;
        std::thread([this] { watchdog(); }).detach();
        if (!o.replay.empty())
            return replay_file();
        // Seeds from the repository first.
        if (o.seeds) {
            size_t n = 0;
            for (size_t k = 0; k < kNumSeedFiles && !stop(); k++) {
                Prog p;
                std::string err;
                if (!from_text(kSeedFiles[k].text, &p, &err)) {
                    std::printf("fuzz: corpus %s: %s\n", kSeedFiles[k].name, err.c_str());
                    reports++;
                    break;
                }
                run(p);
                corpus.push_back({p, 0});
                n++;
            }
            std::printf("fuzz: replayed the corpus: %zu programs, calls=%" PRIu64
                        " edges=%zu vsva-edges=%zu\n",
                        n, ex.shm->calls_done.load(), cov.n_all, cov.n_mod);
            if (cov.on && cov.mod_hi && !cov.n_mod)
                std::printf("fuzz: no edge inside vsva.ko: is the module built without "
                            "KCOV instrumentation?\n");
        }
        double next = t0 + o.interval;
        while (!stop()) {
            double t = now();
            if (t - t0 >= o.seconds)
                break;
            if (t >= next) {
                progress(t);
                next += o.interval;
            }
            Prog p;
            double tg = now();
            if (!corpus.empty() && !rng.one_in(cov.on ? 10 : 3)) {
                Entry& e = corpus[rng.one_in(2)
                                          ? corpus.size() - 1 -
                                                    rng.below(std::min<size_t>(corpus.size(), 16))
                                          : rng.below(corpus.size())];
                e.picked++;
                p = e.p;
                const Prog* other = &corpus[rng.below(corpus.size())].p;
                mutate(rng, p, other, o.threads);
            } else {
                p = gen_prog(rng, o.threads);
            }
            ph.gen += now() - tg;
            if (run(p) && cov.on)
                keep(p);
        }
        progress(now());
        double el = now() - t0;
        uint64_t calls = ex.shm->calls_done.load();
        std::printf("fuzz: done: seconds=%.0f calls=%" PRIu64 " calls/s=%.0f execs=%" PRIu64
                    " edges=%zu vsva-edges=%zu corpus=%zu new-inputs=%" PRIu64 " reports=%d "
                    "coverage=%s seed=%" PRIu64 "\n",
                    el, calls, el > 0 ? calls / el : 0.0, execs, cov.n_all, cov.n_mod,
                    corpus.size(), kept, reports, cov.on ? "kcov" : "unavailable", o.seed);
        if (o.print_corpus)
            for (size_t k = kNumSeedFiles; k < corpus.size(); k++)
                std::printf("@@fuzz-corpus-begin %zu\n%s@@fuzz-corpus-end\n", k,
                            to_text(corpus[k].p).c_str());
        return reports ? 1 : 0;
    }
};

} // namespace

int main(int argc, char** argv) {
    Options o;
    o.seed = static_cast<uint64_t>(time(nullptr)) ^ (static_cast<uint64_t>(getpid()) << 32);
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc)
                usage();
            return argv[++i];
        };
        if (a == "--seconds")
            o.seconds = std::atof(val().c_str());
        else if (a == "--seed")
            o.seed = std::strtoull(val().c_str(), nullptr, 0);
        else if (a == "--threads")
            o.threads = static_cast<unsigned>(std::clamp(std::atoi(val().c_str()), 1, 4));
        else if (a == "--interval")
            o.interval = std::atof(val().c_str());
        else if (a == "--replay")
            o.replay = val();
        else if (a == "--repeat")
            o.repeat = static_cast<unsigned>(std::atoi(val().c_str()));
        else if (a == "--no-seeds")
            o.seeds = false;
        else if (a == "--print-corpus")
            o.print_corpus = true;
        else if (a == "--keep-going")
            o.keep_going = true;
        else if (a == "--hang-seconds")
            o.hang_seconds = std::atof(val().c_str());
        else if (a == "--verbose")
            o.verbose = true;
        else if (a == "--corpus-out")
            o.corpus_out = val();
        else
            usage();
    }
    setvbuf(stdout, nullptr, _IOLBF, 0);
    if (access("/dev/vsva", R_OK | W_OK) != 0) {
        std::printf("vsva-fuzz: /dev/vsva: %s\n", std::strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    auto* shm = static_cast<Shm*>(
            mmap(nullptr, sizeof(Shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    if (shm == MAP_FAILED)
        return 1;
    new (shm) Shm();
    static Fuzzer f;
    f.o = o;
    f.rng = Rng(o.seed);
    f.ex.shm = shm;
    f.ex.cfg.max_thr = o.threads;
    std::printf("vsva-fuzz: seed=%" PRIu64 " seconds=%.0f threads=%u corpus-files=%zu\n", o.seed,
                o.seconds, o.threads, kNumSeedFiles);
    f.setup_kcov();
    // An oops should kill the executor and be reported with its program,
    // not panic the VM before the program is printed (oops=panic).
    {
        std::ifstream in("/proc/sys/kernel/panic_on_oops");
        std::getline(in, f.old_panic_on_oops);
        std::ofstream("/proc/sys/kernel/panic_on_oops") << "0\n";
    }
    f.kmsg.open_end();
    int rc = f.main();
    f.ex.reap(true);
    if (!f.old_panic_on_oops.empty())
        std::ofstream("/proc/sys/kernel/panic_on_oops") << f.old_panic_on_oops << "\n";
    return rc;
}
