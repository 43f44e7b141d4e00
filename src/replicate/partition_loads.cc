#include "replicate/partition_loads.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/hybrid_time.h"
#include "milvus/milvus.pb.h"
#include "nlohmann/json.hpp"

namespace cdc::replicate {

uint64_t ReleaseWatermark(const source::Message& request) {
  const uint64_t ts = request.header.timestamp;
  if (!request.position.channel_name().empty()) return ts;
  return ts + (MsToHybrid(kFollowedLoadHoldMs) - MsToHybrid(0));
}

void PartitionLoads::Baseline(int64_t collection_id, const State& state) {
  seen_[collection_id] = state;
  applied_[collection_id] = state;
}

bool PartitionLoads::Changed(int64_t collection_id, const State& now) const {
  auto it = seen_.find(collection_id);
  return it == seen_.end() || it->second != now || touched_.count(collection_id) > 0;
}

void PartitionLoads::Note(int64_t collection_id, const State& now, uint64_t ts) {
  seen_[collection_id] = now;
  pending_[{collection_id, ts}] = now;
  followed_.insert(collection_id);
  touched_.erase(collection_id);
}

void PartitionLoads::Applied(int64_t collection_id, uint64_t ts) {
  auto it = pending_.find({collection_id, ts});
  if (it == pending_.end()) return;
  applied_[collection_id] = it->second;
  pending_.erase(it);
}

std::string PartitionLoads::Json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [id, state] : applied_) {
    const bool followed = followed_.count(id) > 0;
    if (!state) {
      j[std::to_string(id)] =
          followed ? nlohmann::json{{"loaded", false}, {"followed", true}} : nlohmann::json();
      continue;
    }
    j[std::to_string(id)] = {{"by_partition", state->by_partition},
                             {"replicas", state->replicas},
                             {"partitions", state->partitions}};
    if (followed) j[std::to_string(id)]["followed"] = true;
  }
  return j.dump();
}

Status PartitionLoads::Restore(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return InvalidArgumentError("decode the partition loads of the checkpoint: not a JSON object");
  seen_.clear();
  applied_.clear();
  pending_.clear();
  followed_.clear();
  touched_.clear();
  for (const auto& [key, v] : j.items()) {
    int64_t id = 0;
    try {
      id = std::stoll(key);
    } catch (const std::exception&) {
      return InvalidArgumentError("decode the partition loads of the checkpoint: key " + key +
                                  " is not a collection id");
    }
    State state;
    if (v.is_object() && v.value("followed", false)) followed_.insert(id);
    if (v.is_object() && v.value("loaded", true)) {
      LoadInfo info;
      info.by_partition = v.value("by_partition", false);
      info.replicas = v.value("replicas", 1);
      if (v.contains("partitions") && v["partitions"].is_array())
        for (const auto& p : v["partitions"])
          if (p.is_number_integer()) info.partitions.insert(p.get<int64_t>());
      state = info;
    }
    seen_[id] = state;
    applied_[id] = state;
  }
  return OkStatus();
}

std::string EncodeWantedLoad(const WantedLoad& w) {
  return nlohmann::json{{"db", w.db},
                        {"collection", w.collection},
                        {"loaded", w.loaded},
                        {"by_partition", w.by_partition},
                        {"replicas", w.replicas},
                        {"partition_key", w.partition_key},
                        {"partitions", w.partitions}}
      .dump();
}

Result<WantedLoad> DecodeWantedLoad(std::string_view payload) {
  auto j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("collection") ||
      !j["collection"].is_string())
    return InvalidArgumentError(
        "decode a load-state reconcile: not a JSON object with a collection");
  WantedLoad w;
  try {
    w.db = j.value("db", std::string("default"));
    w.collection = j["collection"].get<std::string>();
    w.loaded = j.value("loaded", false);
    w.by_partition = j.value("by_partition", false);
    w.replicas = j.value("replicas", 1);
    w.partition_key = j.value("partition_key", false);
    if (j.contains("partitions")) w.partitions = j["partitions"].get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(absl::StrCat("decode a load-state reconcile: ", e.what()));
  }
  return w;
}

bool LoadedWithOtherIndexes(const Status& s) {
  // Milvus 2.3 answers with a generic code: the text tells.
  return absl::StrContains(s.message(), "can't change the index for loaded") ||
         absl::StrContains(s.message(), "can't change the replica number for loaded");
}

namespace {
namespace cpb = ::milvus::proto::common;
namespace mpb = ::milvus::proto::milvus;

bool IsLoaded(cpb::LoadState s) { return s == cpb::LoadStateLoaded || s == cpb::LoadStateLoading; }

template <typename Req>
Req CollectionRequest(const std::string& db, const std::string& collection) {
  Req req;
  req.set_db_name(db);
  req.set_collection_name(collection);
  return req;
}
}  // namespace

Result<ReconcileOutcome> ReconcileLoad(target::Client& target, const std::string& db,
                                       const std::string& collection, const WantedLoad& want,
                                       uint64_t ts) {
  ReconcileOutcome out;
  auto state = target.GetLoadState(db, collection, {});
  if (state.status().code() == StatusCode::kUnimplemented) return out;  // a sink
  RETURN_IF_ERROR(state.status());
  if (*state == cpb::LoadStateNotExist) return out;  // dropped: nothing to load
  std::vector<std::string> did;
  if (!want.loaded) {
    if (!IsLoaded(*state)) return out;
    RETURN_IF_ERROR(target.ReleaseCollection(
        db, CollectionRequest<mpb::ReleaseCollectionRequest>(db, collection), ts));
    out.did = "released the collection";
    return out;
  }
  if (!IsLoaded(*state) && (!want.by_partition || want.partition_key)) {
    auto req = CollectionRequest<mpb::LoadCollectionRequest>(db, collection);
    req.set_replica_number(want.replicas);
    RETURN_IF_ERROR(target.LoadCollection(db, std::move(req), ts));
    did.push_back("loaded the collection");
  }
  if (want.partition_key) {
    out.did = absl::StrJoin(did, "; ");
    return out;
  }
  // Partition by partition: what the target has loaded now.
  ASSIGN_OR_RETURN(auto partitions, target.ShowPartitions(db, collection));
  const std::set<std::string> wanted(want.partitions.begin(), want.partitions.end());
  std::vector<std::string> load, release;
  for (const auto& p : partitions) {
    ASSIGN_OR_RETURN(auto s, target.GetLoadState(db, collection, {p.name}));
    const bool loaded = IsLoaded(s);
    if (wanted.count(p.name) && !loaded) load.push_back(p.name);
    if (!wanted.count(p.name) && loaded) release.push_back(p.name);
  }
  for (const auto& name : wanted)
    if (std::none_of(partitions.begin(), partitions.end(),
                     [&](const target::PartitionInfo& p) { return p.name == name; }))
      out.missing.push_back(name);
  if (!load.empty()) {
    auto req = CollectionRequest<mpb::LoadPartitionsRequest>(db, collection);
    req.set_replica_number(want.replicas);
    for (const auto& p : load) req.add_partition_names(p);
    Status loaded = target.LoadPartitions(db, req, ts);
    if (!loaded.ok() && LoadedWithOtherIndexes(loaded)) {
      // Loaded with other indexes or replicas than a load now has (an index created after the
      // load on the source; a replay): Milvus loads more of it only after a release.
      RETURN_IF_ERROR(target.ReleaseCollection(
          db, CollectionRequest<mpb::ReleaseCollectionRequest>(db, collection), ts));
      did.push_back("released the collection (loaded with other indexes or replicas)");
      if (!want.by_partition) {
        auto whole = CollectionRequest<mpb::LoadCollectionRequest>(db, collection);
        whole.set_replica_number(want.replicas);
        RETURN_IF_ERROR(target.LoadCollection(db, std::move(whole), ts));
        did.push_back("loaded the collection");
        loaded = OkStatus();
        release = load = {};
        for (const auto& p : partitions)
          if (!wanted.count(p.name)) release.push_back(p.name);
      } else {
        req.clear_partition_names();
        for (const auto& p : want.partitions) req.add_partition_names(p);
        load = want.partitions;
        release.clear();
        loaded = target.LoadPartitions(db, std::move(req), ts);
      }
    }
    RETURN_IF_ERROR(loaded);
    if (!load.empty())
      did.push_back(absl::StrCat("loaded partitions [", absl::StrJoin(load, ", "), "]"));
  }
  if (!release.empty()) {
    auto req = CollectionRequest<mpb::ReleasePartitionsRequest>(db, collection);
    for (const auto& p : release) req.add_partition_names(p);
    RETURN_IF_ERROR(target.ReleasePartitions(db, std::move(req), ts));
    did.push_back(absl::StrCat("released partitions [", absl::StrJoin(release, ", "), "]"));
  }
  out.did = absl::StrJoin(did, "; ");
  return out;
}

}  // namespace cdc::replicate
