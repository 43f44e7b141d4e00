#include "verify/verifier.h"

#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/hybrid_time.h"
#include "common/thread_name.h"
#include "spdlog/spdlog.h"
#include "task/name_map.h"

namespace cdc::verify {

struct Verifier::Job {
  JobView view;
  std::thread thread;
};

Verifier::Verifier(TaskView* tasks, ReaderFactory readers, VerifierOptions options)
    : tasks_(tasks), readers_(std::move(readers)), options_(std::move(options)) {}

Verifier::~Verifier() { Stop(); }

void Verifier::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard l(mu_);
    stopping_ = true;
    for (auto& [_, job] : jobs_)
      if (job->thread.joinable()) threads.push_back(std::move(job->thread));
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
}

Status Verifier::CheckNames(const task::TaskInfo& task, std::vector<std::string>* names) {
  std::vector<std::string> out;
  for (std::string name : *names) {
    if (name.find('.') == std::string::npos) name.insert(0, "default.");
    const auto dot = name.find('.');
    const std::string db = name.substr(0, dot), coll = name.substr(dot + 1);
    if (db.empty() || coll.empty() || coll.find('.') != std::string::npos) {
      return InvalidArgumentError(
          absl::StrCat("collections: '", name,
                       "' is not a collection name; use db.collection or collection "
                       "(database default)"));
    }
    if (!tasks_->Selected(task, db, coll)) {
      return InvalidArgumentError(
          absl::StrCat("collections: ", name, " is not replicated by task ", task.task_id));
    }
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  *names = std::move(out);
  return OkStatus();
}

Result<JobView> Verifier::Start(const VerifyRequest& request, bool* started) {
  if (started != nullptr) *started = false;
  ASSIGN_OR_RETURN(task::TaskInfo task, tasks_->Get(request.task_id));
  if (!readers_.source) {
    return FailedPreconditionError(
        "verify reads the source Milvus' proxy: set sourceConfig.milvus.uri (and token, "
        "dial_config if needed) in the milvus-cdc config and restart it");
  }
  if (task.State() != task::TaskState::kRunning) {
    return FailedPreconditionError(
        absl::StrCat("task ", task.task_id, " is ", task::StateName(task.state),
                     "; verify compares a running task with its source (resume it first)"));
  }
  if (task.milvus.Empty()) {
    return FailedPreconditionError(absl::StrCat("task ", task.task_id,
                                                " has no Milvus target; verify compares Milvus "
                                                "targets only"));
  }
  VerifyRequest req = request;
  RETURN_IF_ERROR(CheckNames(task, &req.collections));

  std::thread finished;
  JobView view;
  {
    std::lock_guard l(mu_);
    if (stopping_) return UnavailableError("the server is shutting down");
    auto& slot = jobs_[task.task_id];
    if (slot && slot->view.state == JobState::kRunning) return slot->view;
    std::vector<std::string> running;
    for (const auto& [id, job] : jobs_)
      if (job && job->view.state == JobState::kRunning) running.push_back(id);
    if (running.size() >= options_.max_running) {
      if (!slot) jobs_.erase(task.task_id);
      return FailedPreconditionError(absl::StrCat(running.size(), " verifies are running (tasks ",
                                                  absl::StrJoin(running, ", "),
                                                  "); wait for one to finish"));
    }
    if (slot) finished = std::move(slot->thread);
    auto job = std::make_shared<Job>();
    job->view.task_id = task.task_id;
    job->view.started_ms = NowMs();
    job->view.collections = req.collections;
    slot = job;
    view = job->view;
    job->thread = std::thread([this, job, req, task] {
      NameThread("verify");
      Run(job, req, task);
    });
  }
  if (finished.joinable()) finished.join();  // the task's previous job, done already
  if (started != nullptr) *started = true;
  spdlog::info("task {}: verify started ({})", task.task_id,
               req.collections.empty() ? "every collection" : absl::StrJoin(req.collections, ", "));
  return view;
}

Result<JobView> Verifier::Get(const std::string& task_id) const {
  std::lock_guard l(mu_);
  auto it = jobs_.find(task_id);
  if (it == jobs_.end() || !it->second) {
    return NotFoundError(absl::StrCat("no verify has run for task ", task_id,
                                      " since the "
                                      "server started"));
  }
  return it->second->view;
}

Result<JobView> Verifier::Wait(const std::string& task_id, std::chrono::milliseconds timeout) {
  std::unique_lock l(mu_);
  cv_.wait_for(l, timeout, [&] {
    auto it = jobs_.find(task_id);
    return stopping_ || it == jobs_.end() || !it->second ||
           it->second->view.state == JobState::kDone;
  });
  l.unlock();
  return Get(task_id);
}

std::vector<VerifyGauge> Verifier::Gauges() const {
  std::vector<VerifyGauge> all;
  {
    std::lock_guard l(mu_);
    for (const auto& [_, g] : gauges_) all.push_back(g);
  }
  std::vector<VerifyGauge> out;
  std::set<std::string> gone;
  for (auto& g : all) {
    if (gone.count(g.task_id)) continue;
    if (!tasks_->Get(g.task_id).ok()) {
      gone.insert(g.task_id);
      continue;
    }
    out.push_back(std::move(g));
  }
  return out;
}

void Verifier::Run(const std::shared_ptr<Job>& job, const VerifyRequest& request,
                   const task::TaskInfo& task) {
  Status s = RunJob(*job, request, task);
  if (!s.ok()) spdlog::warn("task {}: verify failed: {}", task.task_id, std::string(s.message()));
  {
    std::lock_guard l(mu_);
    if (!s.ok()) job->view.error = std::string(s.message());
    job->view.state = JobState::kDone;
    job->view.finished_ms = NowMs();
    job->view.current.clear();
  }
  cv_.notify_all();
}

Status Verifier::RunJob(Job& job, const VerifyRequest& request, const task::TaskInfo& task) {
  ASSIGN_OR_RETURN(auto source, readers_.source());
  ASSIGN_OR_RETURN(auto target, readers_.target(task));
  std::vector<std::string> collections = request.collections;
  if (collections.empty()) {
    ASSIGN_OR_RETURN(collections, ListCollections(task, *source, *target));
    std::lock_guard l(mu_);
    job.view.collections = collections;
  }
  const task::NameMap names(task.name_mapping);  // each is compared with its target name
  for (const auto& name : collections) {
    {
      std::lock_guard l(mu_);
      if (stopping_) return Status(StatusCode::kCancelled, "verify cancelled (server stopping)");
      job.view.current = name;
      job.view.progress = {};
    }
    std::string note;
    for (const auto& c : tasks_->Health(task.task_id).collections)
      if (c.name == name) note = absl::StrCat(c.state, ": ", c.reason);
    VerifyEnv env;
    env.source = source.get();
    env.target = target.get();
    env.applied_ts = [this, id = task.task_id] { return AppliedTs(id); };
    env.sleep = [this](std::chrono::milliseconds d) { return Sleep(d); };
    env.local_ts = [] { return MsToHybrid(NowMs()); };
    env.on_progress = [this, &job](const VerifyProgress& p) {
      std::lock_guard l(mu_);
      job.view.progress = p;
    };
    const auto dot = name.find('.');
    const std::string db = name.substr(0, dot), coll = name.substr(dot + 1);
    CollectionResult r = CollectionVerifier(std::move(env), request.options, db, coll, note,
                                            names.Collection(db, coll))
                             .Run();
    spdlog::info("task {}: verify {}: {}{}", task.task_id, name, VerdictName(r.verdict),
                 r.message.empty() ? "" : " (" + r.message + ")");
    Record(job, std::move(r));
  }
  return OkStatus();
}

Result<std::vector<std::string>> Verifier::ListCollections(const task::TaskInfo& task,
                                                           target::MilvusReader& source,
                                                           target::MilvusReader& target) {
  std::set<std::string> names;  // source names; a target collection by the source name it has
  const task::NameMap mapping(task.name_mapping);
  for (target::MilvusReader* reader : {&source, &target}) {
    ASSIGN_OR_RETURN(auto dbs, reader->ListDatabases());
    for (const auto& db : dbs) {
      ASSIGN_OR_RETURN(auto collections, reader->ListCollections(db));
      for (const auto& c : collections) {
        std::optional<task::FullName> from = task::FullName{db, c};
        if (reader == &target) from = mapping.Source(db, c);
        if (from && tasks_->Selected(task, from->db, from->collection)) names.insert(from->Text());
      }
    }
  }
  return std::vector<std::string>(names.begin(), names.end());
}

Result<uint64_t> Verifier::AppliedTs(const std::string& task_id) {
  auto task = tasks_->Get(task_id);
  if (!task.ok()) return NotFoundError("task " + task_id + " was deleted during the verify");
  if (task->State() != task::TaskState::kRunning) {
    return FailedPreconditionError(absl::StrCat("task ", task_id, " is no longer running (",
                                                task::StateName(task->state), ": ", task->reason,
                                                "); verify stopped"));
  }
  return tasks_->Health(task_id).applied_ts;
}

bool Verifier::Sleep(std::chrono::milliseconds d) {
  if (options_.sleep_hook) {
    options_.sleep_hook(d);
    std::lock_guard l(mu_);
    return !stopping_;
  }
  std::unique_lock l(mu_);
  cv_.wait_for(l, d, [this] { return stopping_; });
  return !stopping_;
}

void Verifier::Record(Job& job, CollectionResult result) {
  std::lock_guard l(mu_);
  gauges_[{job.view.task_id, result.name}] = {job.view.task_id, result.name, result.verdict,
                                              NowMs()};
  job.view.results.push_back(std::move(result));
}

}  // namespace cdc::verify
