#include "replicate/checkpointer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "replicate/initial_sync.h"

namespace cdc::replicate {

namespace {
// Keeps the smaller position per channel (the one to read from).
void KeepEarliest(std::map<std::string, source::MsgPosition>* into,
                  const std::map<std::string, source::MsgPosition>& from) {
  for (const auto& [ch, pos] : from) {
    auto it = into->find(ch);
    if (it == into->end() || source::PositionBefore(pos, it->second)) (*into)[ch] = pos;
  }
}

Result<std::map<std::string, source::MsgPosition>> Decode(const meta::PositionRecord& row,
                                                          meta::Store* store) {
  auto decoded = DecodeSourcePositions(row.positions_json);
  if (!decoded.ok()) {
    return Annotate(decoded.status(),
                    absl::StrCat("load checkpoint task=", row.task_id,
                                 " collection=", row.collection_id, " from ", store->Describe()));
  }
  return decoded;
}
}  // namespace

Checkpointer::Checkpointer(std::string task_id, meta::Store* store, std::string replicate_channel)
    : task_id_(std::move(task_id)),
      store_(store),
      replicate_channel_(std::move(replicate_channel)) {}

Status Checkpointer::Load() {
  ASSIGN_OR_RETURN(auto rows, store_->ListPositions(task_id_));
  rows_.clear();  // loaded_ keeps what earlier loads saw (a rewind loads again)
  start_.clear();
  channels_.clear();
  replicate_.reset();
  pending_json_ = "[]";
  partition_loads_json_ = "{}";
  rbac_json_ = "{}";
  to_delete_.clear();
  has_start_row_ = false;
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(auto positions, Decode(row, store_));
    if (row.collection_id == kReplicateChannelRow) {
      for (auto& [_, pos] : positions) replicate_ = pos;
      pending_json_ = DecodeExtra(row.positions_json, kPendingKey, "[]");
      partition_loads_json_ = DecodeExtra(row.positions_json, kPartitionLoadsKey, "{}");
      rbac_json_ = DecodeExtra(row.positions_json, kRbacKey, "{}");
      continue;
    }
    if (row.collection_id == kStartRow) {
      start_ = std::move(positions);
      has_start_row_ = true;
      continue;
    }
    loaded_[row.collection_id] = row.collection_name;
    for (const auto& [ch, _] : positions) loaded_channels_[row.collection_id].insert(ch);
    CollectionRow r;
    r.name = row.collection_name;
    r.sync_state = DecodeExtra(row.positions_json, kInitialSyncKey, "");
    for (const auto& [_, pos] : positions) r.ts = std::max(r.ts, pos.timestamp());
    r.positions = std::move(positions);
    rows_[row.collection_id] = std::move(r);
  }
  return OkStatus();
}

std::optional<source::MsgPosition> Checkpointer::StartOf(const std::string& channel) const {
  std::map<std::string, source::MsgPosition> earliest;
  if (auto it = start_.find(channel); it != start_.end()) earliest[channel] = it->second;
  for (const auto& [_, r] : rows_)
    if (auto it = r.positions.find(channel); it != r.positions.end())
      KeepEarliest(&earliest, {{channel, it->second}});
  if (earliest.empty()) return std::nullopt;
  return earliest[channel];
}

std::set<std::string> Checkpointer::UnmappedRowChannels(
    const std::function<bool(int64_t)>& mapped) const {
  std::set<std::string> out;
  for (const auto& [id, channels] : loaded_channels_)
    if (!mapped(id)) out.insert(channels.begin(), channels.end());
  return out;
}

std::vector<std::string> Checkpointer::RowNames() const {
  std::vector<std::string> out;
  for (const auto& [_, r] : rows_)
    if (!r.name.empty()) out.push_back(r.name);
  for (const auto& [_, name] : loaded_)
    if (!name.empty()) out.push_back(name);
  return out;
}

uint64_t Checkpointer::AppliedTs(int64_t collection_id) const {
  auto it = rows_.find(collection_id);
  return it == rows_.end() ? 0 : it->second.ts;
}

uint64_t Checkpointer::Watermark() const {
  uint64_t w = 0;
  for (const auto& [_, r] : rows_) w = std::max(w, r.ts);
  for (const auto& [_, p] : start_) w = std::max(w, p.timestamp());
  return w;
}

void Checkpointer::SetChannel(const std::string& channel, const source::MsgPosition& p) {
  channels_[channel] = p;
}

void Checkpointer::DropRow(int64_t collection_id) {
  rows_.erase(collection_id);
  loaded_.erase(collection_id);
  loaded_channels_.erase(collection_id);
  to_delete_.insert(collection_id);
}

void Checkpointer::Freeze(int64_t collection_id, const std::string& name,
                          const std::map<std::string, source::MsgPosition>& if_none,
                          uint64_t applied_ts) {
  CollectionRow& r = rows_[collection_id];
  if (r.name.empty()) r.name = name;
  if (r.positions.empty()) r.positions = if_none;
  r.ts = std::max(r.ts, applied_ts);
  for (auto& [_, p] : r.positions) p.set_timestamp(std::max<uint64_t>(p.timestamp(), r.ts));
  to_delete_.erase(collection_id);
}

std::string Checkpointer::SyncState(int64_t collection_id) const {
  auto it = rows_.find(collection_id);
  return it == rows_.end() ? std::string() : it->second.sync_state;
}

void Checkpointer::SetSyncState(int64_t collection_id, std::string state_json) {
  rows_[collection_id].sync_state = std::move(state_json);
}

std::vector<int64_t> Checkpointer::SyncingCollections() const {
  std::vector<int64_t> out;
  for (const auto& [id, r] : rows_)
    if (!r.sync_state.empty()) out.push_back(id);
  return out;
}

std::optional<source::MsgPosition> Checkpointer::Known(const std::string& channel) const {
  if (auto it = channels_.find(channel); it != channels_.end()) return it->second;
  return StartOf(channel);
}

Status Checkpointer::Reserve(int64_t collection_id, const std::string& name,
                             std::map<std::string, source::MsgPosition> positions) {
  if (rows_.count(collection_id) || positions.empty()) return OkStatus();
  meta::PositionRecord r;
  r.task_id = task_id_;
  r.collection_id = collection_id;
  r.collection_name = name;
  r.positions_json = EncodeSourcePositions(positions);
  r.target_positions_json = EncodeTargetPositions({});
  RETURN_IF_ERROR(Annotate(store_->PutPositions({r}),
                           absl::StrCat("write checkpoint task=", task_id_,
                                        " collection=", collection_id, " (before its create)")));
  CollectionRow& row = rows_[collection_id];
  row.name = name;
  row.positions = std::move(positions);
  to_delete_.erase(collection_id);
  return OkStatus();
}

Status Checkpointer::Write(uint64_t w, const std::map<std::string, source::MsgPosition>& consumed,
                           const CheckpointView& view) {
  for (const auto& [ch, pos] : consumed) channels_[ch] = pos;
  std::map<std::string, source::MsgPosition> now = channels_;
  for (auto& [_, pos] : now) pos.set_timestamp(std::max<uint64_t>(pos.timestamp(), w));

  std::vector<meta::PositionRecord> out;
  auto row_of = [&](int64_t id, const std::string& name, const std::string& positions_json) {
    meta::PositionRecord r;
    r.task_id = task_id_;
    r.collection_id = id;
    r.collection_name = name;
    r.positions_json = positions_json;
    return r;
  };
  for (const auto& [id, named] : view.collections) {
    const auto& [name, pchannels] = named;
    CollectionRow& row = rows_[id];
    row.name = name;
    if (!view.frozen.count(id) && w > row.ts) {
      for (const auto& ch : pchannels)
        if (auto it = now.find(ch); it != now.end()) row.positions[ch] = it->second;
      row.ts = w;
    }
  }
  for (const auto& [id, row] : rows_) {
    if (!view.collections.count(id) && !view.frozen.count(id)) continue;
    if (row.positions.empty()) continue;  // nothing known to read it from yet
    std::map<std::string, std::string> extras;
    if (!row.sync_state.empty()) extras[kInitialSyncKey] = row.sync_state;
    auto r = row_of(id, row.name, EncodeSourcePositions(row.positions, extras));
    std::map<std::string, TargetPosition> targets;
    if (auto tc = view.target_channels.find(id); tc != view.target_channels.end())
      for (const auto& t : tc->second)
        if (auto it = view.targets.find(t); it != view.targets.end()) targets[t] = it->second;
    r.target_positions_json = EncodeTargetPositions(targets);
    out.push_back(std::move(r));
  }
  // Rows of collections no longer mapped (dropped, or left from an older run): gone.
  for (auto it = rows_.begin(); it != rows_.end();) {
    if (view.collections.count(it->first) || view.frozen.count(it->first)) {
      ++it;
      continue;
    }
    to_delete_.insert(it->first);
    it = rows_.erase(it);
  }
  for (const auto& [ch, pos] : now) {
    auto it = start_.find(ch);
    if (it == start_.end() || it->second.timestamp() <= pos.timestamp()) start_[ch] = pos;
  }
  if (!start_.empty()) out.push_back(row_of(kStartRow, "", EncodeSourcePositions(start_)));
  pending_json_ = view.pending_json;
  partition_loads_json_ = view.partition_loads_json;
  rbac_json_ = view.rbac_json;
  if (replicate_) {
    out.push_back(row_of(kReplicateChannelRow, replicate_channel_,
                         EncodeSourcePositions({{replicate_channel_, *replicate_}},
                                               {{kPendingKey, pending_json_},
                                                {kPartitionLoadsKey, partition_loads_json_},
                                                {kRbacKey, rbac_json_}})));
  }
  if (!out.empty()) {
    RETURN_IF_ERROR(Annotate(store_->PutPositions(out), "write checkpoint task=" + task_id_));
  }
  for (auto it = to_delete_.begin(); it != to_delete_.end();) {
    RETURN_IF_ERROR(
        Annotate(store_->DeletePosition(task_id_, *it),
                 absl::StrCat("delete checkpoint task=", task_id_, " collection=", *it)));
    it = to_delete_.erase(it);
  }
  return OkStatus();
}

Result<std::map<std::string, source::MsgPosition>> Checkpointer::ResumePositions(
    meta::Store* store, const std::string& task_id) {
  Checkpointer c(task_id, store, "");
  RETURN_IF_ERROR(c.Load());
  // The channels the task's collections use (a start-row channel alone is not read).
  std::map<std::string, source::MsgPosition> out;
  for (const auto& [_, row] : c.rows_)
    for (const auto& entry : row.positions)
      if (auto p = c.StartOf(entry.first)) out[entry.first] = *p;
  return out;
}

}  // namespace cdc::replicate
