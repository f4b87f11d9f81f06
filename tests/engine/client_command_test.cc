// `mplane client` against an in-process component (engine + ComponentServer on 127.0.0.1,
// plaintext): caps, run (table, JSON, CSV), receipt → redemption → result, errors, the shell.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

#include "engine/cli/command.h"
#include "engine/component/component_server.h"
#include "tests/engine/component/component_fixture.h"
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

}  // namespace
}  // namespace mplane
