// A bounded FIFO of packets for a writer that would block (STYLE C16: every queue has a bound,
// and what does not fit is dropped and counted by the owner, never buffered without limit).
//
// Slots are reused: after warm-up, push() copies into memory kept from earlier packets and does
// not allocate. Single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mplane::agent {

class PacketQueue {
 public:
  explicit PacketQueue(std::size_t capacity) : slots_(capacity == 0 ? 1 : capacity) {}

  // Copies `packet` to the back; false (nothing stored) when full.
  bool push(std::span<const std::uint8_t> packet) {
    if (size_ == slots_.size()) return false;
    slots_[(head_ + size_) % slots_.size()].assign(packet.begin(), packet.end());
    ++size_;
    return true;
  }
  // The oldest packet; valid until pop() or push(). Only when !empty().
  std::span<const std::uint8_t> front() const noexcept { return slots_[head_]; }
  void pop() noexcept {
    head_ = (head_ + 1) % slots_.size();
    --size_;
  }
  void clear() noexcept { head_ = size_ = 0; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return slots_.size(); }

 private:
  std::vector<std::vector<std::uint8_t>> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace mplane::agent
