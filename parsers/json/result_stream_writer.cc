#include "parsers/json/result_stream_writer.h"

namespace mplane::json {

namespace {
model::Message stream_header(const model::Message& m) {
  model::Message h = m;
  for (model::Column& c : h.columns) c.values.clear();
  h.row_count = 1;  // so that fields_of() lists resultvalues
  if (!h.when) h.when = model::When::singleton(model::TimePoint::absolute(0));
  return h;
}
}  // namespace

ResultStreamWriter::ResultStreamWriter(const model::Message& header, Sink sink, WriteOptions opts,
                                       std::size_t flush_bytes)
    : header_(stream_header(header)),
      sink_(std::move(sink)),
      opts_(opts),
      flush_bytes_(flush_bytes),
      out_(flush_bytes + 4096),
      writer_(out_, header_, opts_, 0),
      fields_(fields_of(header_, opts_)) {
  writer_.open();
  while (next_field_ < fields_.count && fields_.fields[next_field_] != Field::kResultValues) {
    writer_.write(fields_.fields[next_field_++]);
  }
  writer_.open_rows();
  ++next_field_;
}

void ResultStreamWriter::add_row(std::span<const model::Value> row) {
  writer_.write_row(row.data(), row.size());
  ++rows_;
  if (out_.size() >= flush_bytes_) flush();
}

void ResultStreamWriter::finish(const model::When& when,
                                std::span<const model::Metadatum> late_metadata) {
  writer_.close_rows();
  header_.when = when;
  if (header_.metadata.empty() && !late_metadata.empty()) {
    header_.metadata.assign(late_metadata.begin(), late_metadata.end());
    writer_.write(Field::kMetadata);
  }
  while (next_field_ < fields_.count) writer_.write(fields_.fields[next_field_++]);
  writer_.close();
  flush();
}

void ResultStreamWriter::flush() {
  if (out_.size() == 0) return;
  sink_(out_.view());
  flushed_ += out_.size();
  out_.clear();
}

}  // namespace mplane::json
