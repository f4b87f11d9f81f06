// `mplane bench http`: drives an HTTP server with mPlane specifications over keep-alive
// connections (one request in flight per connection) and reports requests/s and latency
// percentiles. Works against our component, the Python RI's, or any HTTP server.
#include <uv.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

#include "conf/builtin.h"
#include "engine/cli/args.h"
#include "engine/cli/command.h"
#include "parsers/json/message_reader.h"
#include "parsers/json/message_writer.h"
#include "transport/http/http_client.h"
#include "transport/http/http_parser.h"
#include "transport/tls/mbedtls_transport.h"
#include "transport/tls/tls_context.h"

namespace mplane::cli {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"url", "URL", "server to drive, http://HOST:PORT/PATH or https://HOST:PORT/PATH"},
    {"ca", "FILE", "https: CA certificates (PEM) the server must chain to"},
    {"cert", "FILE", "https: our client certificate (PEM)"},
    {"key", "FILE", "https: our client key (PEM)"},
    {"spec", "FILE", "the specification (JSON) to POST"},
    {"param", "NAME=VALUE",
     "set a parameter per request; {n} in VALUE is a counter, {random} 16 hex digits", true},
    {"connections", "N", "concurrent keep-alive connections (default 16)"},
    {"duration", "S", "seconds to run (default 10)"},
    {"registry", "FILE", "load an element registry besides the built-in ones", true},
    {"new-connections", "",
     "one request per connection: measures connection set-up (with https: full TLS handshakes, no "
     "resumption)"},
};
constexpr std::string_view kUsage =
    "usage: mplane bench http --url URL --spec FILE [--param NAME=VALUE]... [--connections N] "
    "[--duration S]\n"
    "Prints `requests/s: N` and the latency percentiles of the specification round trips.\n";
constexpr std::string_view kSubcommands =
    "Subcommands:\n"
    "  http    keep N keep-alive connections busy POSTing a specification to URL (any HTTP\n"
    "          server: our component, the RI's, nginx) for S seconds\n";
constexpr std::string_view kMarker = "__mplane_bench_value__";

// The request body with a marker where the per-request value goes, and the value template.
struct BodyTemplate {
  std::string before, after, value;  // body = before + expand(value) + after
  std::uint64_t counter = 0;
  std::mt19937_64 rng{42};
  std::string make() {
    if (value.empty() && after.empty()) return before;
    std::string v = value;
    for (std::size_t at; (at = v.find("{n}")) != std::string::npos;)
      v.replace(at, 3, std::to_string(counter));
    for (std::size_t at; (at = v.find("{random}")) != std::string::npos;) {
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(rng()));
      v.replace(at, 8, hex);
    }
    ++counter;
    return before + v + after;
  }
};

Result<BodyTemplate> body_template(const ParsedArgs& args) {
  std::ifstream in(args.get("spec"), std::ios::binary);
  if (!in) return fail(args.get("spec") + ": cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  BodyTemplate t;
  const auto params = args.all("param");
  if (params.empty()) {
    t.before = text.str();
    return t;
  }
  auto regs = conf::load_registries(args.all("registry"));
  if (!regs) return fail(regs.error());
  json::MessageReader reader(*regs);
  auto spec = json::parse_owned(reader, text.str());
  if (!spec) return fail(args.get("spec") + ": " + spec.error().describe(text.str()));
  const std::string& p = params.back();
  const auto eq = p.find('=');
  if (eq == std::string::npos) return fail("--param " + p + ": expected NAME=VALUE");
  model::Parameter* param = nullptr;
  for (auto& candidate : (*spec)->message.parameters) {
    if (candidate.element->name == p.substr(0, eq)) param = &candidate;
  }
  if (!param)
    return fail("--param " + p + ": the specification has no parameter " + p.substr(0, eq));
  param->value = model::Value::string(kMarker);
  const std::string body = json::to_json((*spec)->message, {.pretty = false});
  const auto at = body.find(kMarker);
  t.before = body.substr(0, at);
  t.after = body.substr(at + kMarker.size());
  t.value = p.substr(eq + 1);
  return t;
}

struct Load;

// One keep-alive connection with one request in flight.
struct Conn {
  Load* load = nullptr;
  uv_tcp_t tcp{};
  uv_connect_t connect_req{};
  std::unique_ptr<transport::Transport> transport;
  std::string app_in;
  std::string out;
  char buf[65536];
  std::unique_ptr<transport::HttpParser> parser =
      std::make_unique<transport::HttpParser>(transport::HttpParser::Kind::kResponse);
  std::uint64_t sent_at = 0;
};

struct Load {
  uv_loop_t* loop = nullptr;
  bool new_connections = false;
  sockaddr_storage addr{};
  transport::TlsContext* tls = nullptr;
  transport::HttpUrl target;
  BodyTemplate body;
  std::uint64_t end_at = 0;
  std::vector<std::uint64_t> latencies_ns;
  std::uint64_t ok = 0, non_200 = 0, errors = 0, receipts = 0;
  std::vector<std::unique_ptr<Conn>> conns;
};

void send_next(Conn& c);
void on_connect(uv_connect_t* req, int status);

// --new-connections: close after one response and connect again (fresh parser and transport).
void reconnect(Conn& c) {
  uv_close(reinterpret_cast<uv_handle_t*>(&c.tcp), [](uv_handle_t* h) {
    auto& conn = *static_cast<Conn*>(h->data);
    if (uv_hrtime() >= conn.load->end_at) return;
    conn.transport.reset();
    conn.app_in.clear();
    conn.parser = std::make_unique<transport::HttpParser>(transport::HttpParser::Kind::kResponse);
    uv_tcp_init(conn.load->loop, &conn.tcp);
    conn.tcp.data = &conn;
    uv_tcp_connect(&conn.connect_req, &conn.tcp, reinterpret_cast<sockaddr*>(&conn.load->addr),
                   &on_connect);
  });
}

void fail_conn(Conn& c) {
  ++c.load->errors;
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&c.tcp))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c.tcp), nullptr);
  }
}

struct Write {
  uv_write_t req{};
  std::string bytes;
};

// Writes what the transport has for the socket (TLS records, or the request as it is).
void write_wire(Conn& c) {
  while (!c.transport->wire_out().empty()) {
    auto* w = new Write;
    w->bytes.swap(c.transport->wire_out());
    w->req.data = &c;
    uv_buf_t b = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
    const int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&c.tcp), &b, 1,
                            [](uv_write_t* req, int status) {
                              std::unique_ptr<Write> done(reinterpret_cast<Write*>(req));
                              if (status != 0 && status != UV_ECANCELED)
                                fail_conn(*static_cast<Conn*>(req->data));
                            });
    if (rc != 0) {
      delete w;
      return fail_conn(c);
    }
    if (!c.transport->flush(c.app_in)) return fail_conn(c);
  }
}

void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto& c = *static_cast<Conn*>(s->data);
  if (n < 0) {
    ++c.load->errors;
    uv_close(reinterpret_cast<uv_handle_t*>(&c.tcp), nullptr);
    return;
  }
  if (!c.transport->on_wire_bytes(std::string_view(buf->base, static_cast<std::size_t>(n)),
                                  c.app_in)) {
    return fail_conn(c);
  }
  write_wire(c);
  std::vector<transport::HttpMessage> got;
  const std::string app = std::move(c.app_in);
  c.app_in.clear();
  if (!c.parser->feed(app, got)) {
    ++c.load->errors;
    uv_close(reinterpret_cast<uv_handle_t*>(&c.tcp), nullptr);
    return;
  }
  for (const auto& m : got) {
    c.load->latencies_ns.push_back(uv_hrtime() - c.sent_at);
    (m.status == 200 ? c.load->ok : c.load->non_200) += 1;
    if (m.body.find("\"receipt\"") != std::string::npos) ++c.load->receipts;
    if (c.load->new_connections) return reconnect(c);
    send_next(c);
  }
}

void on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* b) {
  auto& c = *static_cast<Conn*>(h->data);
  *b = uv_buf_init(c.buf, sizeof c.buf);
}

void send_next(Conn& c) {
  if (uv_hrtime() >= c.load->end_at) {
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&c.tcp))) {
      uv_close(reinterpret_cast<uv_handle_t*>(&c.tcp), nullptr);
    }
    return;
  }
  c.out.clear();
  transport::append_request(c.out, "POST", c.load->target.path, c.load->target.authority(),
                            "application/x-mplane+json", c.load->body.make());
  c.sent_at = uv_hrtime();
  if (!c.transport->send_app(c.out)) return fail_conn(c);
  write_wire(c);
}

void on_connect(uv_connect_t* req, int status) {
  auto& c = *static_cast<Conn*>(req->data);
  if (status != 0) {
    ++c.load->errors;
    uv_close(reinterpret_cast<uv_handle_t*>(&c.tcp), nullptr);
    return;
  }
  uv_tcp_nodelay(&c.tcp, 1);
  if (c.load->tls) {
    const std::string session = c.load->new_connections
                                    ? std::string()  // full handshakes: no resumption
                                    : c.load->target.authority();
    auto t = transport::MbedTlsTransport::create(*c.load->tls, session);
    if (!t) return fail_conn(c);
    c.transport = std::move(t.value());
  } else {
    c.transport = std::make_unique<transport::PlainTransport>();
  }
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c.tcp), &on_alloc, &on_read);
  if (!c.transport->flush(c.app_in)) return fail_conn(c);  // the client hello
  send_next(c);  // queued: written once the handshake is done
}

double percentile_ms(std::vector<std::uint64_t>& v, double p) {
  if (v.empty()) return 0;
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return static_cast<double>(v[i]) / 1e6;
}

int run_load(Load& load, int connections, double seconds, Io io) {
  sockaddr_storage& addr = load.addr;
  if (uv_ip4_addr(load.target.host.c_str(), load.target.port,
                  reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
      uv_ip6_addr(load.target.host.c_str(), load.target.port,
                  reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
    io.err << "mplane bench: " << load.target.host << " is not an IP address\n";
    return kExitUsage;
  }
  const std::uint64_t start = uv_hrtime();
  load.end_at = start + static_cast<std::uint64_t>(seconds * 1e9);
  for (int i = 0; i < connections; ++i) {
    auto c = std::make_unique<Conn>();
    c->load = &load;
    uv_tcp_init(load.loop, &c->tcp);
    c->tcp.data = c.get();
    c->connect_req.data = c.get();
    uv_tcp_connect(&c->connect_req, &c->tcp, reinterpret_cast<sockaddr*>(&addr), &on_connect);
    load.conns.push_back(std::move(c));
  }
  uv_run(load.loop, UV_RUN_DEFAULT);
  const double elapsed = static_cast<double>(uv_hrtime() - start) / 1e9;
  auto& lat = load.latencies_ns;
  io.out << "requests/s: " << static_cast<std::uint64_t>(static_cast<double>(lat.size()) / elapsed)
         << "\n";
  io.out << "latency: p50 " << percentile_ms(lat, 0.50) << " ms, p90 " << percentile_ms(lat, 0.90)
         << " ms, p99 " << percentile_ms(lat, 0.99) << " ms, max "
         << (lat.empty() ? 0.0
                         : static_cast<double>(*std::max_element(lat.begin(), lat.end())) / 1e6)
         << " ms\n";
  io.out << "responses: " << lat.size() << " (200: " << load.ok
         << ", other status: " << load.non_200 << ", receipts: " << load.receipts
         << "), connection errors: " << load.errors << ", " << connections << " connections, "
         << elapsed << " s\n";
  return lat.empty() ? kExitInvalid : kExitOk;
}

// Usage errors (exit 2), from the arguments alone: before any file is read.
Status<> check_usage(const ParsedArgs& args) {
  if (!args.has("url") || !args.has("spec")) return fail("--url and --spec are required");
  auto target = transport::parse_http_url(args.get("url"));
  if (!target) return fail(target.error());
  if (target->tls && !(args.has("ca") && args.has("cert") && args.has("key"))) {
    return fail("an https URL needs --ca, --cert and --key");
  }
  for (const std::string& p : args.all("param")) {
    if (p.find('=') == std::string::npos) return fail("--param " + p + ": expected NAME=VALUE");
  }
  auto connections = number_option(args, "connections", 16, 1, 10000);
  if (!connections) return fail(connections.error());
  auto duration = number_option(args, "duration", 10, 0.1, 86400);
  if (!duration) return fail(duration.error());
  return Ok{};
}

Result<std::unique_ptr<transport::TlsContext>> client_tls(const ParsedArgs& args) {
  transport::TlsOptions t;
  t.role = transport::TlsRole::kClient;
  t.ca_file = args.get("ca");
  t.cert_file = args.get("cert");
  t.key_file = args.get("key");
  return transport::TlsContext::create(t);
}

void print_help(std::ostream& out) {
  out << kUsage << kSubcommands << "Options of `bench http`:\n" << format_options(kOptions);
}

}  // namespace

int run_bench(const std::vector<std::string>& raw, Io io) {
  if (raw.empty() || raw[0] == "--help" || raw[0] == "-h") {
    print_help(raw.empty() ? io.err : io.out);
    return raw.empty() ? kExitUsage : kExitOk;
  }
  if (raw[0] != "http") {
    io.err << "mplane bench: unknown subcommand '" << raw[0]
           << "' (expected http; see mplane bench --help)\n";
    return kExitUsage;
  }
  auto args = parse_args({raw.begin() + 1, raw.end()}, kOptions);
  if (!args) {
    io.err << "mplane bench http: " << args.error() << " (see mplane bench http --help)\n";
    return kExitUsage;
  }
  if (args->has("help")) {
    print_help(io.out);
    return kExitOk;
  }
  if (auto st = check_usage(*args); !st) {
    io.err << "mplane bench http: " << st.error() << "\n";
    return kExitUsage;
  }
  const transport::HttpUrl target = transport::parse_http_url(args->get("url")).value();
  auto body = body_template(*args);
  if (!body) {
    io.err << "mplane bench http: " << body.error() << "\n";
    return kExitInvalid;
  }
  std::unique_ptr<transport::TlsContext> tls;
  if (target.tls) {
    auto ctx = client_tls(*args);
    if (!ctx) {
      io.err << "mplane bench http: " << ctx.error() << "\n";
      return kExitInvalid;
    }
    tls = std::move(ctx.value());
  }
  const double connections = number_option(*args, "connections", 16, 1, 10000).value();
  const double duration = number_option(*args, "duration", 10, 0.1, 86400).value();
  uv_loop_t loop;
  uv_loop_init(&loop);
  Load load;
  load.tls = tls.get();
  load.new_connections = args->has("new-connections");
  load.loop = &loop;
  load.target = target;
  load.body = std::move(body.value());
  const int status = run_load(load, static_cast<int>(connections), duration, io);
  load.conns.clear();
  uv_loop_close(&loop);
  return status;
}

}  // namespace mplane::cli
