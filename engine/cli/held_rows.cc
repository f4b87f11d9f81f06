#include "engine/cli/held_rows.h"

namespace mplane::cli {

void HeldRows::start(std::span<const model::Element* const> columns) {
  results_.push_back({{columns.begin(), columns.end()}, {}, 0});
}

void HeldRows::add(std::span<const model::Value> values) {
  HeldResult& r = results_.back();
  for (const model::Value& v : values) {
    r.values.push_back(model::copy_value(v, arena_));
    bytes_ +=
        sizeof(model::Value) + (v.kind() == model::ValueKind::kString ? v.as_string().size() : 0);
  }
  ++r.rows;
  ++rows_;
}

void HeldRows::restore(model::Message& m) const {
  std::size_t next = 0;
  restore(m, next);
}

void HeldRows::restore(model::Message& m, std::size_t& next) const {
  if (m.kind == model::MessageKind::kEnvelope) {
    for (model::Message& member : m.contents) restore(member, next);
    return;
  }
  if (m.kind != model::MessageKind::kResult || next >= results_.size()) return;
  const HeldResult& r = results_[next++];
  for (std::size_t j = 0; j < m.columns.size() && j < r.columns.size(); ++j) {
    m.columns[j].values.clear();
    for (std::size_t i = 0; i < r.rows; ++i) m.columns[j].values.push_back(r.row(i)[j]);
  }
  m.row_count = r.rows;
}

void HeldRows::clear() {
  results_.clear();
  arena_.clear();
  rows_ = 0;
  bytes_ = 0;
}

}  // namespace mplane::cli
