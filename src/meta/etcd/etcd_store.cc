#include "meta/etcd/etcd_store.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "meta/layout.h"

namespace cdc::meta {

Result<std::unique_ptr<EtcdStore>> EtcdStore::Open(const etcd::ClientOptions& options,
                                                   const std::string& root_path, Fence* fence) {
  ASSIGN_OR_RETURN(std::unique_ptr<etcd::Client> client, etcd::Client::Connect(options));
  return std::unique_ptr<EtcdStore>(new EtcdStore(std::move(client), root_path, fence));
}

std::string EtcdStore::Describe() const {
  return absl::StrCat(client_->Describe(), " rootPath=", root_);
}

Result<std::vector<TaskRecord>> EtcdStore::ListTasks() {
  std::string prefix = TaskInfoPrefix(root_);
  ASSIGN_OR_RETURN(etcd::RangeResult r, client_->Range(prefix, {.prefix = true}));
  std::vector<TaskRecord> out;
  out.reserve(r.kvs.size());
  for (auto& kv : r.kvs) {
    out.push_back({kv.key.substr(prefix.size()), std::move(kv.value)});
  }
  return out;
}

Result<std::optional<TaskRecord>> EtcdStore::GetTask(const std::string& task_id) {
  ASSIGN_OR_RETURN(std::optional<etcd::KeyValue> kv, client_->Get(TaskInfoKey(root_, task_id)));
  if (!kv) return std::optional<TaskRecord>();
  return std::optional<TaskRecord>(TaskRecord{task_id, std::move(kv->value)});
}

Status EtcdStore::PutTask(const TaskRecord& task) {
  if (task.task_id.empty()) return InvalidArgumentError("put task: empty task id");
  const std::string key = TaskInfoKey(root_, task.task_id);
  if (fence_ == nullptr) return client_->Put(key, task.info_json).status();
  return Commit({etcd::TxnOp::Put(key, task.info_json)}, fence_->TaskGuard(task.task_id),
                "write of task " + task.task_id + " (it was deleted meanwhile)");
}

Status EtcdStore::DeleteTask(const std::string& task_id) {
  std::vector<etcd::TxnOp> ops = {
      etcd::TxnOp::Delete(TaskInfoKey(root_, task_id)),
      etcd::TxnOp::Delete(PositionTaskPrefix(root_, task_id), /*prefix=*/true)};
  if (fence_ != nullptr) {
    for (auto& key : fence_->TaskKeys(task_id)) ops.push_back(etcd::TxnOp::Delete(std::move(key)));
  }
  return Commit(ops);
}

Result<std::vector<etcd::Compare>> EtcdStore::PositionGuard(const std::string& task_id) {
  if (fence_ == nullptr) return std::vector<etcd::Compare>{};
  Result<std::vector<etcd::Compare>> guard = fence_->PositionGuard(task_id);
  if (!guard.ok()) {
    return AbortedError(
        absl::StrCat("checkpoint of task ", task_id, " refused: ", guard.status().message()));
  }
  return guard;
}

Result<std::vector<PositionRecord>> EtcdStore::ListPositions(const std::string& task_id) {
  ASSIGN_OR_RETURN(etcd::RangeResult r,
                   client_->Range(PositionTaskPrefix(root_, task_id), {.prefix = true}));
  std::vector<PositionRecord> out;
  out.reserve(r.kvs.size());
  for (const auto& kv : r.kvs) {
    ASSIGN_OR_RETURN(PositionRecord row, DecodePosition(kv.key, kv.value));
    out.push_back(std::move(row));
  }
  return out;
}

Status EtcdStore::AddPositionPuts(const std::vector<PositionRecord>& rows,
                                  std::vector<etcd::TxnOp>* ops) {
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(std::string value, EncodePosition(row));
    ops->push_back(
        etcd::TxnOp::Put(PositionKey(root_, row.task_id, row.collection_id), std::move(value)));
  }
  return OkStatus();
}

Status EtcdStore::Commit(const std::vector<etcd::TxnOp>& ops,
                         const std::vector<etcd::Compare>& guard, const std::string& what) {
  if (ops.empty()) return OkStatus();
  Result<etcd::TxnResult> r = client_->Txn(guard, ops);
  if (r.ok() && !r->succeeded) {
    return AbortedError(absl::StrCat(client_->Describe(), ": ", what, " refused"));
  }
  if (!r.ok() && absl::StrContains(r.status().message(), "too many operations")) {
    return Status(r.status().code(),
                  absl::StrCat(r.status().message(), "; ", ops.size(),
                               " keys in one atomic write exceed etcd's --max-txn-ops (default "
                               "128): raise it on the etcd server"));
  }
  return r.status();
}

Status EtcdStore::PutPositions(const std::vector<PositionRecord>& rows) {
  std::vector<etcd::TxnOp> ops;
  RETURN_IF_ERROR(AddPositionPuts(rows, &ops));
  if (rows.empty()) return OkStatus();
  // A batch is one task's rows (the pipeline's checkpoint); a mixed batch is guarded per task.
  std::vector<etcd::Compare> guard;
  std::set<std::string> tasks;
  for (const auto& row : rows) {
    if (!tasks.insert(row.task_id).second) continue;
    ASSIGN_OR_RETURN(auto g, PositionGuard(row.task_id));
    guard.insert(guard.end(), g.begin(), g.end());
  }
  return Commit(ops, guard,
                "checkpoint of task " + rows.front().task_id +
                    " (this server no longer holds the task: another server took it over)");
}

Status EtcdStore::PutTaskAndPositions(const TaskRecord& task,
                                      const std::vector<PositionRecord>& rows) {
  if (task.task_id.empty()) return InvalidArgumentError("put task: empty task id");
  std::vector<etcd::TxnOp> ops = {
      etcd::TxnOp::Put(TaskInfoKey(root_, task.task_id), task.info_json)};
  RETURN_IF_ERROR(AddPositionPuts(rows, &ops));
  // Guarded like a write of the document alone (used when a task's stored secrets are sealed
  // again at startup, before this server holds any task).
  return Commit(ops, fence_ ? fence_->TaskGuard(task.task_id) : std::vector<etcd::Compare>{},
                "write of task " + task.task_id + " (it was deleted meanwhile)");
}

Status EtcdStore::DeletePosition(const std::string& task_id, int64_t collection_id) {
  const std::string key = PositionKey(root_, task_id, collection_id);
  if (fence_ == nullptr) return client_->Delete(key).status();
  ASSIGN_OR_RETURN(auto guard, PositionGuard(task_id));
  return Commit({etcd::TxnOp::Delete(key)}, guard,
                "checkpoint delete of task " + task_id +
                    " (this server no longer holds the task: another server took it over)");
}

}  // namespace cdc::meta
