// The rows of a streamed message held until the message ends (result_printer.h): copies of the
// values, their strings in an arena, per result in stream order.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "parsers/mplane/message.h"

namespace mplane::cli {

class HeldRows {
 public:
  struct HeldResult {
    std::vector<const model::Element*> columns;
    std::vector<model::Value> values;  // row after row
    std::size_t rows = 0;
    std::span<const model::Value> row(std::size_t i) const {
      return std::span(values).subspan(i * columns.size(), columns.size());
    }
  };

  // A result begins (its rows follow).
  void start(std::span<const model::Element* const> columns);
  void add(std::span<const model::Value> values);
  // More than `max_rows` rows or about `max_bytes` held.
  bool over(std::size_t max_rows, std::size_t max_bytes) const {
    return rows_ > max_rows || bytes_ > max_bytes;
  }
  const std::vector<HeldResult>& results() const { return results_; }
  // Puts the rows back into `m`, the message they came in (without its rows): its results, in
  // stream order (envelope members depth first), get the held results in order.
  void restore(model::Message& m) const;
  void clear();

 private:
  void restore(model::Message& m, std::size_t& next) const;

  model::Arena arena_;
  std::vector<HeldResult> results_;
  std::size_t rows_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace mplane::cli
