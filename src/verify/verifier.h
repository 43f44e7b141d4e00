#pragma once
// verify::Verifier: runs `verify` jobs, one at a time per task, each on its own thread, and
// keeps the last job of every task (its results feed `get`, the verify answer and /metrics).
//
// A job compares the task's collections (those asked for, or every collection the task
// selects on either side) one after another with a CollectionVerifier, reading the source
// through sourceConfig.milvus and the target through the task's milvus_connect_param. It never
// pauses or slows the task: it only reads, and waits for the task's applied ts.
//
// Threads: every method is safe from any thread (one mutex; no call to a Milvus under it).
// Stop() (and the destructor) cancel running jobs and join their threads; a cancelled job ends
// with its collections in error "verify cancelled".
// Errors of Start: kNotFound (no such task), kFailedPrecondition (no sourceConfig.milvus, the
// task is not Running or has a Kafka target, too many verifies running), kInvalidArgument (a
// collection the task does not replicate). Connection failures end the job in an error.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "target/milvus_reader.h"
#include "task/replicator.h"
#include "task/task_info.h"
#include "verify/collection_verifier.h"
#include "verify/result.h"

namespace cdc::verify {

// What the verifier needs of the tasks (server wires task::TaskManager and the pipeline's
// selection rule). Thread-safe implementations.
class TaskView {
 public:
  virtual ~TaskView() = default;
  virtual Result<task::TaskInfo> Get(const std::string& task_id) = 0;
  virtual task::TaskHealth Health(const std::string& task_id) = 0;
  // True if the task replicates collection `db`.`collection`.
  virtual bool Selected(const task::TaskInfo& task, const std::string& db,
                        const std::string& collection) = 0;
};

struct ReaderFactory {
  // The source's proxy; null when sourceConfig.milvus is not configured.
  std::function<Result<std::shared_ptr<target::MilvusReader>>()> source;
  // A task's target.
  std::function<Result<std::shared_ptr<target::MilvusReader>>(const task::TaskInfo&)> target;
};

struct VerifyRequest {
  std::string task_id;
  std::vector<std::string> collections;  // "db.collection" or "collection" (db default)
  VerifyOptions options;
};

enum class JobState { kRunning, kDone };

// A job as the API shows it. Plain values.
struct JobView {
  std::string task_id;
  JobState state = JobState::kRunning;
  int64_t started_ms = 0;
  int64_t finished_ms = 0;                // 0 while running
  std::vector<std::string> collections;   // planned (filled once listed)
  std::string error;                      // the job could not run (e.g. the source unreachable)
  std::vector<CollectionResult> results;  // the collections done so far, in order
  std::string current;                    // the collection being compared
  VerifyProgress progress;                // of `current`
};

struct VerifierOptions {
  size_t max_running = 2;  // jobs at once over all tasks
  // Waits between polls and re-reads go through this (tests make it instant); false when the
  // verifier is stopping.
  std::function<void(std::chrono::milliseconds)> sleep_hook;
};

// The last verdict of one collection of a task (for /metrics).
struct VerifyGauge {
  std::string task_id;
  std::string collection;
  Verdict verdict = Verdict::kEqual;
  int64_t finished_ms = 0;
};

class Verifier {
 public:
  Verifier(TaskView* tasks, ReaderFactory readers, VerifierOptions options = {});
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // Starts a verify of the task, or answers the one that runs (started = false then).
  Result<JobView> Start(const VerifyRequest& request, bool* started = nullptr);
  // The task's running or last job; kNotFound when it has none.
  Result<JobView> Get(const std::string& task_id) const;
  // Waits up to `timeout` for the task's job to finish, then answers Get.
  Result<JobView> Wait(const std::string& task_id, std::chrono::milliseconds timeout);
  // The last verdict of every collection verified, for tasks that still exist.
  std::vector<VerifyGauge> Gauges() const;
  // Cancels the running jobs and joins them. Idempotent.
  void Stop();

 private:
  struct Job;
  void Run(const std::shared_ptr<Job>& job, const VerifyRequest& request,
           const task::TaskInfo& task);
  Status RunJob(Job& job, const VerifyRequest& request, const task::TaskInfo& task);
  Result<std::vector<std::string>> ListCollections(const task::TaskInfo& task,
                                                   target::MilvusReader& source,
                                                   target::MilvusReader& target);
  Status CheckNames(const task::TaskInfo& task, std::vector<std::string>* names);
  Result<uint64_t> AppliedTs(const std::string& task_id);
  bool Sleep(std::chrono::milliseconds d);
  void Record(Job& job, CollectionResult result);

  TaskView* tasks_;
  ReaderFactory readers_;
  VerifierOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // job state changes and stop
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<Job>> jobs_;  // the last job per task
  std::vector<std::thread> threads_;
  std::map<std::pair<std::string, std::string>, VerifyGauge> gauges_;
};

}  // namespace cdc::verify
