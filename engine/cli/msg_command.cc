// `mplane msg check|canon|token`: validate, canonicalise and hash mPlane messages.
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "conf/builtin.h"
#include "engine/cli/args.h"
#include "engine/cli/command.h"
#include "parsers/json/message_reader.h"
#include "parsers/json/message_writer.h"
#include "parsers/mplane/token.h"

namespace mplane::cli {
namespace {

const std::vector<OptionSpec> kCheckOptions = {
    {"registry", "FILE", "load an element registry (JSON) besides the built-in core registry",
     true},
};
const std::vector<OptionSpec> kCanonOptions = {
    kCheckOptions[0],
    {"compact", "", "write without whitespace (default: the RI's indented layout)"},
};
const std::vector<OptionSpec> kTokenOptions = {
    kCheckOptions[0],
    {"explain", "", "also print the strings that are hashed"},
};

constexpr std::string_view kUsage =
    "usage: mplane msg check FILE...   validate messages, print one summary line each\n"
    "       mplane msg canon FILE      print the canonical JSON (the RI's layout)\n"
    "       mplane msg token FILE      print token, default-token and schema hashes\n"
    "FILE may be - for standard input. Envelopes are checked recursively.\n";

Result<std::string> read_input(const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(path + ": cannot open file");
  text << in.rdbuf();
  return text.str();
}

// Reads, parses and validates one file; on failure prints one line and returns null.
std::unique_ptr<json::OwnedMessage> load_message(json::MessageReader& reader,
                                                 const std::string& path, Io io) {
  auto text = read_input(path);
  if (!text) {
    io.err << "mplane msg: " << text.error() << "\n";
    return nullptr;
  }
  auto owned = json::parse_owned(reader, *text);
  if (!owned) {
    io.err << "mplane msg: " << path << ": " << owned.error().describe(*text) << "\n";
    return nullptr;
  }
  if (auto st = model::validate((*owned)->message); !st) {
    io.err << "mplane msg: " << path << ": invalid " << model::kind_key((*owned)->message.kind)
           << ": " << st.error() << "\n";
    return nullptr;
  }
  return std::move(owned.value());
}

void print_summaries(std::ostream& out, const model::Message& m, int depth) {
  out << std::string(static_cast<std::size_t>(depth) * 2, ' ') << model::summarize(m) << "\n";
  for (const model::Message& member : m.contents) print_summaries(out, member, depth + 1);
}

int check(const ParsedArgs& args, json::MessageReader& reader, Io io) {
  if (args.positional.empty()) {
    io.err << "mplane msg check: no FILE given (see mplane msg --help)\n";
    return kExitUsage;
  }
  for (const std::string& path : args.positional) {
    auto owned = load_message(reader, path, io);
    if (!owned) return kExitInvalid;
    if (args.positional.size() > 1) io.out << path << ": ";
    print_summaries(io.out, owned->message, 0);
  }
  return kExitOk;
}

int canon(const ParsedArgs& args, json::MessageReader& reader, Io io) {
  if (args.positional.size() != 1) {
    io.err << "mplane msg canon: give exactly one FILE (see mplane msg --help)\n";
    return kExitUsage;
  }
  auto owned = load_message(reader, args.positional[0], io);
  if (!owned) return kExitInvalid;
  json::WriteOptions opts;
  opts.pretty = !args.has("compact");
  io.out << json::to_json(owned->message, opts) << "\n";
  return kExitOk;
}

int token(const ParsedArgs& args, json::MessageReader& reader, Io io) {
  if (args.positional.size() != 1) {
    io.err << "mplane msg token: give exactly one FILE (see mplane msg --help)\n";
    return kExitUsage;
  }
  auto owned = load_message(reader, args.positional[0], io);
  if (!owned) return kExitInvalid;
  const model::Message& m = owned->message;
  if (auto t = model::effective_token(m)) io.out << "token " << *t << "\n";
  if (auto d = model::default_token(m)) io.out << "default-token " << *d << "\n";
  const bool has_schema = m.kind != model::MessageKind::kException &&
                          m.kind != model::MessageKind::kEnvelope && !m.token_only();
  if (has_schema) io.out << "schema " << model::schema_hash(m) << "\n";
  if (args.has("explain") && has_schema) {
    io.out << "schema-input " << model::schema_hash_input(m) << "\n";
    if (m.when) {
      io.out << "pv-input " << model::pv_hash_input(m) << "\n";
      io.out << "mpcv-input " << model::mpcv_hash_input(m) << "\n";
    }
  }
  return kExitOk;
}

}  // namespace

int run_msg(const std::vector<std::string>& raw, Io io) {
  if (raw.empty() || raw[0] == "--help" || raw[0] == "-h") {
    (raw.empty() ? io.err : io.out)
        << kUsage << "Options:\n"
        << format_options(kTokenOptions) << "  --compact (canon) write without whitespace\n";
    return raw.empty() ? kExitUsage : kExitOk;
  }
  const std::string& verb = raw[0];
  const auto& specs = verb == "canon"   ? kCanonOptions
                      : verb == "token" ? kTokenOptions
                                        : kCheckOptions;
  if (verb != "check" && verb != "canon" && verb != "token") {
    io.err << "mplane msg: unknown subcommand '" << verb << "' (expected check, canon or token)\n";
    return kExitUsage;
  }
  auto args = parse_args({raw.begin() + 1, raw.end()}, specs);
  if (!args) {
    io.err << "mplane msg " << verb << ": " << args.error() << " (see mplane msg --help)\n";
    return kExitUsage;
  }
  if (args->has("help")) {
    io.out << kUsage << "Options of `msg " << verb << "`:\n" << format_options(specs);
    return kExitOk;
  }
  auto registries = conf::load_registries(args->all("registry"));
  if (!registries) {
    io.err << "mplane msg: " << registries.error() << "\n";
    return kExitInvalid;
  }
  json::MessageReader reader(*registries);
  if (verb == "check") return check(*args, reader, io);
  if (verb == "canon") return canon(*args, reader, io);
  return token(*args, reader, io);
}

}  // namespace mplane::cli
