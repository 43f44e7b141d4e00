#include "ha/coordinator.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/thread_name.h"
#include "ha/gated_client.h"
#include "meta/layout.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace cdc::ha {
namespace {

using std::chrono::milliseconds;

// A request's stop keeps a pipeline stopped this long at most, waiting for the stored state.
constexpr auto kSuppressFor = std::chrono::seconds(10);

// This boot of this machine (/proc/sys/kernel/random/boot_id), "" when unknown.
std::string BootId() {
  std::ifstream f("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(f, id);
  return id;
}

// False only when process `pid` of this machine certainly no longer runs (gone or a zombie): a
// stopped (SIGSTOP) process runs, and a reused pid counts as running (the safe side).
bool ProcessMayRun(int64_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(f, stat)) return false;
  const size_t paren = stat.rfind(')');
  return paren == std::string::npos || stat.size() < paren + 3 || stat[paren + 2] != 'Z';
}

int64_t TtlSeconds(milliseconds ttl) { return std::max<int64_t>(1, (ttl.count() + 999) / 1000); }

bool Wanted(const task::TaskInfo& t) {
  return t.State() == task::TaskState::kRunning || t.State() == task::TaskState::kInitial;
}

}  // namespace

Result<std::unique_ptr<Coordinator>> Coordinator::Create(const etcd::ClientOptions& etcd,
                                                         CoordinatorOptions options, Clock clock) {
  if (options.server_id.empty()) return InvalidArgumentError("config key ha.serverId is empty");
  if (options.server_id.find('/') != std::string::npos ||
      options.server_id.find('#') != std::string::npos) {
    return InvalidArgumentError("config key ha.serverId: '" + options.server_id +
                                "' must not contain '/' or '#'");
  }
  etcd::ClientOptions o = etcd;
  // A call may not outlive the lease's margin by much: a hung keep-alive must not hide a loss.
  o.call_timeout = std::min(o.call_timeout, std::max(milliseconds(500), options.lease_ttl / 4));
  ASSIGN_OR_RETURN(auto client, etcd::Client::Connect(o));
  return std::unique_ptr<Coordinator>(
      new Coordinator(std::move(client), std::move(options), std::move(clock)));
}

Coordinator::Coordinator(std::unique_ptr<etcd::Client> client, CoordinatorOptions options,
                         Clock clock)
    : client_(std::move(client)),
      options_(std::move(options)),
      guard_(options_.lease_ttl, std::max(milliseconds(500), options_.lease_ttl / 4),
             std::move(clock)) {}

Coordinator::~Coordinator() { Close(); }

void Coordinator::Attach(task::TaskEvents* events) {
  events_ = events;
  if (inner_ != nullptr) inner_->Attach(this);
}

Status Coordinator::Open() {
  const std::string key = ServerKey(options_.root_path, options_.server_id);
  // A server of the same id that was killed leaves its key until its lease expires; a live
  // one keeps it: wait a little more than a TTL, then refuse.
  const auto deadline = guard_.Now() + options_.lease_ttl + std::chrono::seconds(2);
  while (true) {
    ASSIGN_OR_RETURN(auto existing, client_->Get(key));
    if (!existing) break;
    RETURN_IF_ERROR(RevokeIfDead(existing->value));
    if (guard_.Now() > deadline) {
      return FailedPreconditionError(absl::StrCat(
          "config key ha.serverId: '", options_.server_id, "' is in use by a running milvus-cdc (",
          client_->Describe(), " key ", key,
          "); give every server its own ha.serverId (default: its address host:port)"));
    }
    std::this_thread::sleep_for(milliseconds(250));
  }
  (void)KeepOnce();
  if (guard_.lease() == 0) {
    return UnavailableError(absl::StrCat(client_->Describe(),
                                         ": no lease granted; check "
                                         "metaStoreConfig.etcd.address"));
  }
  keeper_ = std::thread([this] {
    NameThread("ha-keeper");
    KeeperLoop();
  });
  loop_ = std::thread([this] {
    NameThread("ha-loop");
    Loop();
  });
  spdlog::info(
      "ha: server '{}' shares the tasks of {} (lease TTL {} ms, writes stop {} ms after "
      "the last answered keep-alive)",
      options_.server_id, client_->Describe(), options_.lease_ttl.count(), guard_.window().count());
  return OkStatus();
}

Status Coordinator::RevokeIfDead(const std::string& value) {
  auto j = nlohmann::json::parse(value, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return OkStatus();
  const std::string boot = j.value("boot_id", "");
  const int64_t pid = j.value("pid", int64_t{0});
  const std::string token = j.value("token", "");
  const size_t hash = token.rfind('#');
  if (boot.empty() || boot != BootId() || pid <= 0 || pid == getpid() || ProcessMayRun(pid) ||
      hash == std::string::npos) {
    return OkStatus();  // maybe alive: its lease must expire on its own
  }
  int64_t lease = 0;
  try {
    lease = static_cast<int64_t>(std::stoull(token.substr(hash + 1), nullptr, 16));
  } catch (const std::exception&) {
    return OkStatus();
  }
  // A process that no longer exists writes nothing: its tasks may move at once.
  Status s = client_->LeaseRevoke(lease);
  if (s.ok()) {
    spdlog::info(
        "ha: the previous server '{}' (pid {} on this machine) is gone: its lease {:x} "
        "was revoked, its tasks move now",
        options_.server_id, pid, lease);
  }
  return s.code() == StatusCode::kNotFound ? OkStatus() : s;
}

Status Coordinator::Register(bool draining) {
  const int64_t lease = guard_.lease();
  if (lease == 0) return UnavailableError("no lease");
  nlohmann::json v = {{"id", options_.server_id},
                      {"token", guard_.token()},
                      {"draining", draining},
                      {"pid", static_cast<int64_t>(getpid())},
                      {"boot_id", BootId()}};
  return client_->Put(ServerKey(options_.root_path, options_.server_id), v.dump(), lease).status();
}

milliseconds Coordinator::KeepOnce() {
  const milliseconds interval = std::max(milliseconds(200), options_.lease_ttl / 4);
  const int64_t lease = guard_.lease();
  if (lease == 0) {
    const Nanos sent = guard_.Now();
    auto id = client_->LeaseGrant(TtlSeconds(options_.lease_ttl));
    if (!id.ok()) {
      spdlog::warn("ha: {}; retrying", std::string(id.status().message()));
      return milliseconds(1000);
    }
    guard_.Granted(*id, MakeToken(options_.server_id, *id), sent);
    bool draining;
    {
      std::lock_guard l(mu_);
      held_.clear();
      registered_ = false;
      draining = draining_;
    }
    Status s = Register(draining);
    std::lock_guard l(mu_);
    registered_ = s.ok();
    wake_ = true;
    cv_.notify_all();
    spdlog::info("ha: server '{}' holds etcd lease {:x}", options_.server_id, *id);
    return interval;
  }
  if (!registered_) {
    bool draining;
    {
      std::lock_guard l(mu_);
      draining = draining_;
    }
    Status s = Register(draining);
    std::lock_guard l(mu_);
    registered_ = s.ok();
  }
  if (keepalives_paused_) return milliseconds(100);
  const Nanos sent = guard_.Now();
  auto ttl = client_->LeaseKeepAliveOnce(lease);
  if (!ttl.ok()) {
    spdlog::warn("ha: {}; writes stop {} ms after the last answered keep-alive (now {} ms)",
                 std::string(ttl.status().message()), guard_.window().count(), guard_.AgeMs());
    return milliseconds(250);
  }
  if (*ttl <= 0) {
    guard_.Lost();
    ++lease_lost_;
    std::lock_guard l(mu_);
    held_.clear();
    wake_ = true;
    cv_.notify_all();
    spdlog::warn(
        "ha: etcd lease {:x} of server '{}' expired: its tasks go to other servers; "
        "asking for a new lease",
        lease, options_.server_id);
    return milliseconds(0);
  }
  guard_.KeptAlive(lease, sent);
  return interval;
}

void Coordinator::KeeperLoop() {
  while (true) {
    const milliseconds wait = KeepOnce();
    std::unique_lock l(mu_);
    if (cv_.wait_for(l, wait, [this] { return stopping_; })) return;
  }
}

void Coordinator::Wake() {
  std::lock_guard l(mu_);
  wake_ = true;
  cv_.notify_all();
}

void Coordinator::Loop() {
  Status last = OkStatus();
  while (true) {
    Status s = Tick();
    if (!s.ok() && s.message() != last.message()) {
      spdlog::warn("ha: {}; retrying", std::string(s.message()));
    }
    last = s;
    std::unique_lock l(mu_);
    cv_.notify_all();  // Drain waits for rounds
    cv_.wait_for(l, options_.poll, [this] { return stopping_ || wake_; });
    wake_ = false;
    if (stopping_) return;
  }
}

Result<ClusterView> Coordinator::ReadCluster(std::map<std::string, std::string>* owner_ids) {
  ClusterView view;
  const std::string sp = ServerPrefix(options_.root_path);
  ASSIGN_OR_RETURN(auto servers, client_->Range(sp, {.prefix = true}));
  for (const auto& kv : servers.kvs) {
    auto j = nlohmann::json::parse(kv.value, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    ServerInfo s;
    s.id = j.value("id", kv.key.substr(sp.size()));
    s.token = j.value("token", "");
    s.draining = j.value("draining", false);
    if (!s.token.empty()) view.servers[s.token] = s;
  }
  const std::string op = OwnerPrefix(options_.root_path);
  ASSIGN_OR_RETURN(auto owners, client_->Range(op, {.prefix = true}));
  for (const auto& kv : owners.kvs) {
    const std::string task = kv.key.substr(op.size());
    view.owners[task] = kv.value;
    (*owner_ids)[task] = TokenServer(kv.value);
  }
  return view;
}

Status Coordinator::Tick() {
  const uint64_t gen = manager_->SyncGeneration();
  ASSIGN_OR_RETURN(auto records, store_->ListTasks());
  std::map<std::string, std::string> owner_ids;
  ASSIGN_OR_RETURN(ClusterView view, ReadCluster(&owner_ids));
  manager_->SyncFromStore(records, owner_ids, gen);
  for (const auto& t : manager_->List())
    if (Wanted(t)) view.wanted.insert(t.task_id);

  LocalView local;
  local.id = options_.server_id;
  local.token = guard_.token();
  local.lease_valid = guard_.Valid();
  local.now = guard_.Now();
  {
    std::lock_guard l(mu_);
    local.draining = draining_;
    local.running = running_;
    for (auto it = suppressed_.begin(); it != suppressed_.end();) {
      const bool expired = local.now - it->second > kSuppressFor;
      if (!view.wanted.count(it->first) || expired) {
        it = suppressed_.erase(it);
      } else {
        local.suppressed.insert((it++)->first);
      }
    }
    for (auto it = unowned_since_.begin(); it != unowned_since_.end();) {
      const bool gone = view.owners.count(it->first) || !view.wanted.count(it->first);
      it = gone ? unowned_since_.erase(it) : std::next(it);
    }
    for (const auto& t : view.wanted)
      if (!view.owners.count(t)) unowned_since_.emplace(t, local.now);
    for (const auto& [t, tok] : view.owners)
      if (!local.token.empty() && tok == local.token) held_[t] = tok;
    live_servers_ = view.servers.size();
  }
  Act(Plan(view, local, options_.plan), view);
  return OkStatus();
}

void Coordinator::Act(const Actions& a, const ClusterView& view) {
  const std::string token = guard_.token();
  auto owner_of = [&](const std::string& t) {
    auto it = view.owners.find(t);
    return it == view.owners.end() ? std::string() : it->second;
  };
  for (const auto& t : a.stop) {
    std::lock_guard pipe(pipe_mu_);
    {
      std::lock_guard l(mu_);
      running_.erase(t);
      if (token.empty() || owner_of(t) != token) {
        held_.erase(t);
        ++lost_;
        spdlog::warn("ha: task {}: no longer held by server '{}' (owner now '{}'); stopping it", t,
                     options_.server_id, TokenServer(owner_of(t)));
      }
    }
    (void)inner_->Stop(t);
  }
  for (const auto& t : a.release) Release(t, token);
  std::set<std::string> failed;
  for (const auto& t : a.acquire)
    if (!Acquire(t, token)) failed.insert(t);
  for (const auto& t : a.start) {
    if (failed.count(t)) continue;
    auto info = manager_->Get(t);
    Status s = info.status();
    {
      std::lock_guard pipe(pipe_mu_);
      {
        std::lock_guard l(mu_);
        if (suppressed_.count(t) || !HeldLocked(t)) continue;
        if (s.ok()) running_.insert(t);
      }
      if (s.ok()) s = inner_->Start(*info);
      if (s.ok()) {
        spdlog::info("ha: task {}: running on server '{}'", t, options_.server_id);
        continue;
      }
      std::lock_guard l(mu_);
      running_.erase(t);
    }
    if (events_ != nullptr) {
      events_->ReportFailure(t, "fail to start task, err: " + std::string(s.message()));
    }
  }
}

bool Coordinator::Acquire(const std::string& task_id, const std::string& token) {
  const int64_t lease = guard_.lease();
  if (lease == 0 || token.empty()) return false;
  const std::string key = OwnerKey(options_.root_path, task_id);
  using C = etcd::Compare;
  auto r =
      client_->Txn({C::Version(key, C::Op::kEqual, 0),
                    C::Version(meta::TaskInfoKey(options_.root_path, task_id), C::Op::kGreater, 0)},
                   {etcd::TxnOp::Put(key, token, lease)});
  if (!r.ok() || !r->succeeded) return false;
  std::lock_guard l(mu_);
  held_[task_id] = token;
  ++acquired_;
  spdlog::info("ha: task {}: taken by server '{}'", task_id, options_.server_id);
  return true;
}

void Coordinator::Release(const std::string& task_id, const std::string& token) {
  const std::string key = OwnerKey(options_.root_path, task_id);
  auto r = client_->Txn({etcd::Compare::Value(key, etcd::Compare::Op::kEqual, token)},
                        {etcd::TxnOp::Delete(key)});
  std::lock_guard l(mu_);
  held_.erase(task_id);
  if (r.ok() && r->succeeded) {
    ++released_;
    spdlog::info("ha: task {}: released by server '{}'", task_id, options_.server_id);
  }
}

bool Coordinator::HeldLocked(const std::string& task_id) const {
  auto it = held_.find(task_id);
  return it != held_.end() && !it->second.empty() && it->second == guard_.token();
}

void Coordinator::Drain() {
  {
    std::lock_guard l(mu_);
    if (draining_ || keeper_.get_id() == std::thread::id()) return;
    draining_ = true;
  }
  (void)Register(true);
  Wake();
  const auto deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
  std::set<std::string> handed;
  {
    std::unique_lock l(mu_);
    for (const auto& [t, tok] : held_) handed.insert(t);
    cv_.wait_until(l, deadline, [this] { return running_.empty() && held_.empty(); });
  }
  spdlog::info("ha: server '{}' draining: released {} task(s)", options_.server_id, handed.size());
  // Wait until another server owns each of them (none when this is the only server).
  while (!handed.empty() && std::chrono::steady_clock::now() < deadline) {
    auto owners = client_->Range(OwnerPrefix(options_.root_path), {.prefix = true});
    if (owners.ok()) {
      for (const auto& kv : owners->kvs) {
        const std::string t = kv.key.substr(OwnerPrefix(options_.root_path).size());
        if (TokenServer(kv.value) != options_.server_id) handed.erase(t);
      }
    }
    size_t others;
    {
      std::lock_guard l(mu_);
      others = live_servers_ > 0 ? live_servers_ - 1 : 0;
    }
    if (others == 0 || handed.empty()) break;
    std::this_thread::sleep_for(milliseconds(200));
  }
  size_t others;
  {
    std::lock_guard l(mu_);
    others = live_servers_ > 0 ? live_servers_ - 1 : 0;
  }
  if (!handed.empty() && others > 0) {
    spdlog::warn("ha: server '{}' stops with {} task(s) not yet taken by another server",
                 options_.server_id, handed.size());
  }
}

void Coordinator::Close() {
  {
    std::lock_guard l(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (keeper_.joinable()) keeper_.join();
  if (loop_.joinable()) loop_.join();
  std::set<std::string> running;
  {
    std::lock_guard l(mu_);
    running.swap(running_);
  }
  std::lock_guard pipe(pipe_mu_);
  for (const auto& t : running) (void)inner_->Stop(t);  // their last checkpoint, still held
  if (const int64_t lease = guard_.lease(); lease != 0) {
    Status s = client_->LeaseRevoke(lease);
    if (!s.ok()) spdlog::warn("ha: revoke lease: {}", std::string(s.message()));
    guard_.Lost();
  }
}

Status Coordinator::MayWrite(const std::string& task_id) {
  if (!guard_.Valid()) {
    ++refused_;
    return AbortedError(absl::StrCat(
        "task ", task_id, ": server '", options_.server_id,
        "' does not write to the target: its etcd lease may have expired (the last answered "
        "keep-alive was sent ",
        guard_.AgeMs(), " ms ago; writes stop ", guard_.window().count(), " ms after it)"));
  }
  std::lock_guard l(mu_);
  if (!HeldLocked(task_id)) {
    ++refused_;
    return AbortedError(absl::StrCat("task ", task_id, ": server '", options_.server_id,
                                     "' no longer holds the task; not writing to the target"));
  }
  return OkStatus();
}

std::unique_ptr<target::Client> Coordinator::Gate(const std::string& task_id,
                                                  std::unique_ptr<target::Client> client) {
  return std::make_unique<GatedClient>(std::move(client),
                                       [this, task_id] { return MayWrite(task_id); });
}

Status Coordinator::FixStart(const task::TaskInfo& task) {
  {
    std::lock_guard l(mu_);
    creating_.insert(task.task_id);
  }
  return inner_->FixStart(task);
}

Status Coordinator::Start(const task::TaskInfo& task) {
  {
    std::lock_guard l(mu_);
    suppressed_.erase(task.task_id);
  }
  Wake();
  return OkStatus();
}

Status Coordinator::Stop(const std::string& task_id) {
  std::lock_guard pipe(pipe_mu_);
  bool was_running;
  {
    std::lock_guard l(mu_);
    suppressed_[task_id] = guard_.Now();
    was_running = running_.erase(task_id) > 0;
  }
  Wake();
  return was_running ? inner_->Stop(task_id) : OkStatus();
}

std::vector<task::ChannelLag> Coordinator::Lag(const std::string& task_id) {
  return inner_->Lag(task_id);
}

task::TaskHealth Coordinator::Health(const std::string& task_id) { return inner_->Health(task_id); }

void Coordinator::ReportReason(const std::string& task_id, const std::string& reason) {
  {
    std::lock_guard l(mu_);
    if (!held_.count(task_id)) return;
  }
  if (events_ != nullptr) events_->ReportReason(task_id, reason);
}

void Coordinator::ReportFailure(const std::string& task_id, const std::string& reason) {
  {
    std::lock_guard l(mu_);
    if (!held_.count(task_id)) return;
  }
  if (events_ != nullptr) events_->ReportFailure(task_id, reason);
}

Result<std::vector<etcd::Compare>> Coordinator::PositionGuard(const std::string& task_id) {
  using C = etcd::Compare;
  const std::string owner = OwnerKey(options_.root_path, task_id);
  std::lock_guard l(mu_);
  if (creating_.count(task_id)) {
    return std::vector<C>{
        C::Version(meta::TaskInfoKey(options_.root_path, task_id), C::Op::kEqual, 0),
        C::Version(owner, C::Op::kEqual, 0)};
  }
  auto it = held_.find(task_id);
  if (it == held_.end()) {
    ++refused_;
    return FailedPreconditionError(
        absl::StrCat("server '", options_.server_id, "' does not hold the task"));
  }
  return std::vector<C>{C::Value(owner, C::Op::kEqual, it->second)};
}

std::vector<etcd::Compare> Coordinator::TaskGuard(const std::string& task_id) {
  {
    std::lock_guard l(mu_);
    if (creating_.erase(task_id)) return {};
  }
  return {etcd::Compare::Version(meta::TaskInfoKey(options_.root_path, task_id),
                                 etcd::Compare::Op::kGreater, 0)};
}

std::vector<std::string> Coordinator::TaskKeys(const std::string& task_id) {
  {
    std::lock_guard l(mu_);
    creating_.erase(task_id);
  }
  return {OwnerKey(options_.root_path, task_id)};
}

std::string Coordinator::RenderMetrics() const {
  size_t owned, servers;
  bool draining;
  {
    std::lock_guard l(mu_);
    owned = running_.size();
    servers = live_servers_;
    draining = draining_;
  }
  const std::string id = absl::StrCat("server_id=\"", options_.server_id, "\"");
  std::string out;
  auto gauge = [&](const char* name, const char* help, auto value) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " gauge\n", name, "{", id,
                    "} ", value, "\n");
  };
  gauge("milvus_cdc_ha_tasks_owned", "Tasks whose pipeline runs on this server.", owned);
  gauge("milvus_cdc_ha_lease_valid",
        "1 while this server holds its etcd lease and may write to targets.",
        guard_.Valid() ? 1 : 0);
  gauge("milvus_cdc_ha_lease_age_ms",
        "Milliseconds since the last answered keep-alive was sent (-1: no lease).", guard_.AgeMs());
  gauge("milvus_cdc_ha_servers", "Live servers sharing the tasks, as last read.", servers);
  gauge("milvus_cdc_ha_draining", "1 while this server hands its tasks over.", draining ? 1 : 0);
  absl::StrAppend(&out,
                  "# HELP milvus_cdc_ha_handovers_total Tasks taken, released and lost by this "
                  "server.\n# TYPE milvus_cdc_ha_handovers_total counter\n");
  for (const auto& [kind, n] : {std::pair<const char*, uint64_t>{"acquired", acquired_.load()},
                                {"released", released_.load()},
                                {"lost", lost_.load()}}) {
    absl::StrAppend(&out, "milvus_cdc_ha_handovers_total{", id, ",kind=\"", kind, "\"} ", n, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP milvus_cdc_ha_lease_lost_total Times etcd expired this server's "
                  "lease.\n# TYPE milvus_cdc_ha_lease_lost_total counter\n"
                  "milvus_cdc_ha_lease_lost_total{",
                  id, "} ", lease_lost_.load(),
                  "\n# HELP milvus_cdc_ha_writes_refused_total Target and checkpoint writes "
                  "refused because this server did not hold the task or a valid lease.\n"
                  "# TYPE milvus_cdc_ha_writes_refused_total counter\n"
                  "milvus_cdc_ha_writes_refused_total{",
                  id, "} ", refused_.load(), "\n");
  return out;
}

}  // namespace cdc::ha
