// SQLite specifics beyond the contract: WAL mode, upstream table layout, bad paths.
#include "meta/sqlite/sqlite_store.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdc::meta {
namespace {

std::string TempDb(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("cdc-sqlite-test-" + std::to_string(getpid())) / "nested";
  return (dir / name).string();
}

std::string Query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  std::string out;
  sqlite3_exec(
      db, sql.c_str(),
      [](void* o, int n, char** vals, char**) {
        auto* s = static_cast<std::string*>(o);
        for (int i = 0; i < n; ++i) *s += std::string(vals[i] ? vals[i] : "NULL") + ",";
        *s += ";";
        return 0;
      },
      &out, nullptr);
  sqlite3_close(db);
  return out;
}

// What another process gets from Open(path, root) while this one holds the store: the status
// code and message, read through a pipe from a forked child.
std::pair<int, std::string> OpenInChild(const std::string& path, const std::string& root) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    auto r = SqliteStore::Open(path, root);
    const std::string msg = r.ok() ? "" : std::string(r.status().message());
    (void)!write(fds[1], msg.data(), msg.size());
    _exit(static_cast<int>(r.status().code()));
  }
  close(fds[1]);
  std::string msg;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) msg.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, msg};
}

TEST(SqliteStoreTest, ASecondServerOnTheSameFileAndRootIsRefused) {
  std::string path = TempDb("locked.db");
  auto store = SqliteStore::Open(path, "cdc-by-dev");
  ASSERT_TRUE(store.ok()) << store.status();
  auto [code, msg] = OpenInChild(path, "cdc-by-dev");
  EXPECT_EQ(code, static_cast<int>(StatusCode::kFailedPrecondition));
  EXPECT_THAT(msg, ::testing::HasSubstr("is in use by another milvus-cdc server (pid " +
                                        std::to_string(getpid()) + ")"));
  EXPECT_THAT(msg, ::testing::HasSubstr("metaStoreConfig.storeType etcd"));
  // Another rootPath in the same file is another server's own space.
  EXPECT_EQ(OpenInChild(path, "other-root").first, 0);
  // Once the first server is gone, the file is free.
  store->reset();
  EXPECT_EQ(OpenInChild(path, "cdc-by-dev").first, 0);
}

TEST(SqliteStoreTest, CreatesDirectoriesUsesWalAndUpstreamColumns) {
  std::string path = TempDb("wal.db");
  auto store = SqliteStore::Open(path, "cdc-by-dev");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Describe(), "sqlite " + path);
  ASSERT_TRUE((*store)->PutTaskAndPositions({"t1", "{}"}, {{"t1", 5, "c", "{}", "{}", "{}"}}).ok());
  EXPECT_EQ(Query(path, "PRAGMA journal_mode"), "wal,;");
  EXPECT_EQ(Query(path, "SELECT task_info_key, task_id FROM task_info"),
            "cdc-by-dev/task_info/t1,t1,;");
  EXPECT_EQ(Query(path,
                  "SELECT task_position_key, task_id, collection_id, collection_name, "
                  "task_position_value, op_position_value, target_position_value "
                  "FROM task_position"),
            "cdc-by-dev/task_position/t1/5,t1,5,c,{},{},{},;");
  std::filesystem::remove_all(std::filesystem::path(path).parent_path().parent_path());
}

TEST(SqliteStoreTest, UnusablePathNamesPathAndConfigKey) {
  auto s = SqliteStore::Open("/proc/none/meta.db", "r").status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("/proc/none"));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("metaStoreConfig.sqlite.path"));
  EXPECT_EQ(SqliteStore::Open("", "r").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cdc::meta
