// restore, load: the table side (backup/detail/restore_parts.h).
#include <algorithm>
#include <ostream>

#include "backup/detail/restore_parts.h"
#include "dynamodb/table_load.h"

namespace dynarep::backup::detail {

Status TableLoader::prepare(const std::string& description, const std::optional<model::KeySchema>& hint) {
  std::lock_guard lock(mu_);
  if (prepared_) return prepare_error_ ? Status(*prepare_error_) : Status();
  prepared_ = true;
  Status st = do_prepare(description, hint);
  if (!st.ok()) {
    prepare_error_ = st.error();
  } else {
    ready_.store(true, std::memory_order_release);
  }
  return st;
}

Status TableLoader::finish() {
  if (!writer_) return {};
  Status st = writer_->finish();
  progress_.items_written = writer_->written();
  return st;
}

Status TableLoader::do_prepare(const std::string& description, const std::optional<model::KeySchema>& hint) {
  dynamodb::LoadTableOptions lo;
  lo.table = opt_.table;
  lo.display = opt_.display;
  lo.description = description;
  lo.key = opt_.key ? opt_.key : hint;
  lo.key_source = "the backup";
  lo.create = opt_.create_table ? dynamodb::LoadTableOptions::Create::kMustCreate
                                : dynamodb::LoadTableOptions::Create::kIfMissing;
  lo.exists_hint = ": --create-table makes a new table (drop the flag to load into the existing one)";
  lo.missing_hint = " and the source carries no table description: create the table first, or pass --key "
                    "NAME:TYPE[,NAME:TYPE]";
  lo.log = [this](const std::string& line) { log(line); };
  DR_ASSIGN(dynamodb::LoadTable table, dynamodb::prepare_load_table(*opt_.client, lo));
  schema_ = table.key_schema;
  progress_.table_created = table.created;
  writer_.emplace(*opt_.client, opt_.table, schema_,
                  dynamodb::BatchWriter::Options{.parallel = std::max(1, opt_.parallel),
                                                 .max_queued = 4096,
                                                 .progress = opt_.progress});
  return {};
}

void TableLoader::log(const std::string& line) {
  if (opt_.log != nullptr) *opt_.log << "restore: " << line << "\n";
}

}  // namespace dynarep::backup::detail
