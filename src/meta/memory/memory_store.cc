#include "meta/memory/memory_store.h"

#include "meta/layout.h"

namespace cdc::meta {

Result<std::vector<TaskRecord>> MemoryStore::ListTasks() {
  std::lock_guard lock(mu_);
  std::vector<TaskRecord> out;
  for (const auto& [id, t] : tasks_) out.push_back(t);
  return out;
}

Result<std::optional<TaskRecord>> MemoryStore::GetTask(const std::string& task_id) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return std::optional<TaskRecord>();
  return std::optional<TaskRecord>(it->second);
}

Status MemoryStore::PutTask(const TaskRecord& task) {
  std::lock_guard lock(mu_);
  tasks_[task.task_id] = task;
  return OkStatus();
}

Status MemoryStore::DeleteTask(const std::string& task_id) {
  std::lock_guard lock(mu_);
  tasks_.erase(task_id);
  std::erase_if(positions_, [&](const auto& kv) { return kv.first.first == task_id; });
  return OkStatus();
}

Result<std::vector<PositionRecord>> MemoryStore::ListPositions(const std::string& task_id) {
  std::lock_guard lock(mu_);
  std::vector<PositionRecord> out;
  for (const auto& [key, row] : positions_) {
    if (key.first == task_id) out.push_back(row);
  }
  return out;
}

// Rejects a batch with a malformed row before anything is written (all or nothing).
static Status CheckRows(const std::vector<PositionRecord>& rows) {
  for (const auto& r : rows) RETURN_IF_ERROR(EncodePosition(r).status());
  return OkStatus();
}

Status MemoryStore::PutPositions(const std::vector<PositionRecord>& rows) {
  RETURN_IF_ERROR(CheckRows(rows));
  std::lock_guard lock(mu_);
  for (const auto& r : rows) positions_[{r.task_id, r.collection_id}] = r;
  return OkStatus();
}

Status MemoryStore::PutTaskAndPositions(const TaskRecord& task,
                                        const std::vector<PositionRecord>& rows) {
  RETURN_IF_ERROR(CheckRows(rows));
  std::lock_guard lock(mu_);
  tasks_[task.task_id] = task;
  for (const auto& r : rows) positions_[{r.task_id, r.collection_id}] = r;
  return OkStatus();
}

Status MemoryStore::DeletePosition(const std::string& task_id, int64_t collection_id) {
  std::lock_guard lock(mu_);
  positions_.erase({task_id, collection_id});
  return OkStatus();
}

}  // namespace cdc::meta
