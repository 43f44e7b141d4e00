// Initial sync's query way (replicate/initial_sync.h, docs/initial-sync.md): a collection
// whose first messages the source's queue no longer holds is set aside (its stream waits in
// its checkpoint row, at the task's start S) while its rows are read from the source page by
// page in primary-key order and sent to the target. Each page is sent as a Delete of its keys
// and an Insert of its rows, both stamped with the time it is sent, above every tick already
// on its target channels (target_writer.h; copy_ts_base + emissions only names its messages):
// a page sent again after a restart deletes its earlier copy, and every change the stream
// brings after S, replayed once the pages are sent (so sent later, at newer timestamps),
// applies on top. Once every page is sent, the source's current timestamp H is kept, the collection
// is taken back and its stream replayed from S, each Insert at or below H preceded by a
// Delete of its keys at its own timestamp (an upsert): a row both copied and streamed is
// never doubled, and a row deleted after S stays deleted.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "replicate/pipeline_impl.h"
#include "replicate/row_copy.h"
#include "replicate/wire_rewrite.h"

namespace cdc::replicate {

namespace {

namespace schemapb = ::milvus::proto::schema;

// Skip this far ahead in copy timestamps after a restart: pages sent after the last saved
// state used emissions up to this many above it.
constexpr int64_t kEmissionsAfterRestart = int64_t{1} << 20;

std::optional<target::PrimaryKey> KeyFromJson(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_number_integer()) return target::PrimaryKey(j.get<int64_t>());
  if (j.is_string()) return target::PrimaryKey(j.get<std::string>());
  return std::nullopt;
}

std::string KeyToJson(const target::PrimaryKey& key) {
  if (const auto* i = std::get_if<int64_t>(&key)) return nlohmann::json(*i).dump();
  return nlohmann::json(std::get<std::string>(key)).dump();
}

struct KeyFields {
  const schemapb::FieldSchema* pk = nullptr;
  const schemapb::FieldSchema* partition_key = nullptr;
};

KeyFields FindKeys(const schemapb::CollectionSchema& schema) {
  KeyFields k;
  for (const auto& f : schema.fields()) {
    if (f.is_primary_key()) k.pk = &f;
    if (f.is_partition_key()) k.partition_key = &f;
  }
  return k;
}

// The source partitions copied one after the other, in id order; a partition-key collection
// is read in one pass (its rows are routed by their key).
std::vector<std::string> CopyOrder(const MappedCollection& c, bool partition_key) {
  if (partition_key) return {""};
  std::vector<PartitionMeta> parts = c.source.partitions;
  std::sort(parts.begin(), parts.end(),
            [](const PartitionMeta& a, const PartitionMeta& b) { return a.id < b.id; });
  std::vector<std::string> out;
  out.reserve(parts.size());
  for (const auto& p : parts) out.push_back(p.name);
  return out;
}

std::string Name(const MappedCollection& c) {
  return absl::StrCat(c.source.db_name, ".", c.source.name);
}

// The set-aside reason while a copy goes well: the same all along (the task's reason, which
// is logged and stored on each change, does not move with every page; `get` shows the rows).
std::string CopyingReason(const std::string& name) {
  return absl::StrCat("initial sync of ", name,
                      ": copying its rows from the source (progress under initial_sync); its "
                      "changes since the task's start follow once they are all copied");
}

}  // namespace

bool Pipeline::Impl::AwaitsCopy(const MappedCollection& c) {
  CopyState* s = sync_.Mutable(c.source.id);
  if (s == nullptr || s->done || s->way != CopyState::Way::kCopy || s->rows_done) return false;
  const std::string name = Name(c);
  const int64_t id = c.source.id;
  auto [it, fresh] = copies_.try_emplace(id);
  if (fresh) {
    it->second.c = c;
    if (s->emissions > 0) s->emissions += kEmissionsAfterRestart;
    spdlog::info(
        "task {}: initial sync of {}: copying its rows from the source by primary key "
        "({} copied so far); its stream waits from the task's start",
        opts_.task_id, name, s->rows_copied);
  }
  map_->Forget(id);  // nothing of its stream is applied: its row stays at the start
  SetAside(id, name, UnavailableError(CopyingReason(name)), /*planned=*/true);
  return true;
}

// With a pace set, `rows` just read hold the next page back by rows / copy_rows_per_s.
void Pipeline::Impl::Pace(int64_t rows) {
  if (deps_.copy_rows_per_s <= 0 || rows <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  const auto cost = std::chrono::microseconds(rows * 1000000 / deps_.copy_rows_per_s);
  loop_.copy_paced_until = std::max(loop_.copy_paced_until, now) +
                           std::chrono::duration_cast<std::chrono::steady_clock::duration>(cost);
}

Status Pipeline::Impl::StepCopies(bool* progressed) {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = copies_.begin(); it != copies_.end();) {
    const int64_t id = it->first;
    CopyJob& job = it->second;
    CopyState* state = sync_.Mutable(id);
    if (state == nullptr || state->rows_done || !quarantine_.Has(id)) {
      it = copies_.erase(it);  // finished, or the collection is gone
      continue;
    }
    if (job.next_try > now || loop_.copy_paced_until > now) {
      ++it;
      continue;
    }
    *progressed = true;
    const int64_t copied_before = state->rows_copied;
    Status s = StepCopy(id, job, *state);
    Pace(state->rows_copied - copied_before);
    if (!s.ok()) {
      job.backoff = std::min(std::max(job.backoff * 2, opts_.init_backoff), opts_.max_backoff);
      job.next_try = now + job.backoff;
      job.reader.reset();
      quarantine_.SetReason(id, std::string(s.message()));
      spdlog::warn("task {}: {}", opts_.task_id, std::string(s.message()));
    } else {
      job.backoff = std::chrono::milliseconds(0);
    }
    if (state->rows_done) {
      quarantine_.MakeDue(id);  // taken back at once: its stream replays from the start
      it = copies_.erase(it);
      continue;
    }
    ++it;
  }
  return OkStatus();
}

Status Pipeline::Impl::StepCopy(int64_t id, CopyJob& job, CopyState& state) {
  const std::string name = Name(job.c);
  auto fail = [&](const Status& s, const std::string& what) {
    return Status(s.code(), absl::StrCat("initial sync of ", name, ": ", what, ": ", s.message()));
  };
  if (!deps_.source_reader) {
    return FailedPreconditionError(absl::StrCat(
        "initial sync of ", name,
        ": the source's queue no longer holds its first messages, so its rows have to be read "
        "from the source, and sourceConfig.milvus (the source's proxy) is not set; set it and "
        "restart milvus-cdc (docs/initial-sync.md)"));
  }
  if (!job.reader) {
    auto r = deps_.source_reader();
    if (!r.ok()) return fail(r.status(), "connect to the source (sourceConfig.milvus)");
    job.reader = *r;
  }
  schemapb::CollectionSchema schema;
  (void)schema.ParseFromString(job.c.source.schema);
  const KeyFields keys = FindKeys(schema);
  if (keys.pk == nullptr) return InternalError("initial sync of " + name + ": no primary key");
  const auto order = CopyOrder(job.c, keys.partition_key != nullptr);
  auto part = std::find(order.begin(), order.end(), state.partition);
  if (state.partition.empty() || part == order.end()) {
    part = order.begin();
    if (state.partition != *part) state.last_pk.clear();
    state.partition = *part;
  }

  target::PkPagerOptions po;
  po.db = job.c.source.db_name;
  po.collection = job.c.source.name;
  po.pk_field = keys.pk->name();
  po.output_fields = {"*"};
  if (!state.partition.empty()) po.partition_names = {state.partition};
  po.page_size = std::clamp<int64_t>(deps_.copy_page_rows, 1, target::kMaxQueryWindow);
  po.after = KeyFromJson(state.last_pk);
  po.consistency = target::ReadConsistency::Strong();
  target::PkPager pager(job.reader.get(), po);
  auto page = pager.Next();
  if (!page.ok()) {
    return fail(page.status(),
                absl::StrCat("read its rows from ", job.reader->Describe(),
                             " (a Milvus 2.3 collection must be loaded to be queried: load it "
                             "on the source; milvus-cdc retries)"));
  }
  if (page->rows.num_rows > 0) {
    RETURN_IF_ERROR(SendCopyPage(job, state, *page, state.partition));
    state.rows_copied += page->rows.num_rows;
    state.last_pk = KeyToJson(page->keys.back());
    quarantine_.SetReason(id, CopyingReason(name));  // (again after a page that failed)
  }
  if (!page->last) return OkStatus();
  if (++part != order.end()) {
    state.partition = *part;
    state.last_pk.clear();
    return OkStatus();
  }
  auto h = job.reader->AllocTimestamp();
  if (!h.ok()) return fail(h.status(), "read the source's time after the last page");
  state.upsert_until = *h;
  state.rows_done = true;
  spdlog::info(
      "task {}: initial sync of {}: {} rows copied; its stream since the task's start "
      "follows, inserts up to ts {} as upserts",
      opts_.task_id, name, state.rows_copied, *h);
  return OkStatus();
}

Status Pipeline::Impl::SendCopyPage(CopyJob& job, CopyState& state, const target::PkPage& page,
                                    const std::string& partition) {
  const std::string name = Name(job.c);
  schemapb::CollectionSchema schema;
  (void)schema.ParseFromString(job.c.source.schema);
  const KeyFields keys = FindKeys(schema);
  const auto* pk = page.rows.Field(keys.pk->name());
  const auto* pkey = keys.partition_key ? page.rows.Field(keys.partition_key->name()) : nullptr;
  if (pk == nullptr || (keys.partition_key != nullptr && pkey == nullptr)) {
    return InternalError("initial sync of " + name + ": a page without its key columns");
  }
  const std::string default_partition = partition.empty() && !job.c.source.partitions.empty()
                                            ? job.c.source.partitions[0].name
                                            : partition;
  ASSIGN_OR_RETURN(
      auto groups,
      GroupRows(*pk, pkey, page.rows.num_rows, static_cast<int>(job.c.source.vchannels.size()),
                static_cast<int64_t>(job.c.source.partitions.size()), default_partition));
  const uint64_t ts = state.copy_ts_base + static_cast<uint64_t>(++state.emissions);
  if (state.start_ts > 0 && ts >= state.start_ts) {
    return FailedPreconditionError(
        absl::StrCat("initial sync of ", name,
                     ": no timestamp left between its create and the task's "
                     "start for its copied rows"));
  }
  // One ReplicateMessage per target channel: the page's Delete then its Insert.
  if (groups.size() > 2048) {
    return InvalidArgumentError(absl::StrCat("initial sync of ", name, ": a page of ",
                                             groups.size(),
                                             " shard and partition groups; lower "
                                             "initialSync.queryBatchRows"));
  }
  std::map<std::string, std::vector<std::string>> per_channel;
  int group = 0;
  for (const auto& g : groups) {
    ++group;
    if (g.shard < 0 || static_cast<size_t>(g.shard) >= job.c.source.vchannels.size()) continue;
    auto route = job.c.routes.find(job.c.source.vchannels[g.shard]);
    if (route == job.c.routes.end()) {
      return InternalError(
          absl::StrCat("initial sync of ", name, ": shard ", g.shard, " has no target channel"));
    }
    int64_t source_pid = 0;
    for (const auto& p : job.c.source.partitions)
      if (p.name == g.partition) source_pid = p.id;
    ASSIGN_OR_RETURN(int64_t target_pid, map_->TargetPartition(job.c, source_pid));
    CopyDestination to;
    to.db = job.c.target.db_name;
    to.collection = job.c.target.name;
    to.partition = g.partition;
    to.collection_id = job.c.target.id;
    to.partition_id = target_pid;
    to.vchannel = route->second.target_vchannel;
    ASSIGN_OR_RETURN(auto del, CopyDelete(to, *pk, g.rows, ts, CopyMsgId(ts, 0, group)));
    ASSIGN_OR_RETURN(auto ins,
                     CopyInsert(to, page.rows.fields, g.rows, ts, CopyMsgId(ts, 1, group)));
    auto& msgs = per_channel[route->second.target_pchannel];
    msgs.push_back(std::move(del));
    msgs.push_back(std::move(ins));
  }
  // Each page goes out stamped with the current time, above every tick already on its
  // channels (target_writer.h): rows stamped at their planned time, below another task's
  // ticks there, did not show on the target's query node.
  for (auto& [channel, msgs] : per_channel) {
    auto sent = writer_->SendFresh(channel, std::move(msgs), ts);
    if (!sent.ok()) {
      return Status(sent.status().code(),
                    absl::StrCat("initial sync of ", name,
                                 ": send copied rows to the target: ", sent.status().message()));
    }
  }
  return OkStatus();
}

Result<std::string> Pipeline::Impl::UpsertDelete(const MappedCollection& c,
                                                 std::string_view insert_payload,
                                                 const FieldOverrides& overrides) {
  schemapb::CollectionSchema schema;
  (void)schema.ParseFromString(c.source.schema);
  const KeyFields keys = FindKeys(schema);
  if (keys.pk == nullptr) return InternalError("initial sync of " + Name(c) + ": no primary key");
  ASSIGN_OR_RETURN(auto del, DeleteOfInsert(insert_payload, keys.pk->fieldid()));
  return RewriteFields(del, overrides);
}

}  // namespace cdc::replicate
