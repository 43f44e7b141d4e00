#pragma once
// The meta::Store contract, one value-parameterised suite run over every backend:
// memory and sqlite (tests/unit/meta), etcd and mysql (tests/integration/meta).
// A test binary instantiates it with
//   INSTANTIATE_TEST_SUITE_P(Name, StoreContractTest, ::testing::Values(Backend{...}), ...);
// Every test works under its own random rootPath and deletes what it wrote.
#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meta/store.h"

namespace cdc::meta::testing {

struct Backend {
  std::string name;
  // Opens a store on the shared backend under `root_path`; two opens with the same root see the
  // same data (for a persistent backend also after the first store was destroyed).
  std::function<Result<std::unique_ptr<Store>>(const std::string& root_path)> open;
  bool persistent = true;
  bool has_root_path = true;
  // Opens a store at an address where nothing listens; nullptr = not applicable.
  std::function<Status()> open_unreachable;
  std::string unreachable_substr;  // the message must contain this (the address)
  // Non-empty: every test is skipped with this message (e.g. an env var is unset).
  std::string skip_reason;
};

// Test names and failure messages show the backend's name, not its bytes.
inline void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param.name;
}

inline const char* kPositions =
    R"({"by-dev-rootcoord-dml_0":{"Time":1700000000000,"DataPair":{"key":"by-dev-rootcoord-dml_0","data":"AQIDBA=="}}})";
inline const char* kOpPositions =
    R"({"by-dev-rootcoord-dml_0":{"Time":1700000000001,"DataPair":{"key":"by-dev-rootcoord-dml_0","data":"BQY="}}})";
inline const char* kTargetPositions =
    R"({"by-dev-rootcoord-dml_3":{"Time":1700000000002,"DataPair":{"key":"by-dev-rootcoord-dml_3","data":"Bwg="}}})";

inline PositionRecord Row(const std::string& task, int64_t collection, std::string name = "coll") {
  return {task, collection, std::move(name), kPositions, kOpPositions, kTargetPositions};
}

inline std::vector<PositionRecord> Sorted(std::vector<PositionRecord> rows) {
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.collection_id < b.collection_id; });
  return rows;
}

inline std::set<std::string> Ids(const std::vector<TaskRecord>& tasks) {
  std::set<std::string> ids;
  for (const auto& t : tasks) ids.insert(t.task_id);
  return ids;
}

class StoreContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!GetParam().skip_reason.empty()) GTEST_SKIP() << GetParam().skip_reason;
    root_ = "cdc-contract-" + std::to_string(std::random_device()());
    store_ = Open(root_);
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    for (auto& [root, ids] : written_) {
      std::unique_ptr<Store> fresh;
      Store* st = store_.get();
      if (root != root_ || st == nullptr) {
        auto opened = GetParam().open(root);
        if (!opened.ok()) continue;
        fresh = std::move(*opened);
        st = fresh.get();
      }
      for (const auto& id : ids) (void)st->DeleteTask(id);
    }
  }
  std::unique_ptr<Store> Open(const std::string& root) {
    auto s = GetParam().open(root);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }
  // Remembers a task to clean up.
  std::string Track(const std::string& id, const std::string& root = "") {
    written_[root.empty() ? root_ : root].insert(id);
    return id;
  }

  std::string root_;
  std::unique_ptr<Store> store_;
  std::map<std::string, std::set<std::string>> written_;
};

TEST_P(StoreContractTest, PutGetListReplaceDelete) {
  TaskRecord a{Track("aaaa0000000000000000000000000001"), R"({"TaskID":"a","State":1})"};
  TaskRecord b{Track("bbbb0000000000000000000000000002"), R"({"TaskID":"b","State":2})"};
  ASSERT_TRUE(store_->PutTask(a).ok());
  ASSERT_TRUE(store_->PutTask(b).ok());
  auto got = store_->GetTask(a.task_id);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, a);
  auto missing = store_->GetTask("no-such-task");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(missing->has_value());
  auto list = store_->ListTasks();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(Ids(*list), (std::set<std::string>{a.task_id, b.task_id}));

  a.info_json = R"({"TaskID":"a","State":2,"Reason":"paused by user"})";
  ASSERT_TRUE(store_->PutTask(a).ok());
  got = store_->GetTask(a.task_id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->info_json, a.info_json);

  ASSERT_TRUE(store_->DeleteTask(a.task_id).ok());
  ASSERT_TRUE(store_->DeleteTask(a.task_id).ok()) << "deleting a missing task is ok";
  list = store_->ListTasks();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(Ids(*list), (std::set<std::string>{b.task_id}));
}

TEST_P(StoreContractTest, PositionsPutListReplaceDeleteOne) {
  std::string t1 = Track("t1"), t10 = Track("t10");
  ASSERT_TRUE(store_->PutPositions({Row(t1, 100, "c100"), Row(t1, 200, "c200")}).ok());
  ASSERT_TRUE(store_->PutPositions({Row(t10, 100, "other")}).ok());
  auto rows = store_->ListPositions(t1);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Sorted(*rows),
            (std::vector<PositionRecord>{Row(t1, 100, "c100"), Row(t1, 200, "c200")}));

  PositionRecord moved = Row(t1, 100, "c100");
  moved.positions_json =
      R"({"by-dev-rootcoord-dml_0":{"Time":1700000009999,"DataPair":{"key":"by-dev-rootcoord-dml_0","data":"CQ=="}}})";
  ASSERT_TRUE(store_->PutPositions({moved}).ok());
  rows = store_->ListPositions(t1);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(Sorted(*rows), (std::vector<PositionRecord>{moved, Row(t1, 200, "c200")}));

  ASSERT_TRUE(store_->DeletePosition(t1, 200).ok());
  rows = store_->ListPositions(t1);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(*rows, (std::vector<PositionRecord>{moved}));
  auto other = store_->ListPositions(t10);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*other, (std::vector<PositionRecord>{Row(t10, 100, "other")}));
}

TEST_P(StoreContractTest, SpecialNegativeCollectionIdsRoundTrip) {
  std::string t = Track("special");
  // -1: user-supplied positions; -10: the replicate channel (upstream's special ids).
  ASSERT_TRUE(store_->PutPositions({Row(t, -1, ""), Row(t, -10, "")}).ok());
  auto rows = store_->ListPositions(t);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Sorted(*rows), (std::vector<PositionRecord>{Row(t, -10, ""), Row(t, -1, "")}));
}

TEST_P(StoreContractTest, DeleteTaskRemovesItsPositionsOnly) {
  TaskRecord a{Track("del-a"), R"({"TaskID":"del-a"})"};
  TaskRecord b{Track("del-b"), R"({"TaskID":"del-b"})"};
  ASSERT_TRUE(store_->PutTaskAndPositions(a, {Row(a.task_id, 1), Row(a.task_id, 2)}).ok());
  ASSERT_TRUE(store_->PutTaskAndPositions(b, {Row(b.task_id, 1)}).ok());
  ASSERT_TRUE(store_->DeleteTask(a.task_id).ok());
  auto got = store_->GetTask(a.task_id);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  auto rows = store_->ListPositions(a.task_id);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
  auto kept = store_->ListPositions(b.task_id);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->size(), 1u);
  auto tb = store_->GetTask(b.task_id);
  ASSERT_TRUE(tb.ok() && tb->has_value());
}

TEST_P(StoreContractTest, BatchWithABadRowWritesNothing) {
  TaskRecord t{Track("batch"), R"({"TaskID":"batch","State":1})"};
  ASSERT_TRUE(store_->PutTaskAndPositions(t, {Row(t.task_id, 1)}).ok());
  PositionRecord bad = Row(t.task_id, 3);
  bad.target_positions_json = "not json";
  auto s = store_->PutPositions({Row(t.task_id, 2), bad});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("TargetPositions"));
  auto rows = store_->ListPositions(t.task_id);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(*rows, (std::vector<PositionRecord>{Row(t.task_id, 1)}));

  TaskRecord changed{t.task_id, R"({"TaskID":"batch","State":2})"};
  s = store_->PutTaskAndPositions(changed, {Row(t.task_id, 2), bad});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  auto got = store_->GetTask(t.task_id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->info_json, t.info_json) << "the task must not change when its batch fails";
  rows = store_->ListPositions(t.task_id);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
}

TEST_P(StoreContractTest, RootPathsIsolateServersSharingABackend) {
  if (!GetParam().has_root_path) GTEST_SKIP() << GetParam().name << " has no rootPath";
  std::string other_root = root_ + "-other";
  auto other = Open(other_root);
  ASSERT_NE(other, nullptr);
  std::string id = Track("shared-id");
  Track(id, other_root);
  ASSERT_TRUE(store_->PutTaskAndPositions({id, R"({"who":"first"})"}, {Row(id, 1, "first")}).ok());
  ASSERT_TRUE(other->PutTaskAndPositions({id, R"({"who":"second"})"}, {Row(id, 1, "second")}).ok());
  auto a = store_->GetTask(id);
  auto b = other->GetTask(id);
  ASSERT_TRUE(a.ok() && a->has_value() && b.ok() && b->has_value());
  EXPECT_EQ((*a)->info_json, R"({"who":"first"})");
  EXPECT_EQ((*b)->info_json, R"({"who":"second"})");
  auto list = other->ListTasks();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);

  ASSERT_TRUE(store_->DeleteTask(id).ok());
  b = other->GetTask(id);
  ASSERT_TRUE(b.ok() && b->has_value()) << "a delete under one rootPath must not touch another";
  auto rows = other->ListPositions(id);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].collection_name, "second");
}

TEST_P(StoreContractTest, DataSurvivesReopen) {
  if (!GetParam().persistent) GTEST_SKIP() << GetParam().name << " is not persistent";
  TaskRecord t{Track("persist"), R"({"TaskID":"persist","State":2,"Reason":"x"})"};
  ASSERT_TRUE(store_->PutTaskAndPositions(t, {Row(t.task_id, 7), Row(t.task_id, -10)}).ok());
  store_.reset();
  store_ = Open(root_);
  ASSERT_NE(store_, nullptr);
  auto got = store_->GetTask(t.task_id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, t);
  auto rows = store_->ListPositions(t.task_id);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(Sorted(*rows), (std::vector<PositionRecord>{Row(t.task_id, -10), Row(t.task_id, 7)}));
}

TEST_P(StoreContractTest, ConcurrentWritersAreSerialised) {
  constexpr int kThreads = 4, kPuts = 20;
  std::string t = Track("concurrent");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kPuts; ++j) {
        if (!store_->PutPositions({Row(t, i * 1000 + j)}).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto rows = store_->ListPositions(t);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), static_cast<size_t>(kThreads * kPuts));
}

TEST_P(StoreContractTest, UnreachableServerNamesTheAddress) {
  if (!GetParam().open_unreachable) GTEST_SKIP() << GetParam().name << " has no server";
  Status s = GetParam().open_unreachable();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr(GetParam().unreachable_substr));
}

}  // namespace cdc::meta::testing
