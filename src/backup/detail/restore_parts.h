// restore's parts, shared by the files that do its jobs (backup/restore.h is the public API):
//
//   restore_plan.cpp    plan:   what a backup-table job or a DynamoDB export holds, checked
//                               against its manifests (plan_backup_job, plan_aws_export)
//   restore_detect.cpp  detect: what a location is (detect_source, choose_backup_job)
//   restore_read.cpp    read:   objects' lines into items, verified (read_plan,
//                               read_incremental, verify_source)
//   restore_load.cpp    load:   the table side (TableLoader)
//   restore.cpp         the restore itself: detect, verify, read into the loader, replay history
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backup/restore.h"
#include "backup/storage.h"
#include "core/result.h"
#include "dynamodb/parallel.h"
#include "model/item.h"

namespace dynarep::backup::detail {

// An error about a source location: invalid input, in the location's context.
Error source_error(const Location& where, std::string message);

// plan: a backup-table job folder given its listing; a DynamoDB export folder (manifest-summary.json).
Result<SourcePlan> plan_backup_job(Storage& storage, const Location& job, const std::vector<ListedEntry>& entries);
Result<SourcePlan> plan_aws_export(Storage& storage, const Location& folder);

// load: the table side of a restore. Makes the table ready once (dynamodb/table_load.h: create
// it, or check an existing one's key), then writes items with a bounded dynamodb::BatchWriter.
// prepare() may be called from several reader threads: the first call decides, later ones
// return its outcome.
class TableLoader {
 public:
  TableLoader(const RestoreOptions& opt, RestoreProgress& progress) : opt_(opt), progress_(progress) {}

  // `description`: a table description line, when the source has one; `hint`: the key the
  // source says its items have, when it says so without a description.
  Status prepare(const std::string& description, const std::optional<model::KeySchema>& hint);
  bool prepared() const { return ready_.load(std::memory_order_acquire); }
  const model::KeySchema& schema() const { return schema_; }

  Status put(model::Item item) { return writer_->add({dynamodb::WriteRequest::Kind::kPut, std::move(item)}); }
  Status del(model::Item key) { return writer_->add({dynamodb::WriteRequest::Kind::kDelete, std::move(key)}); }
  // Waits for every write; sets progress.items_written.
  Status finish();

 private:
  Status do_prepare(const std::string& description, const std::optional<model::KeySchema>& hint);
  void log(const std::string& line);

  const RestoreOptions& opt_;
  RestoreProgress& progress_;
  std::mutex mu_;
  bool prepared_ = false;
  std::atomic<bool> ready_{false};
  std::optional<Error> prepare_error_;
  model::KeySchema schema_;
  std::optional<dynamodb::BatchWriter> writer_;
};

// read: the plan's objects with `readers` threads into `sink` (null: check only); fills
// progress.objects_done / objects_left.
Status read_plan(Storage& storage, const SourcePlan& plan, TableLoader* sink, int readers, std::ostream* log,
                 RestoreProgress& progress, std::atomic<int64_t>& items_read);
// read: every item object of an incremental backup's `<prefix>/<table>` into `sink` (null: check only).
Status read_incremental(Storage& storage, const Location& dir, TableLoader* sink, int readers,
                        std::atomic<int64_t>& items_read);

}  // namespace dynarep::backup::detail
