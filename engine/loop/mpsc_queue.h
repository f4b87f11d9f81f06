// A lock-free, unbounded, intrusive multi-producer single-consumer queue (Dmitry Vyukov's
// "intrusive MPSC node-based queue", 1024cores.net), and `Task`, the unit of work that crosses
// threads through a shard's inbox (STYLE C8).
//
// Producers (any number of threads) do one atomic exchange and one store per push: wait-free.
// The consumer (one thread at a time) pops with plain loads and stores; only when it takes the
// last node does it re-insert the internal stub node, which costs one exchange.
//
// The queue is intrusive: a node is linked through its own `next_` field, so a push never
// allocates. The queue never owns its nodes: whoever pushes hands the node to whoever pops.
// Destroying a queue that still holds nodes leaks them (the owner of the queue drains it first).
//
// One caveat of the design: pop() may return nullptr while the queue is not empty, for the
// instant between a producer's exchange and its link store ("a push in progress"). That node
// becomes visible as soon as the producer finishes its push. A consumer that is woken by the
// producer *after* push() returns (as Shard is, through uv_async_send) never misses a node.
#pragma once

#include <atomic>
#include <memory>
#include <type_traits>
#include <utility>

namespace mplane::loop {

// The link field of a queue node. `next_` is atomic because a producer's link store races with
// the consumer's load of the same field (that is the design, not a bug).
struct MpscNode {
  std::atomic<MpscNode*> next_{nullptr};
};

// A unit of work posted to a shard. Ownership: the thread that pops a task owns it; Shard runs it
// once on its loop thread and then deletes it (`delete task`), so tasks are heap-allocated with
// `new` (see make_task). run() is noexcept: it is called from inside a libuv callback, and an
// exception must never cross C frames (STYLE trap 1).
struct Task : MpscNode {
  virtual ~Task() = default;
  virtual void run() noexcept = 0;
};
using TaskPtr = std::unique_ptr<Task>;

namespace detail {
template <class F>
class FnTask final : public Task {
 public:
  explicit FnTask(F&& f) : f_(std::move(f)) {}
  explicit FnTask(const F& f) : f_(f) {}
  void run() noexcept override { f_(); }

 private:
  F f_;
};
}  // namespace detail

// Wraps a callable (usually a lambda) into a heap-allocated Task. The callable is moved (or
// copied) into the task and destroyed with it, on the thread that deletes the task: after a
// successful post that is the shard's thread, so captured objects must be safe to destroy there.
template <class F>
[[nodiscard]] TaskPtr make_task(F&& f) {
  static_assert(std::is_invocable_v<std::decay_t<F>&>, "make_task needs a callable taking no args");
  return std::make_unique<detail::FnTask<std::decay_t<F>>>(std::forward<F>(f));
}

// T is the node type handed out by pop(); it must derive from MpscNode.
template <class T>
class MpscQueue {
  static_assert(std::is_base_of_v<MpscNode, T>, "MpscQueue<T>: T must derive from MpscNode");

 public:
  MpscQueue() noexcept : head_(&stub_), tail_(&stub_) {}
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  // Appends `node`. Any thread; wait-free. The node must not be in any queue; the queue does not
  // take ownership, the consumer that pops it does. Pushes from one thread are popped in order.
  void push(T* node) noexcept { push_node(node); }

  // Removes the oldest node, or returns nullptr if the queue is empty or its oldest node is still
  // being pushed (see the file comment). Only the consumer thread may call it (one at a time; a
  // change of consumer thread needs a happens-before edge, such as a thread join).
  T* pop() noexcept {
    MpscNode* tail = tail_;
    MpscNode* next = tail->next_.load(std::memory_order_acquire);
    if (tail == &stub_) {  // skip the stub
      if (next == nullptr) return nullptr;
      tail_ = next;
      tail = next;
      next = next->next_.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      tail_ = next;
      return static_cast<T*>(tail);
    }
    // `tail` is the last linked node. If a producer has already swapped head_, its link is not
    // stored yet: report empty for now rather than wait.
    if (tail != head_.load(std::memory_order_acquire)) return nullptr;
    // Re-insert the stub behind `tail` so that `tail` gets a successor and can be handed out.
    push_node(&stub_);
    next = tail->next_.load(std::memory_order_acquire);
    if (next != nullptr) {
      tail_ = next;
      return static_cast<T*>(tail);
    }
    return nullptr;  // another producer got between: its node is published on its link store
  }

  // True if no node is linked after the consumer's position. Consumer thread only; like pop(), it
  // may report empty while a push is in progress.
  bool empty() const noexcept {
    const MpscNode* tail = tail_;
    if (tail != &stub_) return false;
    return tail->next_.load(std::memory_order_acquire) == nullptr;
  }

 private:
  void push_node(MpscNode* node) noexcept {
    node->next_.store(nullptr, std::memory_order_relaxed);
    // acq_rel: release publishes the node's contents with it; acquire orders our link store after
    // the previous producer's initialisation of `prev`.
    MpscNode* prev = head_.exchange(node, std::memory_order_acq_rel);
    prev->next_.store(node, std::memory_order_release);
  }

  // head_ is hammered by producers, tail_ and the stub are the consumer's: separate cache lines.
  alignas(64) std::atomic<MpscNode*> head_;
  alignas(64) MpscNode* tail_;
  MpscNode stub_;
};

}  // namespace mplane::loop
