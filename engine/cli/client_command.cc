// `mplane client`: a client-initiated mPlane client (PROTOCOL.md §4.2, §6.1).
//
//   mplane client --url URL caps                       list the component's capabilities
//   mplane client --url URL run LABEL [--param N=V]…   run one and print the result
//   mplane client --url URL submit LABEL [...]         send it, print the token (no waiting)
//   mplane client --url URL redeem TOKEN [--wait S]    print the result once it is ready
//   mplane client --url URL interrupt TOKEN            stop it, print what was measured
//   mplane client [--url URL]                          the mpcli-style shell
//
// The talking (discovery, specifications, redemptions) is engine/client/mplane_client.h; this
// file parses options and prints.
//
// TLS: an https URL needs --ca/--cert/--key (or [TLS] in --config). A plain http URL works
// without flags but prints a warning on stderr (no authentication, no privacy); --insecure
// acknowledges it and silences the warning.
#include <readline/history.h>
#include <readline/readline.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <tuple>

#include "conf/builtin.h"
#include "engine/cli/args.h"
#include "engine/cli/command.h"
#include "engine/cli/result_printer.h"
#include "engine/client/client_config.h"
#include "engine/client/mplane_client.h"
#include "parsers/json/message_writer.h"

namespace mplane::cli {
namespace {

using client::Client;
using client::label_of;
using client::Measurement;
using client::PostError;
using client::token_of;
using client::wall_now_us;
using model::Message;
using model::MessageKind;

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

// --- Presentation -----------------------------------------------------------------------

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

// --- Setup ---------------------------------------------------------------------------------

// What one `mplane client` invocation talks through (members in construction order: the
// client borrows the exchange, the exchange borrows the TLS context).
struct Session {
  std::unique_ptr<transport::TlsContext> tls;
  std::unique_ptr<client::BlockingHttpExchange> exchange;
  std::unique_ptr<Client> client;
};

Result<std::unique_ptr<transport::TlsContext>> tls_of(const ParsedArgs& args,
                                                      const client::ClientConfig& cfg) {
  return client::client_tls(args.get("ca", cfg.ca), args.get("cert", cfg.cert),
                            args.get("key", cfg.key));
}

Result<std::unique_ptr<Session>> make_session(const ParsedArgs& args, Io io) {
  client::ClientConfig cfg;
  if (args.has("config")) {
    auto c = client::load_client_config(args.get("config"));
    if (!c) return fail(c.error());
    cfg = *c;
  }
  auto session = std::make_unique<Session>();
  auto tls = tls_of(args, cfg);
  if (!tls) return fail(tls.error());
  session->tls = std::move(tls.value());
  auto regs = conf::load_registries(args.all("registry"));
  if (!regs) return fail(regs.error());
  auto timeout = number_option(args, "timeout", 30, 0.001, 86400);
  if (!timeout) return fail(timeout.error());
  session->exchange =
      std::make_unique<client::BlockingHttpExchange>(client::BlockingExchangeOptions{
          .tls = session->tls.get(),
          .insecure = args.has("insecure"),
          .warn = [err = &io.err](std::string_view w) { *err << "mplane client: " << w << "\n"; }});
  session->client = std::make_unique<Client>(std::move(regs.value()), *session->exchange,
                                             static_cast<std::uint64_t>(*timeout * 1000));
  const std::string url = args.get("url", cfg.default_url);
  if (!url.empty()) {
    if (auto st = session->client->set_url(url); !st) return fail(st.error());
  }
  return session;
}

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

using Format = OutputFormat;

Format format_of(const ParsedArgs& args) {
  return args.has("json") ? Format::kJson : args.has("csv") ? Format::kCsv : Format::kTable;
}

// Prints a reply: a result in `format` (unless `streamed` printed it as it arrived), an
// exception on err (false), anything else summarised.
bool show_reply(const Message& m, Format format, Io io, const ResultPrinter* streamed = nullptr) {
  if (m.kind == MessageKind::kException) {
    io.err << "mplane client: exception: " << m.exception_text << "\n";
    return false;
  }
  if (m.kind == MessageKind::kResult || m.kind == MessageKind::kEnvelope) {
    if (!streamed || !streamed->printed()) print_result(io.out, m, format);
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

// Waits for the result of `m` (a receipt) and prints it as it streams in; every failure is one
// line naming the token.
int wait_and_print(Client& client, Measurement& m, Format format, ResultPrinter& printer, Io io) {
  announce_receipt(m, io);
  SigintWatch watch;
  client::WaitOptions o;
  o.rows = &printer;
  o.interrupt_requested = [] { return g_interrupted != 0; };
  o.on_interrupting = [&io](const Measurement& which) {
    io.err << "mplane client: interrupting " << which.label << " (Ctrl-C again to quit)\n";
  };
  if (auto st = client.wait_for_result(m, o); !st) {
    printer.abandon();
    io.err << "mplane client: " << wait_failure(m, st.error()) << "\n";
    return kExitInvalid;
  }
  const Message& reply = m.reply->message;
  if (reply.kind == MessageKind::kException) {
    io.err << "mplane client: exception while waiting for the result of token " << m.token
           << " from " << m.url.str() << ": " << reply.exception_text << "\n";
    return kExitInvalid;
  }
  return show_reply(reply, format, io, &printer) ? kExitOk : kExitInvalid;
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
  // `run` prints a result as it streams in; `submit` holds it (it goes to stderr, after a line).
  auto printer = make_result_printer(format_of(args), io.out);
  auto m = client.run(**cap, args.get("when"), params_of(args.all("param")).value(),
                      args.get("label"), verb == "submit" ? nullptr : printer.get());
  if (!m) {
    printer->abandon();
    io.err << "mplane client: " << m.error() << "\n";
    return kExitInvalid;
  }
  if (verb == "submit") return print_submitted(**m, format_of(args), io);
  if ((*m)->reply->message.kind == MessageKind::kReceipt) {
    return wait_and_print(client, **m, format_of(args), *printer, io);
  }
  return show_reply((*m)->reply->message, format_of(args), io, printer.get()) ? kExitOk
                                                                              : kExitInvalid;
}

// `redeem TOKEN` (polling up to --wait seconds) and `interrupt TOKEN` (then redeeming until
// what was measured comes, up to --timeout): token-only messages to --url.
int by_token(Client& client, const ParsedArgs& args, Io io) {
  const bool interrupt = args.positional[0] == "interrupt";
  Measurement& m = client.adopt(args.positional[1], *client.default_url());
  client::WaitOptions o;      // Ctrl-C just quits: `interrupt` is the verb for stopping
  o.until_scope_end = false;  // a relative scope in the receipt is not dated from now
  const double seconds =
      number_option(args, interrupt ? "timeout" : "wait", interrupt ? 30 : 0, 0, 365 * 86400.0)
          .value();
  o.until = wall_now_us() + static_cast<std::int64_t>(seconds * 1e6);
  auto printer = make_result_printer(format_of(args), io.out);
  o.rows = printer.get();
  auto st = client.redeem(m, interrupt, printer.get());
  if (st) st = client.wait_for_result(m, o);
  if (!st) {
    printer->abandon();
    io.err << "mplane client: " << failure_text(m, st.error()) << "\n";
    return kExitInvalid;
  }
  const Message& reply = m.reply->message;
  if (reply.kind == MessageKind::kReceipt) {
    io.err << "mplane client: token " << m.token << ": still running" << running_until(reply, false)
           << "; redeem it again later\n";
    return kExitInvalid;
  }
  return show_reply(reply, format_of(args), io, printer.get()) ? kExitOk : kExitInvalid;
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
  auto session = make_session(*args, io);
  if (!session) {
    io.err << "mplane client: " << session.error() << "\n";
    return kExitInvalid;
  }
  Client& client = *(*session)->client;
  if (args->positional.empty()) return run_shell(client, in, io);
  return one_shot(client, *args, io);
}

int run_client(const std::vector<std::string>& args, Io io) {
  return run_client(args, io, std::cin);
}

}  // namespace mplane::cli
