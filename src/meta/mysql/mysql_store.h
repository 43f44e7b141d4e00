#pragma once
// meta::MysqlStore: tasks and checkpoints in MySQL/MariaDB (libmariadb), in upstream's tables,
// created at startup if missing:
//   task_info(task_info_key PK, task_id, task_info_value JSON)
//   task_position(task_position_key PK, task_id, collection_id, collection_name,
//                 task_position_value JSON, op_position_value JSON, target_position_value JSON)
// Keys are the upstream etcd key strings (meta/layout.h), so rootPath isolates servers sharing
// a database. Multi-row writes run in one transaction. A lost connection (server restart,
// wait_timeout) is re-established once per call and the call retried (its writes are
// idempotent upserts; an interrupted transaction was rolled back by the server).
// The database is created if it does not exist and the user may create it.
//
// One server per database and rootPath: the connection holds a MySQL named lock (GET_LOCK) on
// that pair; a second server is refused with kFailedPrecondition, also when it reconnects
// after the lock went to another server (docs/high-availability.md: no HA on MySQL).
// Ownership: owns one MYSQL connection. Threads: thread-safe (one mutex around it).
// Errors: kUnavailable when the server cannot be reached ("mysql HOST:PORT/DB: ..."),
// kPermissionDenied for a rejected user/password, kInvalidArgument for a bad DSN or row,
// kInternal otherwise. Messages never contain the password.
#include <memory>
#include <mutex>
#include <string>

#include "meta/mysql/dsn.h"
#include "meta/store.h"

struct st_mysql;

namespace cdc::meta {

class MysqlStore : public Store {
 public:
  // Parses the Go DSN, connects (within the DSN's timeout, default 10 s) and creates tables.
  static Result<std::unique_ptr<MysqlStore>> Open(const std::string& dsn,
                                                  const std::string& root_path);
  ~MysqlStore() override;

  std::string Describe() const override { return "mysql " + dsn_.Address(); }
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
  using Row = std::vector<std::string>;
  MysqlStore(MysqlDsn dsn, std::string root) : dsn_(std::move(dsn)), root_(std::move(root)) {}
  Status Connect();
  // Takes this server's named lock on (database, rootPath); kFailedPrecondition if another holds
  // it.
  Status LockServer();
  void Disconnect();
  // Runs `body` (which issues queries through Exec/Select); on a lost connection reconnects once
  // and runs it again. With `txn`, body runs between START TRANSACTION and COMMIT.
  template <typename Body>
  Status Run(const std::string& action, bool txn, const Body& body);
  Status Exec(const std::string& sql);
  Result<std::vector<Row>> Select(const std::string& sql, size_t columns);
  Status LastError(const std::string& action) const;
  std::string UpsertTaskSql(const TaskRecord& task) const;
  Result<std::string> UpsertPositionSql(const PositionRecord& row) const;

  const MysqlDsn dsn_;
  const std::string root_;
  std::mutex mu_;
  st_mysql* conn_ = nullptr;
  std::string lock_;  // the named lock this connection holds ("" = none)
};

}  // namespace cdc::meta
