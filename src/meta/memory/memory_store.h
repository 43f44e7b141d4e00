#pragma once
// An in-process meta::Store for unit tests. Not persistent.
#include <map>
#include <mutex>
#include <utility>

#include "meta/store.h"

namespace cdc::meta {

class MemoryStore : public Store {
 public:
  std::string Describe() const override { return "memory"; }
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
  std::mutex mu_;
  std::map<std::string, TaskRecord> tasks_;
  std::map<std::pair<std::string, int64_t>, PositionRecord> positions_;
};

}  // namespace cdc::meta
