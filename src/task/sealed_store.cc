#include "task/sealed_store.h"

#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"
#include "task/task_json.h"

namespace cdc::task {
namespace {

using json = nlohmann::json;

// Explains an OpenSecrets failure: what is wrong with which key file and what to do.
Status KeyError(const Status& s, const std::string& key_file) {
  std::string msg(s.message());
  if (key_file.empty()) {
    return FailedPreconditionError(
        msg + "; set metaStoreConfig.secretKeyFile to the key file it was written with");
  }
  return FailedPreconditionError(msg + " (metaStoreConfig.secretKeyFile " + key_file +
                                 "); configure the key file the tasks were written with");
}

}  // namespace

SealedStore::SealedStore(std::unique_ptr<meta::Store> inner, crypto::AesKey key,
                         std::string key_file)
    : inner_(std::move(inner)), key_(std::move(key)), key_file_(std::move(key_file)) {}

Result<meta::TaskRecord> SealedStore::Seal(const meta::TaskRecord& task) const {
  json doc = json::parse(task.info_json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return task;  // not ours to judge: stored as given
  ASSIGN_OR_RETURN(json sealed, SealSecrets(std::move(doc), key_));
  return meta::TaskRecord{task.task_id, sealed.dump()};
}

Result<meta::TaskRecord> SealedStore::Open(const meta::TaskRecord& task) const {
  json doc = json::parse(task.info_json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return task;  // TaskManager::Recover reports it
  auto opened = OpenSecrets(std::move(doc), &key_);
  if (!opened.ok()) return KeyError(opened.status(), key_file_);
  return meta::TaskRecord{task.task_id, opened->dump()};
}

Result<std::vector<meta::TaskRecord>> SealedStore::ListTasks() {
  ASSIGN_OR_RETURN(auto records, inner_->ListTasks());
  for (auto& r : records) {
    ASSIGN_OR_RETURN(r, Open(r));
  }
  return records;
}

Result<std::optional<meta::TaskRecord>> SealedStore::GetTask(const std::string& task_id) {
  ASSIGN_OR_RETURN(auto record, inner_->GetTask(task_id));
  if (!record) return record;
  ASSIGN_OR_RETURN(meta::TaskRecord opened, Open(*record));
  return std::optional<meta::TaskRecord>(std::move(opened));
}

Status SealedStore::PutTask(const meta::TaskRecord& task) {
  ASSIGN_OR_RETURN(meta::TaskRecord sealed, Seal(task));
  return inner_->PutTask(sealed);
}

Status SealedStore::PutTaskAndPositions(const meta::TaskRecord& task,
                                        const std::vector<meta::PositionRecord>& rows) {
  ASSIGN_OR_RETURN(meta::TaskRecord sealed, Seal(task));
  return inner_->PutTaskAndPositions(sealed, rows);
}

Status PrepareStoredSecrets(meta::Store* store, const crypto::AesKey* key,
                            const std::string& key_file) {
  ASSIGN_OR_RETURN(auto records, store->ListTasks());
  std::vector<meta::TaskRecord> to_seal;
  for (const auto& r : records) {
    json doc = json::parse(r.info_json, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) continue;
    auto opened = OpenSecrets(doc, key);
    if (!opened.ok()) {
      return Annotate(
          KeyError(opened.status(), key_file),
          "check the secrets of the tasks in " + store->Describe() + " (no task was changed)");
    }
    if (key && CountSecrets(doc).plain > 0) to_seal.push_back(r);
  }
  for (const auto& r : to_seal) {
    json doc = json::parse(r.info_json);
    ASSIGN_OR_RETURN(json sealed, SealSecrets(std::move(doc), *key));
    RETURN_IF_ERROR(Annotate(store->PutTask({r.task_id, sealed.dump()}),
                             "encrypt the secrets of task " + r.task_id));
  }
  if (key) {
    spdlog::info("secrets at rest: encrypted with key {} from {}; {} task(s) re-written", key->id,
                 key_file, to_seal.size());
  }
  return OkStatus();
}

}  // namespace cdc::task
