// Drives the real milvus-cdc binary over HTTP: every request type, every error case, restarts
// (SIGTERM and kill -9) with tasks, states and reasons surviving, per meta store.
// Targets are a trivial local gRPC server (grpc_target.h); the real Milvus target is proven by
// the end-to-end suite.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "cdc_process.h"
#include "grpc_target.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

std::string TempDir(const std::string& name) { return FreshTempDir("cdc-api-it", name); }

// The metaStoreConfig section for a store kind, or "" if its server is not configured.
std::string StoreYaml(const std::string& kind, const std::string& root) {
  if (kind == "sqlite") {
    return "metaStoreConfig:\n  storeType: sqlite\n  rootPath: " + root +
           "\n  sqlite:\n    path: data/meta.db\n";
  }
  if (kind == "etcd") {
    const char* ep = std::getenv("CDC_TEST_ETCD");
    if (!ep || !*ep) return "";
    return "metaStoreConfig:\n  storeType: etcd\n  rootPath: " + root +
           "\n  etcd:\n    address: [http://" + std::string(ep) + "]\n";
  }
  const char* url = std::getenv("CDC_TEST_MYSQL");
  if (!url || !*url) return "";
  return "metaStoreConfig:\n  storeType: mysql\n  rootPath: " + root + "\n  mysqlSourceUrl: '" +
         std::string(url) + "'\n";
}

class ApiIntegrationTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(target_.ok());
    root_ = "cdc-it-" + std::to_string(::getpid()) + "-" + std::to_string(FreePort());
    store_yaml_ = StoreYaml(GetParam(), root_);
    if (store_yaml_.empty()) GTEST_SKIP() << GetParam() << " server not configured";
    if (!HasLiveSource()) GTEST_SKIP() << kNoLiveSource;
    cdc_ = std::make_unique<CdcProcess>(TempDir(GetParam()));
    cdc_->WriteConfig(store_yaml_ + "maxTaskNum: 3\nmaxNameLength: 20\nlogLevel: debug\n" +
                      SourceYaml());
    ASSERT_TRUE(cdc_->Start()) << cdc_->log();
  }
  void TearDown() override {
    if (cdc_ && cdc_->Running()) {
      EXPECT_EQ(cdc_->Stop(), 0) << cdc_->log();
    }
    if (cdc_ && !HasFailure()) std::filesystem::remove_all(cdc_->dir());
  }

  json Target(const std::string& uri) {
    return {{"uri", uri}, {"token", "root:TopSecret"}, {"connect_timeout", 2}};
  }
  json CreateBody(const std::string& coll) {
    return {{"milvus_connect_param", Target(target_.uri())},
            {"collection_infos", {{{"name", coll}}}}};
  }
  std::string Create(const json& body) {
    json r = cdc_->Call("create", body);
    EXPECT_EQ(r["code"], 200) << r.dump();
    std::string id = r["data"].value("task_id", "");
    EXPECT_EQ(id.size(), 32u) << r.dump();
    return id;
  }
  json Task(const std::string& id) {
    json r = cdc_->Call("get", {{"task_id", id}});
    EXPECT_EQ(r["code"], 200) << r.dump();
    return r["data"]["task"];
  }
  void ExpectError(const json& r, int code, const std::string& msg) {
    EXPECT_EQ(r.value("code", 0), code) << r.dump();
    EXPECT_THAT(r.value("message", ""), HasSubstr(msg)) << r.dump();
  }
  void Restart(bool kill9) {
    if (kill9) {
      cdc_->Kill();
    } else {
      ASSERT_EQ(cdc_->Stop(), 0) << cdc_->log();
    }
    ASSERT_TRUE(cdc_->Start()) << cdc_->log();
  }

  GrpcTarget target_;
  std::string root_, store_yaml_;
  std::unique_ptr<CdcProcess> cdc_;
};

TEST_P(ApiIntegrationTest, EveryErrorCaseAnswersClearlyAndServerStaysUp) {
  auto [hs, hb] = cdc_->Request("GET", "/healthz");
  EXPECT_EQ(hs, 200);
  EXPECT_EQ(hb, "OK");
  for (const char* m : {"GET", "PUT", "DELETE"}) {
    auto [code, body] = cdc_->Request(m, "/cdc");
    EXPECT_EQ(code, 200) << m;  // upstream: the error is in `code`
    ExpectError(json::parse(body), 405, "only support the POST method");
  }
  auto [nf, nfb] = cdc_->Request("POST", "/nowhere", "{}");
  EXPECT_EQ(nf, 404);
  EXPECT_THAT(nfb, HasSubstr("POST /nowhere"));
  auto [bs, bb] = cdc_->Request("POST", "/cdc", "{\"request_type\": ");
  ExpectError(json::parse(bb), 400, "fail to unmarshal the request, error: malformed JSON");
  ExpectError(cdc_->Call("explode", json::object()), 400,
              "invalid 'request_type' param, can be set [create delete pause resume get "
              "position list maintenance verify]");
  ExpectError(cdc_->Call("get", json::object()), 400, "task_id is empty");
  ExpectError(cdc_->Call("get", {{"task_id", "nope"}}), 400, "not found: [nope]");
  ExpectError(cdc_->Call("delete", {{"task_id", "nope"}}), 400,
              "not found the task, task_id: nope");
  EXPECT_EQ(cdc_->Call("delete", {{"task_id", "nope"}, {"ignore_not_found", true}})["code"], 200);
  ExpectError(cdc_->Call("pause", {{"task_id", "nope"}}), 400, "not found the task");
  ExpectError(cdc_->Call("resume", {{"task_id", "nope"}}), 400, "not found the task");
  ExpectError(cdc_->Call("position", {{"task_id", "nope"}}), 400, "not found the task");
  ExpectError(cdc_->Call("create", {{"milvus_connect_param", {{"port", "x"}}}}), 500,
              "fail to decode the create request, error: 'milvus_connect_param.port'");
  ExpectError(cdc_->Call("create", json::object()), 400, "the downstream address is empty");
  ExpectError(cdc_->Call("create", CreateBody(std::string(21, 'x'))), 400, "exceeds 20 characters");
  // A target that does not answer: refused naming it, nothing stored.
  std::string dead = "http://127.0.0.1:" + std::to_string(FreePort());
  json body = CreateBody("c1");
  body["milvus_connect_param"] = Target(dead);
  body["milvus_connect_param"]["connect_timeout"] = 1;
  json r = cdc_->Call("create", body);
  ExpectError(r, 500, dead.substr(7));  // the target's host:port
  EXPECT_THAT(r.dump(), Not(HasSubstr("TopSecret")));
  EXPECT_EQ(cdc_->Call("list", nullptr)["data"]["tasks"], json::array());

  // Limits and state errors.
  std::string a = Create(CreateBody("c1"));
  ExpectError(cdc_->Call("create", CreateBody("c1")), 400,
              "the collection name is duplicate with existing task, [default.c1]");
  ExpectError(cdc_->Call("resume", {{"task_id", a}}), 400, "the task has running, task_id: " + a);
  ASSERT_EQ(cdc_->Call("pause", {{"task_id", a}})["code"], 200);
  ExpectError(cdc_->Call("pause", {{"task_id", a}}), 400, "the task has paused, task_id: " + a);
  Create(CreateBody("c2"));
  Create(CreateBody("c3"));
  ExpectError(cdc_->Call("create", CreateBody("c4")), 500, "the task num has reach the limit, 3");

  // Still healthy, and the metrics saw it all.
  auto [ms, mb] = cdc_->Request("GET", "/metrics");
  EXPECT_EQ(ms, 200);
  EXPECT_THAT(mb, HasSubstr("milvus_cdc_task_num{task_state=\"Running\"} 2"));
  EXPECT_THAT(mb, HasSubstr("milvus_cdc_task_num{task_state=\"Paused\"} 1"));
  EXPECT_THAT(mb, HasSubstr("milvus_cdc_request_code_total{request_type=\"create\",code=\"400\"}"));
  EXPECT_THAT(mb, HasSubstr("request_type=\"unknown\",code=\"405\"} 3"));
  auto [ms2, mb2] = cdc_->Request("GET", "/cdc/metrics");
  EXPECT_EQ(ms2, 200);
  EXPECT_THAT(mb2, HasSubstr("milvus_cdc_task_num"));
  EXPECT_THAT(cdc_->log(), Not(HasSubstr("TopSecret")));
}

TEST_P(ApiIntegrationTest, EveryRequestTypeAndTasksSurviveRestarts) {
  std::string a = Create(CreateBody("c1"));
  json db_body = {{"milvus_connect_param", Target(target_.uri())},
                  {"db_collections", {{"db1", {{{"name", "*"}}}}}}};
  std::string b = Create(db_body);
  json legacy = {{"milvus_connect_param",
                  {{"host", "127.0.0.1"}, {"port", target_.port()}, {"connect_timeout", 2}}},
                 {"collection_infos", {{{"name", "*"}}}},
                 {"task_id", "fixed-id"}};
  ASSERT_EQ(cdc_->Call("create", legacy)["data"]["task_id"], "fixed-id");
  ASSERT_EQ(cdc_->Call("create", legacy)["data"]["task_id"], "fixed-id");  // idempotent

  json got = cdc_->Call("get", {{"task_id", a}});
  ASSERT_EQ(got["code"], 200);
  EXPECT_EQ(got["data"]["task"], got["data"]["Task"]);
  EXPECT_EQ(got["data"]["task"]["state"], "Running");
  EXPECT_EQ(got["data"]["task"]["milvus_connect_param"]["uri"], target_.uri());
  EXPECT_THAT(got.dump(), Not(HasSubstr("TopSecret")));
  EXPECT_EQ(Task(b)["db_collections"]["db1"][0]["name"], "*");
  json list = cdc_->Call("list", nullptr);
  ASSERT_EQ(list["data"]["tasks"].size(), 3u);
  EXPECT_THAT(list.dump(), Not(HasSubstr("TopSecret")));
  json pos = cdc_->Call("position", {{"task_id", a}});
  EXPECT_EQ(pos["code"], 200) << pos.dump();
  EXPECT_TRUE(pos["data"].contains("positions"));
  json mt = cdc_->Call("maintenance",
                       {{"operation", "set_log_level"}, {"params", {{"log_level", "info"}}}});
  EXPECT_EQ(mt["data"]["State"], "set log level to info");

  ASSERT_EQ(cdc_->Call("pause", {{"task_id", b}})["code"], 200);

  // Clean restart: Running stays Running, Paused stays Paused with its reason.
  Restart(/*kill9=*/false);
  EXPECT_EQ(Task(a)["state"], "Running");
  EXPECT_EQ(Task(b)["state"], "Paused");
  EXPECT_EQ(Task(b)["reason"], "manually pause through http interface");
  EXPECT_EQ(Task("fixed-id")["state"], "Running");

  // kill -9 after more changes.
  ASSERT_EQ(cdc_->Call("pause", {{"task_id", a}})["code"], 200);
  ASSERT_EQ(cdc_->Call("resume", {{"task_id", b}})["code"], 200);
  ASSERT_EQ(cdc_->Call("delete", {{"task_id", "fixed-id"}})["code"], 200);
  Restart(/*kill9=*/true);
  EXPECT_EQ(Task(a)["state"], "Paused");
  EXPECT_EQ(Task(a)["reason"], "manually pause through http interface");
  EXPECT_EQ(Task(b)["state"], "Running");
  // Resume cleared the pause reason; a Running task may carry what the pipeline is retrying.
  EXPECT_NE(Task(b).value("reason", ""), "manually pause through http interface");
  ExpectError(cdc_->Call("get", {{"task_id", "fixed-id"}}), 400, "not found: [fixed-id]");
  EXPECT_EQ(cdc_->Call("list", nullptr)["data"]["tasks"].size(), 2u);

  // Duplicate detection still knows the recovered tasks.
  ExpectError(cdc_->Call("create", CreateBody("c1")), 400, "duplicate with existing task");
  Restart(/*kill9=*/true);
  EXPECT_EQ(Task(a)["state"], "Paused");
  ASSERT_EQ(cdc_->Call("delete", {{"task_id", a}})["code"], 200);
  ASSERT_EQ(cdc_->Call("delete", {{"task_id", b}})["code"], 200);
  Restart(/*kill9=*/false);
  EXPECT_EQ(cdc_->Call("list", nullptr)["data"]["tasks"], json::array());
}

INSTANTIATE_TEST_SUITE_P(Stores, ApiIntegrationTest, ::testing::Values("sqlite", "etcd", "mysql"),
                         [](const auto& info) { return info.param; });

TEST(ApiBadConfigTest, ExitsNonZeroNamingTheKey) {
  CdcProcess cdc(TempDir("badconfig"));
  cdc.WriteConfig("maxTaskNum: lots\nsourceConfig:\n  replicateChan: x\n");
  EXPECT_EQ(cdc.RunToExit(), 1);
  EXPECT_THAT(cdc.log(), HasSubstr("config key maxTaskNum: got 'lots', expected an integer"));
  cdc.WriteConfig("sourceConfig:\n  replicateChan: x\nmetaStoreConfig:\n  storeType: redis\n");
  EXPECT_EQ(cdc.RunToExit(), 1);
  EXPECT_THAT(cdc.log(), HasSubstr("metaStoreConfig.storeType: got 'redis'"));
  cdc.WriteConfig("sourceConfig:\n  replicateChan: x\nbogusKey: 1\n");
  // Unknown keys only warn: the server starts.
  ASSERT_TRUE(cdc.Start()) << cdc.log();
  EXPECT_THAT(cdc.log(), HasSubstr("unknown config key bogusKey"));
  EXPECT_EQ(cdc.Stop(), 0);
  std::filesystem::remove_all(cdc.dir());
}

}  // namespace
}  // namespace cdc::testing
