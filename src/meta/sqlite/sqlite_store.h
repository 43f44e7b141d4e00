#pragma once
// meta::SqliteStore: the embedded default meta store, one SQLite3 file in WAL mode.
//
// Tables mirror upstream's MySQL layout (task_info, task_position) and their keys are the
// upstream key strings, which start with rootPath, so several servers with different
// rootPaths can share one file (and one server never sees another's rows).
// Multi-row writes run in one transaction (BEGIN IMMEDIATE), so they are all or nothing.
//
// One server per (file, rootPath): Open takes an exclusive lock (fcntl, one byte chosen by the
// rootPath) on PATH.lock, held until the store is destroyed; a second server on the same file
// and rootPath is refused with kFailedPrecondition naming the other's pid. Several servers
// sharing tasks need storeType etcd (docs/high-availability.md).
//
// Ownership: owns the sqlite3 handle and the lock file; closes them in the destructor.
// Threads: every method is thread-safe (one mutex around the handle). Other processes may use
// the same file under other rootPaths: SQLite locks it, and we wait up to 5 s for a lock (busy
// timeout).
// Errors: kUnavailable when the file cannot be opened or is locked ("sqlite PATH: ..."),
// kInvalidArgument for bad input, kInternal for a corrupt row.
#include <memory>
#include <mutex>
#include <string>

#include "meta/store.h"

struct sqlite3;

namespace cdc::meta {

class SqliteStore : public Store {
 public:
  // Opens or creates `path` (and its parent directories) and the tables.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   const std::string& root_path);
  ~SqliteStore() override;

  std::string Describe() const override { return "sqlite " + path_; }
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
  SqliteStore(sqlite3* db, std::string path, std::string root, int lock_fd)
      : db_(db), path_(std::move(path)), root_(std::move(root)), lock_fd_(lock_fd) {}
  Status Exec(const std::string& sql);
  // Runs `body` inside BEGIN IMMEDIATE .. COMMIT (ROLLBACK on error). Caller holds mu_.
  template <typename Body>
  Status InTxn(const Body& body);
  Status PutTaskLocked(const TaskRecord& task);
  Status PutPositionLocked(const PositionRecord& row);
  Status Error(int rc, const std::string& action) const;

  sqlite3* db_;
  const std::string path_;
  const std::string root_;
  const int lock_fd_;  // PATH.lock, locked for root_ (see above)
  std::mutex mu_;
};

}  // namespace cdc::meta
