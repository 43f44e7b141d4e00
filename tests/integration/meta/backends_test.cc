// Backend specifics beyond the contract, against the e2e-env servers: the exact bytes the etcd
// store writes (upstream layout), reading upstream-written values, MySQL's upstream columns,
// reconnect after the server dropped the connection, and a wrong MySQL password.
#include <mysql.h>

#include <cstdlib>
#include <random>

#include "etcd/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meta/factory.h"
#include "meta/layout.h"
#include "meta/mysql/dsn.h"

namespace cdc::meta {
namespace {

using ::testing::HasSubstr;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string RandomRoot() { return "cdc-backend-" + std::to_string(std::random_device()()); }

TEST(EtcdStoreLayoutTest, WritesAndReadsUpstreamKeysAndValues) {
  if (Env("CDC_TEST_ETCD").empty()) GTEST_SKIP() << "CDC_TEST_ETCD is not set";
  std::string root = RandomRoot();
  StoreOptions o;
  o.type = "etcd";
  o.etcd.endpoints = {Env("CDC_TEST_ETCD")};
  o.root_path = root;
  auto store = CreateStore(o);
  ASSERT_TRUE(store.ok()) << store.status();
  etcd::ClientOptions co;
  co.endpoints = o.etcd.endpoints;
  auto client = etcd::Client::Connect(co);
  ASSERT_TRUE(client.ok());

  PositionRecord row{"t1",    449,
                     "books", R"({"ch0":{"Time":3,"DataPair":{"key":"ch0","data":"AQ=="}}})",
                     "{}",    "{}"};
  ASSERT_TRUE((*store)->PutTaskAndPositions({"t1", R"({"TaskID":"t1","State":1})"}, {row}).ok());
  auto info = (*client)->Get(root + "/task_info/t1");
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->value, R"({"TaskID":"t1","State":1})");
  auto pos = (*client)->Get(root + "/task_position/t1/449");
  ASSERT_TRUE(pos.ok() && pos->has_value());
  EXPECT_EQ((*pos)->value,
            R"({"TaskID":"t1","CollectionID":449,"CollectionName":"books",)"
            R"("Positions":{"ch0":{"Time":3,"DataPair":{"key":"ch0","data":"AQ=="}}},)"
            R"("OpPositions":{},"TargetPositions":{}})");

  // A value as upstream's Go server writes it (nil maps are null).
  ASSERT_TRUE(
      (*client)
          ->Put(
              root + "/task_position/t1/-10",
              R"({"TaskID":"t1","CollectionID":-10,"CollectionName":"","Positions":{"r":{"Time":1,"DataPair":{"key":"r","data":"AA=="}}},"OpPositions":null,"TargetPositions":null})")
          .ok());
  auto rows = (*store)->ListPositions("t1");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].collection_id, -10);
  EXPECT_EQ((*rows)[0].op_positions_json, "{}");

  // A corrupt value is reported with its key, not skipped silently.
  ASSERT_TRUE((*client)->Put(root + "/task_position/t1/7", "garbage").ok());
  auto bad = (*store)->ListPositions("t1");
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr(root + "/task_position/t1/7"));
  ASSERT_TRUE((*client)->Delete(root + "/", true).ok());
}

class MysqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = Env("CDC_TEST_MYSQL");
    if (dsn_.empty()) GTEST_SKIP() << "CDC_TEST_MYSQL is not set";
    auto parsed = ParseMysqlDsn(dsn_);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    conn_ = mysql_init(nullptr);
    ASSERT_NE(mysql_real_connect(conn_, parsed->host.c_str(), parsed->user.c_str(),
                                 parsed->password.c_str(), parsed->database.c_str(), parsed->port,
                                 nullptr, 0),
              nullptr)
        << mysql_error(conn_);
  }
  void TearDown() override {
    if (conn_) mysql_close(conn_);
  }
  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    std::vector<std::vector<std::string>> out;
    if (mysql_query(conn_, sql.c_str()) != 0) {
      ADD_FAILURE() << mysql_error(conn_);
      return out;
    }
    MYSQL_RES* res = mysql_store_result(conn_);
    if (!res) return out;
    unsigned n = mysql_num_fields(res);
    while (MYSQL_ROW r = mysql_fetch_row(res)) {
      std::vector<std::string> row;
      for (unsigned i = 0; i < n; ++i) row.push_back(r[i] ? r[i] : "NULL");
      out.push_back(row);
    }
    mysql_free_result(res);
    return out;
  }
  std::unique_ptr<Store> Open(const std::string& root) {
    StoreOptions o;
    o.type = "mysql";
    o.mysql_dsn = dsn_;
    o.root_path = root;
    auto s = CreateStore(o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }
  std::string dsn_;
  MYSQL* conn_ = nullptr;
};

TEST_F(MysqlTest, ASecondServerOnTheSameDatabaseAndRootIsRefused) {
  const std::string root = RandomRoot();
  StoreOptions o;
  o.type = "mysql";
  o.mysql_dsn = dsn_;
  o.root_path = root;
  auto first = CreateStore(o);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = CreateStore(o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("is in use by another milvus-cdc server"));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("storeType etcd"));
  o.root_path = root + "-other";  // another rootPath is another server's own space
  EXPECT_TRUE(CreateStore(o).ok());
  o.root_path = root;
  first->reset();  // the first server stops: its lock goes with its connection
  EXPECT_TRUE(CreateStore(o).ok());
}

TEST_F(MysqlTest, UpstreamTablesAndColumns) {
  std::string root = RandomRoot();
  auto store = Open(root);
  ASSERT_NE(store, nullptr);
  PositionRecord row{"t9", 5, "c5", R"({"a": 1})", R"({"b": 2})", R"({"c": 3})"};
  ASSERT_TRUE(store->PutTaskAndPositions({"t9", R"({"TaskID": "t9"})"}, {row}).ok());
  auto info = Query(
      "SELECT task_info_key, task_id, task_info_value FROM task_info WHERE "
      "task_id = 't9' AND task_info_key LIKE '" +
      root + "/%'");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0],
            (std::vector<std::string>{root + "/task_info/t9", "t9", R"({"TaskID": "t9"})"}));
  auto pos = Query(
      "SELECT task_position_key, task_id, collection_id, collection_name, "
      "task_position_value, op_position_value, target_position_value FROM "
      "task_position WHERE task_position_key LIKE '" +
      root + "/%'");
  ASSERT_EQ(pos.size(), 1u);
  EXPECT_EQ(pos[0], (std::vector<std::string>{root + "/task_position/t9/5", "t9", "5", "c5",
                                              R"({"a": 1})", R"({"b": 2})", R"({"c": 3})"}));
  ASSERT_TRUE(store->DeleteTask("t9").ok());
}

TEST_F(MysqlTest, ReconnectsAfterTheServerDroppedTheConnection) {
  std::string root = RandomRoot();
  auto store = Open(root);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutTask({"r1", "{}"}).ok());
  // Kill every other connection to the test database (the store's among them).
  auto others = Query(
      "SELECT id FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND db = "
      "DATABASE()");
  ASSERT_FALSE(others.empty()) << "the store's connection should be listed";
  for (const auto& r : others) Query("KILL " + r[0]);
  auto got = store->GetTask("r1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->has_value());
  ASSERT_TRUE(
      store->PutTaskAndPositions({"r1", R"({"x":1})"}, {{"r1", 1, "c", "{}", "{}", "{}"}}).ok());
  ASSERT_TRUE(store->DeleteTask("r1").ok());
}

TEST_F(MysqlTest, WrongPasswordIsPermissionDeniedWithoutEchoingIt) {
  auto parsed = ParseMysqlDsn(dsn_);
  std::string bad = parsed->user + ":not-the-pass-xyz@tcp(" + parsed->host + ":" +
                    std::to_string(parsed->port) + ")/" + parsed->database;
  StoreOptions o;
  o.type = "mysql";
  o.mysql_dsn = bad;
  auto s = CreateStore(o).status();
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("metaStoreConfig.mysqlSourceUrl"));
  EXPECT_THAT(std::string(s.message()), ::testing::Not(HasSubstr("not-the-pass-xyz")));
}

TEST_F(MysqlTest, CreatesAMissingDatabase) {
  auto parsed = ParseMysqlDsn(dsn_);
  std::string db = "cdc_new_" + std::to_string(std::random_device()() % 100000);
  std::string dsn = parsed->user + ":" + parsed->password + "@tcp(" + parsed->host + ":" +
                    std::to_string(parsed->port) + ")/" + db + "?charset=utf8";
  StoreOptions o;
  o.type = "mysql";
  o.mysql_dsn = dsn;
  auto s = CreateStore(o);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE((*s)->PutTask({"t", "{}"}).ok());
  Query("DROP DATABASE " + db);
}

}  // namespace
}  // namespace cdc::meta
