// The on-disk queue of undelivered results: order, durability across reopening, the byte bound,
// crash leftovers, the lock against a second process.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "engine/component/result_spool.h"
#include "tests/test_support.h"

namespace mplane {
namespace {

namespace fs = std::filesystem;
using component::ResultSpool;

using TempDir = test::TempDir;

std::size_t files_in(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".msg";
  return n;
}

TEST_CASE("ResultSpool keeps messages in order across reopening", "[engine][component][spool]") {
  TempDir tmp;
  const std::string dir = (tmp.path() / "a/b/spool").string();  // parents are created
  {
    auto spool = ResultSpool::open(dir, 1 << 20);
    REQUIRE(spool.ok());
    CHECK((*spool)->take_loaded().empty());
    REQUIRE((*spool)->append("", "{\"result\":1}").ok());
    auto second = (*spool)->append("https://collector:4343/r", "{\"result\":2}\n{x}");
    REQUIRE(second.ok());
    REQUIRE((*spool)->append("", "{\"result\":3}").ok());
    (*spool)->remove(*second - 1);  // the first one was delivered
    CHECK((*spool)->count() == 2);
    CHECK(files_in(dir) == 2);
  }
  std::ofstream(dir + "/.tmp-99") << "half written";  // a crash in the middle of a write
  auto spool = ResultSpool::open(dir, 1 << 20);
  REQUIRE(spool.ok());
  auto loaded = (*spool)->take_loaded();
  REQUIRE(loaded.size() == 2);
  CHECK(loaded[0].target == "https://collector:4343/r");
  CHECK(loaded[0].body == "{\"result\":2}\n{x}");  // newlines in the body survive
  CHECK(loaded[1].target.empty());
  CHECK(loaded[1].body == "{\"result\":3}");
  CHECK(!fs::exists(dir + "/.tmp-99"));
  auto next = (*spool)->append("", "{}");
  REQUIRE(next.ok());
  CHECK(*next > loaded[1].seq);  // numbering goes on after what was left
}

TEST_CASE("ResultSpool refuses past its bound, and a second opener", "[engine][component][spool]") {
  TempDir tmp;
  const std::string dir = (tmp.path() / "spool").string();
  auto spool = ResultSpool::open(dir, 40);
  REQUIRE(spool.ok());
  REQUIRE((*spool)->append("", std::string(30, 'x')).ok());
  auto full = (*spool)->append("", std::string(30, 'y'));
  REQUIRE(!full.ok());
  CHECK_THAT(full.error(), Catch::Contains("is full (31 of 40 bytes)"));
  CHECK((*spool)->bytes() == 31);

  auto second = ResultSpool::open(dir, 40);
  REQUIRE(!second.ok());
  CHECK_THAT(second.error(), Catch::Contains("in use by another process"));
  spool->reset();  // the lock goes with the first
  CHECK(ResultSpool::open(dir, 40).ok());
}

TEST_CASE("ResultSpool names an unusable directory", "[engine][component][spool]") {
  TempDir tmp;
  std::ofstream((tmp.path() / "file").string()) << "x";
  auto spool = ResultSpool::open((tmp.path() / "file/spool").string(), 1 << 20);
  REQUIRE(!spool.ok());
  CHECK_THAT(spool.error(), Catch::StartsWith("spool " + (tmp.path() / "file/spool").string() +
                                              ": cannot create"));
}

}  // namespace
}  // namespace mplane
