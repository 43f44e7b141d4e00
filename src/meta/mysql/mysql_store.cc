#include "meta/mysql/mysql_store.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "meta/layout.h"

namespace cdc::meta {
namespace {

// How long GET_LOCK waits for the server's lock (LockServer).
constexpr int kLockWaitSeconds = 5;

constexpr const char* kTaskInfoTable = R"sql(
CREATE TABLE IF NOT EXISTS task_info (
  task_info_key VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  task_id VARCHAR(255) NOT NULL,
  task_info_value JSON NOT NULL,
  PRIMARY KEY (task_info_key),
  INDEX idx_task_id (task_id))
)sql";

constexpr const char* kTaskPositionTable = R"sql(
CREATE TABLE IF NOT EXISTS task_position (
  task_position_key VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  task_id VARCHAR(255) NOT NULL,
  collection_id BIGINT NOT NULL,
  collection_name VARCHAR(255) NOT NULL,
  task_position_value JSON NOT NULL,
  op_position_value JSON,
  target_position_value JSON,
  PRIMARY KEY (task_position_key),
  INDEX idx_task_id (task_id),
  INDEX idx_collection_id (collection_id))
)sql";

bool IsConnectionLost(unsigned err) {
  return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST || err == CR_CONNECTION_ERROR ||
         err == CR_CONN_HOST_ERROR || err == ER_CONNECTION_KILLED;
}

// A SQL string literal. Escapes like mysql_escape_string, which is exact for the ASCII-compatible
// charsets we use (utf8, utf8mb4, latin1) and needs no live connection.
std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    switch (c) {
      case '\0':
        out += "\\0";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\x1a':
        out += "\\Z";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      case '"':
        out += "\\\"";
        break;
      default:
        out.push_back(c);
    }
  }
  return out + "'";
}

// LIKE pattern matching every string that starts with `prefix`.
std::string LikePrefix(const std::string& prefix) {
  std::string pattern;
  for (char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
    pattern.push_back(c);
  }
  return Quote(pattern + "%");
}

}  // namespace

Result<std::unique_ptr<MysqlStore>> MysqlStore::Open(const std::string& dsn,
                                                     const std::string& root_path) {
  ASSIGN_OR_RETURN(MysqlDsn parsed, ParseMysqlDsn(dsn));
  std::unique_ptr<MysqlStore> store(new MysqlStore(std::move(parsed), root_path));
  std::lock_guard lock(store->mu_);
  RETURN_IF_ERROR(store->Connect());
  return store;
}

MysqlStore::~MysqlStore() {
  // The server frees a closed connection's locks only once it has noticed the close: release
  // it first, so that a server started right after this one (a restart) is not refused.
  if (conn_ != nullptr && !lock_.empty())
    (void)Exec(absl::StrCat("DO RELEASE_LOCK('", lock_, "')"));
  Disconnect();
}

void MysqlStore::Disconnect() {
  if (conn_ != nullptr) mysql_close(conn_);
  conn_ = nullptr;
  lock_.clear();
}

Status MysqlStore::LastError(const std::string& action) const {
  unsigned err = conn_ ? mysql_errno(conn_) : CR_UNKNOWN_ERROR;
  std::string msg = absl::StrCat("mysql ", dsn_.Address(), ": ", action, ": ",
                                 conn_ ? mysql_error(conn_) : "no connection");
  if (IsConnectionLost(err) || err == CR_UNKNOWN_HOST) {
    return UnavailableError(absl::StrCat(msg,
                                         "; check that the server runs and the address in "
                                         "metaStoreConfig.mysqlSourceUrl"));
  }
  if (err == ER_ACCESS_DENIED_ERROR || err == ER_DBACCESS_DENIED_ERROR) {
    return absl::PermissionDeniedError(
        absl::StrCat(msg, "; check the user and password in metaStoreConfig.mysqlSourceUrl"));
  }
  return InternalError(msg);
}

Status MysqlStore::Connect() {
  Disconnect();
  for (int attempt = 0; attempt < 2; ++attempt) {
    conn_ = mysql_init(nullptr);
    if (conn_ == nullptr) return InternalError("mysql: out of memory in mysql_init");
    unsigned connect_s = std::max<unsigned>(1, (dsn_.timeout.count() + 999) / 1000);
    unsigned io_s = 30;
    mysql_options(conn_, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    mysql_options(conn_, MYSQL_OPT_READ_TIMEOUT, &io_s);
    mysql_options(conn_, MYSQL_OPT_WRITE_TIMEOUT, &io_s);
    mysql_options(conn_, MYSQL_SET_CHARSET_NAME, dsn_.charset.c_str());
    // First attempt selects the database; if it does not exist, the second creates it.
    const char* db = attempt == 0 ? dsn_.database.c_str() : nullptr;
    const char* socket = dsn_.unix_socket.empty() ? nullptr : dsn_.unix_socket.c_str();
    if (mysql_real_connect(conn_, dsn_.host.c_str(), dsn_.user.c_str(), dsn_.password.c_str(), db,
                           dsn_.port, socket, 0) != nullptr) {
      if (attempt == 1) {
        RETURN_IF_ERROR(Exec(absl::StrCat("CREATE DATABASE IF NOT EXISTS `", dsn_.database, "`")));
        RETURN_IF_ERROR(Exec(absl::StrCat("USE `", dsn_.database, "`")));
      }
      RETURN_IF_ERROR(Exec(kTaskInfoTable));
      RETURN_IF_ERROR(Exec(kTaskPositionTable));
      return LockServer();
    }
    if (mysql_errno(conn_) != ER_BAD_DB_ERROR || attempt == 1) break;
    Disconnect();
  }
  Status s = LastError("connect");
  Disconnect();
  return s;
}

// One server per (database, rootPath): a MySQL named lock held by this connection (a lock name
// is at most 64 characters, so the pair is hashed). MySQL has no leases to fence several
// servers sharing tasks (docs/high-availability.md); this only refuses a second one.
Status MysqlStore::LockServer() {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  for (unsigned char c : dsn_.database + "/" + root_) h = (h ^ c) * 1099511628211ull;
  const std::string name = absl::StrCat("milvus-cdc:", absl::Hex(h));
  // A connection that ended (killed, dropped, or this server's before a restart) frees its lock
  // only once MariaDB has noticed: wait a few seconds for that before refusing.
  ASSIGN_OR_RETURN(
      auto rows, Select(absl::StrCat("SELECT GET_LOCK('", name, "', ", kLockWaitSeconds, ")"), 1));
  if (!rows.empty() && rows[0][0] == "1") {
    lock_ = name;
    return OkStatus();
  }
  Status s = FailedPreconditionError(absl::StrCat(
      "mysql ", dsn_.Address(), " database ", dsn_.database, " (rootPath '", root_,
      "') is in use by another milvus-cdc server (it holds the MySQL lock ", name,
      "); a MySQL meta store serves one server: stop the other one, give this one another "
      "rootPath, or use metaStoreConfig.storeType etcd to run several servers on the same tasks "
      "(docs/high-availability.md)"));
  Disconnect();
  return s;
}

Status MysqlStore::Exec(const std::string& sql) {
  if (conn_ == nullptr) return UnavailableError("mysql " + dsn_.Address() + ": not connected");
  if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) {
    return LastError(absl::StrCat("query '", sql.substr(0, 60), "'"));
  }
  if (MYSQL_RES* res = mysql_store_result(conn_)) mysql_free_result(res);
  return OkStatus();
}

Result<std::vector<MysqlStore::Row>> MysqlStore::Select(const std::string& sql, size_t columns) {
  RETURN_IF_ERROR(conn_ == nullptr ? UnavailableError("mysql " + dsn_.Address() + ": not connected")
                                   : OkStatus());
  if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) {
    return LastError(absl::StrCat("query '", sql.substr(0, 60), "'"));
  }
  MYSQL_RES* res = mysql_store_result(conn_);
  if (res == nullptr) return LastError("read result");
  std::vector<Row> rows;
  while (MYSQL_ROW r = mysql_fetch_row(res)) {
    unsigned long* lengths = mysql_fetch_lengths(res);
    Row row;
    for (size_t i = 0; i < columns; ++i) {
      row.push_back(r[i] ? std::string(r[i], lengths[i]) : std::string());
    }
    rows.push_back(std::move(row));
  }
  mysql_free_result(res);
  return rows;
}

template <typename Body>
Status MysqlStore::Run(const std::string& action, bool txn, const Body& body) {
  Status s;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (conn_ == nullptr) {
      s = Connect();
      if (!s.ok()) return Annotate(s, action);
    }
    s = txn ? Exec("START TRANSACTION") : OkStatus();
    if (s.ok()) s = body();
    if (s.ok() && txn) s = Exec("COMMIT");
    if (s.ok()) return s;
    if (txn && conn_ != nullptr) (void)Exec("ROLLBACK");
    if (s.code() != StatusCode::kUnavailable) break;
    Disconnect();  // lost connection: reconnect and retry once
  }
  return Annotate(s, action);
}

std::string MysqlStore::UpsertTaskSql(const TaskRecord& task) const {
  return absl::StrCat("INSERT INTO task_info (task_info_key, task_id, task_info_value) VALUES (",
                      Quote(TaskInfoKey(root_, task.task_id)), ", ", Quote(task.task_id), ", ",
                      Quote(task.info_json),
                      ") ON DUPLICATE KEY UPDATE task_info_value = VALUES(task_info_value)");
}

Result<std::string> MysqlStore::UpsertPositionSql(const PositionRecord& row) const {
  RETURN_IF_ERROR(EncodePosition(row).status());  // validates the three maps
  auto map = [](const std::string& s) { return s.empty() ? std::string("{}") : s; };
  return absl::StrCat(
      "INSERT INTO task_position (task_position_key, task_id, collection_id, collection_name, "
      "task_position_value, op_position_value, target_position_value) VALUES (",
      Quote(PositionKey(root_, row.task_id, row.collection_id)), ", ", Quote(row.task_id), ", ",
      row.collection_id, ", ", Quote(row.collection_name), ", ", Quote(map(row.positions_json)),
      ", ", Quote(map(row.op_positions_json)), ", ", Quote(map(row.target_positions_json)),
      ") ON DUPLICATE KEY UPDATE collection_name = VALUES(collection_name), "
      "task_position_value = VALUES(task_position_value), "
      "op_position_value = VALUES(op_position_value), "
      "target_position_value = VALUES(target_position_value)");
}

Result<std::vector<TaskRecord>> MysqlStore::ListTasks() {
  std::lock_guard lock(mu_);
  std::vector<TaskRecord> out;
  std::string prefix = TaskInfoPrefix(root_);
  Status s = Run("list tasks", false, [&]() -> Status {
    ASSIGN_OR_RETURN(auto rows, Select(absl::StrCat("SELECT task_info_key, task_id, "
                                                    "task_info_value FROM task_info WHERE "
                                                    "task_info_key LIKE BINARY ",
                                                    LikePrefix(prefix)),
                                       3));
    out.clear();
    for (auto& r : rows) {
      if (absl::StartsWith(r[0], prefix)) out.push_back({r[1], r[2]});
    }
    return OkStatus();
  });
  RETURN_IF_ERROR(s);
  return out;
}

Result<std::optional<TaskRecord>> MysqlStore::GetTask(const std::string& task_id) {
  std::lock_guard lock(mu_);
  std::optional<TaskRecord> out;
  Status s = Run("get task " + task_id, false, [&]() -> Status {
    ASSIGN_OR_RETURN(auto rows, Select(absl::StrCat("SELECT task_info_value FROM task_info WHERE "
                                                    "task_info_key = BINARY ",
                                                    Quote(TaskInfoKey(root_, task_id))),
                                       1));
    out.reset();
    if (!rows.empty()) out = TaskRecord{task_id, rows[0][0]};
    return OkStatus();
  });
  RETURN_IF_ERROR(s);
  return out;
}

Status MysqlStore::PutTask(const TaskRecord& task) {
  if (task.task_id.empty()) return InvalidArgumentError("put task: empty task id");
  std::lock_guard lock(mu_);
  return Run("put task " + task.task_id, false, [&] { return Exec(UpsertTaskSql(task)); });
}

Status MysqlStore::DeleteTask(const std::string& task_id) {
  std::lock_guard lock(mu_);
  return Run("delete task " + task_id, true, [&]() -> Status {
    RETURN_IF_ERROR(Exec(absl::StrCat("DELETE FROM task_info WHERE task_info_key = BINARY ",
                                      Quote(TaskInfoKey(root_, task_id)))));
    return Exec(absl::StrCat("DELETE FROM task_position WHERE task_id = ", Quote(task_id),
                             " AND task_position_key LIKE BINARY ",
                             LikePrefix(PositionTaskPrefix(root_, task_id))));
  });
}

Result<std::vector<PositionRecord>> MysqlStore::ListPositions(const std::string& task_id) {
  std::lock_guard lock(mu_);
  std::vector<PositionRecord> out;
  std::string prefix = PositionTaskPrefix(root_, task_id);
  Status s = Run("list positions of task " + task_id, false, [&]() -> Status {
    ASSIGN_OR_RETURN(
        auto rows,
        Select(absl::StrCat("SELECT task_position_key, collection_id, collection_name, "
                            "task_position_value, op_position_value, target_position_value "
                            "FROM task_position WHERE task_id = ",
                            Quote(task_id), " AND task_position_key LIKE BINARY ",
                            LikePrefix(prefix), " ORDER BY collection_id"),
               6));
    out.clear();
    for (auto& r : rows) {
      if (!absl::StartsWith(r[0], prefix)) continue;
      out.push_back({task_id, std::stoll(r[1]), r[2], r[3], r[4].empty() ? "{}" : r[4],
                     r[5].empty() ? "{}" : r[5]});
    }
    return OkStatus();
  });
  RETURN_IF_ERROR(s);
  return out;
}

Status MysqlStore::PutPositions(const std::vector<PositionRecord>& rows) {
  std::vector<std::string> sql;
  for (const auto& r : rows) {
    ASSIGN_OR_RETURN(std::string q, UpsertPositionSql(r));
    sql.push_back(std::move(q));
  }
  std::lock_guard lock(mu_);
  return Run("put positions", true, [&]() -> Status {
    for (const auto& q : sql) RETURN_IF_ERROR(Exec(q));
    return OkStatus();
  });
}

Status MysqlStore::PutTaskAndPositions(const TaskRecord& task,
                                       const std::vector<PositionRecord>& rows) {
  if (task.task_id.empty()) return InvalidArgumentError("put task: empty task id");
  std::lock_guard lock(mu_);
  return Run("put task " + task.task_id + " and positions", true, [&]() -> Status {
    RETURN_IF_ERROR(Exec(UpsertTaskSql(task)));
    for (const auto& r : rows) {
      ASSIGN_OR_RETURN(std::string q, UpsertPositionSql(r));
      RETURN_IF_ERROR(Exec(q));
    }
    return OkStatus();
  });
}

Status MysqlStore::DeletePosition(const std::string& task_id, int64_t collection_id) {
  std::lock_guard lock(mu_);
  return Run("delete position", false, [&] {
    return Exec(absl::StrCat("DELETE FROM task_position WHERE task_position_key = BINARY ",
                             Quote(PositionKey(root_, task_id, collection_id))));
  });
}

}  // namespace cdc::meta
