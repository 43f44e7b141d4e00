#pragma once
// replicate::PartitionLoads: follows the load state of each replicated collection on the
// source and brings the target's to it. A Milvus 2.3 source writes no LoadPartitions or
// ReleasePartitions record on its replicate channel (checked on 2.3.5); its query coordinator
// keeps the load state in etcd (querycoord-collection-loadinfo/{collection} with the load type,
// querycoord-partition-loadinfo/{collection}/{partition} per loaded partition; both load types
// keep partition keys, and releasing one partition of a collection loaded whole removes its
// key). The pipeline reads that state (CatalogView::LoadStates) at most once a second.
//
// A change is not turned into the request that would make it (a diff of two reads): reads a
// second apart miss what happened between them (a ReleaseCollection, which the channel carries,
// then a partition load: the diff says "nothing to load", while the target, released by the
// channel's request, needs the load), and a replay after a crash re-applies the channel's
// requests around it. Each change queues a reconcile instead (kReconcileLoad, WantedLoad: the
// state read), applied in the collection's order like the channel's requests: it reads the
// target's load state of the collection and of each partition then and makes only the calls
// that take it to the wanted one (ReconcileLoad). So the target ends where the source is,
// whatever came between two reads or was replayed. After a restart every collection whose
// load state this task followed gets one reconcile, also when the source did not change.
//
// A collection met for the first time starts from its state then when it is older than the
// task (a task replicates what changes after it starts), else from "not loaded".
// Note records each change with its ts; Applied(collection, ts) marks it processed. Json()
// holds the applied states, which the checkpoint keeps, so a restart finds again what changed
// while the task was down or not processed yet. Not thread-safe (the pipeline thread).
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "replicate/catalog_view.h"
#include "source/message.h"
#include "target/client.h"

namespace cdc::replicate {

// The request type of a reconcile (milvus-cdc's own, outside common.MsgType).
inline constexpr int kReconcileLoad = 1'000'001;

// The load state a reconcile brings the target to; also the request's payload (JSON).
struct WantedLoad {
  std::string db;          // the source's names (the pipeline maps them to the target's)
  std::string collection;  //
  bool loaded = false;
  bool by_partition = false;
  int32_t replicas = 1;
  bool partition_key = false;           // loaded and released only whole: partitions not compared
  std::vector<std::string> partitions;  // loaded, by name (a target's partitions have the source's)
};
std::string EncodeWantedLoad(const WantedLoad& w);
Result<WantedLoad> DecodeWantedLoad(std::string_view payload);

// The target refused a load because the collection is loaded with other indexes or another
// replica number than the load would have (it loads more only after a release).
bool LoadedWithOtherIndexes(const Status& s);

// Brings the load state of `db`.`collection` on `target` to `want` with the fewest calls: a
// collection the source does not have loaded is released; one loaded whole and not loaded on
// the target is loaded whole, one loaded by partition gets its partitions loaded; then
// partitions loaded on one side only are loaded or released (loads first, so that a release
// never leaves the collection with none). Calls carry `ts` as their replicate ts.
struct ReconcileOutcome {
  std::string did;  // what it did ("" when the target was there already, or is a sink)
  // Partitions loaded on the source that the target does not have at all (dropped there, or
  // their create is still to come): not loaded there.
  std::vector<std::string> missing;
};
Result<ReconcileOutcome> ReconcileLoad(target::Client& target, const std::string& db,
                                       const std::string& collection, const WantedLoad& want,
                                       uint64_t ts);

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
  // True when `now` differs from what was last seen of the collection, or it was touched since.
  bool Changed(int64_t collection_id, const State& now) const;
  // A load or release of the collection came on the replicate channel: the next read of the
  // load state reconciles it even when the state read is the one seen before (it may have
  // changed and changed back between two reads).
  void Touch(int64_t collection_id) { touched_.insert(collection_id); }
  // The collection is at `now` since a read at `ts`, for which a reconcile is queued; it is
  // followed from now on (also after a restart).
  void Note(int64_t collection_id, const State& now, uint64_t ts);
  // The change of `collection_id` at `ts` was processed: its state goes into Json().
  void Applied(int64_t collection_id, uint64_t ts);
  // Collections whose load state this task followed (a reconcile was queued for them).
  const std::set<int64_t>& followed() const { return followed_; }

  // Applied states by collection, for the checkpoint; Restore reads such a text (seen = applied).
  std::string Json() const;
  Status Restore(const std::string& json);

 private:
  std::map<int64_t, State> seen_;
  std::map<int64_t, State> applied_;
  std::map<std::pair<int64_t, uint64_t>, State> pending_;  // (collection, ts) -> state
  std::set<int64_t> followed_;
  std::set<int64_t> touched_;
};

}  // namespace cdc::replicate
