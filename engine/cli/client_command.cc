// `mplane client`: a client-initiated mPlane client (PROTOCOL.md §4.2, §6.1).
//
//   mplane client --url URL caps                       list the component's capabilities
//   mplane client --url URL run LABEL [--param N=V]…   run one and print the result
//   mplane client --url URL submit LABEL [...]         send it, print the token (no waiting)
//   mplane client --url URL redeem TOKEN [--wait S]    print the result once it is ready
//   mplane client --url URL interrupt TOKEN            stop it, print what was measured
//   mplane client [--url URL]                          the mpcli-style shell
//
// Capability discovery follows the RI: GET the URL; an application/x-mplane+json answer is a
// capability, withdrawal or envelope of them; a text/html answer is followed link by link on
// the same connection (only the href's path is used). A URL without a path first tries
// GET /capabilities (our component's envelope) and then GET / (the RI's index page).
//
// Specifications go to the capability's link (or the URL when it has none); redemptions and
// interrupts go where their specification went (the RI sends them to its default URL; for our
// component and the RI's both are the same server). `redeem` and `interrupt` of a bare token
// send the token-only form (§3.4) to --url itself.
//
// TLS: an https URL needs --ca/--cert/--key (or [TLS] in --config). A plain http URL works
// without flags but prints a warning on stderr (no authentication, no privacy); --insecure
// acknowledges it and silences the warning.
#include <readline/history.h>
#include <readline/readline.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "conf/builtin.h"
#include "conf/ini.h"
#include "engine/cli/args.h"
#include "engine/cli/command.h"
#include "engine/cli/result_table.h"
#include "parsers/json/message_reader.h"
#include "parsers/json/message_writer.h"
#include "parsers/mplane/token.h"
#include "transport/http/http_client.h"
#include "transport/tls/tls_context.h"

namespace mplane::cli {
namespace {

using json::OwnedMessage;
using model::Message;
using model::MessageKind;
using OwnedPtr = std::unique_ptr<OwnedMessage>;

constexpr std::string_view kMplaneJson = "application/x-mplane+json";
constexpr std::int64_t kPollMicros = 500'000;  // redemption polling interval
constexpr std::int64_t kDefaultRepeatedSpan = 5 * model::kMicrosPerSecond;

const std::vector<OptionSpec> kOptions = {
    {"url", "URL", "the component, http(s)://HOST[:PORT][/PATH]; capabilities are fetched from it"},
    {"config", "FILE", "RI client configuration: [TLS] cert, key, ca-chain; [client] default-url"},
    {"ca", "FILE", "https: CA certificates (PEM) the component must chain to"},
    {"cert", "FILE", "https: our client certificate (PEM)"},
    {"key", "FILE", "https: our client key (PEM)"},
    {"insecure", "", "accept plain http without the warning (no TLS, no authentication)"},
    {"registry", "FILE", "load an element registry besides the built-in ones", true},
    {"when", "WHEN",
     "run, submit: the temporal scope (default `now`; a periodic capability: `now + 5s / "
     "PERIOD`)"},
    {"param", "NAME=VALUE", "run, submit: a parameter value (single-valued ones are filled in)",
     true},
    {"label", "LABEL", "run, submit: the specification's label (default `<capability label>-0`)"},
    {"json", "", "print the result as mPlane JSON"},
    {"csv", "", "print the result as CSV (header = the result columns)"},
    {"wait", "S",
     "redeem: keep redeeming for up to S seconds until the result is ready (default 0)"},
    {"timeout", "S", "seconds to wait for each HTTP response (default 30)"},
};

constexpr std::string_view kUsage =
    "usage: mplane client --url URL [OPTIONS] caps\n"
    "       mplane client --url URL [OPTIONS] run LABEL-OR-TOKEN [--when WHEN] "
    "[--param NAME=VALUE]... [--label L] [--json|--csv]\n"
    "       mplane client --url URL [OPTIONS] submit LABEL-OR-TOKEN [--when WHEN] "
    "[--param NAME=VALUE]... [--label L]\n"
    "       mplane client --url URL [OPTIONS] redeem TOKEN [--wait S] [--json|--csv]\n"
    "       mplane client --url URL [OPTIONS] interrupt TOKEN [--json|--csv]\n"
    "       mplane client [--url URL] [OPTIONS]        (interactive shell, `help` lists commands)\n"
    "`caps` lists the capabilities of the component at URL; `run` sends a specification built\n"
    "from one of them, redeems the receipt until the result arrives (polling every 0.5 s after\n"
    "the end of the scope) and prints it. `submit` sends the specification and prints only its\n"
    "token (a result that comes at once goes to stderr: the component keeps no copy of it).\n"
    "`redeem` prints the result of TOKEN, polling up to --wait seconds (exit 1 if still\n"
    "pending); `interrupt` stops the measurement and prints what was measured. Both post to\n"
    "URL itself. An https URL needs --ca/--cert/--key (or [TLS] in --config); plain http works\n"
    "with a warning (silenced by --insecure).\n";

constexpr std::string_view kShellHelp =
    "Commands:\n"
    "  seturl URL                  set the default URL\n"
    "  getcap [URL]                fetch capabilities (the first URL becomes the default URL)\n"
    "  listcap                     list capabilities (label, token)\n"
    "  showcap LABEL-OR-TOKEN      describe a capability\n"
    "  when [SCOPE]                show or set the temporal scope used by runcap\n"
    "  set NAME VALUE              set a default parameter value\n"
    "  unset [NAME...]             forget default values (all without NAME)\n"
    "  show [NAME...]              show default values\n"
    "  runcap LABEL-OR-TOKEN [NEWLABEL]  send a specification, keep its receipt or result\n"
    "  listmeas                    list receipts and results (redeeming pending receipts)\n"
    "  showmeas LABEL-OR-TOKEN     show a result, redeeming its receipt if needed\n"
    "  redeem LABEL-OR-TOKEN       same as showmeas\n"
    "  interrupt LABEL-OR-TOKEN    interrupt a running measurement (alias stopmeas)\n"
    "  help                        this text\n"
    "  exit, quit, EOF             leave\n";

std::int64_t wall_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// --- RI client configuration ------------------------------------------------------------

struct ClientConfig {
  std::string default_url, ca, cert, key;
};

Result<ClientConfig> load_client_config(const std::string& path) {
  auto ini = conf::load_ini(path);
  if (!ini) return fail(ini.error());
  ClientConfig c;
  if (const conf::IniSection* s = ini->find("client")) {
    if (const conf::IniEntry* e = s->find("default-url")) c.default_url = e->value;
  }
  if (const conf::IniSection* s = ini->find("TLS")) {
    if (const conf::IniEntry* e = s->find("cert")) c.cert = e->value;
    if (const conf::IniEntry* e = s->find("key")) c.key = e->value;
    if (const conf::IniEntry* e = s->find("ca-chain")) c.ca = e->value;
  }
  return c;
}

// --- Presentation -----------------------------------------------------------------------

std::string label_of(const Message& m) { return m.label ? std::string(*m.label) : ""; }
std::string token_of(const Message& m) { return model::effective_token(m).value_or(""); }

void describe_capability(std::ostream& out, const Message& cap) {
  out << (cap.label ? std::string(*cap.label) : "(no label)") << "  token " << token_of(cap) << "  "
      << cap.verb << "  when " << (cap.when ? cap.when->canonical() : "?") << "\n";
  if (!cap.parameters.empty()) {
    out << "  parameters:";
    for (const auto* p : model::sorted_by_name(cap.parameters)) {
      out << " " << p->element->name << "=" << p->constraint.canonical();
    }
    out << "\n";
  }
  out << "  results:";
  for (const auto& c : cap.columns) out << " " << c.element->name;
  out << "\n";
}

std::string csv_field(const model::Value& v) {
  std::string s = model::format_value(v);
  if (v.is_none()) return "";
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) {
    if (ch == '"') q += '"';
    q += ch;
  }
  return q + "\"";
}

void print_csv(std::ostream& out, const Message& m, bool& header_done) {
  if (m.kind == MessageKind::kEnvelope) {
    for (const Message& member : m.contents) print_csv(out, member, header_done);
    return;
  }
  if (m.kind != MessageKind::kResult) return;
  if (!header_done) {
    for (std::size_t i = 0; i < m.columns.size(); ++i) {
      out << (i ? "," : "") << m.columns[i].element->name;
    }
    out << "\n";
    header_done = true;
  }
  for (std::size_t r = 0; r < m.row_count; ++r) {
    for (std::size_t i = 0; i < m.columns.size(); ++i) {
      const auto& values = m.columns[i].values;
      out << (i ? "," : "") << (r < values.size() ? csv_field(values[r]) : "");
    }
    out << "\n";
  }
}

enum class Format : std::uint8_t { kTable, kJson, kCsv };

void print_result(std::ostream& out, const Message& m, Format f) {
  switch (f) {
    case Format::kTable:
      print_table(out, m);
      break;
    case Format::kJson:
      out << json::to_json(m) << "\n";
      break;
    case Format::kCsv: {
      bool header_done = false;
      print_csv(out, m, header_done);
      break;
    }
  }
}

// --- The client state (shared by the one-shot commands and the shell) ----------------------

struct Measurement {
  std::string label;
  std::string token;
  transport::HttpUrl url;  // where the specification went: redemptions go there too
  OwnedPtr reply;          // the latest receipt or result
};

// A request that failed. `lost`: no HTTP response came at all (the connection failed, also
// after the one reconnection the HTTP client makes, or timed out): the component may still
// have the measurement.
struct PostError {
  PostError(std::string t, bool l = false) : text(std::move(t)), lost(l) {}  // NOLINT: implicit
  std::string text;
  bool lost;
};

// How wait_for_result() waits: until a wall-clock time (microseconds; the last redemption is
// made then), whether Ctrl-C interrupts the measurement (`run`) or just ends the program, and
// whether to sleep until the receipt's end of scope first (only for a receipt that has just
// answered the specification: a relative scope is dated from now).
struct WaitOptions {
  std::int64_t until = std::numeric_limits<std::int64_t>::max();
  bool ctrl_c_interrupts = true;
  bool until_scope_end = true;
};

class Client {
 public:
  Client(model::RegistrySet registries, std::unique_ptr<transport::TlsContext> tls, bool insecure,
         std::uint64_t timeout_ms, Io io)
      : registries_(std::move(registries)),
        reader_(registries_),
        tls_(std::move(tls)),
        insecure_(insecure),
        timeout_ms_(timeout_ms),
        io_(io) {}

  const std::optional<transport::HttpUrl>& default_url() const { return default_url_; }
  Status<> set_url(const std::string& text) {
    auto u = transport::parse_http_url(text);
    if (!u) return fail(u.error());
    default_url_ = *u;
    return Ok{};
  }

  // Fetches capabilities from `text` (or the last URL); the first URL becomes the default URL.
  Result<std::size_t> get_capabilities(const std::string& text);
  const std::vector<const Message*>& capabilities() const { return caps_; }
  Result<const Message*> find_capability(std::string_view label_or_token) const;

  // Builds and sends a specification; returns the reply (result, receipt, exception…).
  Result<Measurement*> run(const Message& cap, const std::string& when_text,
                           const std::map<std::string, std::string>& params, std::string label);
  // A measurement known only by its token, at `url` (`redeem TOKEN`): its reply is a
  // token-only receipt until redeemed.
  Measurement& adopt(const std::string& token, const transport::HttpUrl& url);
  // Redeems a receipt once (result: stored in `m`). `interrupt` sends an interrupt instead.
  Status<PostError> redeem(Measurement& m, bool interrupt = false);
  // Redeems until a result (or an exception) arrives, or `o.until` has passed (the reply is
  // then still the receipt).
  Status<PostError> wait_for_result(Measurement& m, const WaitOptions& o = {});

  std::vector<std::unique_ptr<Measurement>>& measurements() { return measurements_; }
  Result<Measurement*> find_measurement(std::string_view label_or_token);
  int next_serial() { return serial_++; }

 private:
  Result<transport::HttpClient*> client_for(const transport::HttpUrl& url);
  Result<transport::HttpMessage> http(const transport::HttpUrl& url, std::string_view method,
                                      const std::string& path, std::string_view body = {});
  Result<OwnedPtr, PostError> post(const transport::HttpUrl& url, const std::string& json);
  Status<> add_capabilities(OwnedPtr doc);
  Status<> discover(const transport::HttpUrl& base, const std::string& path,
                    std::set<std::string>& visited, bool& found, int depth);

  model::RegistrySet registries_;
  json::MessageReader reader_;
  std::unique_ptr<transport::TlsContext> tls_;
  bool insecure_;
  bool warned_ = false;
  std::uint64_t timeout_ms_;
  Io io_;
  std::map<std::string, std::unique_ptr<transport::HttpClient>> clients_;  // by scheme+authority
  std::optional<transport::HttpUrl> default_url_;
  std::optional<transport::HttpUrl> last_getcap_;
  std::vector<OwnedPtr> docs_;        // every capability document received (kept: caps_ borrow)
  std::vector<const Message*> caps_;  // by effective token, latest wins
  std::vector<std::unique_ptr<Measurement>> measurements_;
  int serial_ = 0;
};

// The largest reply the client takes (a result of tens of millions of rows).
constexpr std::size_t kMaxResultBytes = std::size_t{4} << 30;
constexpr std::size_t kHandOverBytes = std::size_t{16} << 20;  // parse_owned_consuming

Result<transport::HttpClient*> Client::client_for(const transport::HttpUrl& url) {
  const std::string key = url.str().substr(0, url.str().size() - url.path.size());
  auto it = clients_.find(key);
  if (it != clients_.end()) return it->second.get();
  if (url.tls && !tls_) {
    return fail(url.str() + ": an https URL needs --ca, --cert and --key (or [TLS] in --config)");
  }
  if (!url.tls && !insecure_ && !warned_) {
    io_.err << "mplane client: warning: plain http to " << url.authority()
            << ": no TLS, no authentication (--insecure silences this)\n";
    warned_ = true;
  }
  auto c =
      std::make_unique<transport::HttpClient>(url.host, url.port, url.tls ? tls_.get() : nullptr);
  transport::HttpLimits limits;
  limits.max_body_bytes = kMaxResultBytes;  // large results arrive streamed, whole
  c->set_limits(limits);
  auto* raw = c.get();
  clients_.emplace(key, std::move(c));
  return raw;
}

Result<transport::HttpMessage> Client::http(const transport::HttpUrl& url, std::string_view method,
                                            const std::string& path, std::string_view body) {
  auto c = client_for(url);
  if (!c) return fail(c.error());
  return (*c)->request(method, path, body.empty() ? "" : kMplaneJson, body, timeout_ms_);
}

Result<OwnedPtr, PostError> Client::post(const transport::HttpUrl& url, const std::string& body) {
  auto r = http(url, "POST", url.path, body);
  if (!r) return fail(PostError(r.error(), true));
  const std::string* type = r->header("Content-Type");
  const bool mplane = r->status == 200 && type && *type == kMplaneJson;
  // A large result is handed over, not copied: the reply text is released before the values
  // are built (an error in it is then described by its byte offset only).
  auto parsed = mplane && r->body.size() > kHandOverBytes
                    ? json::parse_owned_consuming(reader_, std::move(r->body))
                    : json::parse_owned(reader_, r->body);
  if (!parsed) {
    if (r->status != 200 || !type || *type != kMplaneJson) {
      std::string first = r->body.substr(0, r->body.find('\n')).substr(0, 200);
      return fail("POST " + url.str() + ": HTTP " + std::to_string(r->status) +
                  (first.empty() ? "" : ": " + first));
    }
    return fail("POST " + url.str() + ": bad reply: " + parsed.error().describe(r->body));
  }
  return std::move(parsed.value());
}

Status<> Client::add_capabilities(OwnedPtr doc) {
  std::vector<const Message*> members;
  const Message& m = doc->message;
  if (m.kind == MessageKind::kEnvelope) {
    for (const Message& c : m.contents) members.push_back(&c);
  } else {
    members.push_back(&m);
  }
  for (const Message* c : members) {
    const std::string token = token_of(*c);
    std::erase_if(caps_, [&](const Message* old) { return token_of(*old) == token; });
    if (c->kind == MessageKind::kCapability) caps_.push_back(c);
    // A withdrawal just removes the capability (done above).
  }
  docs_.push_back(std::move(doc));
  return Ok{};
}

// The href values of <a href=…> elements (single, double or no quotes).
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

Status<> Client::discover(const transport::HttpUrl& base, const std::string& path,
                          std::set<std::string>& visited, bool& found, int depth) {
  if (!visited.insert(path).second || depth > 8) return Ok{};
  auto r = http(base, "GET", path);
  if (!r) return fail(r.error());
  if (r->status != 200) {
    return depth == 0
               ? fail("GET " + base.authority() + path + ": HTTP " + std::to_string(r->status))
               : Status<>(Ok{});
  }
  const std::string* type = r->header("Content-Type");
  const std::string content_type = type ? type->substr(0, type->find(';')) : "";
  if (content_type == kMplaneJson) {
    auto parsed = json::parse_owned(reader_, r->body);
    if (!parsed) {
      return fail("GET " + base.authority() + path + ": " + parsed.error().describe(r->body));
    }
    found = true;
    return add_capabilities(std::move(parsed.value()));
  }
  if (content_type != "text/html") return Ok{};
  for (const std::string& href : html_links(r->body)) {
    std::string next;
    if (href.starts_with("http://") || href.starts_with("https://")) {
      auto u = transport::parse_http_url(href);  // the RI ignores the host: same connection
      if (!u) continue;
      next = u->path;
    } else if (href.starts_with("/")) {
      next = href;
    } else {
      next = path.substr(0, path.rfind('/') + 1) + href;
    }
    if (auto st = discover(base, next, visited, found, depth + 1); !st) return st;
  }
  return Ok{};
}

Result<std::size_t> Client::get_capabilities(const std::string& text) {
  transport::HttpUrl url;
  if (text.empty()) {
    if (!last_getcap_ && !default_url_) return fail("no URL: give one (or seturl URL first)");
    url = last_getcap_ ? *last_getcap_ : *default_url_;
  } else {
    auto u = transport::parse_http_url(text);
    if (!u) return fail(u.error());
    url = *u;
  }
  if (!default_url_) default_url_ = url;
  last_getcap_ = url;
  const std::size_t before = docs_.size();
  std::set<std::string> visited;
  bool found = false;
  if (!url.has_path) {
    // Our component serves an envelope here; the RI does not (404/500): fall back to `/`.
    auto r = http(url, "GET", "/capabilities");
    if (!r) return fail(r.error());
    const std::string* type = r->header("Content-Type");
    if (r->status == 200 && type && *type == kMplaneJson) {
      auto parsed = json::parse_owned(reader_, r->body);
      if (parsed) {
        found = true;
        (void)add_capabilities(std::move(parsed.value()));
      }
    }
  }
  if (!found) {
    if (auto st = discover(url, url.path, visited, found, 0); !st) return fail(st.error());
  }
  if (!found) return fail("no capabilities at " + url.str());
  std::size_t n = 0;
  for (std::size_t i = before; i < docs_.size(); ++i) {
    const Message& m = docs_[i]->message;
    n += m.kind == MessageKind::kEnvelope ? m.contents.size() : 1;
  }
  return n;
}

Result<const Message*> Client::find_capability(std::string_view key) const {
  for (const Message* c : caps_) {
    if (c->label && *c->label == key) return c;
  }
  for (const Message* c : caps_) {
    if (token_of(*c) == key) return c;
  }
  std::string known;
  for (const Message* c : caps_) known += (known.empty() ? "" : ", ") + label_of(*c);
  return fail("no capability '" + std::string(key) + "'" +
              (caps_.empty() ? " (no capabilities fetched)" : " (known: " + known + ")"));
}

// The default scope: `now` (a single measurement as soon as possible), or `now + 5s / PERIOD`
// for a capability that measures periodically (a few samples at the capability's rate).
std::string default_when(const Message& cap) {
  if (cap.when && cap.when->period()) {
    return "now + " + model::format_duration(kDefaultRepeatedSpan) + " / " +
           model::format_duration(*cap.when->period());
  }
  return "now";
}

Result<Measurement*> Client::run(const Message& cap, const std::string& when_text,
                                 const std::map<std::string, std::string>& params,
                                 std::string label) {
  model::Arena arena;
  Message spec = model::specification_from(cap);
  const std::string scope = when_text.empty() ? default_when(cap) : when_text;
  auto when = model::When::parse(scope);
  if (!when) return fail("--when: " + when.error());
  if (cap.when && !when->follows(*cap.when, wall_now_us())) {
    return fail("when " + when->canonical() + " is not within the capability's scope " +
                cap.when->canonical());
  }
  spec.when = *when;
  if (label.empty()) label = label_of(cap) + "-" + std::to_string(next_serial());
  spec.label = arena.keep(label);
  for (const auto& [name, text] : params) {
    model::Parameter* p = nullptr;
    for (auto& candidate : spec.parameters) {
      if (candidate.element->name == name) p = &candidate;
    }
    if (!p) {
      std::string names;
      for (const auto& q : spec.parameters) names += (names.empty() ? "" : ", ") + q.element->name;
      return fail("capability '" + label_of(cap) + "' has no parameter " + name +
                  (names.empty() ? " (it takes none)" : " (it takes " + names + ")"));
    }
    auto v = model::parse_value(p->element->prim, arena.keep(text));
    if (!v) return fail("parameter " + name + ": " + v.error());
    const model::Parameter* cp = cap.find_parameter(name);
    if (cp && !cp->constraint.matches(*v)) {
      return fail("parameter " + name + "=" + text + " is not allowed by the capability (" +
                  cp->constraint.canonical() + ")");
    }
    p->value = *v;
  }
  std::string missing;
  for (const auto* p : model::sorted_by_name(spec.parameters)) {
    if (p->value.is_none()) missing += (missing.empty() ? "" : ", ") + p->element->name;
  }
  if (!missing.empty()) {
    return fail("missing parameter " + missing +
                " (give --param NAME=VALUE, or `set` in the shell)");
  }
  if (auto st = model::validate(spec); !st) return fail("specification: " + st.error());
  const std::string body = json::to_json(spec, {.pretty = false, .add_default_token = true});

  transport::HttpUrl url;
  if (cap.link && !cap.link->empty()) {
    auto u = transport::parse_http_url(*cap.link);
    if (!u) return fail("capability link: " + u.error());
    url = *u;
  } else if (default_url_) {
    url = *default_url_;
  } else {
    return fail("the capability has no link and there is no default URL (seturl)");
  }
  auto reply = post(url, body);
  if (!reply) return fail(reply.error().text);
  auto m = std::make_unique<Measurement>();
  m->label = label;
  m->token = model::effective_token(spec).value_or("");
  m->url = url;
  m->reply = std::move(reply.value());
  if (m->reply->message.token) m->token = std::string(*m->reply->message.token);
  measurements_.push_back(std::move(m));
  return measurements_.back().get();
}

Measurement& Client::adopt(const std::string& token, const transport::HttpUrl& url) {
  auto m = std::make_unique<Measurement>();
  m->label = token;
  m->token = token;
  m->url = url;
  m->reply = std::make_unique<OwnedMessage>();
  Message& receipt = m->reply->message;
  receipt.kind = MessageKind::kReceipt;
  receipt.verb = "measure";  // components look at the token only (§3.4)
  receipt.token = m->reply->arena.keep(token);
  measurements_.push_back(std::move(m));
  return *measurements_.back();
}

Status<PostError> Client::redeem(Measurement& m, bool interrupt) {
  const Message& current = m.reply->message;
  if (current.kind != MessageKind::kReceipt && !interrupt) return Ok{};
  model::Arena arena;
  Message note = model::copy_message(current, arena);
  if (current.kind == MessageKind::kReceipt || current.kind == MessageKind::kResult) {
    note.kind = interrupt ? MessageKind::kInterrupt : MessageKind::kRedemption;
    note.columns.clear();  // a result's rows do not belong in an interrupt
    note.row_count = 0;
    for (const auto& c : current.columns) note.columns.push_back({c.element, {}});
  } else {
    return fail("cannot " + std::string(interrupt ? "interrupt" : "redeem") + " a " +
                std::string(model::kind_key(current.kind)));
  }
  if (!note.token) note.token = arena.keep(m.token);
  auto reply = post(m.url, json::to_json(note, {.pretty = false}));
  if (!reply) return fail(reply.error());
  m.reply = std::move(reply.value());
  return Ok{};
}

namespace {

// Ctrl-C while waiting for a result: the first one interrupts the measurement (what was measured
// is then redeemed and printed, as `mplane run` does); a second one ends the program.
volatile sig_atomic_t g_interrupted = 0;

void on_sigint(int) {
  g_interrupted = 1;
  signal(SIGINT, SIG_DFL);  // the next Ctrl-C kills at once
}

class SigintWatch {
 public:
  SigintWatch() {
    g_interrupted = 0;
    previous_ = signal(SIGINT, &on_sigint);
  }
  ~SigintWatch() { signal(SIGINT, previous_); }
  SigintWatch(const SigintWatch&) = delete;
  SigintWatch& operator=(const SigintWatch&) = delete;

 private:
  void (*previous_)(int);
};

// Sleeps up to `micros`, in slices, returning early on Ctrl-C.
void sleep_unless_interrupted(std::int64_t micros) {
  constexpr std::int64_t kSlice = 50'000;
  for (std::int64_t left = micros; left > 0 && !g_interrupted; left -= kSlice) {
    std::this_thread::sleep_for(std::chrono::microseconds(std::min(left, kSlice)));
  }
}

// The first wait lasts until the end of the receipt's scope (when the result can be ready),
// later ones kPollMicros; never past `until`.
std::int64_t poll_delay(const Message& receipt, bool first, std::int64_t now, std::int64_t until) {
  std::int64_t delay = kPollMicros;
  if (first && receipt.when) {
    const auto end = receipt.when->resolve(now).end;
    if (end && *end > now) delay = std::max(delay, *end - now + 100'000);
  }
  return std::min(delay, until - now);
}

}  // namespace

Status<PostError> Client::wait_for_result(Measurement& m, const WaitOptions& o) {
  g_interrupted = 0;
  std::optional<SigintWatch> watch;
  if (o.ctrl_c_interrupts) watch.emplace();
  bool first = o.until_scope_end;
  bool interrupted = false;
  while (m.reply->message.kind == MessageKind::kReceipt) {
    const std::int64_t now = wall_now_us();
    if (now >= o.until) return Ok{};
    sleep_unless_interrupted(poll_delay(m.reply->message, first, now, o.until));
    first = false;
    if (watch && g_interrupted && !interrupted) {
      interrupted = true;
      io_.err << "mplane client: interrupting " << m.label << " (Ctrl-C again to quit)\n";
      if (auto st = redeem(m, true); !st) return st;
      continue;  // the interrupt's reply: the result, or the receipt until it is ready
    }
    if (auto st = redeem(m); !st) return st;
  }
  return Ok{};
}

Result<Measurement*> Client::find_measurement(std::string_view key) {
  for (auto& m : measurements_) {
    if (m->label == key || m->token == key) return m.get();
  }
  return fail("no measurement '" + std::string(key) + "' (listmeas shows them)");
}

// --- Setup ---------------------------------------------------------------------------------

Result<std::unique_ptr<Client>> make_client(const ParsedArgs& args, Io io) {
  ClientConfig cfg;
  if (args.has("config")) {
    auto c = load_client_config(args.get("config"));
    if (!c) return fail(c.error());
    cfg = *c;
  }
  const std::string ca = args.get("ca", cfg.ca), cert = args.get("cert", cfg.cert),
                    key = args.get("key", cfg.key);
  std::unique_ptr<transport::TlsContext> tls;
  if (!ca.empty() || !cert.empty() || !key.empty()) {
    if (ca.empty() || cert.empty() || key.empty())
      return fail("TLS needs all of --ca, --cert and --key");
    transport::TlsOptions t;
    t.role = transport::TlsRole::kClient;
    t.ca_file = ca;
    t.cert_file = cert;
    t.key_file = key;
    auto ctx = transport::TlsContext::create(t);
    if (!ctx) return fail(ctx.error());
    tls = std::move(ctx.value());
  }
  auto regs = conf::load_registries(args.all("registry"));
  if (!regs) return fail(regs.error());
  auto timeout = number_option(args, "timeout", 30, 0.001, 86400);
  if (!timeout) return fail(timeout.error());
  const auto timeout_ms = static_cast<std::uint64_t>(*timeout * 1000);
  auto client = std::make_unique<Client>(std::move(regs.value()), std::move(tls),
                                         args.has("insecure"), timeout_ms, io);
  const std::string url = args.get("url", cfg.default_url);
  if (!url.empty()) {
    if (auto st = client->set_url(url); !st) return fail(st.error());
  }
  return client;
}

Result<std::map<std::string, std::string>> params_of(const std::vector<std::string>& given) {
  std::map<std::string, std::string> out;
  for (const std::string& p : given) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) return fail("--param " + p + ": expected NAME=VALUE");
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

// The one-shot verbs and the positional arguments each takes (after the verb).
const std::map<std::string, std::string, std::less<>> kVerbs = {
    {"caps", ""},        {"run", "LABEL-OR-TOKEN"}, {"submit", "LABEL-OR-TOKEN"},
    {"redeem", "TOKEN"}, {"interrupt", "TOKEN"},
};

// Usage errors (exit 2), found from the arguments alone before any file is read or any
// connection made.
Status<> check_usage(const ParsedArgs& args) {
  if (!args.positional.empty()) {
    const std::string& verb = args.positional[0];
    auto it = kVerbs.find(verb);
    if (it == kVerbs.end()) {
      return fail("unknown subcommand '" + verb +
                  "' (caps, run, submit, redeem, interrupt, or none for the shell)");
    }
    if (args.positional.size() != (it->second.empty() ? 1U : 2U)) {
      return fail(it->second.empty() ? verb + " takes no argument"
                                     : "usage: " + verb + " " + it->second + " (see --help)");
    }
  }
  if (args.has("json") && args.has("csv")) return fail("--json and --csv exclude each other");
  for (auto [name, lo, hi] :
       {std::tuple{"timeout", 0.001, 86400.0}, std::tuple{"wait", 0.0, 365 * 86400.0}}) {
    if (auto n = number_option(args, name, lo, lo, hi); !n) return fail(n.error());
  }
  if (args.has("url")) {
    if (auto u = transport::parse_http_url(args.get("url")); !u) return fail(u.error());
  }
  const int tls_flags = args.has("ca") + args.has("cert") + args.has("key");
  if (tls_flags != 0 && tls_flags != 3 && !args.has("config")) {
    return fail("TLS needs all of --ca, --cert and --key");
  }
  if (auto p = params_of(args.all("param")); !p) return fail(p.error());
  return Ok{};
}

Format format_of(const ParsedArgs& args) {
  return args.has("json") ? Format::kJson : args.has("csv") ? Format::kCsv : Format::kTable;
}

// Prints a reply: a result in `format`, an exception on err (false), anything else summarised.
bool show_reply(const Message& m, Format format, Io io) {
  if (m.kind == MessageKind::kException) {
    io.err << "mplane client: exception: " << m.exception_text << "\n";
    return false;
  }
  if (m.kind == MessageKind::kResult || m.kind == MessageKind::kEnvelope) {
    print_result(io.out, m, format);
    return true;
  }
  if (m.kind == MessageKind::kWithdrawal) {
    io.err << "mplane client: the capability was withdrawn\n";
    return false;
  }
  io.out << model::summarize(m) << "\n";
  return true;
}

// " until 2030-01-01 12:00:05.000000" (" until interrupted" for a scope without an end). Only
// a `fresh` receipt (the answer to the specification just sent) dates a relative scope such as
// `now + 1m` from now; for a later redemption it says the scope as given.
std::string running_until(const Message& receipt, bool fresh) {
  if (!receipt.when) return "";
  if (!fresh && !receipt.when->is_definite()) return " (scope " + receipt.when->canonical() + ")";
  const auto end = receipt.when->resolve(wall_now_us()).end;
  return end ? " until " + model::format_time(model::TimePoint::absolute(*end))
             : std::string(" until interrupted");
}

bool is_terminal(const std::ostream& s) { return &s == &std::cerr && isatty(STDERR_FILENO) != 0; }

// `run` got a receipt. On a terminal: what it waits for, as `mplane run` says it; elsewhere
// (logs, scripts) the shorter line, which still names the token.
void announce_receipt(const Measurement& m, Io io) {
  if (is_terminal(io.err)) {
    io.err << "mplane client: receipt " << m.token << ", running"
           << running_until(m.reply->message, true)
           << " (Ctrl-C stops it and prints what was measured)\n";
  } else {
    io.err << "mplane client: receipt " << m.token << ", redeeming until the result arrives\n";
  }
}

// One line for a request that failed: a lost connection names the component. After a receipt,
// the line also names the token and how to get the result later.
std::string failure_text(const Measurement& m, const PostError& e) {
  return e.lost ? "lost the connection to " + m.url.str() + " (" + e.text + ")" : e.text;
}
std::string wait_failure(const Measurement& m, const PostError& e) {
  return failure_text(m, e) + " while waiting for the result of token " + m.token +
         "; redeem it later with: mplane client --url " + m.url.str() + " redeem " + m.token;
}

// Waits for the result of `m` (a receipt) and prints it; every failure is one line naming the
// token.
int wait_and_print(Client& client, Measurement& m, Format format, Io io) {
  announce_receipt(m, io);
  if (auto st = client.wait_for_result(m); !st) {
    io.err << "mplane client: " << wait_failure(m, st.error()) << "\n";
    return kExitInvalid;
  }
  const Message& reply = m.reply->message;
  if (reply.kind == MessageKind::kException) {
    io.err << "mplane client: exception while waiting for the result of token " << m.token
           << " from " << m.url.str() << ": " << reply.exception_text << "\n";
    return kExitInvalid;
  }
  return show_reply(reply, format, io) ? kExitOk : kExitInvalid;
}

// `submit`: the token alone on stdout. A result that came at once (the job ended within the
// component's immediate-wait) cannot be redeemed later: it goes to stderr, said so.
int print_submitted(const Measurement& m, Format format, Io io) {
  const Message& reply = m.reply->message;
  if (reply.kind == MessageKind::kReceipt) {
    io.out << m.token << "\n";
    return kExitOk;
  }
  if (reply.kind != MessageKind::kResult && reply.kind != MessageKind::kEnvelope) {
    return show_reply(reply, format, io) ? kExitOk : kExitInvalid;
  }
  io.out << m.token << "\n";
  io.err << "mplane client: the result of " << m.token
         << " came at once and the component keeps no copy (redeem will not find it):\n";
  print_result(io.err, reply, format);
  return kExitOk;
}

// `run` and `submit`: the specification built from a capability, sent.
int send_specification(Client& client, const ParsedArgs& args, Io io) {
  const std::string& verb = args.positional[0];
  auto cap = client.find_capability(args.positional[1]);
  if (!cap) {
    io.err << "mplane client: " << cap.error() << "\n";
    return kExitInvalid;
  }
  auto m =
      client.run(**cap, args.get("when"), params_of(args.all("param")).value(), args.get("label"));
  if (!m) {
    io.err << "mplane client: " << m.error() << "\n";
    return kExitInvalid;
  }
  if (verb == "submit") return print_submitted(**m, format_of(args), io);
  if ((*m)->reply->message.kind == MessageKind::kReceipt) {
    return wait_and_print(client, **m, format_of(args), io);
  }
  return show_reply((*m)->reply->message, format_of(args), io) ? kExitOk : kExitInvalid;
}

// `redeem TOKEN` (polling up to --wait seconds) and `interrupt TOKEN` (then redeeming until
// what was measured comes, up to --timeout): token-only messages to --url.
int by_token(Client& client, const ParsedArgs& args, Io io) {
  const bool interrupt = args.positional[0] == "interrupt";
  Measurement& m = client.adopt(args.positional[1], *client.default_url());
  WaitOptions o;
  o.ctrl_c_interrupts = false;  // Ctrl-C just quits: `interrupt` is the verb for stopping
  o.until_scope_end = false;    // a relative scope in the receipt is not dated from now
  const double seconds =
      number_option(args, interrupt ? "timeout" : "wait", interrupt ? 30 : 0, 0, 365 * 86400.0)
          .value();
  o.until = wall_now_us() + static_cast<std::int64_t>(seconds * 1e6);
  auto st = client.redeem(m, interrupt);
  if (st) st = client.wait_for_result(m, o);
  if (!st) {
    io.err << "mplane client: " << failure_text(m, st.error()) << "\n";
    return kExitInvalid;
  }
  const Message& reply = m.reply->message;
  if (reply.kind == MessageKind::kReceipt) {
    io.err << "mplane client: token " << m.token << ": still running" << running_until(reply, false)
           << "; redeem it again later\n";
    return kExitInvalid;
  }
  return show_reply(reply, format_of(args), io) ? kExitOk : kExitInvalid;
}

int one_shot(Client& client, const ParsedArgs& args, Io io) {
  const std::string& what = args.positional[0];
  if (!client.default_url()) {
    io.err << "mplane client: --url is required for " << what << " (or default-url in --config)\n";
    return kExitUsage;
  }
  if (what == "redeem" || what == "interrupt") return by_token(client, args, io);
  auto n = client.get_capabilities(client.default_url()->str());
  if (!n) {
    io.err << "mplane client: " << n.error() << "\n";
    return kExitInvalid;
  }
  if (what == "caps") {
    for (const Message* c : client.capabilities()) describe_capability(io.out, *c);
    return kExitOk;
  }
  return send_specification(client, args, io);
}

// --- The shell -----------------------------------------------------------------------------

std::vector<std::string> split_words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

struct ShellState {
  std::string when;
  std::map<std::string, std::string> defaults;
};

// Runs one shell command line; false means leave.
bool shell_command(Client& client, ShellState& st, const std::string& line, Io io) {
  const auto words = split_words(line);
  if (words.empty()) return true;
  const std::string& cmd = words[0];
  auto error = [&](const std::string& e) { io.err << "error: " << e << "\n"; };
  auto need_arg = [&](std::size_t n) {
    if (words.size() >= n + 1) return true;
    error(cmd + ": missing argument (see help)");
    return false;
  };
  if (cmd == "exit" || cmd == "quit" || cmd == "EOF") return false;
  if (cmd == "help" || cmd == "?") {
    io.out << kShellHelp;
  } else if (cmd == "seturl") {
    if (!need_arg(1)) return true;
    if (auto s = client.set_url(words[1]); !s) error(s.error());
  } else if (cmd == "getcap") {
    auto n = client.get_capabilities(words.size() > 1 ? words[1] : "");
    if (!n) return error(n.error()), true;
    io.out << "ok: " << *n << " capabilities/withdrawals received\n";
  } else if (cmd == "listcap") {
    for (const Message* c : client.capabilities()) {
      io.out << "Capability " << label_of(*c) << " (token " << token_of(*c) << ")\n";
    }
  } else if (cmd == "showcap") {
    if (!need_arg(1)) return true;
    auto c = client.find_capability(words[1]);
    if (!c) return error(c.error()), true;
    describe_capability(io.out, **c);
    io.out << json::to_json(**c) << "\n";
  } else if (cmd == "when") {
    if (words.size() == 1) {
      io.out << "when = " << (st.when.empty() ? "(default: now, or now + 5s / PERIOD)" : st.when)
             << "\n";
    } else {
      const std::string scope = line.substr(line.find("when") + 4);
      const std::string trimmed = scope.substr(scope.find_first_not_of(' '));
      auto w = model::When::parse(trimmed);
      if (!w) return error(w.error()), true;
      st.when = trimmed;
    }
  } else if (cmd == "set") {
    if (!need_arg(2)) return true;
    const auto at = line.find(words[1], line.find("set") + 3) + words[1].size();
    const std::string value = line.substr(line.find_first_not_of(' ', at));
    st.defaults[words[1]] = value;
  } else if (cmd == "unset") {
    if (words.size() == 1) st.defaults.clear();
    for (std::size_t i = 1; i < words.size(); ++i) st.defaults.erase(words[i]);
  } else if (cmd == "show") {
    for (const auto& [k, v] : st.defaults) {
      if (words.size() == 1 || std::find(words.begin() + 1, words.end(), k) != words.end())
        io.out << k << " = " << v << "\n";
    }
  } else if (cmd == "runcap") {
    if (!need_arg(1)) return true;
    auto c = client.find_capability(words[1]);
    if (!c) return error(c.error()), true;
    // Defaults apply only to the capability's own parameters.
    std::map<std::string, std::string> params;
    for (const auto& [k, v] : st.defaults) {
      if ((*c)->find_parameter(k)) params[k] = v;
    }
    auto m = client.run(**c, st.when, params, words.size() > 2 ? words[2] : "");
    if (!m) return error(m.error()), true;
    const Message& reply = (*m)->reply->message;
    if (reply.kind == MessageKind::kReceipt) {
      io.out << "ok: receipt " << (*m)->label << " (token " << (*m)->token << ")\n";
    } else {
      show_reply(reply, Format::kTable, io);
    }
  } else if (cmd == "listmeas") {
    for (auto& m : client.measurements()) {
      if (auto s = client.redeem(*m); !s) error(s.error().text);
      io.out << std::string(model::kind_key(m->reply->message.kind)) << " " << m->label
             << " (token " << m->token << ")\n";
    }
  } else if (cmd == "showmeas" || cmd == "redeem") {
    if (!need_arg(1)) return true;
    auto m = client.find_measurement(words[1]);
    if (!m) return error(m.error()), true;
    if (auto s = client.redeem(**m); !s) return error(s.error().text), true;
    const Message& reply = (*m)->reply->message;
    if (reply.kind == MessageKind::kReceipt) {
      io.out << "pending: " << model::summarize(reply) << "\n";
    } else {
      show_reply(reply, Format::kTable, io);
    }
  } else if (cmd == "interrupt" || cmd == "stopmeas") {
    if (!need_arg(1)) return true;
    auto m = client.find_measurement(words[1]);
    if (!m) return error(m.error()), true;
    if (auto s = client.redeem(**m, /*interrupt=*/true); !s) return error(s.error().text), true;
    io.out << "ok: " << model::summarize((*m)->reply->message) << "\n";
  } else {
    error("unknown command '" + cmd + "' (help lists them)");
  }
  return true;
}

int run_shell(Client& client, std::istream& in, Io io) {
  ShellState st;
  if (client.default_url()) {
    auto n = client.get_capabilities(client.default_url()->str());
    if (!n) io.err << "error: " << n.error() << "\n";
  }
  const bool interactive = &in == &std::cin && isatty(STDIN_FILENO) != 0;
  while (true) {
    std::string line;
    if (interactive) {
      char* raw = readline("|mplane| ");
      if (raw == nullptr) break;
      line = raw;
      std::free(raw);
      if (!line.empty()) add_history(line.c_str());
    } else {
      io.out << "|mplane| " << std::flush;
      if (!std::getline(in, line)) break;
    }
    if (!shell_command(client, st, line, io)) break;
  }
  if (!interactive) io.out << "\n";
  return kExitOk;
}

}  // namespace

int run_client(const std::vector<std::string>& raw, Io io, std::istream& in) {
  auto args = parse_args(raw, kOptions);
  if (!args) {
    io.err << "mplane client: " << args.error() << " (see mplane client --help)\n";
    return kExitUsage;
  }
  if (args->has("help")) {
    io.out << kUsage << "Options:\n" << format_options(kOptions) << "\nShell " << kShellHelp;
    return kExitOk;
  }
  if (auto st = check_usage(*args); !st) {
    io.err << "mplane client: " << st.error() << "\n";
    return kExitUsage;
  }
  auto client = make_client(*args, io);
  if (!client) {
    io.err << "mplane client: " << client.error() << "\n";
    return kExitInvalid;
  }
  if (args->positional.empty()) return run_shell(**client, in, io);
  return one_shot(**client, *args, io);
}

int run_client(const std::vector<std::string>& args, Io io) {
  return run_client(args, io, std::cin);
}

}  // namespace mplane::cli
