#pragma once
// replicate::PartitionLoads: follows which partitions of each replicated collection the source
// has loaded and turns the changes into LoadPartitions / ReleasePartitions requests. A Milvus
// 2.3 source writes neither to its replicate channel (checked on 2.3.5); its query coordinator
// keeps the load state in etcd (querycoord-collection-loadinfo/{collection} with the load type,
// querycoord-partition-loadinfo/{collection}/{partition} per loaded partition; both load types
// keep partition keys, and releasing one partition of a collection loaded whole removes its
// key). The pipeline reads that state (CatalogView::LoadStates) and diffs it here.
//
// Rules, per collection, from the state last turned into requests (`seen`) to the state now:
//  - partitions added while the collection is loaded by partition: LoadPartitions with the
//    source's replica number. Added while it is loaded whole: nothing (the replicate channel
//    carries that LoadCollection, and a target loads new partitions of a collection loaded whole
//    itself), so collection loads are never doubled;
//  - partitions removed: ReleasePartitions, also when the whole collection went (etcd cannot
//    tell a ReleaseCollection, which the channel carries, from the release of its last
//    partition, which it does not: found on 2.3.5 with a collection loaded whole); a release of
//    what a ReleaseCollection released already is a no-op on the target.
// A collection met for the first time starts from its state then when it is older than the
// task (a task replicates what changes after it starts), else from "not loaded".
// Diff records each change with its ts; Applied(collection, ts) marks it processed. Json() holds
// the applied states, which the checkpoint keeps, so a restart finds again what changed while
// the task was down or not processed yet. Not thread-safe (the pipeline thread).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "replicate/catalog_view.h"
#include "source/message.h"

namespace cdc::replicate {

struct PartitionLoadChange {
  bool load = false;                // LoadPartitions, else ReleasePartitions
  std::vector<int64_t> partitions;  // source partition ids, ascending
  int32_t replicas = 1;
};

// The watermark a request must wait for before a round releases it: its ts, and for a request
// followed from the load state (no channel position) its ts plus a hold of kFollowedLoadHoldMs,
// so that the replicate channel's requests before it (e.g. the CreateIndex a load needs),
// still on their way from the queue, join the same round and go first (a round orders its
// items by ts).
inline constexpr int64_t kFollowedLoadHoldMs = 2000;
uint64_t ReleaseWatermark(const source::Message& request);

class PartitionLoads {
 public:
  using State = std::optional<LoadInfo>;  // nullopt: not loaded

  bool Known(int64_t collection_id) const { return seen_.count(collection_id) > 0; }
  // The state a collection met for the first time starts from (see above).
  void Baseline(int64_t collection_id, const State& state);
  // True when `now` differs from what was last seen of the collection.
  bool Changed(int64_t collection_id, const State& now) const;
  // The requests that take the collection from what was seen to `now`, at `ts`; `now` is seen.
  std::vector<PartitionLoadChange> Diff(int64_t collection_id, const State& now, uint64_t ts);
  // The change of `collection_id` at `ts` was processed: its state goes into Json().
  void Applied(int64_t collection_id, uint64_t ts);

  // Applied states by collection, for the checkpoint; Restore reads such a text (seen = applied).
  std::string Json() const;
  Status Restore(const std::string& json);

 private:
  std::map<int64_t, State> seen_;
  std::map<int64_t, State> applied_;
  std::map<std::pair<int64_t, uint64_t>, State> pending_;  // (collection, ts) -> state
};

}  // namespace cdc::replicate
