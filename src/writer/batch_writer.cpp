#include "writer/batch_writer.h"

namespace dynarep::writer {

BatchWriter::BatchWriter(dynamodb::Client& client, std::string table, model::KeySchema key_schema,
                         BatchWriterOptions options)
    : opt_(std::move(options)),
      publisher_failures_at_start_(opt_.publisher != nullptr ? opt_.publisher->unpublished_count() : 0),
      tickets_(static_cast<size_t>(std::max(1, opt_.parallel))),
      writer_(client, std::move(table), std::move(key_schema),
              dynamodb::BatchWriter::Options{.parallel = std::max(1, opt_.parallel),
                                             .max_queued = opt_.max_queued,
                                             .progress = opt_.progress,
                                             .clock = opt_.clock,
                                             .observer = this}) {}

BatchWriter::~BatchWriter() {
  if (!finished_) finish().ignore_error();
}

Status BatchWriter::add(dynamodb::WriteRequest request) { return writer_.add(std::move(request)); }

bool BatchWriter::failed() const {
  if (writer_.failed() || publish_failed_.load()) return true;
  return opt_.publisher != nullptr && opt_.publisher->unpublished_count() > publisher_failures_at_start_;
}

WriteResult<BatchWriteSummary> BatchWriter::finish() {
  Status st = writer_.finish();  // joins the workers: each collected its tickets when it ended
  finished_ = true;
  std::lock_guard lock(mu_);
  if (st.ok() && unpublished_.empty()) {
    return BatchWriteSummary{writer_.written(), writer_.not_written(), writer_.write_units()};
  }
  WriteError e;
  if (!st.ok()) e.write_error = st.error();
  if (!unpublished_.empty()) e.publish_error = publish_error_;
  e.unpublished = unpublished_;
  e.written = writer_.written();
  return e;
}

void BatchWriter::confirmed(size_t worker, const std::vector<dynamodb::ConfirmedWrite>& items) {
  if (opt_.publisher == nullptr) return;
  std::vector<Change> changes;
  changes.reserve(items.size());
  for (const auto& c : items) {
    Event ev = c.request->kind == dynamodb::WriteRequest::Kind::kPut ? Event::kInsert : Event::kRemove;
    changes.push_back(make_change(*c.key, ev, opt_.aws_region));
  }
  tickets_[worker].push_back(opt_.publisher->submit(std::move(changes)));
}

void BatchWriter::between_batches(size_t worker, bool last) { collect(tickets_[worker], last); }

void BatchWriter::collect(Tickets& tickets, bool wait) {
  while (!tickets.empty() && (wait || tickets.front()->done())) {
    PublishOutcome out = tickets.front()->wait();
    tickets.pop_front();
    if (out.ok()) continue;
    std::lock_guard lock(mu_);
    for (auto& c : out.unpublished) unpublished_.push_back(std::move(c));
    publish_error_ = out.error;
    publish_failed_.store(true);
  }
}

}  // namespace dynarep::writer
