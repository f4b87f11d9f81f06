// `mplane run SPEC.json [--config FILE] [--json]`: runs one specification against the local
// services, with no network involved, and prints the results.
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "conf/builtin.h"
#include "conf/component_config.h"
#include "engine/cli/args.h"
#include "engine/cli/command.h"
#include "engine/cli/result_printer.h"
#include "engine/cli/result_table.h"
#include "engine/runtime/engine.h"
#include "engine/runtime/json_result_sink.h"
#include "engine/services/builtin_services.h"
#include "parsers/json/message_reader.h"
#include "parsers/json/message_writer.h"
#include "parsers/json/result_stream_reader.h"
#include "parsers/mplane/token.h"

namespace mplane::cli {
namespace {

const std::vector<OptionSpec> kRunOptions = {
    {"config", "FILE", "component configuration (INI, RI layout): registries, services, [engine]"},
    {"registry", "FILE", "load an element registry besides the built-in ones", true},
    {"service", "NAME", "enable only this built-in service (" + conf::service_names_text() + ")",
     true},
    {"json", "", "print the reply as mPlane JSON (a result, or an envelope of results)"},
};

constexpr std::string_view kUsage =
    "usage: mplane run SPEC.json [--config FILE] [--json]\n"
    "Runs one specification against the local services (no network) and prints the result:\n"
    "a table by default. Long scopes print a receipt line and wait; Ctrl-C interrupts the job\n"
    "and prints what was measured so far. Without --config every built-in service is enabled.\n";

// Everything the run needs, set up from the arguments.
struct Setup {
  conf::ComponentConfig config;
  model::RegistrySet registries;
  std::unique_ptr<json::OwnedMessage> spec;
};

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(path + ": cannot open file");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<Setup> prepare(const ParsedArgs& args) {
  Setup s;
  if (args.has("config")) {
    auto cfg = conf::load_component_config(args.get("config"));
    if (!cfg) return fail(cfg.error());
    s.config = std::move(cfg.value());
  } else {
    s.config.services = services::default_service_configs();
  }
  if (args.has("service")) {
    std::vector<conf::ServiceConfig> chosen;
    for (const std::string& name : args.all("service")) {
      auto it = std::find_if(s.config.services.begin(), s.config.services.end(),
                             [&](const conf::ServiceConfig& c) { return c.name == name; });
      if (it == s.config.services.end())
        return fail("--service " + name + ": no such service enabled");
      chosen.push_back(*it);
    }
    s.config.services = std::move(chosen);
  }
  std::vector<std::string> files = conf::registry_files(s.config);
  for (const std::string& f : args.all("registry")) files.push_back(f);
  auto regs = conf::load_registries(files);
  if (!regs) return fail(regs.error());
  s.registries = std::move(regs.value());
  const std::string path = args.positional[0];
  auto text = read_text(path);
  if (!text) return fail(text.error());
  json::MessageReader reader(s.registries);
  auto spec = json::parse_owned(reader, *text);
  if (!spec) return fail(path + ": " + spec.error().describe(*text));
  if ((*spec)->message.kind != model::MessageKind::kSpecification) {
    return fail(path + ": not a specification but a " +
                std::string(model::kind_key((*spec)->message.kind)));
  }
  s.spec = std::move(spec.value());
  return s;
}

// Fills parameters left out (or `*`) whose capability admits a single value, as the RI's
// client does when it builds a specification (e.g. the ping source address). Then validates.
Status<> complete_specification(model::Message& spec,
                                const std::vector<const model::Message*>& capabilities) {
  for (const model::Message* cap : capabilities) {
    if (model::schema_hash(*cap) != model::schema_hash(spec)) continue;
    for (model::Parameter& p : spec.parameters) {
      const model::Parameter* cp = cap->find_parameter(p.element->name);
      if (p.value.is_none() && cp) p.value = cp->constraint.single_value().value_or(p.value);
    }
    break;
  }
  return model::validate(spec);
}

int print_reply(const sched::Reply& reply, bool as_json, Io io) {
  if (reply->kind == model::MessageKind::kException) {
    io.err << "mplane run: " << reply->exception_text << "\n";
    return kExitInvalid;
  }
  if (as_json) {
    io.out << json::to_json(*reply) << "\n";
  } else {
    print_table(io.out, *reply);
  }
  return kExitOk;
}

// What the run prints. Called on the engine's shard; the main thread waits in Engine::join()
// until the reply is printed, then reads status().
class RunPrinter {
 public:
  RunPrinter(const model::RegistrySet& registries, bool as_json, Io io)
      : registries_(registries), as_json_(as_json), io_(io) {}

  void receipt(const sched::Reply& receipt) {
    const model::MicrosSinceEpoch now = std::chrono::duration_cast<std::chrono::microseconds>(
                                            loop::SystemWallClock().wall_now().time_since_epoch())
                                            .count();
    const model::Interval iv = receipt->when->resolve(now);
    io_.err << "mplane run: receipt " << receipt->token.value_or("") << ", running "
            << (iv.end ? "until " + model::format_time(model::TimePoint::absolute(*iv.end))
                       : std::string("until interrupted"))
            << " (Ctrl-C stops it and prints what was measured)\n";
    io_.err.flush();
  }

  // A large result: printed as its rows are measured (its JSON text, piece by piece, through
  // the streaming reader into the printer `mplane client` uses), in the same bytes as whole.
  std::shared_ptr<sched::RowSink> stream() {
    streamed_ = true;
    printer_ = make_result_printer(as_json_ ? OutputFormat::kJson : OutputFormat::kTable, io_.out);
    reader_ = std::make_unique<json::ResultStreamReader>(registries_, *printer_);
    return std::make_shared<runtime::JsonResultSink>(
        json::WriteOptions{.pretty = false}, [this](std::string_view piece) { on_piece(piece); },
        [this](const sched::Reply& end) { on_end(end); });
  }

  // The final reply (after a streamed result, only the notice that it was streamed).
  void reply(const sched::Reply& reply) {
    if (!streamed_) status_ = print_reply(reply, as_json_, io_);
  }
  int status() const { return status_; }

 private:
  void on_piece(std::string_view piece) {
    if (!error_.empty()) return;
    if (auto st = reader_->feed(piece); !st) error_ = st.error();
  }
  void on_end(const sched::Reply& end) {
    if (end->kind == model::MessageKind::kException) {  // the job failed midway
      printer_->abandon();
      status_ = print_reply(end, as_json_, io_);
      return;
    }
    if (error_.empty()) {
      if (auto st = reader_->finish(); !st) error_ = st.error();
    }
    if (!error_.empty()) {
      printer_->abandon();
      io_.err << "mplane run: streamed result: " << error_ << "\n";
      status_ = kExitInvalid;
      return;
    }
    status_ = kExitOk;
  }

  const model::RegistrySet& registries_;
  bool as_json_;
  Io io_;
  bool streamed_ = false;
  std::unique_ptr<ResultPrinter> printer_;
  std::unique_ptr<json::ResultStreamReader> reader_;
  std::string error_;  // the first error of the stream
  int status_ = kExitInvalid;
};

// `mplane run` is a component of one shard with no network: the same runtime as `mplane
// component`. Every caller is the local identity (no access control).
runtime::EngineOptions run_engine_options(const conf::ComponentConfig& config) {
  runtime::EngineOptions o = runtime::engine_options(config);
  o.shards = 1;
  o.access = nullptr;
  return o;
}

int execute(Setup& setup, bool as_json, Io io) {
  runtime::Engine engine(setup.registries, run_engine_options(setup.config));
  if (auto st = engine.start(); !st) {
    io.err << "mplane run: " << st.error() << "\n";
    return kExitInvalid;
  }
  if (auto st = complete_specification(setup.spec->message, engine.capabilities()); !st) {
    io.err << "mplane run: " << st.error() << "\n";
    return kExitInvalid;
  }
  if (auto st = engine.install_signal_handlers(); !st) {
    io.err << "mplane run: " << st.error() << "\n";
    return kExitInvalid;
  }
  RunPrinter printer(setup.registries, as_json, io);
  const bool submitted = engine.submit_until_complete(
      std::move(setup.spec), "local",
      [&](const sched::Reply& r) {
        printer.reply(r);
        engine.stop();
      },
      [&](const sched::Reply& r) { printer.receipt(r); },
      [&](const runtime::Engine::StreamControl& /*control: printing never falls behind*/) {
        return printer.stream();
      });
  if (!submitted) io.err << "mplane run: interrupted before the specification ran\n";
  engine.join();
  return printer.status();
}

}  // namespace

int run_run(const std::vector<std::string>& raw, Io io) {
  auto args = parse_args(raw, kRunOptions);
  if (!args) {
    io.err << "mplane run: " << args.error() << " (see mplane run --help)\n";
    return kExitUsage;
  }
  if (args->has("help")) {
    io.out << kUsage << "Options:\n" << format_options(kRunOptions);
    return kExitOk;
  }
  if (args->positional.size() != 1) {
    io.err << "mplane run: give exactly one SPEC.json (see mplane run --help)\n";
    return kExitUsage;
  }
  auto setup = prepare(*args);
  if (!setup) {
    io.err << "mplane run: " << setup.error() << "\n";
    return kExitInvalid;
  }
  return execute(*setup, args->has("json"), io);
}

}  // namespace mplane::cli
