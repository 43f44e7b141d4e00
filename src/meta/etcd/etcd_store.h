#pragma once
// meta::EtcdStore: tasks and checkpoints in etcd, in upstream's exact layout:
//   {rootPath}/task_info/{taskID}                     -> the task JSON as given
//   {rootPath}/task_position/{taskID}/{collectionID}  -> {"TaskID","CollectionID",
//        "CollectionName","Positions","OpPositions","TargetPositions"} (meta/layout.h)
// so an upstream milvus-cdc and this one read each other's meta. Multi-key writes and deletes
// are one etcd Txn, so they are all or nothing (etcd limits a Txn to --max-txn-ops, default
// 128 keys).
//
// With a meta::Fence (several servers sharing tasks, src/ha) every write of a task's document
// or checkpoints carries the fence's compares, and deleting a task also deletes the fence's
// keys of it, in the same Txn. A write whose compares fail returns kAborted ("... refused: ...").
//
// Ownership: owns its etcd::Client; the fence is borrowed and outlives the store.
// Threads: thread-safe (the client is); no background threads.
// Errors: the client's (kUnavailable naming the endpoint when etcd is down), kInternal for a
// value that is not upstream's JSON (naming the key), kAborted for a write the fence refused.
#include <memory>
#include <string>

#include "etcd/client.h"
#include "meta/fence.h"
#include "meta/store.h"

namespace cdc::meta {

class EtcdStore : public Store {
 public:
  // Connects (within options.dial_timeout) and returns the store.
  static Result<std::unique_ptr<EtcdStore>> Open(const etcd::ClientOptions& options,
                                                 const std::string& root_path,
                                                 Fence* fence = nullptr);

  std::string Describe() const override;
  Result<std::vector<TaskRecord>> ListTasks() override;
  Result<std::optional<TaskRecord>> GetTask(const std::string& task_id) override;
  Status PutTask(const TaskRecord& task) override;
  Status DeleteTask(const std::string& task_id) override;
  Result<std::vector<PositionRecord>> ListPositions(const std::string& task_id) override;
  Status PutPositions(const std::vector<PositionRecord>& rows) override;
  Status PutTaskAndPositions(const TaskRecord& task,
                             const std::vector<PositionRecord>& rows) override;
  Status DeletePosition(const std::string& task_id, int64_t collection_id) override;

 private:
  EtcdStore(std::unique_ptr<etcd::Client> client, std::string root, Fence* fence)
      : client_(std::move(client)), root_(std::move(root)), fence_(fence) {}
  // Appends one put per row (validating each) to `ops`.
  Status AddPositionPuts(const std::vector<PositionRecord>& rows, std::vector<etcd::TxnOp>* ops);
  // Runs `ops` in one transaction if every compare holds (kAborted naming `what` if not).
  Status Commit(const std::vector<etcd::TxnOp>& ops, const std::vector<etcd::Compare>& guard = {},
                const std::string& what = "");
  // The fence's compares for checkpoint rows of `task_id` (none without a fence).
  Result<std::vector<etcd::Compare>> PositionGuard(const std::string& task_id);

  std::unique_ptr<etcd::Client> client_;
  const std::string root_;
  Fence* fence_;
};

}  // namespace cdc::meta
