#include "replicate/start_point.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "replicate/checkpoint.h"
#include "replicate/checkpointer.h"
#include "replicate/initial_sync.h"

namespace cdc::replicate {

std::vector<std::string> SourceDmlChannels(const std::string& replicate_channel, int channel_num,
                                           const std::vector<CollectionMeta>& collections) {
  std::set<std::string> out;
  const std::string kSuffix = "-replicate-msg";
  if (absl::EndsWith(replicate_channel, kSuffix)) {
    const std::string cluster =
        replicate_channel.substr(0, replicate_channel.size() - kSuffix.size());
    for (int i = 0; i < channel_num; ++i) out.insert(absl::StrCat(cluster, "-rootcoord-dml_", i));
  }
  for (const auto& c : collections) out.insert(c.pchannels.begin(), c.pchannels.end());
  return {out.begin(), out.end()};
}

namespace {
// The row of a collection initial sync copies: from its create message (replay) or from the
// task's start (copy), with its copy state.
meta::PositionRecord SeedRow(const std::string& task_id, const SeedCollection& seed,
                             const std::map<std::string, source::MsgPosition>& start) {
  CopyState state;
  state.way = seed.replay ? CopyState::Way::kReplay : CopyState::Way::kCopy;
  state.rows_estimated = seed.rows_estimated;
  state.started_ms = NowMs();
  state.start_ts = seed.start_ts;
  // The copies' timestamps: above the create, below anything streamed after the start.
  state.copy_ts_base = seed.meta.create_ts;
  for (const auto& p : seed.meta.partitions)
    state.copy_ts_base = std::max(state.copy_ts_base, p.create_ts);
  std::map<std::string, source::MsgPosition> from;
  for (const auto& ch : seed.meta.pchannels) {
    auto it = start.find(ch);
    if (it == start.end()) continue;
    state.start_ts = std::max<uint64_t>(state.start_ts, it->second.timestamp());
    from[ch] = it->second;
    if (!seed.replay) continue;
    auto id = seed.meta.start_msg_ids.find(ch);
    if (id == seed.meta.start_msg_ids.end()) continue;
    from[ch].set_msgid(id->second);
    from[ch].set_timestamp(seed.meta.create_ts > 0 ? seed.meta.create_ts - 1 : 0);
  }
  meta::PositionRecord row;
  row.task_id = task_id;
  row.collection_id = seed.meta.id;
  row.collection_name = seed.meta.name;
  row.positions_json = EncodeSourcePositions(from, {{kInitialSyncKey, EncodeCopyState(state)}});
  return row;
}
}  // namespace

Status FixStart(meta::Store* store, const std::string& task_id,
                const std::string& replicate_channel, const std::vector<std::string>& dml_channels,
                const LatestPositionsFn& latest, std::chrono::milliseconds timeout,
                const std::vector<SeedCollection>& seeds, const GivenStart& given,
                const HoldsFn& holds) {
  std::vector<std::string> channels = dml_channels;
  for (const auto& [ch, _] : given.dml)
    if (std::find(channels.begin(), channels.end(), ch) == channels.end()) channels.push_back(ch);
  const std::vector<std::string> dml_all = channels;
  if (!replicate_channel.empty()) channels.push_back(replicate_channel);
  ASSIGN_OR_RETURN(auto positions, latest(channels, timeout));
  if (!given.empty()) {
    std::vector<bool> held;
    if (holds) {
      ASSIGN_OR_RETURN(held, holds(Positions(given), timeout));
    }
    RETURN_IF_ERROR(CheckGivenAgainstQueue(given, positions, held));
    for (const auto& [ch, p] : given.dml) positions[ch] = p;
    if (given.replicate && !replicate_channel.empty())
      positions[replicate_channel] = *given.replicate;
  }
  std::map<std::string, source::MsgPosition> dml;
  for (const auto& ch : dml_all) {
    auto it = positions.find(ch);
    if (it == positions.end()) {
      return InternalError(absl::StrCat("fix the start of task ", task_id, ": no position of ", ch,
                                        " from the source's queue"));
    }
    dml[ch] = it->second;
    dml[ch].set_channel_name(ch);
  }
  std::vector<meta::PositionRecord> rows;
  meta::PositionRecord start;
  start.task_id = task_id;
  start.collection_id = kStartRow;
  start.positions_json = EncodeSourcePositions(dml);
  rows.push_back(std::move(start));
  if (!replicate_channel.empty()) {
    auto it = positions.find(replicate_channel);
    if (it == positions.end()) {
      return InternalError(absl::StrCat("fix the start of task ", task_id, ": no position of ",
                                        replicate_channel, " from the source's queue"));
    }
    meta::PositionRecord rep;
    rep.task_id = task_id;
    rep.collection_id = kReplicateChannelRow;
    rep.collection_name = replicate_channel;
    source::MsgPosition p = it->second;
    p.set_channel_name(replicate_channel);
    std::vector<DdlRequest> pending;
    for (const auto& seed : seeds)
      pending.insert(pending.end(), seed.requests.begin(), seed.requests.end());
    rep.positions_json = EncodeSourcePositions({{replicate_channel, p}},
                                               {{kPendingKey, DdlApplier::EncodePending(pending)}});
    rows.push_back(std::move(rep));
  }
  for (const auto& seed : seeds) rows.push_back(SeedRow(task_id, seed, dml));
  return Annotate(store->PutPositions(rows),
                  absl::StrCat("store the start of task ", task_id, " in ", store->Describe()));
}

}  // namespace cdc::replicate
