#include "engine/loop/shard_group.h"

#include <csignal>
#include <string>
#include <thread>

#include "engine/loop/start_barrier.h"

namespace mplane::loop {
namespace {

std::string uv_failure(const char* call, int rc) {
  return std::string(call) + ": " + uv_err_name(rc) + " (" + uv_strerror(rc) + ")";
}

std::size_t default_shard_count() noexcept {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

}  // namespace

ShardGroup::ShardGroup(std::size_t shard_count) {
  if (shard_count == 0) shard_count = default_shard_count();
  shards_.reserve(shard_count);
  for (std::size_t i = 0; i < shard_count; ++i) shards_.push_back(std::make_unique<Shard>(i));
}

ShardGroup::~ShardGroup() {
  stop_all();
  join_all();
}

Status<> ShardGroup::start() noexcept {
  if (started_) return fail("ShardGroup::start: already started");
  started_ = true;
  for (auto& shard : shards_) {
    if (auto st = shard->start(); !st) {
      stop_all();
      join_all();
      return fail("shard " + std::to_string(shard->index()) + ": " + st.error());
    }
  }
  return Ok{};
}

bool ShardGroup::post(std::size_t shard_index, Task* task) noexcept {
  if (shard_index >= shards_.size()) {
    delete task;
    return false;
  }
  return shards_[shard_index]->post(task);
}

void ShardGroup::stop_all() noexcept {
  for (auto& shard : shards_) shard->stop();
}

void ShardGroup::join_all() noexcept {
  for (auto& shard : shards_) shard->join();
}

Status<> ShardGroup::install_signal_handlers() noexcept {
  if (signals_installed_) return Ok{};
  if (!started_ || shards_.empty()) return fail("install_signal_handlers: group not started");
  // uv_signal_* must run on the loop's own thread: do it on shard 0 and wait. An accepted task
  // always runs (even if the shard is stopped meanwhile), so the wait ends.
  StartBarrier barrier(1);
  auto task = make_task([&] {
    Status<> st = start_signal_handles();
    barrier.done(st ? std::string_view() : std::string_view(st.error()));
  });
  if (!shards_[0]->post(std::move(task))) return fail("install_signal_handlers: shard 0 stopped");
  Status<> result = barrier.wait();
  if (result) signals_installed_ = true;
  return result;
}

Status<> ShardGroup::start_signal_handles() noexcept {
  Shard& shard0 = *Shard::current();
  uv_loop_t* loop = shard0.loop();
  if (int rc = uv_signal_init(loop, &sigint_); rc != 0)
    return fail(uv_failure("uv_signal_init", rc));
  if (int rc = uv_signal_init(loop, &sigterm_); rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
    return fail(uv_failure("uv_signal_init", rc));
  }
  sigint_.data = this;
  sigterm_.data = this;
  // Closing at shutdown hands the signals back to their default disposition.
  shard0.add_shutdown_hook([this] {
    uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  });
  if (int rc = uv_signal_start(&sigint_, &ShardGroup::on_signal_cb, SIGINT); rc != 0) {
    return fail(uv_failure("uv_signal_start(SIGINT)", rc));
  }
  if (int rc = uv_signal_start(&sigterm_, &ShardGroup::on_signal_cb, SIGTERM); rc != 0) {
    return fail(uv_failure("uv_signal_start(SIGTERM)", rc));
  }
  return Ok{};
}

void ShardGroup::on_signal_cb(uv_signal_t* handle, int /*signum*/) noexcept {
  static_cast<ShardGroup*>(handle->data)->stop_all();
}

}  // namespace mplane::loop
