// Pipeline::Impl: the source's load state followed from its etcd (replicate/partition_loads.h).
// Each change becomes a load-state reconcile queued with the replicate channel's requests at
// the time the load state was read (the wall clock as a hybrid ts, and never below a request or
// round already read): the change happened before that read, so a round releases it after what
// came before it (e.g. the CreateIndex a load needs), and a request the source takes after the
// read comes after it (e.g. a ReleaseCollection right after a partition load). Milvus's hybrid
// ts are its wall clock, so this holds as long as the two clocks agree (NTP) to within the time
// between a request and the load that needs it. The request carries no replicate-channel
// position (an empty channel name), so processing it moves no replicate checkpoint.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "milvus/milvus.pb.h"
#include "milvus/schema.pb.h"
#include "replicate/pipeline_impl.h"

namespace cdc::replicate {
namespace {
namespace cpb = ::milvus::proto::common;
namespace mpb = ::milvus::proto::milvus;
namespace schemapb = ::milvus::proto::schema;

// Milvus loads and releases a partition-key collection only whole.
bool HasPartitionKey(const CollectionMeta& c) {
  schemapb::CollectionSchema schema;
  if (!schema.ParseFromString(c.schema)) return false;
  for (const auto& f : schema.fields())
    if (f.is_partition_key()) return true;
  return false;
}

// The reconcile of `c` to `state`, read at `ts`, as a request without a channel position.
source::Message ReconcileMessage(const MappedCollection& c, const PartitionLoads::State& state,
                                 uint64_t ts) {
  WantedLoad w;
  w.db = c.source.db_name;
  w.collection = c.source.name;
  w.partition_key = HasPartitionKey(c.source);
  if (state) {
    w.loaded = true;
    w.by_partition = state->by_partition;
    w.replicas = state->replicas;
    for (int64_t p : state->partitions)
      if (auto it = c.source_partitions.find(p); it != c.source_partitions.end())
        w.partitions.push_back(it->second);
  }
  auto payload = std::make_shared<std::string>(EncodeWantedLoad(w));
  source::Message m;
  m.payload = *payload;
  m.owner = std::move(payload);
  m.header.type = kReconcileLoad;
  m.header.timestamp = ts;
  m.header.collection_id = c.source.id;
  return m;
}
}  // namespace

Status Pipeline::Impl::FollowPartitionLoads() {
  if (loop_.loads_off || !map_) return OkStatus();
  const auto now = std::chrono::steady_clock::now();
  if (now - loop_.last_load_poll < std::chrono::seconds(1)) return OkStatus();
  loop_.last_load_poll = now;
  // Taken before the read: every change it shows happened before this.
  uint64_t at = std::max(deps_.catalog->SourceNow(), loop_.applied + 1);
  if (!sources_.requests.empty()) at = std::max(at, sources_.requests.back().header.timestamp + 1);
  auto states = deps_.catalog->LoadStates();
  if (states.status().code() == StatusCode::kUnimplemented) {
    loop_.loads_off = true;
    return OkStatus();
  }
  if (!states.ok()) {
    // Not the step's error: the data goes on while the load state cannot be read (e.g. the
    // source's etcd is down), the reason says so, and the next read comes a second later.
    loop_.loads_error =
        std::string(Annotate(states.status(), "follow the source's load state").message());
    return OkStatus();
  }
  loop_.loads_error.clear();
  // After a start, every collection followed before gets one reconcile: a crash may have
  // come between a change and its reconcile, or a replay re-applied the channel's requests.
  if (!loop_.loads_started) {
    loop_.loads_started = true;
    loop_.reconcile_once = loads_.followed();
  }
  for (const auto& [id, c] : map_->collections()) {
    PartitionLoads::State state;
    if (auto it = states->find(id); it != states->end()) state = it->second;
    if (!loads_.Known(id)) {
      loads_.Baseline(id, c.source.create_ts <= opts_.task_start_ts ? state : std::nullopt);
    }
    if (!loads_.Changed(id, state) && !loop_.reconcile_once.count(id)) continue;
    // A partition the view does not know yet (just created): next time, once it is mapped.
    int64_t unknown = 0;
    if (state)
      for (int64_t p : state->partitions)
        if (!c.source_partitions.count(p)) unknown = p;
    if (unknown != 0) {
      if (loop_.load_waits.insert({id, unknown}).second)
        spdlog::info(
            "task {}: the load state of {}.{} on the source names partition {}, not "
            "known to the task yet: its reconcile waits for it",
            opts_.task_id, c.source.db_name, c.source.name, unknown);
      continue;
    }
    loop_.reconcile_once.erase(id);
    source::Message m = ReconcileMessage(c, state, at);
    spdlog::info("task {}: load state of {}.{} on the source: {}; the target is brought to it",
                 opts_.task_id, c.source.db_name, c.source.name, m.payload);
    loads_.Note(id, state, at);
    auto pos = std::upper_bound(
        sources_.requests.begin(), sources_.requests.end(), at,
        [](uint64_t ts, const source::Message& r) { return ts < r.header.timestamp; });
    sources_.requests.insert(pos, std::move(m));
  }
  return OkStatus();
}

}  // namespace cdc::replicate
