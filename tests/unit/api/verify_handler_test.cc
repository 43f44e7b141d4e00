// The `verify` request of POST /cdc, its summary in `get` and its gauges, over a Verifier on
// in-memory Milvus fakes (tests/unit/verify/fake_reader.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/cdc_handler.h"
#include "api/metrics.h"
#include "meta/memory/memory_store.h"
#include "unit/task/task_fakes.h"
#include "unit/verify/fake_reader.h"
#include "verify/verifier.h"

namespace cdc::api {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

// Tasks from the manager, every collection selected, always caught up.
class AllCaughtUp final : public verify::TaskView {
 public:
  explicit AllCaughtUp(task::TaskManager* m) : m_(m) {}
  Result<task::TaskInfo> Get(const std::string& id) override { return m_->Get(id); }
  task::TaskHealth Health(const std::string&) override {
    task::TaskHealth h;
    h.applied_ts = ~uint64_t{0};
    return h;
  }
  bool Selected(const task::TaskInfo&, const std::string&, const std::string&) override {
    return true;
  }

 private:
  task::TaskManager* m_;
};

class VerifyHandlerTest : public ::testing::Test {
 protected:
  VerifyHandlerTest() {
    task::ManagerOptions o;
    o.limits = {16, "by-dev-replicate-msg"};
    tasks_ = std::make_unique<task::TaskManager>(&store_, &replicator_, &probe_, o);
    handler_ = std::make_unique<CdcHandler>(tasks_.get());
    for (auto* r : {source_.get(), target_.get()}) {
      r->collections["c1"] = verify::testing::MakeCollection("c1");
      for (int64_t k = 0; k < 20; ++k) r->collections["c1"].rows[target::PrimaryKey(k)];
    }
    view_ = std::make_unique<AllCaughtUp>(tasks_.get());
    verify::ReaderFactory f;
    f.source = [this]() -> Result<std::shared_ptr<target::MilvusReader>> { return source_; };
    f.target = [this](const task::TaskInfo&) -> Result<std::shared_ptr<target::MilvusReader>> {
      return target_;
    };
    verify::VerifierOptions vo;
    vo.sleep_hook = [](std::chrono::milliseconds) {};
    verifier_ = std::make_unique<verify::Verifier>(view_.get(), std::move(f), std::move(vo));
  }
  json Call(const std::string& type, const json& data) {
    return handler_->Handle("POST", json{{"request_type", type}, {"request_data", data}}.dump())
        .envelope;
  }
  std::string Create() {
    json r = Call("create", {{"milvus_connect_param", {{"uri", "http://t:19530"}}},
                             {"collection_infos", {{{"name", "*"}}}}});
    EXPECT_EQ(r["code"], 200) << r.dump();
    return r["data"]["task_id"].get<std::string>();
  }

  meta::MemoryStore store_;
  task::RecordingReplicator replicator_;
  task::FakeProbe probe_;
  std::unique_ptr<task::TaskManager> tasks_;
  std::unique_ptr<CdcHandler> handler_;
  std::shared_ptr<verify::testing::FakeReader> source_ =
      std::make_shared<verify::testing::FakeReader>("source");
  std::shared_ptr<verify::testing::FakeReader> target_ =
      std::make_shared<verify::testing::FakeReader>("target");
  std::unique_ptr<AllCaughtUp> view_;
  std::unique_ptr<verify::Verifier> verifier_;
};

TEST_F(VerifyHandlerTest, WithoutAVerifierOrTaskIdItSaysWhy) {
  std::string id = Create();
  json r = Call("verify", {{"task_id", id}});
  EXPECT_EQ(r["code"], 400);
  EXPECT_THAT(r["message"].get<std::string>(),
              HasSubstr("fail to handle the verify request, error: this server cannot verify"));
  handler_->set_verifier(verifier_.get());
  r = Call("verify", json::object());
  EXPECT_EQ(r["code"], 400);
  EXPECT_EQ(r["message"], "fail to handle the verify request, error: task_id is empty");
  r = Call("verify", {{"task_id", id}, {"wait", "yes"}});
  EXPECT_EQ(r["code"], 500);
  EXPECT_EQ(r["message"],
            "fail to decode the verify request, error: 'wait' expected type 'bool', got "
            "unconvertible type 'string'");
  r = Call("verify", {{"task_id", "nope"}});
  EXPECT_EQ(r["code"], 400);
  r = Call("verify", {{"task_id", id}, {"action", "status"}});
  EXPECT_EQ(r["code"], 400);
  EXPECT_THAT(r["message"].get<std::string>(), HasSubstr("no verify has run for task"));
}

TEST_F(VerifyHandlerTest, VerifyWaitsGetShowsItAndMetricsKeepIt) {
  handler_->set_verifier(verifier_.get());
  std::string id = Create();
  target_->collections["c1"].rows.erase(target::PrimaryKey(int64_t{3}));
  json r = Call("verify", {{"task_id", id}, {"wait", true}, {"wait_seconds", 30}});
  ASSERT_EQ(r["code"], 200) << r.dump();
  const json& v = r["data"]["verify"];
  EXPECT_EQ(v["state"], "done");
  EXPECT_EQ(v["equal"], false);
  ASSERT_EQ(v["results"].size(), 1u);
  EXPECT_EQ(v["results"][0]["name"], "default.c1");
  EXPECT_EQ(v["results"][0]["result"], "differs");
  EXPECT_EQ(v["results"][0]["first_differing_keys"][0]["key"], 3);

  json got = Call("get", {{"task_id", id}});
  EXPECT_EQ(got["data"]["task"]["verify"]["results"]["default.c1"], "differs");
  json status = Call("verify", {{"task_id", id}, {"action", "status"}});
  EXPECT_EQ(status["data"]["verify"]["results"][0]["result"], "differs");

  Metrics m;
  m.set_verifier(verifier_.get());
  std::string text = m.Render({});
  EXPECT_THAT(text, HasSubstr("# TYPE milvus_cdc_verify_equal gauge\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_verify_equal{task_id=\"" + id +
                              "\",collection=\"default.c1\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_verify_time_ms{task_id=\"" + id +
                              "\",collection=\"default.c1\"} "));

  target_->collections["c1"].rows[target::PrimaryKey(int64_t{3})];
  r = Call("verify", {{"task_id", id}, {"collections", {"c1"}}, {"wait", true}});
  EXPECT_EQ(r["data"]["verify"]["equal"], true) << r.dump();
  EXPECT_THAT(m.Render({}), HasSubstr("collection=\"default.c1\"} 1\n"));
}

}  // namespace
}  // namespace cdc::api
