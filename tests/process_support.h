// The shipped `mplane` binary (or a test peer's program) in a child process, for tests that need
// a real process: memory measured from outside, signals such as Ctrl-C, interoperability with
// another implementation. stdout and stderr go to files when asked.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace mplane::test {

// A program other than `mplane` (a test peer): its path, and NAME=VALUE variables set in its
// environment.
struct Program {
  std::string path;
  std::vector<std::string> env;
};

class Process {
 public:
  // wait_for()'s status for a process that had to be killed.
  static constexpr int kTimedOut = -2;

  // Runs `mplane ARGS...`; with `output`, stdout goes to OUTPUT.out and stderr to OUTPUT.err.
  explicit Process(std::vector<std::string> args, std::string output = "")
      : Process(Program{MPLANE_BINARY, {}}, std::move(args), std::move(output)) {}
  // Runs `PROGRAM ARGS...` (an executable file: a script needs its #! line).
  Process(const Program& program, std::vector<std::string> args, std::string output = "")
      : output_(std::move(output)) {
    args.insert(args.begin(), program.path);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env = environment(program.env);
    std::vector<char*> envp;
    for (std::string& kv : env) envp.push_back(kv.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    if (!output_.empty()) {
      const std::string out = output_ + ".out", err = output_ + ".err";
      posix_spawn_file_actions_addopen(&files, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      posix_spawn_file_actions_addopen(&files, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    // SIGPIPE at its default in the child, as a shell starts it: the test binary ignores it
    // (tests/catch_main.cc) and an ignored signal would stay ignored across exec, hiding a
    // binary that forgot to ignore it itself.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    const int rc = posix_spawn(&pid_, program.path.c_str(), &files, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&files);
    posix_spawnattr_destroy(&attr);
    REQUIRE(rc == 0);
  }
  ~Process() {
    if (pid_ > 0) stop();
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  pid_t pid() const { return pid_; }
  // Waits for the exit; its status (-1 if killed by a signal).
  int wait() {
    if (pid_ <= 0) return status_;
    int status = 0;
    ::waitpid(pid_, &status, 0);
    return reaped(status);
  }
  // Waits at most `timeout_ms` for the exit; its status, or kTimedOut after killing it (SIGKILL).
  int wait_for(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (running()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        signal(SIGKILL);
        wait();
        return status_ = kTimedOut;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return status_;
  }
  // Whether it has not exited yet (an exit is reaped here: wait() then gives its status).
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
    reaped(status);
    return false;
  }
  // SIGTERM, then SIGKILL if it has not exited after 10 s; its status.
  int stop() {
    signal(SIGTERM);
    return wait_for(10'000);
  }
  // Peak resident memory so far, in KiB (VmHWM).
  std::size_t peak_rss_kib() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("VmHWM:")) return std::stoul(line.substr(6));
    }
    return 0;
  }
  std::string out() const { return read(output_ + ".out"); }
  std::string err() const { return read(output_ + ".err"); }
  // Polls stderr until it contains `text` (false after `timeout_ms`).
  bool wait_for_err(const std::string& text, int timeout_ms = 10'000) const {
    for (int waited = 0; waited < timeout_ms; waited += 20) {
      if (err().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 private:
  int reaped(int status) {
    pid_ = -1;
    return status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // Ours, with `extra` (NAME=VALUE) replacing or adding variables. Under AddressSanitizer freed
  // memory is quarantined (256 MiB by default), which would measure the sanitizer, not the
  // program: keep the quarantine small.
  static std::vector<std::string> environment(const std::vector<std::string>& extra) {
    std::vector<std::string> env;
    std::string asan = "ASAN_OPTIONS=quarantine_size_mb=8";
    for (char** e = environ; *e; ++e) {
      const std::string kv = *e;
      const std::string name = kv.substr(0, kv.find('=') + 1);
      const bool replaced = std::any_of(extra.begin(), extra.end(),
                                        [&](const std::string& x) { return x.starts_with(name); });
      if (replaced) continue;
      if (kv.starts_with("ASAN_OPTIONS=")) {
        asan = kv + ":quarantine_size_mb=8";
      } else {
        env.push_back(kv);
      }
    }
    env.insert(env.end(), extra.begin(), extra.end());
    env.push_back(asan);
    return env;
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  pid_t pid_ = -1;
  int status_ = -1;  // once reaped
  std::string output_;
};

}  // namespace mplane::test
