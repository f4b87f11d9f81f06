#include "engine/loop/shard.h"

#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace mplane::loop {
namespace {

thread_local Shard* t_current = nullptr;

// Rounds of "close every handle, run the loop" before giving up on uv_loop_close(). Each round
// closes every handle; another round is needed only if close callbacks open new handles.
constexpr int kMaxCloseRounds = 16;

[[noreturn]] void die(const char* what) noexcept {
  std::fprintf(stderr, "mplane: Shard: %s\n", what);
  std::abort();
}

std::string uv_failure(const char* call, int rc) {
  return std::string(call) + ": " + uv_err_name(rc) + " (" + uv_strerror(rc) + ")";
}

void close_if_open(uv_handle_t* handle, void* /*arg*/) noexcept {
  if (!uv_is_closing(handle)) uv_close(handle, nullptr);
}

void set_thread_name(std::size_t index) noexcept {
  char name[16];  // Linux limit: 15 characters and the terminator; longer names are truncated
  std::snprintf(name, sizeof name, "mplane-shard-%zu", index);
  pthread_setname_np(pthread_self(), name);  // cosmetic: a failure changes nothing else
}

}  // namespace

Shard::Shard(std::size_t index) noexcept : index_(index) {}

Shard::~Shard() {
  stop();
  join();
}

Status<> Shard::start() noexcept {
  if (started_) return fail("Shard::start: already started");
  if (stop_requested_.load(std::memory_order_acquire)) return fail("Shard::start: stopped");
  if (int rc = uv_loop_init(&loop_); rc != 0) return fail(uv_failure("uv_loop_init", rc));
  if (int rc = uv_async_init(&loop_, &wakeup_, &Shard::on_wakeup_cb); rc != 0) {
    static_cast<void>(uv_loop_close(&loop_));  // nothing registered: closes
    return fail(uv_failure("uv_async_init", rc));
  }
  wakeup_.data = this;
  gate_.store(0, std::memory_order_release);  // open before the thread exists: posts may queue
  if (int rc = uv_thread_create(&thread_, &Shard::thread_main, this); rc != 0) {
    gate_.fetch_or(kClosed, std::memory_order_acq_rel);
    wait_for_posters();
    while (Task* t = inbox_.pop()) delete t;  // accepted, but there is no thread to run them
    uv_close(reinterpret_cast<uv_handle_t*>(&wakeup_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    static_cast<void>(uv_loop_close(&loop_));
    return fail(uv_failure("uv_thread_create", rc));
  }
  started_ = true;
  return Ok{};
}

bool Shard::post(Task* task) noexcept {
  if (gate_.fetch_add(1, std::memory_order_acq_rel) & kClosed) {
    gate_.fetch_sub(1, std::memory_order_acq_rel);
    delete task;
    return false;
  }
  inbox_.push(task);
  // After the push, so the woken consumer can see the task (see MpscQueue: a consumer woken after
  // push() returns never misses a node). uv_async_send only fails on a bad handle.
  uv_async_send(&wakeup_);
  gate_.fetch_sub(1, std::memory_order_acq_rel);
  return true;
}

void Shard::stop() noexcept {
  stop_requested_.store(true, std::memory_order_release);
  // Count ourselves in so the shard cannot close the async handle under our uv_async_send().
  const std::uint64_t prev = gate_.fetch_add(1, std::memory_order_acq_rel);
  if (!(prev & kClosed) && !(gate_.fetch_or(kClosed, std::memory_order_acq_rel) & kClosed)) {
    uv_async_send(&wakeup_);
  }
  gate_.fetch_sub(1, std::memory_order_acq_rel);
}

void Shard::join() noexcept {
  if (!started_ || joined_) return;
  if (t_current == this) die("join() called on the shard's own thread");
  if (uv_thread_join(&thread_) != 0) die("uv_thread_join failed");
  joined_ = true;
}

Shard* Shard::current() noexcept { return t_current; }

void Shard::add_shutdown_hook(ShutdownHook hook) { shutdown_hooks_.push_back(std::move(hook)); }

bool Shard::closed() const noexcept {
  return (gate_.load(std::memory_order_acquire) & kClosed) != 0;
}

void Shard::thread_main(void* arg) noexcept { static_cast<Shard*>(arg)->run(); }

void Shard::run() noexcept {
  t_current = this;
  set_thread_name(index_);
  // uv_run() returns only after uv_stop(): the referenced async handle keeps the loop alive. A
  // task may call uv_stop() itself; only a closed gate ends the shard.
  while (!closed()) uv_run(&loop_, UV_RUN_DEFAULT);
  shut_down();
  t_current = nullptr;
}

void Shard::on_wakeup_cb(uv_async_t* handle) noexcept {
  static_cast<Shard*>(handle->data)->on_wakeup();
}

void Shard::on_wakeup() noexcept {
  ++counters_.wakeups;
  if (closed()) {  // the remaining tasks run in shut_down(), in order
    uv_stop(&loop_);
    return;
  }
  for (int i = 0; i < kTasksPerWakeup; ++i) {
    Task* task = inbox_.pop();
    if (task == nullptr) return;  // empty, or a push in progress whose uv_async_send will follow
    run_task(task);
  }
  uv_async_send(&wakeup_);  // budget spent: come back after timers and I/O have had a turn
}

void Shard::run_task(Task* task) noexcept {
  task->run();
  delete task;
  ++counters_.tasks_run;
}

void Shard::shut_down() noexcept {
  wait_for_posters();
  // No push can start any more: the inbox is finite. Run everything that was accepted; a push may
  // still be finishing its link store, so do not stop at a transient nullptr: use empty() as well.
  for (;;) {
    Task* task = inbox_.pop();
    if (task != nullptr) {
      run_task(task);
    } else if (inbox_.empty()) {
      break;
    }
  }
  run_shutdown_hooks();
  exit_status_ = close_loop();
}

void Shard::wait_for_posters() noexcept {
  // Each poster is counted in only between its gate check and its uv_async_send(): a few hundred
  // nanoseconds, unless it is preempted, hence yield rather than spin.
  while ((gate_.load(std::memory_order_acquire) & ~kClosed) != 0) std::this_thread::yield();
}

void Shard::run_shutdown_hooks() noexcept {
  while (!shutdown_hooks_.empty()) {
    ShutdownHook hook = std::move(shutdown_hooks_.back());
    shutdown_hooks_.pop_back();
    hook();  // may push_back more hooks
  }
}

Status<> Shard::close_loop() noexcept {
  for (int round = 0; round < kMaxCloseRounds; ++round) {
    uv_walk(&loop_, &close_if_open, nullptr);
    // Runs close callbacks; returns when nothing is active (requests in flight, such as
    // thread-pool work, complete or are cancelled by their handle's close).
    uv_run(&loop_, UV_RUN_DEFAULT);
    const int rc = uv_loop_close(&loop_);
    if (rc == 0) return Ok{};
    if (rc != UV_EBUSY) return fail(uv_failure("uv_loop_close", rc));
  }
  return fail("uv_loop_close: still busy after " + std::to_string(kMaxCloseRounds) +
              " rounds of closing every handle");
}

}  // namespace mplane::loop
