#include "verify/verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "unit/verify/fake_reader.h"
#include "verify/verify_json.h"

namespace cdc::verify {
namespace {

using ::testing::ElementsAre;
using testing::FakeReader;
using ::testing::HasSubstr;
using testing::MakeCollection;

// Tasks by id; a task selects the collections in `selected` ("db.coll").
class FakeTasks final : public TaskView {
 public:
  std::mutex mu;
  std::map<std::string, task::TaskInfo> tasks;
  std::set<std::string> selected = {"default.c1", "default.c2", "default.only_target"};
  std::atomic<uint64_t> applied{~uint64_t{0}};
  std::string set_aside;  // a collection the task sets aside

  void Add(const std::string& id, task::TaskState state = task::TaskState::kRunning) {
    std::lock_guard l(mu);
    task::TaskInfo t;
    t.task_id = id;
    t.state = static_cast<int>(state);
    t.milvus.uri = "http://target:19530";
    tasks[id] = t;
  }
  Result<task::TaskInfo> Get(const std::string& id) override {
    std::lock_guard l(mu);
    auto it = tasks.find(id);
    if (it == tasks.end()) return NotFoundError("not found: [" + id + "]");
    return it->second;
  }
  task::TaskHealth Health(const std::string&) override {
    task::TaskHealth h;
    h.applied_ts = applied.load();
    if (!set_aside.empty()) h.collections.push_back({set_aside, "set_aside", "refused", 1, ""});
    return h;
  }
  bool Selected(const task::TaskInfo&, const std::string& db, const std::string& c) override {
    return selected.count(db + "." + c) > 0;
  }
};

class VerifierJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* r : {source_.get(), target_.get()}) {
      r->collections["c1"] = MakeCollection("c1");
      r->collections["c2"] = MakeCollection("c2");
      r->collections["not_selected"] = MakeCollection("not_selected");
      for (int64_t k = 0; k < 50; ++k) r->collections["c1"].rows[target::PrimaryKey(k)];
    }
    target_->collections["only_target"] = MakeCollection("only_target");
    tasks_.Add("t1");
  }

  std::unique_ptr<Verifier> Make(bool with_source = true) {
    ReaderFactory f;
    if (with_source)
      f.source = [this]() -> Result<std::shared_ptr<target::MilvusReader>> {
        return std::shared_ptr<target::MilvusReader>(source_);
      };
    f.target = [this](const task::TaskInfo&) -> Result<std::shared_ptr<target::MilvusReader>> {
      return std::shared_ptr<target::MilvusReader>(target_);
    };
    VerifierOptions o;
    o.sleep_hook = [](std::chrono::milliseconds) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    };
    return std::make_unique<Verifier>(&tasks_, std::move(f), std::move(o));
  }

  VerifyRequest Request(std::vector<std::string> collections = {}) {
    VerifyRequest r;
    r.task_id = "t1";
    r.collections = std::move(collections);
    r.options.recheck_delay = std::chrono::milliseconds(1);
    r.options.catch_up_timeout = std::chrono::milliseconds(300);
    return r;
  }

  FakeTasks tasks_;
  std::shared_ptr<FakeReader> source_ = std::make_shared<FakeReader>("source");
  std::shared_ptr<FakeReader> target_ = std::make_shared<FakeReader>("target");
};

TEST_F(VerifierJobTest, RefusesWhatCannotBeVerified) {
  auto v = Make();
  auto other = Request();
  other.task_id = "nope";
  auto r = v->Start(other);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  tasks_.Add("paused", task::TaskState::kPaused);
  other.task_id = "paused";
  r = v->Start(other);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("is Paused"));
  r = v->Start(Request({"default.not_selected"}));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("default.not_selected is not replicated by task t1"));
  r = v->Start(Request({"db."}));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  auto no_source = Make(false);
  r = no_source->Start(Request());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("sourceConfig.milvus.uri"));
  EXPECT_EQ(v->Get("t1").status().code(), StatusCode::kNotFound);
}

TEST_F(VerifierJobTest, VerifiesEveryCollectionOfTheTaskOnEitherSide) {
  target_->collections["c1"].rows.erase(target::PrimaryKey(int64_t{7}));
  tasks_.set_aside = "default.c1";
  auto v = Make();
  bool started = false;
  auto job = v->Start(Request(), &started);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_TRUE(started);
  auto done = v->Wait("t1", std::chrono::seconds(20));
  ASSERT_TRUE(done.ok());
  ASSERT_EQ(done->state, JobState::kDone) << done->error;
  EXPECT_THAT(done->collections, ElementsAre("default.c1", "default.c2", "default.only_target"));
  ASSERT_EQ(done->results.size(), 3u);
  EXPECT_EQ(done->results[0].verdict, Verdict::kDiffers);
  EXPECT_EQ(done->results[0].note, "set_aside: refused");
  EXPECT_EQ(done->results[1].verdict, Verdict::kEqual);
  EXPECT_EQ(done->results[2].verdict, Verdict::kDiffers);
  EXPECT_EQ(done->results[2].differences[0].detail, "missing on the source, still on the target");
  EXPECT_GT(done->finished_ms, 0);

  auto json = JobJson(*done);
  EXPECT_EQ(json["state"], "done");
  EXPECT_EQ(json["equal"], false);
  EXPECT_EQ(json["collections_done"], 3);
  EXPECT_EQ(json["results"][0]["result"], "differs");
  EXPECT_EQ(json["results"][0]["first_differing_keys"][0]["key"], 7);
  EXPECT_EQ(json["results"][0]["first_differing_keys"][0]["kind"], "missing_on_target");
  EXPECT_EQ(json["results"][0]["first_differing_keys"][0]["partition"], "_default");
  auto summary = JobSummaryJson(*done);
  EXPECT_EQ(summary["results"]["default.c2"], "equal");

  auto gauges = v->Gauges();
  ASSERT_EQ(gauges.size(), 3u);
  EXPECT_EQ(gauges[0].collection, "default.c1");
  EXPECT_EQ(gauges[0].verdict, Verdict::kDiffers);
  {
    std::lock_guard l(tasks_.mu);
    tasks_.tasks.erase("t1");
  }
  EXPECT_TRUE(v->Gauges().empty());  // the task was deleted
}

TEST_F(VerifierJobTest, ARunningJobIsAnsweredNotStartedAgain) {
  std::promise<void> release;
  auto gate = release.get_future().share();
  source_->before_query = [gate](const target::QueryRequest&) { gate.wait(); };
  auto v = Make();
  ASSERT_TRUE(v->Start(Request({"c1"})).ok());
  bool started = true;
  auto again = v->Start(Request({"c2"}), &started);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(started);
  EXPECT_EQ(again->state, JobState::kRunning);
  EXPECT_THAT(again->collections, ElementsAre("default.c1"));  // the running job
  auto waited = v->Wait("t1", std::chrono::milliseconds(50));
  EXPECT_EQ(waited->state, JobState::kRunning);  // bounded wait
  // At most two jobs at once.
  tasks_.Add("t2");
  tasks_.Add("t3");
  auto r2 = Request({"c1"});
  r2.task_id = "t2";
  ASSERT_TRUE(v->Start(r2).ok());
  auto r3 = Request({"c1"});
  r3.task_id = "t3";
  auto third = v->Start(r3);
  EXPECT_EQ(third.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(third.status().message(), HasSubstr("2 verifies are running (tasks t1, t2)"));
  release.set_value();
  EXPECT_EQ(v->Wait("t1", std::chrono::seconds(20))->state, JobState::kDone);
  EXPECT_EQ(v->Wait("t2", std::chrono::seconds(20))->state, JobState::kDone);
  EXPECT_TRUE(v->Start(r3).ok());                        // a slot is free again
  auto restarted = v->Start(Request({"c2"}), &started);  // t1's job is done: a new one
  ASSERT_TRUE(restarted.ok());
  EXPECT_TRUE(started);
}

TEST_F(VerifierJobTest, StopCancelsAJobWaitingForTheTask) {
  tasks_.applied = 0;  // the task never catches up
  auto v = Make();
  auto req = Request({"c1"});
  req.options.catch_up_timeout = std::chrono::hours(1);
  ASSERT_TRUE(v->Start(req).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto t0 = std::chrono::steady_clock::now();
  v->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  auto job = v->Get("t1");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kDone);
  ASSERT_EQ(job->results.size(), 1u);
  EXPECT_EQ(job->results[0].verdict, Verdict::kError);
  EXPECT_THAT(job->results[0].message, HasSubstr("cancelled"));
}

TEST_F(VerifierJobTest, ATaskPausedDuringTheVerifyEndsItWithAnError) {
  tasks_.applied = 0;
  auto v = Make();
  ASSERT_TRUE(v->Start(Request({"c1"})).ok());
  {
    std::lock_guard l(tasks_.mu);
    tasks_.tasks["t1"].state = static_cast<int>(task::TaskState::kPaused);
    tasks_.tasks["t1"].reason = "manually pause through http interface";
  }
  auto job = v->Wait("t1", std::chrono::seconds(20));
  ASSERT_EQ(job->state, JobState::kDone);
  EXPECT_EQ(job->results[0].verdict, Verdict::kError);
  EXPECT_THAT(job->results[0].message, HasSubstr("is no longer running (Paused: manually pause"));
}

TEST(VerifyJsonTest, DecodesTheRequestNamingBadKeys) {
  auto r = DecodeVerifyRequest(nlohmann::json::parse(
      R"({"task_id":"t1","collections":["a.b","c"],"wait":true,"wait_seconds":5,
          "sample_rows":7,"extra":1})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->request.task_id, "t1");
  EXPECT_THAT(r->request.collections, ElementsAre("a.b", "c"));
  EXPECT_TRUE(r->wait);
  EXPECT_EQ(r->wait_for, std::chrono::seconds(5));
  EXPECT_EQ(r->request.options.sample_rows, 7u);
  EXPECT_FALSE(r->status_only);
  auto bad = [](const char* text) {
    auto d = DecodeVerifyRequest(nlohmann::json::parse(text));
    return d.ok() ? std::string("ok") : std::string(d.status().message());
  };
  EXPECT_EQ(bad(R"({"collections":"a.b"})"),
            "'collections' expected type '[]string', got unconvertible type 'string'");
  EXPECT_EQ(bad(R"({"collections":[1]})"),
            "'collections[]' expected type 'string', got unconvertible type 'float64'");
  EXPECT_EQ(bad(R"({"wait":"yes"})"),
            "'wait' expected type 'bool', got unconvertible type 'string'");
  EXPECT_THAT(bad(R"({"wait_seconds":600})"), HasSubstr("'wait_seconds' must be a whole number "
                                                        "from 1 to 60"));
  EXPECT_THAT(bad(R"({"action":"stop"})"), HasSubstr("'action' must be"));
  auto status = DecodeVerifyRequest(nlohmann::json::parse(R"({"action":"status"})"));
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->status_only);
  EXPECT_EQ(KeyJson(target::PrimaryKey("k")), "k");
}

}  // namespace
}  // namespace cdc::verify
