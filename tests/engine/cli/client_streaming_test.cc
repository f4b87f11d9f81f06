// `mplane client run` printing a result as it streams in, against a scripted component (an
// HttpServer answering the loopback capability and then a large result): CSV rows reach stdout
// before a malformed row ends the command with one line naming it; a well-formed large result
// prints whole.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "engine/cli/command.h"
#include "tests/test_support.h"
#include "tests/transport/server_thread.h"
#include "transport/http/http_server.h"

namespace mplane {
namespace {

constexpr std::string_view kMplaneJson = "application/x-mplane+json";

std::string capability() {
  return test::read_file(test::source_dir() / "conf" / "capabilities" / "loopback.json");
}

// A loopback result of `rows` rows "r1", "r2", …; row `bad` (0: none) has two values.
std::string result(std::size_t rows, std::size_t bad) {
  std::string body =
      R"({"label": "test-loopback-0", "parameters": {"test.input": "x"}, )"
      R"("registry": "http://mplane.corvid.ch/registry/loopback", "result": "measure", )"
      R"("results": ["test.output"], "resultvalues": [)";
  for (std::size_t i = 1; i <= rows; ++i) {
    body += (i > 1 ? ", [\"r" : "[\"r") + std::to_string(i) + (i == bad ? "\", \"extra\"]" : "\"]");
  }
  return body +
         R"(], "token": "t0", "version": 1, "when": "2030-01-01 12:00:00 ... 2030-01-01 12:00:01"})";
}

// Serves the capability on GET and `reply` on POST, with `status`.
test::ServerThread component(std::string reply, int status = 200) {
  return test::ServerThread(
      [reply = std::move(reply), status](transport::HttpMessage&& r, transport::Responder resp) {
        std::string out;
        if (r.method == "GET") {
          transport::append_response(out, 200, kMplaneJson, capability(), true);
        } else {
          transport::append_response(out, status, kMplaneJson, reply, true);
        }
        resp.send(std::move(out));
      });
}

struct Run {
  int status;
  std::string out, err;
};

// `format`: "--csv", "--json", or "" for the table.
Run client_run(std::uint16_t port, const std::string& format) {
  std::ostringstream out, err;
  std::istringstream in;
  std::vector<std::string> args = {
      "--url",         "http://127.0.0.1:" + std::to_string(port) + "/capability",
      "--insecure",    "run",
      "test-loopback", "--param",
      "test.input=x"};
  if (!format.empty()) args.push_back(format);
  const int status = cli::run_client(args, {out, err}, in);
  return {status, out.str(), err.str()};
}

std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST_CASE("client run --csv: a malformed row after the rows before it", "[engine][client][net]") {
  auto server = component(result(3000, 2500));
  const Run r = client_run(server.port(), "--csv");
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::StartsWith("mplane client: POST http://127.0.0.1:") &&
                        Catch::Contains(": bad reply: ") && Catch::Contains("row 2500"));
  CHECK(lines(r.err) == 1);
  CHECK_THAT(r.out, Catch::StartsWith("test.output\nr1\nr2\n") && Catch::EndsWith("\nr2499\n"));
  CHECK(lines(r.out) == 2500);
}

TEST_CASE("client run: a large result prints whole in every format", "[engine][client][net]") {
  auto server = component(result(3000, 0));
  const Run csv = client_run(server.port(), "--csv");
  REQUIRE(csv.status == 0);
  CHECK(lines(csv.out) == 3001);
  const Run json = client_run(server.port(), "--json");
  REQUIRE(json.status == 0);
  auto m = test::parse(json.out);
  REQUIRE(m.ok());
  CHECK(m.value()->message.row_count == 3000);
  const Run table = client_run(server.port(), "");
  REQUIRE(table.status == 0);
  CHECK_THAT(table.out,
             Catch::StartsWith("test.output\nr1\n") &&
                 Catch::Contains("\nr3000\n(3000 rows)\n\nresult test-loopback-0  when ") &&
                 Catch::EndsWith("  token t0\n"));
}

TEST_CASE("client run: an exception in a 400 reply is printed as an exception",
          "[engine][client][net]") {
  auto server = component(test::read_file(test::vector_path("24_exception_with_token.json")), 400);
  const Run r = client_run(server.port(), "--csv");
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::StartsWith("mplane client: exception: "));
  CHECK(r.out.empty());
  auto page = component("<html>no</html>\nmore", 500);
  const Run p = client_run(page.port(), "--csv");
  CHECK(p.status == 1);
  CHECK_THAT(p.err, Catch::EndsWith(": HTTP 500: <html>no</html>\n"));
}

}  // namespace
}  // namespace mplane
