// Following the links of an HTML page over one HTTP connection, as the RI's capability crawl
// does (its client follows every <a href> on `/capability`; our client and the supervisor's link
// to a client-initiated component do the same).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mplane::transport {

// The href values of <a href=…> elements (single, double or no quotes).
std::vector<std::string> html_links(std::string_view html);
// The path a link of the page at `page_path` leads to: an absolute URL's path (the RI follows
// links on the same connection, ignoring their host), an absolute path, or a relative one
// resolved against the page's directory. Empty for a URL that does not parse.
std::string link_path(const std::string& href, const std::string& page_path);

}  // namespace mplane::transport
