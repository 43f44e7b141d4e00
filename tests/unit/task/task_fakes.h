#pragma once
// Test doubles for the task layer's seams: a replicator that records calls and can be told to
// fail, and a target probe with a programmable answer. Thread-safe enough for unit tests.
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "task/replicator.h"
#include "task/target_probe.h"

namespace cdc::task {

class RecordingReplicator : public Replicator {
 public:
  void Attach(TaskEvents* events) override { events_ = events; }
  Status Start(const TaskInfo& t) override {
    std::lock_guard lock(mu_);
    calls.push_back("start " + t.task_id);
    return start_status;
  }
  Status Stop(const std::string& id) override {
    std::lock_guard lock(mu_);
    calls.push_back("stop " + id);
    return OkStatus();
  }
  Status FixStart(const TaskInfo& t) override {
    std::lock_guard lock(mu_);
    calls.push_back("fix start " + t.task_id);
    return fix_start_status;
  }
  std::vector<ChannelLag> Lag(const std::string& id) override {
    std::lock_guard lock(mu_);
    return lags.count(id) ? lags[id] : std::vector<ChannelLag>{};
  }
  TaskEvents* events_ = nullptr;
  std::map<std::string, std::vector<ChannelLag>> lags;
  Status start_status;
  Status fix_start_status;
  std::vector<std::string> calls;
  std::mutex mu_;
};

class FakeProbe : public TargetProbe {
 public:
  Status CheckMilvus(const MilvusConnectParam& p, std::chrono::seconds t) override {
    std::lock_guard lock(mu_);
    last_timeout = t;
    ++milvus_calls;
    return answer;
  }
  Status CheckKafka(const KafkaConnectParam&, std::chrono::seconds t) override {
    std::lock_guard lock(mu_);
    last_timeout = t;
    ++kafka_calls;
    return answer;
  }
  Status answer;
  std::chrono::seconds last_timeout{0};
  int milvus_calls = 0;
  int kafka_calls = 0;
  std::mutex mu_;
};

}  // namespace cdc::task
