#include "task/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cdc::task {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

CreateRequest Good() {
  CreateRequest r;
  r.milvus.uri = "http://127.0.0.1:19530";
  r.collection_infos = {{"*", {}, false}};
  return r;
}

void ExpectInvalid(const Status& s, const std::string& msg) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(msg));
}

CreateLimits Limits() { return {10, "by-dev-replicate-msg"}; }

TEST(ValidateCreateTest, AcceptsUpstreamShapes) {
  EXPECT_TRUE(ValidateCreate(Good(), Limits()).ok());
  auto r = Good();
  r.collection_infos = {};
  r.db_collections = {{"db1", {{"c1", {{"by-dev-rootcoord-dml_0_1v0", "AAA="}}, false}}}};
  EXPECT_TRUE(ValidateCreate(r, Limits()).ok());
  auto k = Good();
  k.milvus = {};
  k.kafka.address = "127.0.0.1:9092";
  k.kafka.topic = "t";
  EXPECT_TRUE(ValidateCreate(k, Limits()).ok());
  auto h = Good();
  h.milvus = {};
  h.milvus.host = "localhost";
  h.milvus.port = 19530;
  EXPECT_TRUE(ValidateCreate(h, Limits()).ok());
}

TEST(ValidateCreateTest, TargetRules) {
  auto r = Good();
  r.milvus = {};
  ExpectInvalid(ValidateCreate(r, Limits()), "the downstream address is empty");
  r = Good();
  r.kafka.address = "k:9092";
  ExpectInvalid(ValidateCreate(r, Limits()), "don't support milvus and kafka at the same time");
  r = Good();
  r.milvus.uri = "";
  r.milvus.port = 19530;
  ExpectInvalid(ValidateCreate(r, Limits()), "the milvus host is empty");
  r.milvus.host = "h";
  r.milvus.port = 0;
  ExpectInvalid(ValidateCreate(r, Limits()), "the milvus port is less or equal zero");
  r = Good();
  r.milvus.username = "root";
  ExpectInvalid(ValidateCreate(r, Limits()), "cannot set only one of the milvus username");
  r = Good();
  r.milvus.connect_timeout = -1;
  ExpectInvalid(ValidateCreate(r, Limits()), "the milvus connect timeout is less zero");
  r = Good();
  r.milvus = {};
  r.kafka.address = "k:9092";
  ExpectInvalid(ValidateCreate(r, Limits()), "the kafka topic is empty");
  r = Good();
  r.buffer.period = -1;
  ExpectInvalid(ValidateCreate(r, Limits()), "the cache period is less zero");
  r = Good();
  r.buffer.size = -1;
  ExpectInvalid(ValidateCreate(r, Limits()), "the cache size is less zero");
}

TEST(ValidateCreateTest, CollectionRules) {
  auto r = Good();
  r.collection_infos = {};
  ExpectInvalid(ValidateCreate(r, Limits()), "the collection info is empty");
  r.collection_infos = {{"a", {}, false}, {"b", {}, false}};
  ExpectInvalid(ValidateCreate(r, Limits()), "the collection info should be only one");
  r = Good();
  r.db_collections = {{"db", {{"a", {}, false}}}};
  ExpectInvalid(ValidateCreate(r, Limits()),
                "the collection info and db collection info should be only one");
  r = Good();
  r.collection_infos = {{"", {}, false}};
  ExpectInvalid(ValidateCreate(r, Limits()), "there is a collection name that is empty");
  r.collection_infos = {{"abcdefghijk", {}, false}};
  ExpectInvalid(ValidateCreate(r, Limits()),
                "there are some collection names whose length exceeds 10 characters, "
                "[abcdefghijk]");
  r.collection_infos = {{"*", {{"ch_1v0", "x"}}, false}};
  ExpectInvalid(ValidateCreate(r, Limits()), "the collection name is `*`, the positions should");
  r.collection_infos = {{"c", {{"notvchannel", "x"}}, false}};
  ExpectInvalid(ValidateCreate(r, Limits()),
                "the position channel name is not virtual channel, notvchannel");
  r = Good();
  r.collection_infos = {};
  r.db_collections = {{"a-very-long-db", {{"c", {}, false}}}};
  ExpectInvalid(ValidateCreate(r, Limits()), "the db name length exceeds 10 characters");
  r.db_collections = {{"db", {}}};
  ExpectInvalid(ValidateCreate(r, Limits()), "empty collection info");
}

TEST(ValidateCreateTest, RpcChannelMustMatchConfig) {
  auto r = Good();
  r.rpc_channel.name = "other-replicate-msg";
  ExpectInvalid(ValidateCreate(r, Limits()), "the rpc channel is invalid");
  r.rpc_channel.name = "by-dev-replicate-msg";
  EXPECT_TRUE(ValidateCreate(r, Limits()).ok());
}

TaskInfo Task(const std::string& id, const std::string& uri, const std::string& db,
              const std::string& coll) {
  TaskInfo t;
  t.task_id = id;
  t.milvus.uri = uri;
  if (db == "default") {
    t.collection_infos = {{coll, {}, false}};
  } else {
    t.db_collections = {{db, {{coll, {}, false}}}};
  }
  return t;
}

TEST(CheckDuplicatesTest, ScopedToTarget) {
  std::vector<TaskInfo> existing = {Task("a", "http://t1:19530", "default", "c1")};
  auto same = CheckDuplicates(Task("b", "http://t1:19530", "default", "c1"), existing);
  ExpectInvalid(same.status(), "the collection name is duplicate with existing task, [default.c1]");
  EXPECT_TRUE(CheckDuplicates(Task("b", "http://t2:19530", "default", "c1"), existing).ok());
  EXPECT_TRUE(CheckDuplicates(Task("b", "http://t1:19530", "default", "c2"), existing).ok());
  EXPECT_TRUE(CheckDuplicates(Task("b", "http://t1:19530", "db2", "c1"), existing).ok());
}

TEST(CheckDuplicatesTest, WildcardsFollowUpstream) {
  std::vector<TaskInfo> star = {Task("a", "http://t1:19530", "default", "*")};
  // A named collection under an existing wildcard overlaps.
  ExpectInvalid(CheckDuplicates(Task("b", "http://t1:19530", "default", "c1"), star).status(),
                "[default.c1]");
  // The same wildcard twice is an exact duplicate.
  ExpectInvalid(CheckDuplicates(Task("b", "http://t1:19530", "default", "*"), star).status(),
                "[default.*]");
  // A wider wildcard over existing names is allowed and excludes them.
  std::vector<TaskInfo> named = {Task("a", "http://t1:19530", "default", "c1")};
  auto ex = CheckDuplicates(Task("b", "http://t1:19530", "default", "*"), named);
  ASSERT_TRUE(ex.ok()) << ex.status();
  EXPECT_THAT(*ex, ElementsAre("default.c1"));
  // *.* over existing names is allowed and excludes them; a second *.* is an exact duplicate
  // (upstream checks exact names before it skips *.*).
  auto all = CheckDuplicates(Task("b", "http://t1:19530", "*", "*"), named);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(*all, ElementsAre("default.c1"));
  std::vector<TaskInfo> both = {Task("a", "http://t1:19530", "*", "*")};
  ExpectInvalid(CheckDuplicates(Task("b", "http://t1:19530", "*", "*"), both).status(), "[*.*]");
}

TEST(CheckDuplicatesTest, UserRoleOncePerTarget) {
  auto a = Task("a", "http://t1:19530", "default", "c1");
  a.enable_user_role = true;
  auto b = Task("b", "http://t1:19530", "default", "c2");
  b.enable_user_role = true;
  ExpectInvalid(CheckDuplicates(b, {a}).status(), "the enable user role param is duplicate");
}

TEST(CheckDuplicatesTest, NameMappingMustReferToTaskCollections) {
  auto t = Task("a", "http://t1:19530", "db1", "c1");
  t.name_mapping = {{"db1", "db2", {{"c9", "x"}}}};
  ExpectInvalid(CheckDuplicates(t, {}).status(), "the collection name in the name mapping");
  t.name_mapping = {{"db1", "db2", {{"c1", "x"}}}};
  EXPECT_TRUE(CheckDuplicates(t, {}).ok());
}

TEST(ValidateCreateTest, NameMappingConflictsAreRefused) {
  auto r = Good();
  r.name_mapping = {{"db1", "db2", {{"a", "x"}, {"b", "x"}}}};
  ExpectInvalid(ValidateCreate(r, Limits()),
                "two source collections, db1.a and db1.b, are mapped to one target collection "
                "db2.x");
  r.name_mapping = {{"db1", "db2", {{"a", "a_very_long_name"}}}};
  ExpectInvalid(ValidateCreate(r, Limits()), "exceeds 10 characters");
  r.name_mapping = {{"db1", "db2", {{"a", "x"}}}};
  EXPECT_TRUE(ValidateCreate(r, Limits()).ok());
}

TEST(CheckDuplicatesTest, AMappingOntoNamesAnotherTaskWritesIsRefused) {
  // Task a writes default.c1 (no mapping); b maps db1.c1 onto it.
  std::vector<TaskInfo> existing = {Task("a", "http://t1:19530", "default", "c1")};
  auto b = Task("b", "http://t1:19530", "db1", "c1");
  b.name_mapping = {{"db1", "default", {{"c1", "c1"}}}};
  ExpectInvalid(CheckDuplicates(b, existing).status(),
                "name mapping: db1.c1 would be written to default.c1 on the target, where "
                "task a already writes default.c1");
  // A whole database of another task is written too.
  existing = {Task("a", "http://t1:19530", "db9", "*")};
  b.name_mapping = {{"db1", "db9", {}}};
  ExpectInvalid(CheckDuplicates(b, existing).status(), "where task a already writes db9.*");
  // The other way round: the existing task's mapping writes the new task's names.
  auto a = Task("a", "http://t1:19530", "db1", "c1");
  a.name_mapping = {{"db1", "db2", {{"c1", "x"}}}};
  ExpectInvalid(CheckDuplicates(Task("b", "http://t1:19530", "db2", "x"), {a}).status(),
                "db2.x would be written to db2.x on the target, where task a already writes "
                "db1.c1 (as db2.x)");
  // Other names, or another target: fine.
  EXPECT_TRUE(CheckDuplicates(Task("b", "http://t1:19530", "db2", "y"), {a}).ok());
  auto other = Task("b", "http://t2:19530", "db2", "x");
  EXPECT_TRUE(CheckDuplicates(other, {a}).ok());
}

}  // namespace
}  // namespace cdc::task
