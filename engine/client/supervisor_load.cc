#include "engine/client/supervisor_load.h"

#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "engine/client/http_load.h"
#include "engine/client/supervisor_load_actors.h"
#include "transport/pki/pki.h"
#include "transport/tls/tls_context.h"

namespace mplane::client {
namespace {

using load::Endpoint;

constexpr double kRegistrationGraceS = 15;  // registrations stalled this long (past the ramp):
                                            // the window starts anyway
constexpr int kListingAttempts = 10;        // then the clients POST to the face's root
constexpr int kListingWaitS = 50;           // a listing of thousands of probes, from a busy server

// Who the probes and clients are: a certificate each (TLS), or a forged identity (plaintext).
struct Identities {
  std::vector<transport::TlsContextPtr> probe_tls;  // empty: plaintext
  transport::TlsContextPtr client_tls;

  Endpoint probe(int i) const {
    if (!probe_tls.empty()) return {probe_tls[static_cast<std::size_t>(i)].get(), {}};
    return {nullptr, "org.mplane.Bench.Components." + probe_name(i)};
  }
  Endpoint client(int i) const {
    if (client_tls) return {client_tls.get(), {}};
    return {nullptr, "org.mplane.Bench.Clients.client-" + std::to_string(i)};
  }
  static std::string probe_name(int i) {
    char name[24];
    std::snprintf(name, sizeof name, "probe-%05d", i);
    return name;
  }
};

// PKI_DIR/bench/<role>-<name>.{key,crt}, issued unless both are there from an earlier run.
Result<transport::TlsContextPtr> member_tls(const std::string& pki_dir, transport::pki::Role role,
                                            const std::string& name) {
  const std::string prefix =
      pki_dir + "/bench/" + std::string(transport::pki::role_name(role)) + "-" + name;
  std::error_code ec;
  if (!std::filesystem::exists(prefix + ".crt", ec) ||
      !std::filesystem::exists(prefix + ".key", ec)) {
    std::filesystem::create_directories(pki_dir + "/bench", ec);
    transport::pki::IssueOptions issue;
    issue.role = role;
    issue.name = name;
    issue.out_prefix = prefix;
    auto issued = transport::pki::issue(pki_dir, issue);
    if (!issued) return fail(issued.error());
  }
  transport::TlsOptions t;
  t.role = transport::TlsRole::kClient;
  t.ca_file = pki_dir + "/" + std::string(transport::pki::kCaCertFile);
  t.cert_file = prefix + ".crt";
  t.key_file = prefix + ".key";
  return transport::TlsContext::create(t);
}

Result<Identities> make_identities(const SupervisorLoadOptions& o) {
  Identities ids;
  const bool tls = o.component_face.tls || o.client_face.tls;
  if (!tls) return ids;
  if (o.pki_dir.empty()) return fail("https faces need --pki DIR (the supervisor's domain)");
  using transport::pki::Role;
  for (int i = 0; i < o.probes + o.idle_probes; ++i) {
    auto ctx = member_tls(o.pki_dir, Role::kComponent, Identities::probe_name(i));
    if (!ctx) return fail(ctx.error());
    ids.probe_tls.push_back(std::move(ctx.value()));
  }
  auto client = member_tls(o.pki_dir, Role::kClient, "bench-client");
  if (!client) return fail(client.error());
  ids.client_tls = std::move(client.value());
  return ids;
}

double own_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The probes (by global index) and clients one loop drives.
struct LoopPlan {
  std::vector<int> active, idle, clients;
  bool primary = false;  // reads the supervisor's usage and this process's CPU time
};

// One loop's share of the run: registration, then the measured window.
class LoopRun {
 public:
  LoopRun(const SupervisorLoadOptions& o, const Identities& ids, const LoopPlan& plan,
          std::uint32_t nonce)
      : o_(o), ids_(ids), plan_(plan), state_(&loop_, o, nonce) {}

  SupervisorLoadReport run() {
    uv_loop_init(&loop_);
    state_.loop = &loop_;
    start_actors();
    {
      loop::Timer check(&loop_), window(&loop_);
      check_ = &check;
      window_ = &window;
      setup_started_ = uv_hrtime();
      check_registered();
      uv_run(&loop_, UV_RUN_DEFAULT);  // until the window's end has stopped every actor
      check_ = window_ = nullptr;
    }
    probes_.clear();
    clients_.clear();
    lister_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    return std::move(state_.report);
  }

 private:
  void start_actors() {
    const int total = o_.probes + o_.idle_probes;
    auto start_probe = [&](int i, bool idle) {
      probes_.push_back(std::make_unique<load::Probe>(state_, ids_.probe(i), i, idle));
      probes_.back()->start(o_.ramp_s * i / std::max(total, 1));
    };
    for (int i : plan_.active) start_probe(i, false);
    for (int i : plan_.idle) start_probe(i, true);
    for (int i : plan_.clients) {
      clients_.push_back(std::make_unique<load::Client>(state_, ids_.client(i), i));
    }
  }

  // Until every probe has registered once, or registrations stopped progressing (the window
  // then starts with those that did; the others keep trying).
  void check_registered() {
    const std::uint64_t now = uv_hrtime();
    if (state_.registered != registered_seen_) {
      registered_seen_ = state_.registered;
      progress_at_ = now;
    }
    const double stalled = static_cast<double>(now - std::max(progress_at_, setup_started_)) / 1e9;
    if (state_.registered < static_cast<int>(probes_.size()) &&
        stalled < o_.ramp_s + kRegistrationGraceS) {
      return check_->start(load::delay_of(0.05), [this] { check_registered(); });
    }
    check_->start(load::delay_of(o_.settle_s), [this] { fetch_targets(); });
  }

  // GET /capabilities once per loop: where the clients will POST.
  void fetch_targets() {
    if (clients_.empty()) return begin_window();
    if (!lister_) {
      lister_ = std::make_unique<transport::AsyncHttpClient>(
          &loop_,
          load::http_options(o_.client_face, ids_.client(plan_.clients.front()), kListingWaitS));
    }
    lister_->request("GET", load::face_path(o_.client_face, "capabilities"), {}, {},
                     [this](const Result<transport::HttpMessage>& r) { on_listing(r); });
  }

  void on_listing(const Result<transport::HttpMessage>& r) {
    if (!r && ++listing_failures_ < kListingAttempts) {
      return check_->start(load::delay_of(1), [this] { fetch_targets(); });
    }
    state_.targets =
        r ? specification_targets(r->status, r->body, o_.label) : std::vector<std::string>{"/"};
    state_.report.targets = state_.targets.size();
    if (!r) state_.error("client listing: " + load::transport_error_kind(r.error()));
    lister_->close();
    begin_window();
  }

  void begin_window() {
    state_.report.setup_s = static_cast<double>(uv_hrtime() - setup_started_) / 1e9;
    if (plan_.primary) {
      state_.report.supervisor_start = read_process_usage(o_.supervisor_pid);
      cpu_at_start_ = own_cpu_s();
    }
    state_.measuring = true;
    window_started_ = uv_hrtime();
    for (auto& c : clients_) c->start();
    window_->start(load::delay_of(o_.seconds), [this] { end_window(); });
  }

  void end_window() {
    state_.measuring = false;
    state_.report.elapsed_s = static_cast<double>(uv_hrtime() - window_started_) / 1e9;
    if (plan_.primary) {
      state_.report.supervisor_end = read_process_usage(o_.supervisor_pid);
      state_.report.own_cpu_s = own_cpu_s() - cpu_at_start_;
    }
    for (auto& c : clients_) c->stop();
    for (auto& p : probes_) p->stop();
    state_.registration_queue.clear();
    check_->stop();
  }

  const SupervisorLoadOptions& o_;
  const Identities& ids_;
  const LoopPlan& plan_;
  uv_loop_t loop_{};
  load::LoopState state_;
  std::vector<std::unique_ptr<load::Probe>> probes_;
  std::vector<std::unique_ptr<load::Client>> clients_;
  std::unique_ptr<transport::AsyncHttpClient> lister_;
  int listing_failures_ = 0;
  loop::Timer* check_ = nullptr;
  loop::Timer* window_ = nullptr;
  std::uint64_t setup_started_ = 0, window_started_ = 0, progress_at_ = 0;
  int registered_seen_ = 0;
  double cpu_at_start_ = 0;
};

std::vector<LoopPlan> plan_loops(const SupervisorLoadOptions& o) {
  std::vector<LoopPlan> plans(static_cast<std::size_t>(std::max(o.threads, 1)));
  const std::size_t n = plans.size();
  for (int i = 0; i < o.probes; ++i) plans[static_cast<std::size_t>(i) % n].active.push_back(i);
  for (int i = o.probes; i < o.probes + o.idle_probes; ++i) {
    plans[static_cast<std::size_t>(i) % n].idle.push_back(i);
  }
  for (int i = 0; i < o.clients; ++i) plans[static_cast<std::size_t>(i) % n].clients.push_back(i);
  plans[0].primary = true;
  return plans;
}

// "VmRSS:     1234 kB" → 1234.
std::uint64_t status_kb(const std::string& status, std::string_view key) {
  const auto at = status.find(key);
  if (at == std::string::npos) return 0;
  return std::strtoull(status.c_str() + at + key.size(), nullptr, 10);
}

}  // namespace

void SupervisorLoadReport::add(SupervisorLoadReport&& other) {
  latencies_ns.insert(latencies_ns.end(), other.latencies_ns.begin(), other.latencies_ns.end());
  specifications += other.specifications;
  redemptions += other.redemptions;
  polls += other.polls;
  registrations += other.registrations;
  results_posted += other.results_posted;
  in_flight_at_end += other.in_flight_at_end;
  targets = std::max(targets, other.targets);
  for (auto& [kind, n] : other.errors) errors[kind] += n;
  elapsed_s = std::max(elapsed_s, other.elapsed_s);
  setup_s = std::max(setup_s, other.setup_s);
  if (other.supervisor_end.ok) {
    supervisor_start = other.supervisor_start;
    supervisor_end = other.supervisor_end;
    own_cpu_s = other.own_cpu_s;
  }
}

Result<SupervisorLoadReport> run_supervisor_load(const SupervisorLoadOptions& options) {
  for (const auto* face : {&options.component_face, &options.client_face}) {
    if (!is_ip_literal(face->host)) return fail(face->host + " is not an IP address");
  }
  const std::uint64_t started = uv_hrtime();
  auto ids = make_identities(options);
  if (!ids) return fail(ids.error());
  SupervisorLoadReport total;
  total.supervisor_before = read_process_usage(options.supervisor_pid);
  const std::vector<LoopPlan> plans = plan_loops(options);
  const auto nonce = static_cast<std::uint32_t>(std::random_device{}());
  std::vector<SupervisorLoadReport> reports(plans.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < plans.size(); ++i) {
    threads.emplace_back([&, i] { reports[i] = LoopRun(options, *ids, plans[i], nonce).run(); });
  }
  reports[0] = LoopRun(options, *ids, plans[0], nonce).run();
  for (auto& t : threads) t.join();
  for (auto& r : reports) total.add(std::move(r));
  total.setup_s = static_cast<double>(uv_hrtime() - started) / 1e9 - total.elapsed_s;
  return total;
}

LatencySummary summarize_latencies(std::vector<std::uint64_t> latencies_ns) {
  LatencySummary s;
  if (latencies_ns.empty()) return s;
  double sum = 0;
  for (auto ns : latencies_ns) sum += static_cast<double>(ns);
  s.mean = sum / static_cast<double>(latencies_ns.size()) / 1e6;
  s.max = static_cast<double>(*std::max_element(latencies_ns.begin(), latencies_ns.end())) / 1e6;
  s.p50 = percentile_ms(latencies_ns, 0.50);
  s.p99 = percentile_ms(latencies_ns, 0.99);
  return s;
}

std::vector<std::string> specification_targets(int status, std::string_view listing,
                                               std::string_view label) {
  std::vector<std::string> paths;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array members;
  if (status == 200 &&
      parser.parse(listing.data(), listing.size()).get(root) == simdjson::SUCCESS &&
      root["contents"].get(members) == simdjson::SUCCESS) {
    for (simdjson::dom::element m : members) {
      std::string_view l, link;
      if (m["label"].get(l) != simdjson::SUCCESS || l != label) continue;
      if (m["link"].get(link) != simdjson::SUCCESS) continue;
      auto url = transport::parse_http_url(link);
      if (!url) continue;
      if (std::find(paths.begin(), paths.end(), url->path) == paths.end()) {
        paths.push_back(url->path);
      }
    }
  }
  if (paths.empty()) paths.emplace_back("/");
  return paths;
}

ProcessUsage read_process_usage(int pid) {
  ProcessUsage u;
  if (pid <= 0) return u;
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream status_file(dir + "/status"), stat_file(dir + "/stat");
  if (!status_file || !stat_file) return u;
  std::stringstream status, stat;
  status << status_file.rdbuf();
  stat << stat_file.rdbuf();
  u.vm_rss_kb = status_kb(status.str(), "VmRSS:");
  u.vm_hwm_kb = status_kb(status.str(), "VmHWM:");
  // Fields 14 and 15 (utime, stime, clock ticks) after the ")" that ends field 2.
  const std::string text = stat.str();
  const auto close = text.rfind(')');
  if (close == std::string::npos) return u;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  u.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  u.ok = true;
  return u;
}

}  // namespace mplane::client
