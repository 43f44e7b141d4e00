#include "task/task_manager.h"

#include <algorithm>

#include "common/hybrid_time.h"
#include "spdlog/spdlog.h"
#include "task/name_map.h"
#include "task/task_json.h"

namespace cdc::task {
namespace {

bool ValidTaskId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

Status NotFoundTask(const std::string& id) {
  return NotFoundError("not found the task, task_id: " + id);
}

Status RequireId(const std::string& id) {
  if (id.empty()) return InvalidArgumentError("task_id is empty");
  return OkStatus();
}

}  // namespace

Status CheckTransition(TaskState from, TaskState to) {
  auto allowed = [&]() -> std::vector<TaskState> {
    switch (to) {
      case TaskState::kRunning:
        return {TaskState::kInitial, TaskState::kPaused};
      case TaskState::kPaused:
        return {TaskState::kInitial, TaskState::kRunning};
      default:
        return {};
    }
  }();
  if (std::find(allowed.begin(), allowed.end(), from) != allowed.end()) return OkStatus();
  std::string list = "[";
  for (size_t i = 0; i < allowed.size(); ++i) list += (i ? " " : "") + StateName(allowed[i]);
  list += "]";
  return FailedPreconditionError("the task state can be only set to [" + StateName(to) +
                                 "] when current state is " + list + ", but current state is " +
                                 StateName(from) + ". You can retry it.");
}

TaskManager::TaskManager(meta::Store* store, Replicator* replicator, TargetProbe* probe,
                         ManagerOptions options)
    : store_(store), replicator_(replicator), probe_(probe), options_(std::move(options)) {
  replicator_->Attach(this);
}

Status TaskManager::Put(const TaskInfo& t) {
  written_gen_[t.task_id] = ++gen_;
  return Annotate(
      store_->PutTask({t.task_id, ToStoredJson(t).dump()}),
      "fail to save the task info to " + store_->Describe() + ", task_id: " + t.task_id);
}

Status TaskManager::SetStateLocked(TaskInfo& t, TaskState to, const std::string& reason) {
  RETURN_IF_ERROR(CheckTransition(t.State(), to));
  TaskInfo next = t;
  next.state = static_cast<int>(to);
  next.reason = reason;
  next.state_time_ms = NowMs();
  RETURN_IF_ERROR(Put(next));
  spdlog::info("task {}: {} -> {}{}", t.task_id, StateName(t.state), StateName(to),
               reason.empty() ? "" : " (" + reason + ")");
  t = std::move(next);
  return OkStatus();
}

Status TaskManager::StartLocked(TaskInfo& t) {
  Status s = replicator_->Start(t);
  if (!s.ok()) return s;
  s = SetStateLocked(t, TaskState::kRunning, "");
  if (!s.ok()) (void)replicator_->Stop(t.task_id);
  return s;
}

Status TaskManager::Recover() {
  ASSIGN_OR_RETURN(auto records, store_->ListTasks());
  std::lock_guard lock(mu_);
  for (const auto& rec : records) {
    auto info = FromStoredJson(rec.info_json);
    if (!info.ok()) {
      spdlog::error("skip stored task {} in {}: {}", rec.task_id, store_->Describe(),
                    std::string(info.status().message()));
      continue;
    }
    TaskInfo& t = tasks_[info->task_id] = *info;
    if (t.State() == TaskState::kPaused) continue;
    if (t.State() != TaskState::kRunning && t.State() != TaskState::kInitial) {
      spdlog::error("task {} has unknown state {}; leaving it alone", t.task_id, t.state);
      continue;
    }
    Status s = replicator_->Start(t);
    if (s.ok() && t.State() == TaskState::kInitial) s = SetStateLocked(t, TaskState::kRunning, "");
    if (!s.ok()) {
      std::string reason = "fail to start task, err: " + std::string(s.message());
      spdlog::warn("task {}: {}", t.task_id, reason);
      if (t.State() == TaskState::kRunning || t.State() == TaskState::kInitial) {
        Status ps = SetStateLocked(t, TaskState::kPaused, reason);
        if (!ps.ok()) spdlog::error("task {}: {}", t.task_id, std::string(ps.message()));
      }
    }
  }
  spdlog::info("recovered {} task(s) from {}", tasks_.size(), store_->Describe());
  return OkStatus();
}

Status TaskManager::CheckCreateLocked(TaskInfo& candidate) {
  std::vector<TaskInfo> existing;
  for (const auto& [id, t] : tasks_) existing.push_back(t);
  ASSIGN_OR_RETURN(candidate.exclude_collections, CheckDuplicates(candidate, existing));
  if (static_cast<int>(tasks_.size()) >= options_.max_task_num) {
    return ResourceExhaustedError("the task num has reach the limit, " +
                                  std::to_string(options_.max_task_num));
  }
  return OkStatus();
}

Result<std::string> TaskManager::Create(const CreateRequest& req) {
  RETURN_IF_ERROR(ValidateCreate(req, options_.limits));
  if (!req.task_id.empty() && !ValidTaskId(req.task_id)) {
    return InvalidArgumentError("the task_id '" + req.task_id +
                                "' is invalid; use 1 to 64 letters, digits, '-' or '_'");
  }
  TaskInfo t;
  t.task_id = req.task_id.empty() ? NewTaskId() : req.task_id;
  t.milvus = req.milvus;
  t.kafka = req.kafka;
  t.writer_cache = req.buffer;
  t.collection_infos = req.collection_infos;
  t.db_collections = req.db_collections;
  t.name_mapping = req.name_mapping;
  t.rpc_channel = req.rpc_channel;
  t.enable_user_role = req.enable_user_role;
  t.disable_auto_start = req.disable_auto_start;
  t.initial_sync = req.initial_sync;
  t.create_time_ms = t.state_time_ms = NowMs();
  {
    std::lock_guard lock(mu_);
    if (!req.task_id.empty() && tasks_.count(req.task_id)) return req.task_id;
    RETURN_IF_ERROR(CheckCreateLocked(t));
  }
  // The probe may take up to connect_timeout: never under the lock.
  auto timeout = req.milvus.connect_timeout > 0 ? std::chrono::seconds(req.milvus.connect_timeout)
                                                : options_.default_connect_timeout;
  RETURN_IF_ERROR(req.kafka.address.empty() ? probe_->CheckMilvus(req.milvus, timeout)
                                            : probe_->CheckKafka(req.kafka, timeout));
  {
    std::lock_guard lock(mu_);
    if (!req.task_id.empty() && tasks_.count(req.task_id)) return req.task_id;
    if (!creating_.insert(t.task_id).second) {
      return FailedPreconditionError("a create of task " + t.task_id +
                                     " is in progress; retry it to get its answer");
    }
  }
  // Where the task starts is fixed before create answers (outside the lock: it asks the
  // source's queue, bounded in time); a create that fails after it removes what it wrote.
  Status fixed = replicator_->FixStart(t);
  std::lock_guard lock(mu_);
  creating_.erase(t.task_id);
  if (!fixed.ok()) {
    (void)store_->DeleteTask(t.task_id);
    const bool refused = fixed.code() == StatusCode::kUnauthenticated ||
                         fixed.code() == StatusCode::kPermissionDenied;
    return Status(refused ? StatusCode::kInternal : fixed.code(),
                  "fail to fix the start of the task: " + std::string(fixed.message()));
  }
  if (!req.task_id.empty() && tasks_.count(req.task_id)) return req.task_id;
  if (Status s = CheckCreateLocked(t); !s.ok()) {  // again: another create may have won
    (void)store_->DeleteTask(t.task_id);
    return s;
  }
  if (Status s = Put(t); !s.ok()) {
    (void)store_->DeleteTask(t.task_id);
    return s;
  }
  if (t.disable_auto_start) {
    RETURN_IF_ERROR(SetStateLocked(t, TaskState::kPaused, kDisabledAutoStartReason));
  } else if (Status s = StartLocked(t); !s.ok()) {
    (void)store_->DeleteTask(t.task_id);
    return Status(s.code(), "fail to start task, err: " + std::string(s.message()));
  }
  tasks_[t.task_id] = t;
  spdlog::info("created task {} for target {} ({} collections)", t.task_id,
               RedactUri(t.TargetKey()), t.FullCollectionNames().size());
  return t.task_id;
}

Status TaskManager::Delete(const std::string& task_id, bool ignore_not_found) {
  RETURN_IF_ERROR(RequireId(task_id));
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return ignore_not_found ? OkStatus() : NotFoundTask(task_id);
  Status s = replicator_->Stop(task_id);
  if (!s.ok()) spdlog::warn("task {}: stop before delete: {}", task_id, std::string(s.message()));
  written_gen_[task_id] = ++gen_;
  RETURN_IF_ERROR(
      Annotate(store_->DeleteTask(task_id), "fail to delete the task meta, task_id: " + task_id));
  tasks_.erase(it);
  spdlog::info("deleted task {}", task_id);
  return OkStatus();
}

Status TaskManager::Pause(const std::string& task_id) {
  RETURN_IF_ERROR(RequireId(task_id));
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return NotFoundTask(task_id);
  if (it->second.State() == TaskState::kPaused) {
    return FailedPreconditionError("the task has paused, task_id: " + task_id);
  }
  Status s = replicator_->Stop(task_id);
  if (!s.ok()) spdlog::warn("task {}: stop on pause: {}", task_id, std::string(s.message()));
  return Annotate(SetStateLocked(it->second, TaskState::kPaused, kManualPauseReason),
                  "fail to update the task state, task_id: " + task_id);
}

Status TaskManager::Resume(const std::string& task_id) {
  RETURN_IF_ERROR(RequireId(task_id));
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return NotFoundTask(task_id);
  if (it->second.State() == TaskState::kRunning) {
    return FailedPreconditionError("the task has running, task_id: " + task_id);
  }
  Status s = StartLocked(it->second);
  if (!s.ok()) {
    return Status(s.code(), "fail to start the task, task_id: " + task_id +
                                ", err: " + std::string(s.message()));
  }
  return OkStatus();
}

Result<TaskInfo> TaskManager::Get(const std::string& task_id) {
  RETURN_IF_ERROR(RequireId(task_id));
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return NotFoundError("not found: [" + task_id + "]");
  return it->second;
}

std::vector<TaskInfo> TaskManager::List() {
  std::lock_guard lock(mu_);
  std::vector<TaskInfo> out;
  for (const auto& [id, t] : tasks_) out.push_back(t);
  std::sort(out.begin(), out.end(), [](const TaskInfo& a, const TaskInfo& b) {
    return a.create_time_ms != b.create_time_ms ? a.create_time_ms < b.create_time_ms
                                                : a.task_id < b.task_id;
  });
  return out;
}

Result<std::vector<meta::PositionRecord>> TaskManager::Positions(const std::string& task_id) {
  RETURN_IF_ERROR(RequireId(task_id));
  {
    std::lock_guard lock(mu_);
    if (!tasks_.count(task_id)) return NotFoundTask(task_id);
  }
  auto rows = store_->ListPositions(task_id);
  if (!rows.ok()) {
    return Annotate(rows.status(), "fail to read the task positions, task_id: " + task_id);
  }
  return rows;
}

TaskHealth TaskManager::Health(const std::string& task_id) {
  std::vector<NameMapping> mapping;
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(task_id);
    if (it == tasks_.end()) return {};
    mapping = it->second.name_mapping;
  }
  TaskHealth h = replicator_->Health(task_id);
  if (mapping.empty()) return h;
  const NameMap names(mapping);
  auto target_of = [&](const std::string& full) -> std::string {
    const auto dot = full.find('.');
    if (dot == std::string::npos) return "";
    const std::string to = names.Collection(full.substr(0, dot), full.substr(dot + 1)).Text();
    return to == full ? "" : to;
  };
  for (auto& c : h.collections) c.target = target_of(c.name);
  for (auto& c : h.initial_sync) c.target = target_of(c.name);
  return h;
}

std::vector<ChannelLag> TaskManager::Lag(const std::string& task_id) {
  {
    std::lock_guard lock(mu_);
    if (!tasks_.count(task_id)) return {};
  }
  return replicator_->Lag(task_id);
}

std::map<std::string, int> TaskManager::CountByState() {
  std::lock_guard lock(mu_);
  std::map<std::string, int> out = {{"Initial", 0}, {"Running", 0}, {"Paused", 0}};
  for (const auto& [id, t] : tasks_) ++out[StateName(t.state)];
  return out;
}

void TaskManager::StopAll() {
  std::lock_guard lock(mu_);
  for (const auto& [id, t] : tasks_) {
    if (t.State() != TaskState::kRunning) continue;
    Status s = replicator_->Stop(id);
    if (!s.ok()) spdlog::warn("task {}: stop on shutdown: {}", id, std::string(s.message()));
  }
}

uint64_t TaskManager::SyncGeneration() {
  std::lock_guard lock(mu_);
  return ++gen_;
}

void TaskManager::SyncFromStore(const std::vector<meta::TaskRecord>& records,
                                const std::map<std::string, std::string>& owners,
                                uint64_t generation) {
  std::lock_guard lock(mu_);
  auto written_since = [&](const std::string& id) {
    auto w = written_gen_.find(id);
    return creating_.count(id) || (w != written_gen_.end() && w->second >= generation);
  };
  std::set<std::string> listed;
  for (const auto& rec : records) {
    listed.insert(rec.task_id);
    if (written_since(rec.task_id)) continue;
    auto info = FromStoredJson(rec.info_json);
    if (!info.ok() || info->task_id != rec.task_id) continue;
    auto owner = owners.find(rec.task_id);
    info->owner = owner == owners.end() ? "" : owner->second;
    auto it = tasks_.find(rec.task_id);
    if (it != tasks_.end() && it->second.State() == TaskState::kRunning &&
        info->State() == TaskState::kRunning && !options_.persist_reasons) {
      info->reason = it->second.reason;  // a running task's reason lives in memory only
    }
    tasks_[rec.task_id] = std::move(*info);
  }
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    if (!listed.count(it->first) && !written_since(it->first)) {
      it = tasks_.erase(it);
    } else {
      ++it;
    }
  }
}

void TaskManager::ReportReason(const std::string& task_id, const std::string& reason) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end() || it->second.State() != TaskState::kRunning) return;
  if (it->second.reason == reason) return;
  // Shown at once (get/list read memory), also while the meta store cannot take it: the
  // reason may be that very outage. It is stored with the next change that reaches the store.
  it->second.reason = reason;
  if (!options_.persist_reasons) return;
  if (Status s = Put(it->second); !s.ok())
    spdlog::warn("task {}: reason not stored yet: {}", task_id, std::string(s.message()));
}

void TaskManager::ReportFailure(const std::string& task_id, const std::string& reason) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end() || it->second.State() != TaskState::kRunning) return;
  // The replicator has already wound the task down (see replicator.h); no Stop from here, as
  // this runs on one of the replicator's own threads.
  Status s = SetStateLocked(it->second, TaskState::kPaused, reason);
  if (!s.ok()) spdlog::error("task {}: {}", task_id, std::string(s.message()));
}

}  // namespace cdc::task
