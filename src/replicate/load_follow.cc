// Pipeline::Impl: partition loads and releases followed from the source's etcd
// (replicate/partition_loads.h). Each change becomes a LoadPartitions / ReleasePartitions
// request queued with the replicate channel's requests at the time the load state was read
// (the wall clock as a hybrid ts, and never below a request or round already read): the change
// happened before that read, so a round releases it after what came before it (e.g. the
// CreateIndex a load needs), and a request the source takes after the read comes after it
// (e.g. a ReleaseCollection right after a partition load). Milvus's hybrid ts are its wall
// clock, so this holds as long as the two clocks agree (NTP) to within the time between a
// request and the load that needs it. The request carries no replicate-channel position (an
// empty channel name), so processing it moves no replicate checkpoint.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_join.h"
#include "milvus/milvus.pb.h"
#include "milvus/schema.pb.h"
#include "replicate/pipeline_impl.h"

namespace cdc::replicate {
namespace {
namespace cpb = ::milvus::proto::common;
namespace mpb = ::milvus::proto::milvus;
namespace schemapb = ::milvus::proto::schema;

// Milvus refuses to load or release single partitions of a partition-key collection (only the
// whole collection, whose requests the replicate channel carries).
bool HasPartitionKey(const CollectionMeta& c) {
  schemapb::CollectionSchema schema;
  if (!schema.ParseFromString(c.schema)) return false;
  for (const auto& f : schema.fields())
    if (f.is_partition_key()) return true;
  return false;
}

template <typename Req>
source::Message RequestMessage(int type, const MappedCollection& c,
                               const std::vector<std::string>& partitions, uint64_t ts, Req req) {
  req.mutable_base()->set_msg_type(static_cast<cpb::MsgType>(type));
  req.mutable_base()->set_timestamp(ts);
  req.set_db_name(c.source.db_name);
  req.set_collection_name(c.source.name);
  for (const auto& p : partitions) req.add_partition_names(p);
  auto payload = std::make_shared<std::string>(req.SerializeAsString());
  source::Message m;
  m.payload = *payload;
  m.owner = std::move(payload);
  m.header.type = type;
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
  RETURN_IF_ERROR(Annotate(states.status(), "follow the source's partition loads"));
  for (const auto& [id, c] : map_->collections()) {
    PartitionLoads::State state;
    if (auto it = states->find(id); it != states->end()) state = it->second;
    if (!loads_.Known(id)) {
      loads_.Baseline(id, c.source.create_ts <= opts_.task_start_ts ? state : std::nullopt);
    }
    if (!loads_.Changed(id, state)) continue;
    if (HasPartitionKey(c.source)) {
      loads_.Baseline(id, state);  // its loads are the collection's: on the replicate channel
      continue;
    }
    // A partition the view does not know yet (just created): next time, once it is mapped.
    bool unknown = false;
    if (state)
      for (int64_t p : state->partitions) unknown = unknown || !c.source_partitions.count(p);
    if (unknown) continue;
    size_t queued = 0;
    for (const auto& change : loads_.Diff(id, state, at)) {
      std::vector<std::string> names;
      for (int64_t p : change.partitions)
        if (auto it = c.source_partitions.find(p); it != c.source_partitions.end())
          names.push_back(it->second);  // a release of a dropped partition: its drop does it
      if (names.empty()) continue;
      source::Message m;
      if (change.load) {
        mpb::LoadPartitionsRequest req;
        req.set_replica_number(change.replicas);
        m = RequestMessage(cpb::LoadPartitions, c, names, at, std::move(req));
      } else {
        m = RequestMessage(cpb::ReleasePartitions, c, names, at, mpb::ReleasePartitionsRequest());
      }
      spdlog::info("task {}: the source {} partitions [{}] of {}.{} (from its load state)",
                   opts_.task_id, change.load ? "loaded" : "released", absl::StrJoin(names, ", "),
                   c.source.db_name, c.source.name);
      auto pos = std::upper_bound(
          sources_.requests.begin(), sources_.requests.end(), at,
          [](uint64_t ts, const source::Message& r) { return ts < r.header.timestamp; });
      sources_.requests.insert(pos, std::move(m));
      ++queued;
    }
    if (queued == 0) loads_.Applied(id, at);  // e.g. only dropped partitions released
  }
  return OkStatus();
}

}  // namespace cdc::replicate
