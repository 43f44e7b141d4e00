#pragma once
// meta::Store: where milvus-cdc keeps its tasks and their per-channel checkpoints.
//
// Backends (one subfolder each): memory/ (unit tests), sqlite/ (embedded default), etcd/, mysql/.
// The store is schema-agnostic: a task is an opaque JSON document (the task layer writes it in
// the upstream TaskInfo layout) and a checkpoint row holds the three upstream position maps as
// JSON. Keys mirror upstream: {rootPath}/task_info/{taskID} and
// {rootPath}/task_position/{taskID}/{collectionID}.
//
// Threading: every method may be called from any thread; implementations serialise internally.
// Errors: kUnavailable/kDeadlineExceeded when the backend cannot be reached (retry), kNotFound
// for a missing task where the method says so, kInternal for corrupt data. Messages name the
// backend and its address.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace cdc::meta {

struct TaskRecord {
  std::string task_id;
  std::string info_json;  // the task document, written and read by the task layer
  bool operator==(const TaskRecord&) const = default;
};

// One row per (task, collection): upstream's TaskCollectionPosition.
struct PositionRecord {
  std::string task_id;
  int64_t collection_id = 0;
  std::string collection_name;
  std::string positions_json = "{}";         // source pchannel -> position
  std::string op_positions_json = "{}";      // source pchannel -> op position
  std::string target_positions_json = "{}";  // target pchannel -> position
  bool operator==(const PositionRecord&) const = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // A short description for messages, e.g. "sqlite /var/lib/cdc/meta.db".
  virtual std::string Describe() const = 0;

  virtual Result<std::vector<TaskRecord>> ListTasks() = 0;
  // Returns std::nullopt (not an error) when the task does not exist.
  virtual Result<std::optional<TaskRecord>> GetTask(const std::string& task_id) = 0;
  // Inserts or replaces.
  virtual Status PutTask(const TaskRecord& task) = 0;
  // Atomically removes the task and all its position rows. Deleting a missing task is ok.
  virtual Status DeleteTask(const std::string& task_id) = 0;

  virtual Result<std::vector<PositionRecord>> ListPositions(const std::string& task_id) = 0;
  // Atomically inserts or replaces every row (a batch of checkpoints is all or nothing). A row
  // whose position map is not a JSON object fails the whole batch with kInvalidArgument.
  virtual Status PutPositions(const std::vector<PositionRecord>& rows) = 0;
  // Atomically writes the task document and the rows together.
  virtual Status PutTaskAndPositions(const TaskRecord& task,
                                     const std::vector<PositionRecord>& rows) = 0;
  virtual Status DeletePosition(const std::string& task_id, int64_t collection_id) = 0;
};

}  // namespace cdc::meta
