#include "engine/services/capture_service.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "capture/analyzer.h"
#include "capture/output/flow_columns.h"
#include "capture/output/flow_elements.h"
#include "capture/source/pcap_source.h"
#include "engine/services/capability_service.h"

namespace mplane::services {
namespace {

using capture::FlowRecord;
using capture::Micros;

constexpr std::string_view kRegistry = "http://mplane-engine.org/registry/engine";
constexpr std::size_t kFramesPerTurn = 65536;  // work budget of one loop turn (STYLE C9)
constexpr Micros kLivePoll = 100'000;

// The capability's JSON: every flow column as a result, the given parameters.
std::string capability_json(std::string_view verb, const std::string& label, std::string_view when,
                            const std::vector<std::pair<std::string, std::string>>& parameters) {
  std::string j = "{\"capability\": \"" + std::string(verb) + "\", \"version\": 1, \"label\": \"" +
                  label + "\", \"registry\": \"" + std::string(kRegistry) + "\", \"when\": \"" +
                  std::string(when) + "\", \"parameters\": {";
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    j += (i ? ", \"" : "\"") + parameters[i].first + "\": \"" + parameters[i].second + "\"";
  }
  j += "}, \"results\": [";
  bool first = true;
  for (const capture::FlowColumn& c : capture::flow_columns()) {
    j += (first ? "\"" : ", \"") + capture::flow_element(c.name).name + "\"";
    first = false;
  }
  return j + "]}";
}

Result<std::unique_ptr<json::OwnedMessage>> parse_capability(const model::RegistrySet& regs,
                                                             const std::string& text) {
  json::MessageReader reader(regs);
  auto owned = json::parse_owned(reader, text);
  if (!owned) return fail("capture capability: " + owned.error().describe(text));
  return std::move(owned.value());
}

// Result rows from flow records: each specification column is found among the flow columns by
// its element, and filled from the column's typed cell (no text in between).
class RowMaker {
 public:
  explicit RowMaker(const model::Message& spec) {
    std::unordered_map<std::string, std::size_t> by_element;
    const auto& columns = capture::flow_columns();
    for (std::size_t i = 0; i < columns.size(); ++i) {
      by_element.emplace(capture::flow_element(columns[i].name).name, i);
    }
    for (const model::Column& c : spec.columns) {
      const auto found = by_element.find(std::string(c.element->name));
      cells_.push_back(found == by_element.end() ? nullptr : columns[found->second].cell);
    }
    texts_.resize(cells_.size());
    row_.resize(cells_.size());
  }
  void add(sched::JobContext& ctx, const FlowRecord& r) {
    for (std::size_t i = 0; i < cells_.size(); ++i) {
      row_[i] = cells_[i] ? value_of(cells_[i](r), texts_[i]) : model::Value::none();
    }
    ctx.add_row(row_);  // copies the strings, borrowed until then
  }

 private:
  // `text`: storage for a cell whose string is made here (the Value borrows it).
  static model::Value value_of(const capture::FlowCell& c, std::string& text) {
    using Kind = capture::FlowCell::Kind;
    switch (c.kind) {
      case Kind::kNone:
        return model::Value::none();
      case Kind::kCount:  // never negative
        return model::Value::natural(static_cast<std::uint64_t>(c.number));
      case Kind::kSigned:  // natural elements: a negative (no option) is not measured
        return c.number >= 0 ? model::Value::natural(static_cast<std::uint64_t>(c.number))
                             : model::Value::none();
      case Kind::kMillis:
        return model::Value::real(capture::round_ms(c.millis));
      case Kind::kTime:
        return model::Value::time(model::TimePoint::absolute(c.number));
      case Kind::kAddress:
        return model::Value::address(address_of(*c.address));
      case Kind::kText:
        return model::Value::string(c.text);  // static text
      case Kind::kVlans:
        text.clear();
        capture::append_cell(text, c);
        return model::Value::string(text);
    }
    return model::Value::none();
  }
  static model::Address address_of(const capture::IpAddress& ip) {
    model::Address a;
    a.family = ip.family;
    a.prefix = ip.family == 4 ? 32 : 128;
    std::memcpy(a.bytes, ip.bytes.data(), ip.family == 4 ? 4 : 16);
    return a;
  }

  std::vector<capture::FlowColumn::Cell> cells_;
  std::vector<std::string> texts_;
  std::vector<model::Value> row_;
};

// The capture-quality metadata elements.
struct QualityElements {
  const model::Element *source = nullptr, *packets = nullptr, *kernel = nullptr,
                       *interface = nullptr, *malformed = nullptr, *evicted = nullptr;
  static Result<QualityElements> find(const model::RegistrySet& regs) {
    QualityElements q;
    const std::pair<const model::Element**, const char*> wanted[] = {
        {&q.source, "flow.capture.source"},
        {&q.packets, "flow.capture.packets"},
        {&q.kernel, "flow.capture.dropped.kernel"},
        {&q.interface, "flow.capture.dropped.interface"},
        {&q.malformed, "flow.capture.malformed"},
        {&q.evicted, "flow.capture.evicted"}};
    for (const auto& [slot, name] : wanted) {
      *slot = regs.find(name);
      if (!*slot) return fail(std::string("the engine registry has no element ") + name);
    }
    return q;
  }
  void report(sched::JobContext& ctx, const std::string& what, const capture::Analyzer& a) const {
    const capture::CaptureCounters& c = a.counters();
    const auto n = [](std::uint64_t v) { return model::Value::natural(v); };
    ctx.set_metadata(source, model::Value::string(what));
    ctx.set_metadata(packets, n(c.packets));
    ctx.set_metadata(kernel, n(c.kernel_dropped));
    ctx.set_metadata(interface, n(c.interface_dropped));
    ctx.set_metadata(malformed, n(c.malformed_total()));
    ctx.set_metadata(evicted, n(a.table().stats().flows_evicted));
  }
};

// One running capture job: its source, its analyser, how its rows are made.
struct CaptureJob {
  std::unique_ptr<capture::PcapSource> source;
  std::unique_ptr<capture::Analyzer> analyzer;
  std::unique_ptr<RowMaker> rows;
  std::string what;
  Micros first = 0, last = 0;        // packet times seen
  std::vector<FlowRecord> finished;  // for the FlowStore, handed over after each read
};

// Shared by the file and live services: jobs by context, set-up, completion.
class CaptureServiceBase : public CapabilityService {
 public:
  CaptureServiceBase(std::unique_ptr<json::OwnedMessage> cap, std::string name, CaptureConfig cfg,
                     QualityElements quality, std::shared_ptr<FlowStore> flows = nullptr)
      : CapabilityService(std::move(cap), std::move(name)),
        config_(std::move(cfg)),
        quality_(quality),
        flows_(std::move(flows)) {}

 protected:
  CaptureJob* begin_job(sched::JobContext& ctx, const capture::SourceOptions& o, bool store) {
    auto src = capture::PcapSource::open(o);
    if (!src) {
      ctx.fail("capture: " + src.error());
      return nullptr;
    }
    auto job = std::make_unique<CaptureJob>();
    job->what = o.file.empty() ? o.interface : std::filesystem::path(o.file).filename().string();
    job->rows = std::make_unique<RowMaker>(ctx.specification());
    CaptureJob* raw = job.get();
    job->analyzer = std::make_unique<capture::Analyzer>((*src)->link_type(), config_.table,
                                                        [raw, &ctx, store](const FlowRecord& r) {
                                                          raw->rows->add(ctx, r);
                                                          if (store) raw->finished.push_back(r);
                                                        });
    job->source = std::move(src.value());
    jobs_[&ctx] = std::move(job);
    return raw;
  }
  // Reads up to `budget` frames; false on a read error (the job has failed then).
  bool read(sched::JobContext& ctx, CaptureJob& job, std::size_t budget) {
    const capture::PcapSource::PacketFn fn = [&job](std::int64_t ts, auto frame,
                                                    std::uint32_t len) {
      if (ts != capture::kBadTimestamp) {  // counted by the analyser, and no time of the job's
        if (!job.first) job.first = ts;
        job.last = std::max(job.last, ts);
      }
      job.analyzer->packet(ts, frame, len);
    };
    auto n = job.source->read(budget, fn);
    if (!n) {
      ctx.fail("capture: " + n.error());
      jobs_.erase(&ctx);
      return false;
    }
    return true;
  }
  // Hands the flows the job finished to the store (live captures).
  void store_finished(CaptureJob& job) {
    if (!flows_ || job.finished.empty()) return;
    flows_->add(std::move(job.finished));
    job.finished = {};
  }
  // Flushes open flows, reports the quality and completes the job over `measured`.
  void complete(sched::JobContext& ctx, CaptureJob& job, model::When measured) {
    job.analyzer->finish();
    store_finished(job);
    const capture::PcapSource::Stats st = job.source->stats();
    job.analyzer->counters().kernel_dropped = st.kernel_dropped;
    job.analyzer->counters().interface_dropped = st.interface_dropped;
    quality_.report(ctx, job.what, *job.analyzer);
    jobs_.erase(&ctx);  // before finish(): the context is gone after it
    ctx.finish(measured);
  }
  CaptureJob* job_of(sched::JobContext& ctx) {
    auto it = jobs_.find(&ctx);
    return it == jobs_.end() ? nullptr : it->second.get();
  }

  CaptureConfig config_;
  QualityElements quality_;
  std::shared_ptr<FlowStore> flows_;  // live captures: where finished flows go
  std::unordered_map<const sched::JobContext*, std::unique_ptr<CaptureJob>> jobs_;
};

model::When range(Micros a, Micros b) {
  return model::When::range(model::TimePoint::absolute(a),
                            model::TimePoint::absolute(std::max(a, b)));
}

class FileCaptureService final : public CaptureServiceBase {
 public:
  using CaptureServiceBase::CaptureServiceBase;

  void start(sched::JobContext& ctx) override {
    const model::Parameter* p = ctx.specification().find_parameter("flow.capture.file");
    const std::string name(p ? p->value.as_string() : std::string_view());
    // A name in the allowed directory, nothing else (no path, no way out of it).
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
      return ctx.fail("flow.capture.file: give the name of a file in the capture directory");
    }
    capture::SourceOptions o;
    o.file = (std::filesystem::path(config_.files) / name).string();
    if (!begin_job(ctx, o, false)) return;
    produce(ctx);
  }
  void resume(sched::JobContext& ctx) override { produce(ctx); }
  void interrupt(sched::JobContext& ctx) override {
    if (CaptureJob* job = job_of(ctx)) complete(ctx, *job, range(job->first, job->last));
  }
  bool ends_by_itself() const override { return true; }  // at the end of the file

 private:
  void produce(sched::JobContext& ctx) {
    CaptureJob* job = job_of(ctx);
    if (!job || !read(ctx, *job, kFramesPerTurn)) return;
    if (job->source->at_end()) return complete(ctx, *job, range(job->first, job->last));
    if (ctx.paused()) return;
    ctx.at(ctx.now(), [this, &ctx] { produce(ctx); });
  }
};

class LiveCaptureService final : public CaptureServiceBase {
 public:
  using CaptureServiceBase::CaptureServiceBase;

  void start(sched::JobContext& ctx) override {
    capture::SourceOptions o;
    o.interface = config_.interface;
    o.filter = config_.filter;
    o.wait_ms = 0;  // read() never waits: the job polls on a timer
    if (!begin_job(ctx, o, true)) return;
    poll(ctx);
  }
  void interrupt(sched::JobContext& ctx) override {
    if (CaptureJob* job = job_of(ctx)) complete(ctx, *job, range(ctx.started_at(), ctx.now()));
  }

 private:
  void poll(sched::JobContext& ctx) {
    CaptureJob* job = job_of(ctx);
    if (!job || !read(ctx, *job, kFramesPerTurn)) return;
    job->analyzer->expire(ctx.now());
    store_finished(*job);
    ctx.at(ctx.now() + kLivePoll, [this, &ctx] { poll(ctx); });
  }
};

class FlowQueryService final : public CapabilityService {
 public:
  FlowQueryService(std::unique_ptr<json::OwnedMessage> cap, std::string name,
                   std::shared_ptr<FlowStore> flows)
      : CapabilityService(std::move(cap), std::move(name)), flows_(std::move(flows)) {}

  void start(sched::JobContext& ctx) override {
    const model::Message& spec = ctx.specification();
    const model::Interval window = spec.when->resolve(ctx.now());
    const Micros from = window.start.value_or(0), to = window.end.value_or(ctx.now());
    std::optional<model::Address> host;
    if (const model::Parameter* h = spec.find_parameter("flow.query.host");
        h && !h->value.is_none() && h->value.as_string() != "any") {
      auto a = model::parse_address(h->value.as_string());
      if (!a) return ctx.fail("flow.query.host: " + a.error());
      host = *a;
    }
    std::optional<std::uint64_t> port;
    if (const model::Parameter* p = spec.find_parameter("flow.query.port");
        p && !p->value.is_none() && p->value.as_natural() != 0) {
      port = p->value.as_natural();
    }
    const std::uint64_t id = ++last_query_;
    pending_[&ctx] = id;
    flows_->query(
        [from, to, host, port](const FlowRecord& r) {
          if (r.last < from || r.last > to) return false;
          if (host && !matches(*host, r.client_ip) && !matches(*host, r.server_ip)) return false;
          return !port || std::uint64_t{r.client_port} == *port ||
                 std::uint64_t{r.server_port} == *port;
        },
        [this, &ctx, id, from, to](std::vector<FlowRecord> found) {
          auto it = pending_.find(&ctx);
          if (it == pending_.end() || it->second != id) return;  // interrupted meanwhile
          pending_.erase(it);
          RowMaker rows(ctx.specification());
          for (const FlowRecord& r : found) rows.add(ctx, r);
          ctx.finish(range(from, to));
        });
  }
  void interrupt(sched::JobContext& ctx) override {
    pending_.erase(&ctx);
    ctx.finish();
  }

 private:
  static bool matches(const model::Address& a, const capture::IpAddress& b) {
    return a.family == b.family &&
           std::memcmp(a.bytes, b.bytes.data(), a.family == 4 ? 4 : 16) == 0;
  }

  std::shared_ptr<FlowStore> flows_;
  // Queries waiting for the store's answer, by job, with an id that tells a later job at the
  // same address from this one.
  std::unordered_map<const sched::JobContext*, std::uint64_t> pending_;
  std::uint64_t last_query_ = 0;
};

}  // namespace

FlowStore::FlowStore(std::size_t capacity, loop::Shard* home)
    : capacity_(std::max<std::size_t>(capacity, 1)), home_(home) {}

void FlowStore::at_home(std::function<void()> fn) {
  if (!home_ || loop::Shard::current() == home_) return fn();
  home_->post(loop::make_task(std::move(fn)));  // refused: the process is stopping
}

void FlowStore::set_capacity(std::size_t n) {
  at_home([self = shared_from_this(), n] {
    self->capacity_ = std::max<std::size_t>(n, 1);
    self->trim();
  });
}

void FlowStore::add(std::vector<FlowRecord> flows) {
  at_home([self = shared_from_this(), flows = std::move(flows)] {
    self->flows_.insert(self->flows_.end(), flows.begin(), flows.end());
    self->trim();
  });
}

void FlowStore::trim() {
  while (flows_.size() > capacity_) flows_.pop_front();
}

void FlowStore::query(Filter keep, std::function<void(std::vector<FlowRecord>)> done) {
  loop::Shard* caller = loop::Shard::current();
  at_home([self = shared_from_this(), keep = std::move(keep), done = std::move(done), caller] {
    std::vector<FlowRecord> found;
    for (const FlowRecord& r : self->flows_) {
      if (keep(r)) found.push_back(r);
    }
    if (!caller || caller == loop::Shard::current()) return done(std::move(found));
    caller->post(
        loop::make_task([done, found = std::move(found)]() mutable { done(std::move(found)); }));
  });
}

Result<CaptureConfig> capture_config(const conf::ServiceConfig& c) {
  const auto& o = std::get<conf::CaptureOptions>(c.typed);
  if (o.interface.empty() && o.files.empty()) {
    return fail(c.origin +
                ": the capture service needs an interface and/or a files directory "
                "([service_capture] in the configuration)");
  }
  CaptureConfig cfg;
  cfg.interface = o.interface;
  cfg.files = o.files;
  cfg.filter = o.filter;
  cfg.table.max_flows = static_cast<std::size_t>(o.max_flows);
  cfg.table.idle_timeout = o.idle_timeout;
  cfg.store = static_cast<std::size_t>(o.store);
  return cfg;
}

Result<std::vector<sched::ServicePtr>> make_capture_services(const CaptureConfig& cfg,
                                                             const model::RegistrySet& regs,
                                                             std::shared_ptr<FlowStore> flows) {
  auto quality = QualityElements::find(regs);
  if (!quality) return fail(quality.error());
  std::vector<sched::ServicePtr> out;
  if (!cfg.files.empty()) {
    auto cap =
        parse_capability(regs, capability_json("measure", "capture-flows-file", "now ... future",
                                               {{"flow.capture.file", "*"}}));
    if (!cap) return fail(cap.error());
    out.push_back(std::make_unique<FileCaptureService>(std::move(cap.value()), "capture-file", cfg,
                                                       *quality));
  }
  if (!cfg.interface.empty()) {
    if (!flows) flows = std::make_shared<FlowStore>(cfg.store, nullptr);
    flows->set_capacity(cfg.store);
    auto live = parse_capability(
        regs, capability_json("measure", "capture-flows-" + cfg.interface, "now ... future", {}));
    if (!live) return fail(live.error());
    out.push_back(std::make_unique<LiveCaptureService>(std::move(live.value()), "capture-live", cfg,
                                                       *quality, flows));
    auto query = parse_capability(
        regs, capability_json("query", "capture-flows-query", "past ... now",
                              {{"flow.query.host", "*"}, {"flow.query.port", "*"}}));
    if (!query) return fail(query.error());
    out.push_back(std::make_unique<FlowQueryService>(std::move(query.value()), "capture-query",
                                                     std::move(flows)));
  }
  return out;
}

}  // namespace mplane::services
