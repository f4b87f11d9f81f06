// A private RabbitMQ broker for tests: Debian's rabbitmq-server started as a background process on
// free loopback ports, with its own HOME, node name, epmd, configuration and data directory in a
// temporary directory (WIRE.md §2.3), one vhost and one user. It can be killed (-9) and restarted
// on the same data directory; the destructor shuts it down and stops its epmd.
//
// A start takes 4-8 s: tests share one broker per process where they can (shared_broker()).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/net_support.h"
#include "tests/process_support.h"
#include "tests/skip_support.h"
#include "tests/test_support.h"

namespace mplane::test {

class AmqpBroker {
 public:
  static constexpr const char* kServer = "/usr/lib/rabbitmq/bin/rabbitmq-server";
  static constexpr const char* kCtl = "/usr/lib/rabbitmq/bin/rabbitmqctl";
  static constexpr const char* kEpmd = "/usr/bin/epmd";
  static constexpr const char* kVhost = "session01";
  static constexpr const char* kUser = "paul";
  static constexpr const char* kPassword = "iamthewalrus";

  static bool installed() { return std::filesystem::exists(kServer); }

  AmqpBroker() : dir_("mplane-rabbit") {
    amqp_port_ = free_loopback_port();
    do dist_port_ = free_loopback_port();
    while (dist_port_ == amqp_port_);
    do epmd_port_ = free_loopback_port();
    while (epmd_port_ == amqp_port_ || epmd_port_ == dist_port_);
    write_files();
    start_epmd();
    start();
    ctl({"add_vhost", kVhost});
    ctl({"add_user", kUser, kPassword});
    ctl({"set_permissions", "-p", kVhost, kUser, ".*", ".*", ".*"});
  }
  // Without Catch2 assertions: shared_amqp_broker()'s runs after Catch2 has finished.
  ~AmqpBroker() {
    if (server_) {
      run_quietly(kCtl, {"shutdown"});
      server_.reset();  // SIGTERM, then SIGKILL if it is still there
    }
    run_quietly(kEpmd, {"-kill"});
    epmd_.reset();
  }
  AmqpBroker(const AmqpBroker&) = delete;
  AmqpBroker& operator=(const AmqpBroker&) = delete;

  std::uint16_t port() const { return amqp_port_; }
  std::string url(const std::string& password = kPassword) const {
    return std::string("amqp://") + kUser + ":" + password +
           "@127.0.0.1:" + std::to_string(amqp_port_) + "/" + kVhost;
  }

  // kill -9 of the Erlang VM (not of the script that started it), then waits until the AMQP port
  // refuses connections.
  void kill9() {
    const pid_t beam = static_cast<pid_t>(std::stol(read_file(pid_file())));
    REQUIRE(::kill(beam, SIGKILL) == 0);
    REQUIRE(server_->wait_for(30'000) != Process::kTimedOut);
    server_.reset();
    for (int waited = 0; accepts(amqp_port_); waited += 50) {
      REQUIRE(waited < 30'000);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  // Starts it again on the same data directory (users and vhosts survive).
  void restart() { start(); }

  // rabbitmqctl ARGS..., which must succeed within 60 s.
  void ctl(const std::vector<std::string>& args) {
    Process p(Program{kCtl, env_}, args, dir_.sub("ctl"));
    const int status = p.wait_for(60'000);
    INFO("rabbitmqctl: " << p.out() << p.err());
    REQUIRE(status == 0);
  }

 private:
  std::string pid_file() const { return dir_.sub("rabbit.pid"); }

  // PROGRAM ARGS... with the broker's environment, output discarded; waits at most 30 s.
  void run_quietly(const char* program, std::vector<std::string> args) const {
    std::vector<std::string> env = env_;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);  // PATH for the scripts
    args.insert(args.begin(), program);
    std::vector<char*> argv, envp;
    for (std::string& a : args) argv.push_back(a.data());
    for (std::string& kv : env) envp.push_back(kv.data());
    argv.push_back(nullptr);
    envp.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&files, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, program, &files, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&files);
    if (rc != 0) return;
    int status = 0;
    for (int waited = 0; ::waitpid(pid, &status, WNOHANG) == 0; waited += 20) {
      if (waited >= 30'000) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  void write_files() {
    std::filesystem::create_directories(dir_.path() / "home");
    dir_.write("rabbitmq.conf", "listeners.tcp.default = 127.0.0.1:" + std::to_string(amqp_port_) +
                                    "\nloopback_users = none\n");
    dir_.write("rabbitmq-env.conf", "");
    dir_.write("enabled_plugins", "[].\n");
    const std::string b = dir_.path().string();
    env_ = {"HOME=" + b + "/home",
            "RABBITMQ_NODENAME=mplanetest" + std::to_string(::getpid()) + "@localhost",
            "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
            "RABBITMQ_NODE_PORT=" + std::to_string(amqp_port_),
            "RABBITMQ_DIST_PORT=" + std::to_string(dist_port_),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_ADDRESS=127.0.0.1",
            "ERL_EPMD_PORT=" + std::to_string(epmd_port_),
            "RABBITMQ_CONF_ENV_FILE=" + b + "/rabbitmq-env.conf",
            "RABBITMQ_CONFIG_FILE=" + b + "/rabbitmq",
            "RABBITMQ_ENABLED_PLUGINS_FILE=" + b + "/enabled_plugins",
            "RABBITMQ_MNESIA_BASE=" + b + "/mnesia",
            "RABBITMQ_LOG_BASE=" + b + "/log",
            "RABBITMQ_PID_FILE=" + pid_file(),
            "RABBITMQ_LOGS=-"};
  }

  // Our own epmd, in the foreground as our child: the one Erlang would start is a daemon that
  // nobody reaps.
  void start_epmd() {
    epmd_ = std::make_unique<Process>(Program{kEpmd, env_}, std::vector<std::string>{},
                                      dir_.sub("epmd"));
    for (int waited = 0; !accepts(epmd_port_); waited += 20) {
      REQUIRE(waited < 10'000);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // Starts the server and waits (bounded) until it runs; a stale pid file would fool the wait.
  void start() {
    std::filesystem::remove(pid_file());
    server_ = std::make_unique<Process>(Program{kServer, env_}, std::vector<std::string>{},
                                        dir_.sub("server"));
    Process wait(Program{kCtl, env_}, {"wait", "--timeout", "60", pid_file()}, dir_.sub("wait"));
    const int status = wait.wait_for(90'000);
    INFO("rabbitmq-server output: " << server_->out() << server_->err());
    REQUIRE(status == 0);
    REQUIRE(accepts(amqp_port_));
  }

  TempDir dir_;
  std::uint16_t amqp_port_ = 0;
  std::uint16_t dist_port_ = 0;
  std::uint16_t epmd_port_ = 0;
  std::vector<std::string> env_;
  std::unique_ptr<Process> epmd_;
  std::unique_ptr<Process> server_;  // declared last: destroyed before epmd_
};

// One broker for the whole test process, started on first use, stopped at exit.
inline AmqpBroker& shared_amqp_broker() {
  static AmqpBroker broker;
  return broker;
}

}  // namespace mplane::test

// A test that needs a broker: skips (one line) when Debian's rabbitmq-server is not installed.
#define MPLANE_REQUIRE_BROKER()                                                            \
  do {                                                                                     \
    if (!::mplane::test::AmqpBroker::installed())                                          \
      MPLANE_SKIP("needs Debian's rabbitmq-server (build.sh installs it): " +              \
                  std::string(::mplane::test::AmqpBroker::kServer) + " is not installed"); \
  } while (0)
