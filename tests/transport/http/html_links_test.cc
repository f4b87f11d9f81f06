// html_links and link_path: the link-following of the RI's HTML capability crawl.
#include <catch2/catch.hpp>

#include "transport/http/html_links.h"

namespace mplane {
namespace {

TEST_CASE("html links and their paths", "[transport][http]") {
  CHECK(transport::html_links("<a href=\"/a\">x</a><a href='b'>y</a><a href=c>z</a>") ==
        std::vector<std::string>{"/a", "b", "c"});
  CHECK(transport::link_path("https://other:1/capability/x", "/") == "/capability/x");
  CHECK(transport::link_path("/abs", "/dir/page") == "/abs");
  CHECK(transport::link_path("rel", "/dir/page") == "/dir/rel");
  CHECK(transport::link_path("http://[bad", "/").empty());
}

TEST_CASE("the RI's capability list gives the capabilities' paths", "[transport][http]") {
  const std::string page =
      "<html><body><a href='/capability/0a1b'>ping</a><br/>"
      "<a href = \"https://127.0.0.1:8888/capability/2c3d\">tstat</a><br/>"
      "<a href=https://127.0.0.1:8888>home</a></body></html>";
  std::vector<std::string> paths;
  for (const std::string& href : transport::html_links(page)) {
    paths.push_back(transport::link_path(href, "/capability"));
  }
  CHECK(paths == std::vector<std::string>{"/capability/0a1b", "/capability/2c3d", "/"});
}

}  // namespace
}  // namespace mplane
