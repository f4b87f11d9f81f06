// MpscQueue: order, exactly-once delivery and per-producer FIFO under concurrent producers.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <thread>
#include <vector>

#include "engine/loop/mpsc_queue.h"

namespace mplane::loop {
namespace {

struct Item final : Task {
  Item(int p, int s) : producer(p), seq(s) {}
  void run() noexcept override { ++runs; }
  int producer;
  int seq;
  int runs = 0;
};

TEST_CASE("MpscQueue pops in push order on one thread", "[engine][loop]") {
  MpscQueue<Task> q;
  CHECK(q.empty());
  CHECK(q.pop() == nullptr);
  std::deque<Item> items;  // nodes do not move (atomic link): no vector
  for (int i = 0; i < 5; ++i) items.emplace_back(0, i);
  for (auto& it : items) q.push(&it);
  CHECK_FALSE(q.empty());
  for (int i = 0; i < 5; ++i) {
    Task* t = q.pop();
    REQUIRE(t == &items[static_cast<std::size_t>(i)]);
  }
  CHECK(q.pop() == nullptr);
  CHECK(q.empty());
  // Reusable after running dry (the stub was re-inserted), interleaving pushes and pops.
  q.push(&items[0]);
  q.push(&items[1]);
  CHECK(q.pop() == &items[0]);
  q.push(&items[2]);
  CHECK(q.pop() == &items[1]);
  CHECK(q.pop() == &items[2]);
  CHECK(q.pop() == nullptr);
}

TEST_CASE("make_task runs the lambda and destroys its captures with the task", "[engine][loop]") {
  auto counter = std::make_shared<int>(0);
  TaskPtr t = make_task([counter] { ++*counter; });
  CHECK(counter.use_count() == 2);
  t->run();
  t->run();
  CHECK(*counter == 2);
  t.reset();
  CHECK(counter.use_count() == 1);
}

TEST_CASE("MpscQueue delivers every task once, per-producer FIFO, under N producers",
          "[engine][loop]") {
  const int producers = GENERATE(1, 2, 4, 8);
  constexpr int kPerProducer = 20000;
  const int total = producers * kPerProducer;
  MpscQueue<Task> q;
  std::atomic<bool> go{false};

  // Consumer: pops until it has seen every item, or fails on a deadline instead of hanging.
  std::vector<int> next_seq(static_cast<std::size_t>(producers), 0);
  int consumed = 0;
  bool order_ok = true;
  bool timed_out = false;
  std::thread consumer([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (consumed < total) {
      Task* t = q.pop();
      if (t == nullptr) {
        if (std::chrono::steady_clock::now() > deadline) {
          timed_out = true;
          return;
        }
        std::this_thread::yield();
        continue;
      }
      auto* item = static_cast<Item*>(t);
      item->run();
      int& expect = next_seq[static_cast<std::size_t>(item->producer)];
      if (item->seq != expect) order_ok = false;
      expect = item->seq + 1;
      ++consumed;
    }
  });

  std::vector<std::deque<Item>> items(static_cast<std::size_t>(producers));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(producers));
  for (int p = 0; p < producers; ++p) {
    auto& mine = items[static_cast<std::size_t>(p)];
    for (int s = 0; s < kPerProducer; ++s) mine.emplace_back(p, s);
  }
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (auto& it : items[static_cast<std::size_t>(p)]) q.push(&it);
    });
  }
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  consumer.join();

  REQUIRE_FALSE(timed_out);
  CHECK(consumed == total);
  CHECK(order_ok);
  CHECK(q.pop() == nullptr);
  int wrong_runs = 0;
  for (auto& v : items) {
    for (auto& it : v) wrong_runs += it.runs != 1;
  }
  CHECK(wrong_runs == 0);
}

}  // namespace
}  // namespace mplane::loop
