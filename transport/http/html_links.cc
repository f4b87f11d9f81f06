#include "transport/http/html_links.h"

#include "transport/http/http_url.h"

namespace mplane::transport {

std::vector<std::string> html_links(std::string_view html) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while ((at = html.find("href", at)) != std::string_view::npos) {
    at += 4;
    while (at < html.size() && html[at] == ' ') ++at;
    if (at >= html.size() || html[at] != '=') continue;
    ++at;
    while (at < html.size() && html[at] == ' ') ++at;
    if (at >= html.size()) break;
    std::size_t end;
    if (html[at] == '\'' || html[at] == '"') {
      const char q = html[at++];
      end = html.find(q, at);
    } else {
      end = html.find_first_of(" >", at);
    }
    if (end == std::string_view::npos) break;
    out.emplace_back(html.substr(at, end - at));
    at = end;
  }
  return out;
}

std::string link_path(const std::string& href, const std::string& page_path) {
  if (href.starts_with("http://") || href.starts_with("https://")) {
    auto u = parse_http_url(href);
    return u ? u->path : "";
  }
  if (href.starts_with("/")) return href;
  return page_path.substr(0, page_path.rfind('/') + 1) + href;
}

}  // namespace mplane::transport
