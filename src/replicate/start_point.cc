#include "replicate/start_point.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "replicate/checkpoint.h"
#include "replicate/checkpointer.h"

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

Status FixStart(meta::Store* store, const std::string& task_id,
                const std::string& replicate_channel, const std::vector<std::string>& dml_channels,
                const LatestPositionsFn& latest, std::chrono::milliseconds timeout) {
  std::vector<std::string> channels = dml_channels;
  if (!replicate_channel.empty()) channels.push_back(replicate_channel);
  ASSIGN_OR_RETURN(auto positions, latest(channels, timeout));
  std::map<std::string, source::MsgPosition> dml;
  for (const auto& ch : dml_channels) {
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
    rep.positions_json = EncodeReplicatePosition(p, "[]");
    rows.push_back(std::move(rep));
  }
  return Annotate(store->PutPositions(rows),
                  absl::StrCat("store the start of task ", task_id, " in ", store->Describe()));
}

}  // namespace cdc::replicate
