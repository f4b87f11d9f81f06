// `mplane run SPEC.json [--config FILE] [--json]`: runs one specification against the local
// services, with no network involved, and prints the results.
#include <uv.h>

#include <unistd.h>
#include <fstream>
#include <iostream>
#include <sstream>

#include "conf/builtin.h"
#include "conf/component_config.h"
#include "engine/cli/args.h"
#include "engine/cli/command.h"
#include "engine/cli/result_table.h"
#include "engine/runtime/scheduler_driver.h"
#include "engine/services/builtin_services.h"
#include "parsers/json/message_reader.h"
#include "parsers/json/message_writer.h"
#include "parsers/mplane/token.h"

namespace mplane::cli {
namespace {

const std::vector<OptionSpec> kRunOptions = {
    {"config", "FILE", "component configuration (INI, RI layout): registries, services, [engine]"},
    {"registry", "FILE", "load an element registry besides the built-in ones", true},
    {"service", "NAME", "enable only this built-in service (loopback, sleep, ping)", true},
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
                                const std::vector<sched::ServicePtr>& services) {
  for (const sched::ServicePtr& s : services) {
    const model::Message& cap = s->capability();
    if (model::schema_hash(cap) != model::schema_hash(spec)) continue;
    for (model::Parameter& p : spec.parameters) {
      const model::Parameter* cp = cap.find_parameter(p.element->name);
      if (p.value.is_none() && cp) p.value = cp->constraint.single_value().value_or(p.value);
    }
    break;
  }
  return model::validate(spec);
}

sched::SchedulerOptions scheduler_options(const conf::ComponentConfig& c) {
  sched::SchedulerOptions o;
  o.max_jobs = c.engine.max_jobs;
  o.retention = c.engine.retention;
  o.result_retention = c.engine.result_retention;
  o.max_retained_results = c.engine.max_retained_results;
  o.max_results_per_envelope = c.scheduler_max_results;
  return o;
}

// The loop-side state of one run: submit, wait for completion (or Ctrl-C), keep the reply.
class Runner {
 public:
  Runner(uv_loop_t* loop, sched::Scheduler& s, Io io)
      : loop_(loop), scheduler_(s), driver_(loop, s, clock_), io_(io) {}

  Result<sched::Reply> run(const model::Message& spec) {
    if (auto st = driver_.start(); !st) return fail(st.error());
    sched::Reply first = scheduler_.submit(spec, "local", driver_.now());
    driver_.pump();
    if (first->kind != model::MessageKind::kReceipt) return finish(first);
    token_ = std::string(first->token.value_or(""));
    announce(*first);
    if (auto st = watch_signals(); !st) return fail(st.error());
    scheduler_.when_complete(token_, [this] {
      reply_ = scheduler_.redeem(token_, driver_.now());
      stop();
    });
    uv_run(loop_, UV_RUN_DEFAULT);
    return finish(reply_);
  }

 private:
  void announce(const model::Message& receipt) {
    const model::Interval iv = receipt.when->resolve(driver_.now());
    io_.err << "mplane run: receipt " << token_ << ", running "
            << (iv.end ? "until " + model::format_time(model::TimePoint::absolute(*iv.end))
                       : std::string("until interrupted"))
            << " (Ctrl-C stops it and prints what was measured)\n";
  }
  Status<> watch_signals() {
    for (uv_signal_t* sig : {&sigint_, &sigterm_}) {
      if (int rc = uv_signal_init(loop_, sig); rc != 0)
        return fail(std::string("signal: ") + uv_strerror(rc));
      sig->data = this;
      uv_signal_start(sig, &Runner::on_signal, sig == &sigint_ ? SIGINT : SIGTERM);
    }
    signals_ = true;
    return Ok{};
  }
  static void on_signal(uv_signal_t* sig, int /*signum*/) {
    auto* self = static_cast<Runner*>(sig->data);
    self->reply_ = self->scheduler_.interrupt(self->token_, self->driver_.now());
    self->driver_.pump();
    if (self->scheduler_.ready(self->token_) || self->reply_->kind != model::MessageKind::kReceipt)
      self->stop();
  }
  void stop() {
    driver_.close();
    if (signals_) {
      uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
      signals_ = false;
    }
  }
  Result<sched::Reply> finish(sched::Reply reply) {
    stop();
    scheduler_.interrupt_all(driver_.now());
    uv_run(loop_, UV_RUN_DEFAULT);  // lets services close their handles
    return reply;
  }

  uv_loop_t* loop_;
  sched::Scheduler& scheduler_;
  loop::SystemWallClock clock_;
  runtime::SchedulerDriver driver_;
  Io io_;
  std::string token_;
  sched::Reply reply_;
  uv_signal_t sigint_{}, sigterm_{};
  bool signals_ = false;
};

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

int execute(Setup& setup, bool as_json, Io io) {
  uv_loop_t loop;
  if (int rc = uv_loop_init(&loop); rc != 0) {
    io.err << "mplane run: event loop: " << uv_strerror(rc) << "\n";
    return kExitInvalid;
  }
  loop::SteadyMonoClock mono;
  auto svcs = services::make_services(setup.config.services, setup.registries, mono);
  if (!svcs) {
    io.err << "mplane run: " << svcs.error() << "\n";
    uv_loop_close(&loop);
    return kExitInvalid;
  }
  if (auto st = complete_specification(setup.spec->message, *svcs); !st) {
    io.err << "mplane run: " << st.error() << "\n";
    uv_loop_close(&loop);
    return kExitInvalid;
  }
  runtime::UvExecutor pool(&loop);
  int status = kExitInvalid;
  {
    sched::Scheduler scheduler(std::move(svcs.value()), scheduler_options(setup.config), &pool,
                               &loop);
    Runner runner(&loop, scheduler, io);
    auto reply = runner.run(setup.spec->message);
    if (!reply) {
      io.err << "mplane run: " << reply.error() << "\n";
    } else {
      status = print_reply(*reply, as_json, io);
    }
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return status;
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
