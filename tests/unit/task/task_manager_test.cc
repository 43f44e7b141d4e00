#include "task/task_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/strings/match.h"
#include "meta/memory/memory_store.h"
#include "task/task_json.h"
#include "task_fakes.h"

namespace cdc::task {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

CreateRequest Req(const std::string& coll = "*", const std::string& uri = "http://t:19530") {
  CreateRequest r;
  r.milvus.uri = uri;
  r.milvus.token = "root:Milvus";
  r.collection_infos = {{coll, {}, false}};
  return r;
}

class TaskManagerTest : public ::testing::Test {
 protected:
  std::unique_ptr<TaskManager> Make(int max_tasks = 100) {
    ManagerOptions o;
    o.max_task_num = max_tasks;
    o.limits = {256, "by-dev-replicate-msg"};
    return std::make_unique<TaskManager>(&store_, &replicator_, &probe_, o);
  }
  void ExpectCode(const Status& s, StatusCode code, const std::string& msg) {
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(msg));
  }
  meta::MemoryStore store_;
  RecordingReplicator replicator_;
  FakeProbe probe_;
};

TEST(TransitionTest, RuleBook) {
  using S = TaskState;
  EXPECT_TRUE(CheckTransition(S::kInitial, S::kRunning).ok());
  EXPECT_TRUE(CheckTransition(S::kInitial, S::kPaused).ok());
  EXPECT_TRUE(CheckTransition(S::kPaused, S::kRunning).ok());
  EXPECT_TRUE(CheckTransition(S::kRunning, S::kPaused).ok());
  Status s = CheckTransition(S::kRunning, S::kRunning);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "the task state can be only set to [Running] when current state is [Initial Paused], "
            "but current state is Running. You can retry it.");
  EXPECT_FALSE(CheckTransition(S::kPaused, S::kPaused).ok());
  EXPECT_FALSE(CheckTransition(S::kRunning, S::kInitial).ok());
}

TEST_F(TaskManagerTest, CreateStoresRunningTaskAndStartsIt) {
  auto m = Make();
  auto id = m->Create(Req());
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->size(), 32u);
  auto t = m->Get(*id);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->State(), TaskState::kRunning);
  EXPECT_GT(t->create_time_ms, 0);
  // The start is fixed before create answers, then the task starts.
  EXPECT_THAT(replicator_.calls, ElementsAre("fix start " + *id, "start " + *id));
  EXPECT_EQ(probe_.milvus_calls, 1);
  EXPECT_EQ(probe_.last_timeout, std::chrono::seconds(5));
  auto stored = store_.GetTask(*id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  auto decoded = FromStoredJson((*stored)->info_json);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->state, 1);
  EXPECT_EQ(decoded->milvus.token, "root:Milvus");  // kept for reconnects
}

TEST_F(TaskManagerTest, CreateIsIdempotentForAGivenTaskId) {
  auto m = Make();
  auto r = Req();
  r.task_id = "my-task";
  ASSERT_EQ(*m->Create(r), "my-task");
  ASSERT_EQ(*m->Create(r), "my-task");
  EXPECT_EQ(m->List().size(), 1u);
  r.task_id = "bad id!";
  ExpectCode(m->Create(r).status(), StatusCode::kInvalidArgument, "the task_id 'bad id!'");
}

TEST_F(TaskManagerTest, CreateRefusals) {
  auto m = Make(/*max_tasks=*/2);
  ASSERT_TRUE(m->Create(Req("c1")).ok());
  ExpectCode(m->Create(Req("c1")).status(), StatusCode::kInvalidArgument,
             "the collection name is duplicate with existing task, [default.c1]");
  ASSERT_TRUE(m->Create(Req("c2")).ok());
  ExpectCode(m->Create(Req("c3")).status(), StatusCode::kResourceExhausted,
             "the task num has reach the limit, 2");
  ExpectCode(m->Create(CreateRequest{}).status(), StatusCode::kInvalidArgument,
             "the downstream address is empty");
  EXPECT_EQ(m->List().size(), 2u);
}

TEST_F(TaskManagerTest, CreateRefusedWhenTargetDown) {
  auto m = Make();
  probe_.answer = UnavailableError("fail to connect the milvus: target milvus http://t:19530");
  auto r = Req();
  r.milvus.connect_timeout = 2;
  ExpectCode(m->Create(r).status(), StatusCode::kUnavailable, "http://t:19530");
  EXPECT_EQ(probe_.last_timeout, std::chrono::seconds(2));
  EXPECT_TRUE(m->List().empty());
  EXPECT_TRUE(store_.ListTasks()->empty());
}

TEST_F(TaskManagerTest, CreateRemovesTaskWhenStartFails) {
  auto m = Make();
  replicator_.start_status = InvalidArgumentError("bad params");
  ExpectCode(m->Create(Req()).status(), StatusCode::kInvalidArgument,
             "fail to start task, err: bad params");
  EXPECT_TRUE(m->List().empty());
  EXPECT_TRUE(store_.ListTasks()->empty());
}

TEST_F(TaskManagerTest, DisableAutoStartCreatesPaused) {
  auto m = Make();
  auto r = Req();
  r.disable_auto_start = true;
  auto id = m->Create(r);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(m->Get(*id)->State(), TaskState::kPaused);
  EXPECT_EQ(m->Get(*id)->reason, "the task is disabled auto start");
  // Its start is fixed at create all the same; it is not started.
  EXPECT_THAT(replicator_.calls, ElementsAre("fix start " + *id));
}

TEST_F(TaskManagerTest, PauseResumeDelete) {
  auto m = Make();
  std::string id = *m->Create(Req());
  ASSERT_TRUE(m->Pause(id).ok());
  EXPECT_EQ(m->Get(id)->State(), TaskState::kPaused);
  EXPECT_EQ(m->Get(id)->reason, "manually pause through http interface");
  ExpectCode(m->Pause(id), StatusCode::kFailedPrecondition, "the task has paused, task_id: " + id);
  ASSERT_TRUE(m->Resume(id).ok());
  EXPECT_EQ(m->Get(id)->State(), TaskState::kRunning);
  EXPECT_EQ(m->Get(id)->reason, "");
  ExpectCode(m->Resume(id), StatusCode::kFailedPrecondition,
             "the task has running, task_id: " + id);
  ASSERT_TRUE(m->Delete(id, false).ok());
  EXPECT_THAT(replicator_.calls, ElementsAre("fix start " + id, "start " + id, "stop " + id,
                                             "start " + id, "stop " + id));
  ExpectCode(m->Delete(id, false), StatusCode::kNotFound, "not found the task, task_id: " + id);
  EXPECT_TRUE(m->Delete(id, true).ok());
  EXPECT_TRUE(store_.ListTasks()->empty());
}

TEST_F(TaskManagerTest, UnknownAndEmptyIds) {
  auto m = Make();
  ExpectCode(m->Get("").status(), StatusCode::kInvalidArgument, "task_id is empty");
  ExpectCode(m->Get("nope").status(), StatusCode::kNotFound, "not found: [nope]");
  ExpectCode(m->Pause("nope"), StatusCode::kNotFound, "not found the task, task_id: nope");
  ExpectCode(m->Resume("nope"), StatusCode::kNotFound, "not found the task, task_id: nope");
  ExpectCode(m->Positions("nope").status(), StatusCode::kNotFound, "task_id: nope");
  ExpectCode(m->Pause(""), StatusCode::kInvalidArgument, "task_id is empty");
}

TEST_F(TaskManagerTest, ResumeFailureKeepsPaused) {
  auto m = Make();
  std::string id = *m->Create(Req());
  ASSERT_TRUE(m->Pause(id).ok());
  replicator_.start_status = InternalError("boom");
  ExpectCode(m->Resume(id), StatusCode::kInternal, "fail to start the task, task_id: " + id);
  EXPECT_EQ(m->Get(id)->State(), TaskState::kPaused);
}

TEST_F(TaskManagerTest, RecoverRestartsRunningKeepsPaused) {
  std::string running, paused, initial;
  {
    auto m = Make();
    running = *m->Create(Req("c1"));
    paused = *m->Create(Req("c2"));
    ASSERT_TRUE(m->Pause(paused).ok());
  }
  // A task stored but never started (crash between store and start).
  TaskInfo t;
  t.task_id = initial = "init0";
  t.milvus.uri = "http://t:19530";
  t.collection_infos = {{"c3", {}, false}};
  ASSERT_TRUE(store_.PutTask({t.task_id, ToStoredJson(t).dump()}).ok());
  ASSERT_TRUE(store_.PutTask({"junk", "not json"}).ok());
  replicator_.calls.clear();

  auto m = Make();
  ASSERT_TRUE(m->Recover().ok());
  EXPECT_EQ(m->Get(running)->State(), TaskState::kRunning);
  EXPECT_EQ(m->Get(paused)->State(), TaskState::kPaused);
  EXPECT_EQ(m->Get(paused)->reason, "manually pause through http interface");
  EXPECT_EQ(m->Get(initial)->State(), TaskState::kRunning);
  EXPECT_EQ(replicator_.calls.size(), 2u);
  EXPECT_EQ(m->List().size(), 3u);
  auto counts = m->CountByState();
  EXPECT_EQ(counts["Running"], 2);
  EXPECT_EQ(counts["Paused"], 1);
}

TEST_F(TaskManagerTest, RecoverPausesTaskThatCannotStart) {
  std::string id;
  {
    auto m = Make();
    id = *m->Create(Req());
  }
  replicator_.start_status = InvalidArgumentError("no such source");
  auto m = Make();
  ASSERT_TRUE(m->Recover().ok());
  EXPECT_EQ(m->Get(id)->State(), TaskState::kPaused);
  EXPECT_EQ(m->Get(id)->reason, "fail to start task, err: no such source");
}

TEST_F(TaskManagerTest, ReplicatorEventsUpdateReasonAndPause) {
  auto m = Make();
  std::string id = *m->Create(Req());
  ASSERT_NE(replicator_.events_, nullptr);
  replicator_.events_->ReportReason(id, "source etcd down, retrying");
  EXPECT_EQ(m->Get(id)->State(), TaskState::kRunning);
  EXPECT_EQ(m->Get(id)->reason, "source etcd down, retrying");
  replicator_.events_->ReportFailure(id, "fail to read the replicate event");
  EXPECT_EQ(m->Get(id)->State(), TaskState::kPaused);
  EXPECT_EQ(m->Get(id)->reason, "fail to read the replicate event");
  // Survives a restart.
  auto again = Make();
  ASSERT_TRUE(again->Recover().ok());
  EXPECT_EQ(again->Get(id)->reason, "fail to read the replicate event");
}

TEST_F(TaskManagerTest, CreateFailsAndKeepsNothingWhenTheStartCannotBeFixed) {
  auto m = Make();
  replicator_.fix_start_status = UnavailableError("kafka 127.0.0.1:1: unreachable");
  auto id = m->Create(Req());
  ExpectCode(id.status(), StatusCode::kUnavailable, "fail to fix the start of the task");
  EXPECT_THAT(std::string(id.status().message()), HasSubstr("kafka 127.0.0.1:1"));
  EXPECT_TRUE(m->List().empty());
  auto stored = store_.ListTasks();
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->empty());
  // The source refusing the server's credentials is the server's error, not the request's.
  replicator_.fix_start_status = Status(StatusCode::kPermissionDenied, "source etcd: no access");
  ExpectCode(m->Create(Req()).status(), StatusCode::kInternal, "source etcd: no access");
}

// A meta store that refuses task writes while `down` is set.
class DownStore final : public meta::MemoryStore {
 public:
  Status PutTask(const meta::TaskRecord& t) override {
    if (down) return UnavailableError("mysql 127.0.0.1:1: connect: refused (test)");
    return meta::MemoryStore::PutTask(t);
  }
  std::atomic<bool> down{false};
};

TEST_F(TaskManagerTest, AReasonShowsAtOnceAlsoWhileTheMetaStoreIsDown) {
  DownStore store;
  ManagerOptions o;
  o.limits = {256, "by-dev-replicate-msg"};
  TaskManager m(&store, &replicator_, &probe_, o);
  auto id = m.Create(Req());
  ASSERT_TRUE(id.ok()) << id.status();
  store.down = true;
  replicator_.events_->ReportReason(*id, "write checkpoint: mysql 127.0.0.1:1: refused");
  EXPECT_EQ(m.Get(*id)->reason, "write checkpoint: mysql 127.0.0.1:1: refused");
  store.down = false;
  replicator_.events_->ReportReason(*id, "");
  EXPECT_EQ(m.Get(*id)->reason, "");
  auto stored = store.GetTask(*id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(FromStoredJson((*stored)->info_json)->reason, "");
}

TEST_F(TaskManagerTest, ConcurrentCreatesOfOneCollectionYieldOneTask) {
  auto m = Make();
  constexpr int kThreads = 8;
  std::atomic<int> ok{0}, dup{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      auto r = m->Create(Req("same"));
      if (r.ok()) {
        ++ok;
      } else if (absl::StrContains(r.status().message(), "duplicate")) {
        ++dup;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(dup.load(), kThreads - 1);
  EXPECT_EQ(m->List().size(), 1u);
  EXPECT_EQ(store_.ListTasks()->size(), 1u);
}

TEST_F(TaskManagerTest, KafkaTargetUsesKafkaProbe) {
  auto m = Make();
  CreateRequest r;
  r.kafka.address = "127.0.0.1:9092";
  r.kafka.topic = "t";
  r.collection_infos = {{"*", {}, false}};
  ASSERT_TRUE(m->Create(r).ok());
  EXPECT_EQ(probe_.kafka_calls, 1);
}

}  // namespace
}  // namespace cdc::task
