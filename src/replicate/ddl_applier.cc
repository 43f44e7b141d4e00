#include "replicate/ddl_applier.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/thread_name.h"
#include "milvus/common.pb.h"
#include "milvus/milvus.pb.h"
#include "nlohmann/json.hpp"
#include "replicate/partition_loads.h"
#include "source/message.h"

namespace cdc::replicate {

namespace {
namespace cpb = ::milvus::proto::common;
namespace mpb = ::milvus::proto::milvus;

// The source took a load the target refuses as loaded otherwise (e.g. before an index a replay
// put ahead of it): released, then loaded as asked.
constexpr char LoadedOtherwise[] =
    "the source took this load, so the target's collection is loaded otherwise than the "
    "source's was then";

template <typename Req>
Result<Req> Parse(const DdlRequest& r) {
  Req req;
  if (!req.ParseFromString(r.payload)) {
    return InvalidArgumentError(
        absl::StrCat("decode ", DdlApplier::Describe(r), ": not a ", Req::descriptor()->name()));
  }
  req.set_collection_name(r.collection);
  return req;
}

// The target refused an index because its field has another one (Milvus 2.3 answers with a
// generic code, so the text tells).
bool FieldHasAnotherIndex(const Status& s) {
  const std::string lower = absl::AsciiStrToLower(s.message());
  return absl::StrContains(lower, "at most one distinct index is allowed per field") ||
         absl::StrContains(lower, "multiple indexes on same field");
}

// `drop` removes what `create` makes: an index of the same field, or of the same name.
bool Removes(const DdlRequest& drop, const mpb::CreateIndexRequest& create) {
  mpb::DropIndexRequest req;
  if (drop.type != cpb::DropIndex || !req.ParseFromString(drop.payload)) return false;
  return (!req.field_name().empty() && req.field_name() == create.field_name()) ||
         (!req.index_name().empty() && req.index_name() == create.index_name());
}
}  // namespace

DdlApplier::DdlApplier(std::string task_id, target::Client* target, DdlApplierOptions options)
    : task_id_(std::move(task_id)), target_(target), opts_(std::move(options)) {}

DdlApplier::~DdlApplier() { Stop(); }

std::string DdlApplier::Describe(const DdlRequest& r) {
  return absl::StrCat(
      r.type == kReconcileLoad ? "load-state reconcile" : source::MsgTypeName(r.type), " of ", r.db,
      ".", r.collection, " (source ts ", r.ts, ")");
}

void DdlApplier::Add(DdlRequest request) {
  Item it;
  it.since = it.next_try = std::chrono::steady_clock::now();
  it.backoff = opts_.init_backoff;
  it.req = std::move(request);
  std::lock_guard l(mu_);
  queues_[it.req.collection_id].items.push_back(std::move(it));
  MaybeSpawn();
  cv_.notify_all();
}

void DdlApplier::MaybeSpawn() {
  JoinRetired();
  if (stop_ || idle_ > 0 || static_cast<int>(workers_.size()) >= std::max(1, opts_.workers)) return;
  workers_.emplace_back([this] {
    NameThread(absl::StrCat("ddl-", Tail(task_id_, 11)));
    Work();
  });
}

void DdlApplier::SetReady(int64_t collection_id, bool ready) {
  std::lock_guard l(mu_);
  auto it = queues_.find(collection_id);
  if (it == queues_.end()) {
    if (!ready) return;
    it = queues_.emplace(collection_id, Queue()).first;
  }
  it->second.ready = ready;
  if (ready && !it->second.items.empty()) MaybeSpawn();
  cv_.notify_all();
}

void DdlApplier::Discard(int64_t collection_id, const std::string& why) {
  std::lock_guard l(mu_);
  auto it = queues_.find(collection_id);
  if (it == queues_.end()) return;
  for (const auto& item : it->second.items) {
    spdlog::warn("task {}: {} not applied: {}", task_id_, Describe(item.req), why);
    ++stats_.discarded;
  }
  queues_.erase(it);
}

std::string DdlApplier::EncodePending(const std::vector<DdlRequest>& requests) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : requests) {
    out.push_back({{"collection_id", r.collection_id},
                   {"db", r.db},
                   {"collection", r.collection},
                   {"type", r.type},
                   {"ts", r.ts},
                   {"data", absl::Base64Escape(r.payload)}});
  }
  return out.dump();
}

std::string DdlApplier::PendingJson() const {
  std::vector<DdlRequest> all;
  {
    std::lock_guard l(mu_);
    for (const auto& [_, q] : queues_)
      for (const auto& item : q.items) all.push_back(item.req);
  }
  return EncodePending(all);
}

Status DdlApplier::Restore(const std::string& json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return InvalidArgumentError("pending requests in the checkpoint: not a list");
  for (const auto& e : j) {
    DdlRequest r;
    std::string data;
    if (!e.is_object() || !e.contains("data") || !e["data"].is_string() ||
        !absl::Base64Unescape(e["data"].get<std::string>(), &data)) {
      return InvalidArgumentError("pending request in the checkpoint: bad entry " + e.dump());
    }
    r.collection_id = e.value("collection_id", int64_t{0});
    r.db = e.value("db", std::string("default"));
    r.collection = e.value("collection", std::string());
    r.type = e.value("type", 0);
    r.ts = e.value("ts", uint64_t{0});
    r.payload = std::move(data);
    Add(std::move(r));
  }
  return OkStatus();
}

std::map<int64_t, std::string> DdlApplier::Reasons() const {
  std::map<int64_t, std::string> out;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard l(mu_);
  for (const auto& [id, q] : queues_) {
    std::string why = q.gave_up;
    if (!q.items.empty()) {
      const Item& head = q.items.front();
      const std::string more =
          q.items.size() > 1 ? absl::StrCat(" (", q.items.size() - 1, " more queued)") : "";
      const auto in_flight = now - head.started;
      if (!q.ready) {
        why = absl::StrCat(Describe(head.req),
                           " waits for the collection to be created on the target", more);
      } else if (q.busy && head.attempts == 0 && in_flight >= std::chrono::seconds(5)) {
        why = absl::StrCat(Describe(head.req), " sent to the target ",
                           std::chrono::duration_cast<std::chrono::seconds>(in_flight).count(),
                           " s ago, no answer yet; other collections' requests go on", more);
      } else if (head.attempts > 0) {
        why = absl::StrCat(
            Describe(head.req), " not taken by the target after ", head.attempts, " attempt(s) in ",
            std::chrono::duration_cast<std::chrono::seconds>(now - head.since).count(),
            " s: ", head.last_error, "; retried in the background", more);
      }
    }
    if (!why.empty()) out[id] = why;
  }
  return out;
}

DdlStats DdlApplier::stats() const {
  std::lock_guard l(mu_);
  DdlStats s = stats_;
  s.workers = workers_.size();
  return s;
}

int64_t DdlApplier::NextDue(std::chrono::steady_clock::time_point* when) const {
  int64_t best = 0;
  for (const auto& [id, q] : queues_) {
    if (!q.ready || q.busy || q.items.empty()) continue;
    if (best == 0 || q.items.front().next_try < *when) {
      best = id;
      *when = q.items.front().next_try;
    }
  }
  return best;
}

void DdlApplier::RetireSelf() {
  const auto self = std::this_thread::get_id();
  for (auto it = workers_.begin(); it != workers_.end(); ++it) {
    if (it->get_id() != self) continue;
    retired_.push_back(std::move(*it));
    workers_.erase(it);
    return;
  }
}

void DdlApplier::JoinRetired() {
  // A retired worker has let go of mu_ for good (it only returns), so joining under it is safe.
  for (auto& t : retired_)
    if (t.joinable()) t.join();
  retired_.clear();
}

void DdlApplier::Work() {
  std::unique_lock l(mu_);
  while (!stop_) {
    std::chrono::steady_clock::time_point when;
    const int64_t id = NextDue(&when);
    if (id == 0 || when > std::chrono::steady_clock::now()) {
      ++idle_;
      bool timed_out = false;
      if (id == 0) {
        timed_out = cv_.wait_for(l, opts_.idle_exit) == std::cv_status::timeout;
      } else {
        cv_.wait_until(l, when);
      }
      --idle_;
      if (timed_out && !stop_ && NextDue(&when) == 0) {
        RetireSelf();  // nothing due for a while: a new request starts a worker again
        return;
      }
      continue;
    }
    Queue& q = queues_[id];
    q.busy = true;
    q.items.front().started = std::chrono::steady_clock::now();
    DdlRequest attempt = q.items.front().req;
    std::chrono::steady_clock::time_point other;
    if (NextDue(&other) != 0) MaybeSpawn();  // the others stay served while this one waits
    l.unlock();
    Status s = Apply(attempt);
    l.lock();
    if (auto it = queues_.find(id); it != queues_.end()) it->second.busy = false;
    cv_.notify_all();
    if (stop_) break;
    std::string what;
    const std::string skipped = Finish(id, s, &what);
    if (!skipped.empty() && opts_.on_skip) {
      l.unlock();  // the callback takes the pipeline's own lock
      opts_.on_skip(skipped, what);
      l.lock();
    }
  }
}

// Records the outcome of the head of `collection_id`'s queue (mu_ held); returns the skip kind
// of a request found moot, else "".
std::string DdlApplier::Finish(int64_t collection_id, const Status& s, std::string* what) {
  auto qit = queues_.find(collection_id);
  if (qit == queues_.end() || qit->second.items.empty()) return "";  // discarded meanwhile
  Queue& q = qit->second;
  Item& head = q.items.front();
  ++head.attempts;
  const auto waited = std::chrono::steady_clock::now() - head.since;
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(waited).count();
  if (s.ok()) {
    if (head.attempts > 1) {
      spdlog::info("task {}: {} taken by the target after {} attempts ({} s)", task_id_,
                   Describe(head.req), head.attempts, secs);
    } else {
      spdlog::info("task {}: replicate request {} handled", task_id_, Describe(head.req));
    }
    ++stats_.applied;
    q.gave_up.clear();
    q.items.pop_front();
    return "";
  }
  head.last_error = std::string(s.message());
  if (Superseded(q, s)) {
    spdlog::info(
        "task {}: {} not applied: the target has another index on its field ({}), and the "
        "source dropped this one later (the queued DropIndex and what follows it bring the "
        "target to the source's state; a request read again after a restart finds the target "
        "ahead of it)",
        task_id_, Describe(head.req), head.last_error);
    ++stats_.superseded;
    *what = absl::StrCat(Describe(head.req), ": the target has another index on its field (",
                         head.last_error, ") and the source dropped this one later");
    q.items.pop_front();
    return "index_create_superseded";
  }
  if (head.req.type == cpb::Flush && waited >= opts_.flush_give_up_after) {
    q.gave_up = absl::StrCat("gave up ", Describe(head.req), " after ", head.attempts,
                             " attempts in ", secs, " s: ", head.last_error,
                             " (a Flush carries no data; the target seals the segments itself)");
    spdlog::error("task {}: {}", task_id_, q.gave_up);
    ++stats_.given_up;
    q.items.pop_front();
    return "";
  }
  if (head.attempts == 1) {
    spdlog::warn(
        "task {}: {} not taken by the target yet ({}); retrying it in the background "
        "while later changes go on",
        task_id_, Describe(head.req), head.last_error);
  }
  head.next_try = std::chrono::steady_clock::now() + head.backoff;
  head.backoff = std::min(head.backoff * 2, opts_.max_backoff);
  return "";
}

bool DdlApplier::Superseded(const Queue& q, const Status& s) {
  const DdlRequest& head = q.items.front().req;
  if (head.type != cpb::CreateIndex || !FieldHasAnotherIndex(s)) return false;
  mpb::CreateIndexRequest create;
  if (!create.ParseFromString(head.payload)) return false;
  return std::any_of(q.items.begin() + 1, q.items.end(),
                     [&](const Item& later) { return Removes(later.req, create); });
}

Status DdlApplier::Apply(const DdlRequest& r) {
  const std::string& db = r.db;
  switch (r.type) {
#define CDC_DDL(Type, Req, Call)                    \
  case cpb::Type: {                                 \
    ASSIGN_OR_RETURN(auto req, Parse<mpb::Req>(r)); \
    return target_->Call(db, std::move(req), r.ts); \
  }
    CDC_DDL(CreateIndex, CreateIndexRequest, CreateIndex)
    CDC_DDL(ReleaseCollection, ReleaseCollectionRequest, ReleaseCollection)
    CDC_DDL(ReleasePartitions, ReleasePartitionsRequest, ReleasePartitions)
#undef CDC_DDL
#define CDC_LOAD(Type, Req)                                   \
  case cpb::Type: {                                           \
    ASSIGN_OR_RETURN(auto req, Parse<mpb::Req>(r));           \
    Status s = target_->Type(db, req, r.ts);                  \
    if (s.ok() || !LoadedWithOtherIndexes(s)) return s;       \
    RETURN_IF_ERROR(ReleaseFirst(db, r, s, LoadedOtherwise)); \
    return target_->Type(db, std::move(req), r.ts);           \
  }
    CDC_LOAD(LoadCollection, LoadCollectionRequest)
    CDC_LOAD(LoadPartitions, LoadPartitionsRequest)
#undef CDC_LOAD
    case cpb::DropIndex: {
      ASSIGN_OR_RETURN(auto req, Parse<mpb::DropIndexRequest>(r));
      Status s = target_->DropIndex(db, req, r.ts);
      if (s.ok() || !absl::StrContains(s.message(), "collection is loaded")) return s;
      // Milvus drops an index only of a collection not loaded, so the source had it released
      // then; a 2.3.5 source records no release of its last partition, and a release read from
      // its load state can come after this request. Released here too, then dropped.
      RETURN_IF_ERROR(ReleaseFirst(db, r, s, "the source had the collection released then"));
      return target_->DropIndex(db, std::move(req), r.ts);
    }
    case kReconcileLoad: {
      ASSIGN_OR_RETURN(auto want, DecodeWantedLoad(r.payload));
      ASSIGN_OR_RETURN(auto outcome, ReconcileLoad(*target_, db, r.collection, want, r.ts));
      if (!outcome.did.empty()) {
        spdlog::info("task {}: {}: {} on the target (to the source's load state)", task_id_,
                     Describe(r), outcome.did);
        std::lock_guard l(mu_);
        ++stats_.reconciled;
      }
      if (!outcome.missing.empty()) {
        const std::string what = absl::StrCat(
            Describe(r), ": partitions [", absl::StrJoin(outcome.missing, ", "),
            "] are loaded on the source but the target does not have them (dropped there, or "
            "their create is still to come): not loaded there");
        spdlog::warn("task {}: {}", task_id_, what);
        if (opts_.on_skip) opts_.on_skip("load_of_partition_missing_on_target", what);
      }
      return OkStatus();
    }
    case cpb::Flush: {
      mpb::FlushRequest req;
      if (!req.ParseFromString(r.payload))
        return InvalidArgumentError("decode " + Describe(r) + ": not a FlushRequest");
      req.clear_collection_names();
      req.add_collection_names(r.collection);
      return target_->Flush(db, std::move(req), r.ts);
    }
    default:
      return InvalidArgumentError("no way to apply " + Describe(r));
  }
}

Status DdlApplier::ReleaseFirst(const std::string& db, const DdlRequest& r, const Status& refused,
                                const std::string& why) {
  spdlog::warn("task {}: {} refused by the target ({}): {}; releasing the collection there first",
               task_id_, Describe(r), std::string(refused.message()), why);
  mpb::ReleaseCollectionRequest release;
  release.set_db_name(db);
  release.set_collection_name(r.collection);
  return target_->ReleaseCollection(db, std::move(release), r.ts);
}

void DdlApplier::Stop() {
  std::vector<std::thread> workers;
  {
    std::lock_guard l(mu_);
    stop_ = true;
    cv_.notify_all();
    workers.swap(workers_);
    for (auto& t : retired_) workers.push_back(std::move(t));
    retired_.clear();
  }
  for (auto& w : workers)
    if (w.joinable()) w.join();
}

}  // namespace cdc::replicate
