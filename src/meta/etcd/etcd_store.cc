#include "meta/etcd/etcd_store.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "meta/layout.h"

namespace cdc::meta {

Result<std::unique_ptr<EtcdStore>> EtcdStore::Open(const etcd::ClientOptions& options,
                                                   const std::string& root_path) {
  ASSIGN_OR_RETURN(std::unique_ptr<etcd::Client> client, etcd::Client::Connect(options));
  return std::unique_ptr<EtcdStore>(new EtcdStore(std::move(client), root_path));
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
  return client_->Put(TaskInfoKey(root_, task.task_id), task.info_json).status();
}

Status EtcdStore::DeleteTask(const std::string& task_id) {
  return Commit({etcd::TxnOp::Delete(TaskInfoKey(root_, task_id)),
                 etcd::TxnOp::Delete(PositionTaskPrefix(root_, task_id), /*prefix=*/true)});
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

Status EtcdStore::Commit(const std::vector<etcd::TxnOp>& ops) {
  if (ops.empty()) return OkStatus();
  Result<etcd::TxnResult> r = client_->Txn({}, ops);
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
  return Commit(ops);
}

Status EtcdStore::PutTaskAndPositions(const TaskRecord& task,
                                      const std::vector<PositionRecord>& rows) {
  if (task.task_id.empty()) return InvalidArgumentError("put task: empty task id");
  std::vector<etcd::TxnOp> ops = {
      etcd::TxnOp::Put(TaskInfoKey(root_, task.task_id), task.info_json)};
  RETURN_IF_ERROR(AddPositionPuts(rows, &ops));
  return Commit(ops);
}

Status EtcdStore::DeletePosition(const std::string& task_id, int64_t collection_id) {
  return client_->Delete(PositionKey(root_, task_id, collection_id)).status();
}

}  // namespace cdc::meta
