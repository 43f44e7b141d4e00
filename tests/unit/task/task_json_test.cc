#include "task/task_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cdc::task {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

TaskInfo Sample() {
  TaskInfo t;
  t.task_id = "0123456789abcdef0123456789abcdef";
  t.milvus.uri = "https://target:19530";
  t.milvus.token = "root:Milvus";
  t.milvus.username = "root";
  t.milvus.password = "Milvus";
  t.milvus.connect_timeout = 7;
  t.milvus.dial_config.ca_pem_path = "/ca.pem";
  t.kafka.sasl.password = "kafka-secret";
  t.db_collections = {{"db1", {{"c1", {{"ch_1v0", "AAE="}}, true}}}};
  t.state = 2;
  t.reason = "manually pause through http interface";
  t.create_time_ms = 1700000000000;
  t.state_time_ms = 1700000000500;
  t.exclude_collections = {"default.x"};
  return t;
}

TEST(TaskJsonTest, StoredRoundTripKeepsEverything) {
  TaskInfo t = Sample();
  json j = ToStoredJson(t);
  EXPECT_EQ(j["TaskID"], t.task_id);
  EXPECT_EQ(j["State"], 2);
  EXPECT_EQ(j["MilvusConnectParam"]["token"], "root:Milvus");
  EXPECT_EQ(j["MilvusConnectParam"]["dial_config"]["ca_pem_path"], "/ca.pem");
  EXPECT_TRUE(j["CollectionInfos"].is_null());
  EXPECT_EQ(j["DBCollections"]["db1"][0]["positions"]["ch_1v0"], "AAE=");
  for (const char* k :
       {"KafkaConnectParam", "WriterCacheConfig", "NameMapping", "RPCRequestChannelInfo",
        "ExtraInfo", "ExcludeCollections", "DisableAutoStart", "Reason"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  auto back = FromStoredJson(j.dump());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, t);
}

TEST(TaskJsonTest, ReadsUpstreamWrittenDocument) {
  // As the Go server writes it: no CreateTime/StateTime, Go nulls.
  const char* doc = R"({"TaskID":"abc","MilvusConnectParam":{"host":"","port":0,
    "enable_tls":false,"uri":"http://t:19530","token":"tok","dial_config":{},"channel_num":0,
    "ignore_partition":false,"connect_timeout":0},"KafkaConnectParam":{"address":"","topic":"",
    "enable_sasl":false,"sasl":{}},"WriterCacheConfig":{"period":0,"size":0},
    "CollectionInfos":[{"name":"*","positions":null,"use_start_position":false}],
    "DBCollections":null,"NameMapping":null,"RPCRequestChannelInfo":{"name":"","position":""},
    "ExtraInfo":{"enable_user_role":false},"ExcludeCollections":null,"DisableAutoStart":false,
    "State":1,"Reason":""})";
  auto t = FromStoredJson(doc);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->task_id, "abc");
  EXPECT_EQ(t->State(), TaskState::kRunning);
  EXPECT_EQ(t->milvus.token, "tok");
  ASSERT_EQ(t->collection_infos.size(), 1u);
  EXPECT_EQ(t->collection_infos[0].name, "*");
}

TEST(TaskJsonTest, StoredGarbageIsInternal) {
  EXPECT_EQ(FromStoredJson("nope").status().code(), StatusCode::kInternal);
  EXPECT_EQ(FromStoredJson("{\"State\":\"x\",\"TaskID\":\"a\"}").status().code(),
            StatusCode::kInternal);
  EXPECT_EQ(FromStoredJson("{}").status().code(), StatusCode::kInternal);
}

// Found with the stored_task fuzz target: a CreateTime of 1e300 was converted to int64
// (undefined behaviour; UBSan stops here under scripts/check.sh asan without the fix).
TEST(TaskJsonTest, StoredTimesOutOfRangeAreZero) {
  auto t = FromStoredJson(R"({"TaskID":"a","CreateTime":1e300,"StateTime":-1e19})");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->create_time_ms, 0);
  EXPECT_EQ(t->state_time_ms, 0);
  t = FromStoredJson(R"({"TaskID":"a","CreateTime":1700000000000,"StateTime":1.7e12})");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->create_time_ms, 1700000000000);
  EXPECT_EQ(t->state_time_ms, 1700000000000);
}

TEST(TaskJsonTest, ApiViewMasksSecrets) {
  json j = ToApiJson(Sample());
  std::string text = j.dump();
  EXPECT_EQ(j["state"], "Paused");
  EXPECT_EQ(j["reason"], "manually pause through http interface");
  EXPECT_EQ(j["milvus_connect_param"]["uri"], "https://target:19530");
  EXPECT_FALSE(j["milvus_connect_param"].contains("token"));
  EXPECT_FALSE(j["milvus_connect_param"].contains("password"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("Milvus\"")));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("kafka-secret")));
  TaskInfo running = Sample();
  running.state = 1;
  running.reason = "";
  EXPECT_FALSE(ToApiJson(running).contains("reason"));  // omitempty
  running.state = 9;
  EXPECT_EQ(ToApiJson(running)["state"], "Unknown value[9]");
}

TEST(TaskJsonTest, DecodeCreateRequest) {
  json data = json::parse(R"({"milvus_connect_param":{"uri":"http://t:19530","token":"x",
    "connect_timeout":10.0,"dial_config":{"server_name":"s"}},
    "db_collections":{"db":[{"name":"c"}]},"unknown":1,"task_id":"id1",
    "extra_info":{"enable_user_role":true},"rpc_channel_info":{"name":"r"}})");
  auto r = DecodeCreateRequest(data);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->milvus.connect_timeout, 10);
  EXPECT_EQ(r->milvus.dial_config.server_name, "s");
  EXPECT_EQ(r->db_collections.at("db")[0].name, "c");
  EXPECT_EQ(r->task_id, "id1");
  EXPECT_TRUE(r->enable_user_role);
  EXPECT_EQ(r->rpc_channel.name, "r");
}

TEST(TaskJsonTest, DecodeErrorsNameTheField) {
  auto e1 = DecodeCreateRequest(json::parse(R"({"milvus_connect_param":{"connect_timeout":"x"}})"));
  EXPECT_THAT(std::string(e1.status().message()),
              HasSubstr("'milvus_connect_param.connect_timeout' expected type 'int'"));
  auto e2 = DecodeCreateRequest(json::parse(R"({"collection_infos":{"name":"*"}})"));
  EXPECT_THAT(std::string(e2.status().message()), HasSubstr("'collection_infos' expected type"));
  auto e3 = DecodeCreateRequest(json::parse(R"({"collection_infos":[{"name":5}]})"));
  EXPECT_THAT(std::string(e3.status().message()), HasSubstr("'collection_infos[0].name'"));
  auto e4 = DecodeCreateRequest(json::parse(R"({"milvus_connect_param":{"token":7}})"));
  EXPECT_THAT(std::string(e4.status().message()), ::testing::Not(HasSubstr("7")));
  EXPECT_EQ(DecodeStringField(json::parse(R"({"task_id":1})"), "task_id").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(*DecodeStringField(json(), "task_id"), "");
}

TEST(TaskJsonTest, NewTaskIdIs32Hex) {
  std::string a = NewTaskId(), b = NewTaskId();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace cdc::task

namespace cdc::task {
namespace {

TEST(RedactUriTest, HidesCredentials) {
  EXPECT_EQ(RedactUri("http://root:Milvus@h:19530"), "http://***@h:19530");
  EXPECT_EQ(RedactUri("https://h:19530/db?x=a@b"), "https://h:19530/db?x=a@b");
  EXPECT_EQ(RedactUri("u:p@h:1"), "***@h:1");
  EXPECT_EQ(RedactUri("http://h:19530"), "http://h:19530");
}

}  // namespace
}  // namespace cdc::task
