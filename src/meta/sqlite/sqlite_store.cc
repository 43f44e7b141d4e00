#include "meta/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "meta/layout.h"

namespace cdc::meta {
namespace {

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  int rc() const { return rc_; }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  int Step() { return sqlite3_step(s_); }
  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, sqlite3_column_bytes(s_, col)) : std::string();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS task_info (
  task_info_key TEXT NOT NULL PRIMARY KEY,
  task_id TEXT NOT NULL,
  task_info_value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_task_info_task_id ON task_info(task_id);
CREATE TABLE IF NOT EXISTS task_position (
  task_position_key TEXT NOT NULL PRIMARY KEY,
  task_id TEXT NOT NULL,
  collection_id INTEGER NOT NULL,
  collection_name TEXT NOT NULL,
  task_position_value TEXT NOT NULL,
  op_position_value TEXT,
  target_position_value TEXT);
CREATE INDEX IF NOT EXISTS idx_task_position_task_id ON task_position(task_id);
)sql";

}  // namespace

// The exclusive lock of one server on (path, root): a write lock on one byte of PATH.lock chosen
// by the rootPath. Returns the open lock file (the lock lives as long as it is open).
static Result<int> LockServer(const std::string& path, const std::string& root) {
  const std::string lock_path = path + ".lock";
  const int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return UnavailableError(absl::StrCat("sqlite ", path, ": cannot open its lock file ", lock_path,
                                         ": ", std::strerror(errno),
                                         "; check metaStoreConfig.sqlite.path"));
  }
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  uint32_t h = 2166136261u;  // FNV-1a: the same byte for a rootPath in every build
  for (unsigned char c : root) h = (h ^ c) * 16777619u;
  lock.l_start = static_cast<off_t>(h % 1000000007u);
  lock.l_len = 1;
  if (fcntl(fd, F_SETLK, &lock) == 0) return fd;
  const int err = errno;
  struct flock holder = lock;
  const bool known = fcntl(fd, F_GETLK, &holder) == 0 && holder.l_type != F_UNLCK;
  close(fd);
  if (err != EACCES && err != EAGAIN) {
    return UnavailableError(
        absl::StrCat("sqlite ", path, ": cannot lock ", lock_path, ": ", std::strerror(err)));
  }
  return FailedPreconditionError(absl::StrCat(
      "sqlite ", path, " (rootPath '", root, "') is in use by another milvus-cdc server",
      known ? absl::StrCat(" (pid ", holder.l_pid, ")") : "",
      "; a SQLite meta store serves one server: stop the other one, give this one another "
      "metaStoreConfig.sqlite.path or rootPath, or use metaStoreConfig.storeType etcd to run "
      "several servers on the same tasks (docs/high-availability.md)"));
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       const std::string& root_path) {
  if (path.empty()) {
    return InvalidArgumentError("sqlite meta store: no file path; set metaStoreConfig.sqlite.path");
  }
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) {
    return UnavailableError(absl::StrCat("sqlite ", path, ": cannot create directory '",
                                         parent.string(), "': ", ec.message(),
                                         "; check metaStoreConfig.sqlite.path"));
  }
  ASSIGN_OR_RETURN(const int lock_fd, LockServer(path, root_path));
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    close(lock_fd);
    return UnavailableError(absl::StrCat("sqlite ", path, ": cannot open: ", msg,
                                         "; check metaStoreConfig.sqlite.path"));
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<SqliteStore> store(new SqliteStore(db, path, root_path, lock_fd));
  RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=NORMAL"));
  RETURN_IF_ERROR(store->Exec(kSchema));
  return store;
}

SqliteStore::~SqliteStore() {
  sqlite3_close(db_);
  close(lock_fd_);  // releases the server lock
}

Status SqliteStore::Error(int rc, const std::string& action) const {
  std::string msg = absl::StrCat("sqlite ", path_, ": ", action, ": ", sqlite3_errmsg(db_));
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_CANTOPEN || rc == SQLITE_IOERR ||
      rc == SQLITE_FULL || rc == SQLITE_READONLY) {
    return UnavailableError(msg);
  }
  return InternalError(msg);
}

Status SqliteStore::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return Error(rc, absl::StrCat("exec '", sql.substr(0, 40), "'"));
  return OkStatus();
}

template <typename Body>
Status SqliteStore::InTxn(const Body& body) {
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Status s = body();
  if (s.ok()) s = Exec("COMMIT");
  if (!s.ok()) (void)Exec("ROLLBACK");
  return s;
}

Result<std::vector<TaskRecord>> SqliteStore::ListTasks() {
  std::lock_guard lock(mu_);
  Stmt st(db_,
          "SELECT task_info_key, task_id, task_info_value FROM task_info ORDER BY task_info_key");
  if (st.rc() != SQLITE_OK) return Error(st.rc(), "list tasks");
  std::vector<TaskRecord> out;
  std::string prefix = TaskInfoPrefix(root_);
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    if (absl::StartsWith(st.Text(0), prefix)) out.push_back({st.Text(1), st.Text(2)});
  }
  if (rc != SQLITE_DONE) return Error(rc, "list tasks");
  return out;
}

Result<std::optional<TaskRecord>> SqliteStore::GetTask(const std::string& task_id) {
  std::lock_guard lock(mu_);
  Stmt st(db_, "SELECT task_info_value FROM task_info WHERE task_info_key = ?1");
  st.Bind(1, TaskInfoKey(root_, task_id));
  int rc = st.Step();
  if (rc == SQLITE_DONE) return std::optional<TaskRecord>();
  if (rc != SQLITE_ROW) return Error(rc, absl::StrCat("get task ", task_id));
  return std::optional<TaskRecord>(TaskRecord{task_id, st.Text(0)});
}

Status SqliteStore::PutTaskLocked(const TaskRecord& task) {
  if (task.task_id.empty()) return InvalidArgumentError("put task: empty task id");
  Stmt st(db_,
          "INSERT INTO task_info (task_info_key, task_id, task_info_value) VALUES (?1, ?2, ?3) "
          "ON CONFLICT(task_info_key) DO UPDATE SET task_info_value = excluded.task_info_value");
  st.Bind(1, TaskInfoKey(root_, task.task_id)).Bind(2, task.task_id).Bind(3, task.info_json);
  int rc = st.Step();
  if (rc != SQLITE_DONE) return Error(rc, absl::StrCat("put task ", task.task_id));
  return OkStatus();
}

Status SqliteStore::PutPositionLocked(const PositionRecord& row) {
  RETURN_IF_ERROR(EncodePosition(row).status());  // validates the three maps
  Stmt st(db_,
          "INSERT INTO task_position (task_position_key, task_id, collection_id, "
          "collection_name, task_position_value, op_position_value, target_position_value) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(task_position_key) DO UPDATE SET "
          "collection_name = excluded.collection_name, "
          "task_position_value = excluded.task_position_value, "
          "op_position_value = excluded.op_position_value, "
          "target_position_value = excluded.target_position_value");
  st.Bind(1, PositionKey(root_, row.task_id, row.collection_id))
      .Bind(2, row.task_id)
      .Bind(3, row.collection_id)
      .Bind(4, row.collection_name)
      .Bind(5, row.positions_json)
      .Bind(6, row.op_positions_json)
      .Bind(7, row.target_positions_json);
  int rc = st.Step();
  if (rc != SQLITE_DONE) {
    return Error(
        rc, absl::StrCat("put position task=", row.task_id, " collection=", row.collection_id));
  }
  return OkStatus();
}

Status SqliteStore::PutTask(const TaskRecord& task) {
  std::lock_guard lock(mu_);
  return PutTaskLocked(task);
}

Status SqliteStore::DeleteTask(const std::string& task_id) {
  std::lock_guard lock(mu_);
  return InTxn([&]() -> Status {
    Stmt del(db_, "DELETE FROM task_info WHERE task_info_key = ?1");
    del.Bind(1, TaskInfoKey(root_, task_id));
    int rc = del.Step();
    if (rc != SQLITE_DONE) return Error(rc, absl::StrCat("delete task ", task_id));
    // Only this rootPath's rows: the key starts with the task's position prefix.
    Stmt pos(db_,
             "DELETE FROM task_position WHERE task_id = ?1 AND "
             "substr(task_position_key, 1, length(?2)) = ?2");
    pos.Bind(1, task_id).Bind(2, PositionTaskPrefix(root_, task_id));
    rc = pos.Step();
    if (rc != SQLITE_DONE) return Error(rc, absl::StrCat("delete positions of task ", task_id));
    return OkStatus();
  });
}

Result<std::vector<PositionRecord>> SqliteStore::ListPositions(const std::string& task_id) {
  std::lock_guard lock(mu_);
  Stmt st(db_,
          "SELECT task_position_key, collection_id, collection_name, task_position_value, "
          "op_position_value, target_position_value FROM task_position WHERE task_id = ?1 "
          "ORDER BY collection_id");
  st.Bind(1, task_id);
  std::string prefix = PositionTaskPrefix(root_, task_id);
  std::vector<PositionRecord> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    if (!absl::StartsWith(st.Text(0), prefix)) continue;
    out.push_back({task_id, st.Int(1), st.Text(2), st.Text(3), st.Text(4), st.Text(5)});
  }
  if (rc != SQLITE_DONE) return Error(rc, absl::StrCat("list positions of task ", task_id));
  return out;
}

Status SqliteStore::PutPositions(const std::vector<PositionRecord>& rows) {
  std::lock_guard lock(mu_);
  return InTxn([&]() -> Status {
    for (const auto& r : rows) RETURN_IF_ERROR(PutPositionLocked(r));
    return OkStatus();
  });
}

Status SqliteStore::PutTaskAndPositions(const TaskRecord& task,
                                        const std::vector<PositionRecord>& rows) {
  std::lock_guard lock(mu_);
  return InTxn([&]() -> Status {
    RETURN_IF_ERROR(PutTaskLocked(task));
    for (const auto& r : rows) RETURN_IF_ERROR(PutPositionLocked(r));
    return OkStatus();
  });
}

Status SqliteStore::DeletePosition(const std::string& task_id, int64_t collection_id) {
  std::lock_guard lock(mu_);
  Stmt st(db_, "DELETE FROM task_position WHERE task_position_key = ?1");
  st.Bind(1, PositionKey(root_, task_id, collection_id));
  int rc = st.Step();
  if (rc != SQLITE_DONE) {
    return Error(rc, absl::StrCat("delete position task=", task_id, " collection=", collection_id));
  }
  return OkStatus();
}

}  // namespace cdc::meta
