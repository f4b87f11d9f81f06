// Result<T, E>: a value or an error, for the data path (STYLE C3).
//
// Modelled on simdjson_result / std::expected: [[nodiscard]], no exceptions, cheap to move.
// Construct a success from a T, a failure with `fail(e)`. Accessing value() on an error (or
// error() on a value) is a broken invariant and aborts.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace mplane {

template <class E>
struct Failure {
  E error;
};

template <class E>
[[nodiscard]] Failure<std::decay_t<E>> fail(E&& e) {
  return Failure<std::decay_t<E>>{std::forward<E>(e)};
}
[[nodiscard]] inline Failure<std::string> fail(const char* e) { return Failure<std::string>{e}; }

[[noreturn]] inline void result_misuse(const char* what) noexcept {
  std::fprintf(stderr, "mplane: Result misuse: %s\n", what);
  std::abort();
}

template <class T, class E = std::string>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Failure<E> f) : v_(std::in_place_index<1>, std::move(f.error)) {}  // NOLINT
  template <class F,
            class = std::enable_if_t<std::is_constructible_v<E, F> && !std::is_same_v<E, F>>>
  Result(Failure<F> f) : v_(std::in_place_index<1>, E(std::move(f.error))) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    return ok() ? std::get<0>(v_) : (result_misuse("value() on error"), std::get<0>(v_));
  }
  const T& value() const& {
    return ok() ? std::get<0>(v_) : (result_misuse("value() on error"), std::get<0>(v_));
  }
  T&& value() && { return std::move(value()); }
  const E& error() const& {
    return !ok() ? std::get<1>(v_) : (result_misuse("error() on value"), std::get<1>(v_));
  }
  E&& error() && { return std::move(std::get<1>(v_)); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, E> v_;
};

// Result<void, E>: success carries nothing.
struct Ok {};
template <class E = std::string>
using Status = Result<Ok, E>;

}  // namespace mplane
