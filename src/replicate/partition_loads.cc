#include "replicate/partition_loads.h"

#include <algorithm>

#include "common/hybrid_time.h"
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
  return it == seen_.end() || it->second != now;
}

std::vector<PartitionLoadChange> PartitionLoads::Diff(int64_t collection_id, const State& now,
                                                      uint64_t ts) {
  const State before = Known(collection_id) ? seen_[collection_id] : State();
  seen_[collection_id] = now;
  const std::set<int64_t> none;
  const std::set<int64_t>& was = before ? before->partitions : none;
  const std::set<int64_t>& is = now ? now->partitions : none;
  std::vector<PartitionLoadChange> out;
  PartitionLoadChange release;
  std::set_difference(was.begin(), was.end(), is.begin(), is.end(),
                      std::back_inserter(release.partitions));
  if (!release.partitions.empty()) out.push_back(std::move(release));
  PartitionLoadChange load;
  load.load = true;
  std::set_difference(is.begin(), is.end(), was.begin(), was.end(),
                      std::back_inserter(load.partitions));
  if (now && now->by_partition && !load.partitions.empty()) {
    load.replicas = now->replicas;
    out.push_back(std::move(load));
  }
  if (out.empty()) {
    applied_[collection_id] = now;  // nothing to process
  } else {
    pending_[{collection_id, ts}] = now;
  }
  return out;
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
    if (!state) {
      j[std::to_string(id)] = nullptr;
      continue;
    }
    j[std::to_string(id)] = {{"by_partition", state->by_partition},
                             {"replicas", state->replicas},
                             {"partitions", state->partitions}};
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
  for (const auto& [key, v] : j.items()) {
    int64_t id = 0;
    try {
      id = std::stoll(key);
    } catch (const std::exception&) {
      return InvalidArgumentError("decode the partition loads of the checkpoint: key " + key +
                                  " is not a collection id");
    }
    State state;
    if (v.is_object()) {
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

}  // namespace cdc::replicate
