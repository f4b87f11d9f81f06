// `mplane client` against an in-process component (engine + ComponentServer on 127.0.0.1,
// plaintext): caps, run (table, JSON, CSV), receipt → redemption → result, errors, the shell.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/cli/command.h"
#include "engine/component/component_server.h"
#include "tests/engine/component/component_fixture.h"
#include "tests/engine/component/tls_domain.h"
#include "tests/net_support.h"
#include "tests/process_support.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

using Component = test::ComponentFixture;

struct Run {
  int status;
  std::string out, err;
};

Run client(std::vector<std::string> args, const std::string& input = "") {
  std::ostringstream out, err;
  std::istringstream in(input);
  const int status = cli::run_client(args, {out, err}, in);
  return {status, out.str(), err.str()};
}

TEST_CASE("client: caps lists the capabilities", "[engine][client][net]") {
  Component c;
  for (const std::string& url : {c.url(), c.url("/capability"), c.url("/capabilities")}) {
    auto r = client({"--url", url, "caps"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("test-loopback  token ") &&
                          Catch::Contains("parameters: test.input=*") &&
                          Catch::Contains("results: test.output") && Catch::Contains("sleep"));
    CHECK_THAT(r.err, Catch::Contains("warning: plain http"));
  }
  CHECK(client({"--url", c.url(), "--insecure", "caps"}).err.empty());
}

TEST_CASE("client: run prints the result", "[engine][client][net]") {
  Component c;
  SECTION("table") {
    auto r = client(
        {"--url", c.url(), "--insecure", "run", "test-loopback", "--param", "test.input=hi"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("test.output") && Catch::Contains("hi") &&
                          Catch::Contains("test-loopback-0"));
  }
  SECTION("json") {
    auto r = client({"--url", c.url(), "--insecure", "run", "test-loopback", "--param",
                     "test.input=hi", "--json"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto m = test::parse(r.out);
    REQUIRE(m.ok());
    CHECK(m.value()->message.kind == model::MessageKind::kResult);
    CHECK(m.value()->message.columns.at(0).values.at(0).as_string() == "hi");
  }
  SECTION("csv") {
    auto r = client({"--url", c.url(), "--insecure", "run", "test-loopback", "--param",
                     "test.input=a,b", "--csv"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out == "test.output\n\"a,b\"\n");
  }
  SECTION("receipt, redemption, result") {
    auto r = client({"--url", c.url(), "--insecure", "run", "sleep", "--when", "now + 1s"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.err, Catch::Contains("receipt"));
    CHECK_THAT(r.out, Catch::Contains("duration.ms") && Catch::Contains("(1 row)"));
  }
}

TEST_CASE("client: errors are one line", "[engine][client][net]") {
  Component c;
  auto unknown = client({"--url", c.url(), "--insecure", "run", "nope"});
  CHECK(unknown.status == 1);
  CHECK_THAT(unknown.err, Catch::StartsWith("mplane client: no capability 'nope' (known: "));
  auto missing = client({"--url", c.url(), "--insecure", "run", "test-loopback"});
  CHECK(missing.status == 1);
  CHECK_THAT(missing.err, Catch::Contains("missing parameter test.input"));
  auto extra = client({"--url", c.url(), "--insecure", "run", "sleep", "--param", "x.y=1"});
  CHECK(extra.status == 1);
  CHECK_THAT(extra.err, Catch::Contains("has no parameter x.y"));
  auto https = client({"--url", "https://127.0.0.1:1/", "caps"});
  CHECK(https.status == 1);
  CHECK_THAT(https.err, Catch::Contains("needs --ca, --cert and --key"));
  auto refused = client({"--url", "http://127.0.0.1:1/", "--insecure", "caps"});
  CHECK(refused.status == 1);
  CHECK_THAT(refused.err, Catch::Contains("cannot connect to 127.0.0.1:1"));
  CHECK(client({"bogus"}).status == 2);
  auto help = client({"--help"});
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::Contains("--param NAME=VALUE") && Catch::Contains("runcap"));
}

TEST_CASE("client: the shell", "[engine][client][net]") {
  Component c;
  auto r = client({"--insecure"}, "getcap " + c.url("/capability") +
                                      "\nlistcap\nset test.input shell input\nshow\n"
                                      "runcap test-loopback\nwhen now + 1s\nruncap sleep nap\n"
                                      "listmeas\nbogus\nshowcap sleep\n");
  INFO(r.out);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("|mplane| ok: 2 capabilities"));
  CHECK_THAT(r.out, Catch::Contains("Capability test-loopback (token "));
  CHECK_THAT(r.out, Catch::Contains("test.input = shell input"));
  CHECK_THAT(r.out, Catch::Contains("shell input"));  // the loopback result table
  CHECK_THAT(r.out, Catch::Contains("ok: receipt nap"));
  CHECK_THAT(r.out, Catch::Contains("result test-loopback-0 (token") ||
                        Catch::Contains("receipt test-loopback-0 (token"));
  CHECK_THAT(r.out, Catch::Contains(" nap (token"));
  CHECK_THAT(r.err, Catch::Contains("error: unknown command 'bogus'"));

  // The receipt is redeemed once the sleep is over.
  auto later =
      client({"--insecure", "--url", c.url()}, "when now + 1s\nruncap sleep\nshowmeas sleep-0\n");
  CHECK_THAT(later.out, Catch::Contains("pending: <receipt"));
}

TEST_CASE("client run: Ctrl-C interrupts the measurement and prints what was measured",
          "[engine][client][net]") {
  Component c;
  const std::string out = (std::filesystem::temp_directory_path() /
                           ("mplane_client_sigint_" + std::to_string(::getpid())))
                              .string();
  test::Process run(
      {"client", "--url", c.url("/"), "--insecure", "run", "sleep", "--when", "now + 1h"}, out);
  REQUIRE(run.wait_for_err("redeeming until the result arrives"));
  run.signal(SIGINT);
  CHECK(run.wait() == 0);
  CHECK_THAT(run.err(), Catch::Contains("interrupting sleep-0"));
  CHECK_THAT(run.out(), Catch::Contains("duration.ms"));
  CHECK_THAT(run.out(), Catch::Contains("(1 row)"));
  std::filesystem::remove(out + ".out");
  std::filesystem::remove(out + ".err");
}

// A path in the temporary directory for a test's files (OUTPUT.out/.err of a process…).
std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("mplane_client_" + name + "_" + std::to_string(::getpid())))
      .string();
}

// `mplane component` in its own process on 127.0.0.1:`port` with the loopback and sleep
// services and receipts at once (immediate-wait 0), TLS when given a domain; restartable.
struct ComponentProcess {
  explicit ComponentProcess(const test::TlsDomain* domain = nullptr)
      : port(test::free_loopback_port()), config(temp_path("component_conf")) {
    std::ofstream(config) << "[engine]\nimmediate-wait = 0s\n";
    args = {"component", "--config", config,      "--listen", "127.0.0.1:" + std::to_string(port),
            "--service", "loopback", "--service", "sleep"};
    if (domain) {
      for (const std::string& a :
           {std::string("--ca"), domain->ca(), std::string("--cert"), domain->component.cert_path,
            std::string("--key"), domain->component.key_path}) {
        args.push_back(a);
      }
    } else {
      args.push_back("--insecure");
    }
    url = std::string(domain ? "https" : "http") + "://127.0.0.1:" + std::to_string(port) + "/";
    start();
  }
  ~ComponentProcess() {
    process.reset();
    for (const std::string& f : {config, config + ".out", config + ".err"}) {
      std::filesystem::remove(f);
    }
  }
  void start() {
    process = std::make_unique<test::Process>(args, config);  // its output beside the config
    for (int i = 0; i < 200 && !test::accepts(port); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    REQUIRE(test::accepts(port));
  }
  std::uint16_t port;
  std::string config, url;
  std::vector<std::string> args;
  std::unique_ptr<test::Process> process;
};

std::vector<std::string> tls_flags(const test::TlsDomain& d) {
  return {"--ca", d.ca(), "--cert", d.client.cert_path, "--key", d.client.key_path};
}

std::string last_line(const std::string& text) {
  const std::string t = text.ends_with('\n') ? text.substr(0, text.size() - 1) : text;
  return t.substr(t.rfind('\n') == std::string::npos ? 0 : t.rfind('\n') + 1);
}

bool is_token_line(const std::string& out) {
  return out.size() == 33 && out.back() == '\n' &&
         std::all_of(out.begin(), out.end() - 1, [](char ch) { return std::isxdigit(ch) != 0; });
}

// Issue 10, item 5: over TLS, the component restarts (or goes away) while `run` waits for a
// result. The client used to die of SIGPIPE (its TLS close_notify written to the reset
// connection); now it reconnects once, then says in one line what it was waiting for.
TEST_CASE("client run: a component restarted or gone mid-measurement: one line with the token",
          "[engine][client][net][tls]") {
  test::TlsDomain domain("ClientRestart");
  ComponentProcess component(&domain);
  const std::string out = temp_path("restart");
  std::vector<std::string> args = {"client", "--url", component.url};
  for (const std::string& f : tls_flags(domain)) args.push_back(f);
  // 3 s: time enough to restart the component before the client's first redemption
  for (const char* a : {"run", "sleep", "--when", "now + 3s"}) args.push_back(a);
  test::Process run(args, out);
  REQUIRE(run.wait_for_err("redeeming until the result arrives"));
  const std::string receipt = run.err();
  const std::string token = receipt.substr(receipt.find("receipt ") + 8, 32);
  SECTION("restarted: the new component does not know the job") {
    CHECK(component.process->stop() == 0);
    component.start();
    CHECK(run.wait() == 1);  // not -1: killed by a signal (SIGPIPE)
    CHECK(last_line(run.err()) ==
          "mplane client: exception while waiting for the result of token " + token + " from " +
              component.url + ": Unknown job");
  }
  SECTION("gone: the line says how to redeem the token later") {
    CHECK(component.process->stop() == 0);
    CHECK(run.wait() == 1);
    const std::string line = last_line(run.err());
    CHECK_THAT(line, Catch::StartsWith("mplane client: lost the connection to " + component.url +
                                       " (cannot connect to 127.0.0.1:"));
    CHECK_THAT(line, Catch::EndsWith(") while waiting for the result of token " + token +
                                     "; redeem it later with: mplane client --url " +
                                     component.url + " redeem " + token));
  }
  const std::string err = run.err();
  CHECK(std::count(err.begin(), err.end(), '\n') == 2);  // the receipt line, the failure
  std::filesystem::remove(out + ".out");
  std::filesystem::remove(out + ".err");
}

// Issue 10, item 18: submit, redeem and interrupt, one request (or one wait) per command.
TEST_CASE("client submit, redeem, interrupt: a step per command, for scripts",
          "[engine][client][net]") {
  ComponentProcess component;
  auto cmd = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--url", component.url, "--insecure"});
    return client(args);
  };
  const auto started = std::chrono::steady_clock::now();
  const Run submitted = cmd({"submit", "sleep", "--when", "now + 2s"});
  INFO(submitted.err);
  REQUIRE(submitted.status == 0);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(1500));  // at once
  REQUIRE(is_token_line(submitted.out));
  CHECK(submitted.err.empty());
  const std::string token = submitted.out.substr(0, 32);

  const Run pending = cmd({"redeem", token});
  CHECK(pending.status == 1);
  CHECK(pending.out.empty());
  CHECK_THAT(pending.err,
             Catch::StartsWith("mplane client: token " + token + ": still running (scope now") &&
                 Catch::EndsWith("; redeem it again later\n"));
  CHECK(std::count(pending.err.begin(), pending.err.end(), '\n') == 1);

  const Run done = cmd({"redeem", token, "--wait", "10", "--csv"});
  INFO(done.err);
  CHECK(done.status == 0);
  CHECK_THAT(done.out, Catch::StartsWith("duration.ms\n"));
  CHECK(std::count(done.out.begin(), done.out.end(), '\n') == 2);

  const Run again = cmd({"redeem", token});  // collected: the component forgot it
  CHECK(again.status == 1);
  CHECK(again.err == "mplane client: exception: Unknown job\n");

  const Run long_job = cmd({"submit", "sleep", "--when", "now + 1h", "--label", "nap"});
  REQUIRE(is_token_line(long_job.out));
  const Run stopped = cmd({"interrupt", long_job.out.substr(0, 32), "--json"});
  INFO(stopped.err);
  CHECK(stopped.status == 0);
  auto m = test::parse(stopped.out);
  REQUIRE(m.ok());
  CHECK(m.value()->message.kind == model::MessageKind::kResult);
  CHECK(m.value()->message.row_count == 1);
  CHECK(m.value()->message.label == "nap");

  const Run unknown = cmd({"interrupt", std::string(32, '0')});
  CHECK(unknown.status == 1);
  CHECK(unknown.err == "mplane client: exception: Unknown job\n");

  // A result that comes at once: its token on stdout, the result itself on stderr.
  const Run at_once = cmd({"submit", "test-loopback", "--param", "test.input=at-once"});
  CHECK(at_once.status == 0);
  CHECK(is_token_line(at_once.out));
  CHECK_THAT(at_once.err, Catch::StartsWith("mplane client: the result of " +
                                            at_once.out.substr(0, 32) + " came at once") &&
                              Catch::Contains("at-once"));
}

TEST_CASE("client submit and redeem over TLS", "[engine][client][net][tls]") {
  test::TlsDomain domain("ClientSubmit");
  ComponentProcess component(&domain);
  auto cmd = [&](std::vector<std::string> args) {
    std::vector<std::string> all = {"--url", component.url};
    for (const std::string& f : tls_flags(domain)) all.push_back(f);
    all.insert(all.end(), args.begin(), args.end());
    return client(all);
  };
  const Run submitted = cmd({"submit", "sleep", "--when", "now + 1s"});
  INFO(submitted.err);
  REQUIRE(is_token_line(submitted.out));
  const Run done = cmd({"redeem", submitted.out.substr(0, 32), "--wait", "10"});
  INFO(done.err);
  CHECK(done.status == 0);
  CHECK_THAT(done.out, Catch::Contains("duration.ms") && Catch::Contains("(1 row)"));
}

// Issue 10, item 17: on a terminal, `run` says what it waits for as `mplane run` does (the
// receipt's token and the end of its scope). `script` gives the client a terminal.
TEST_CASE("client run on a terminal: the receipt line names the token and the expected end",
          "[engine][client][net]") {
  if (::access("/usr/bin/script", X_OK) != 0) {
    WARN("no /usr/bin/script (bsdutils): skipped");
    return;
  }
  Component c;
  const std::string command = "/usr/bin/script -qec \"" + std::string(MPLANE_BINARY) +
                              " client --url " + c.url("/") +
                              " --insecure run sleep --when 'now + 1s'\" /dev/null </dev/null";
  FILE* p = ::popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string output;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) output.append(buf, n);
  const int status = ::pclose(p);
  INFO(output);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(output,
             Catch::Matches("(.|\\r|\\n)*mplane client: receipt [0-9a-f]{32}, running until "
                            "20[0-9-]{8} [0-9:.]{15} \\(Ctrl-C stops it and prints what was "
                            "measured\\)(.|\\r|\\n)*"));
  CHECK_THAT(output, Catch::Contains("duration.ms"));
}

}  // namespace
}  // namespace mplane
