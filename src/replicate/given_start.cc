#include "replicate/given_start.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "source/vchannel.h"

namespace cdc::replicate {
namespace {

struct Entry {
  std::string db;
  const task::CollectionInfo* info = nullptr;
  std::string field;  // the create field, for messages
};

// The filter entries that carry positions.
std::vector<Entry> WithPositions(const task::TaskInfo& task) {
  std::vector<Entry> out;
  for (size_t i = 0; i < task.collection_infos.size(); ++i) {
    if (task.collection_infos[i].positions.empty()) continue;
    out.push_back({"default", &task.collection_infos[i],
                   absl::StrCat("collection_infos[", i, "].positions")});
  }
  for (const auto& [db, infos] : task.db_collections) {
    for (size_t i = 0; i < infos.size(); ++i) {
      if (infos[i].positions.empty()) continue;
      out.push_back({db, &infos[i], absl::StrCat("db_collections.", db, "[", i, "].positions")});
    }
  }
  return out;
}

const CollectionMeta* FindCollection(const std::vector<CollectionMeta>& all, const std::string& db,
                                     const std::string& name) {
  for (const auto& c : all)
    if (c.db_name == db && c.name == name) return &c;
  return nullptr;
}

// One `vchannel: base64` entry, checked against the collection.
Result<std::pair<std::string, source::MsgPosition>> DecodeOne(const Entry& e,
                                                              const CollectionMeta& c,
                                                              const std::string& vchannel,
                                                              const std::string& base64) {
  const std::string where = absl::StrCat(e.field, "[", vchannel, "]");
  auto vc = source::ParseVChannel(vchannel);
  if (!vc.ok()) {
    return InvalidArgumentError(
        absl::StrCat(where, ": the key is not a vchannel ({pchannel}_{collectionID}v{shard})"));
  }
  const std::string full = absl::StrCat(c.db_name, ".", c.name);
  if (vc->collection_id != c.id) {
    return InvalidArgumentError(
        absl::StrCat(where, ": the vchannel belongs to collection id ", vc->collection_id, ", but ",
                     full, " is collection id ", c.id, " on the source (its vchannels: ",
                     absl::StrJoin(c.vchannels, ", "), "); give the positions of this collection"));
  }
  auto shard = std::find(c.vchannels.begin(), c.vchannels.end(), vchannel);
  if (shard == c.vchannels.end()) {
    return InvalidArgumentError(absl::StrCat(where, ": ", full, " has no such vchannel (its ",
                                             "vchannels: ", absl::StrJoin(c.vchannels, ", "), ")"));
  }
  const size_t i = static_cast<size_t>(shard - c.vchannels.begin());
  const std::string pchannel = i < c.pchannels.size() ? c.pchannels[i] : vc->pchannel;
  auto pos = source::DecodePosition(base64);
  if (!pos.ok()) {
    return InvalidArgumentError(absl::StrCat(where, ": ", pos.status().message(),
                                             "; give base64 of a serialized MsgPosition, e.g. a "
                                             "msg_id of `position` or a milvus-backup channel "
                                             "checkpoint"));
  }
  const std::string& named = pos->channel_name();
  if (!named.empty() && named != vchannel && named != pchannel) {
    return InvalidArgumentError(absl::StrCat(where, ": the position is one of channel ", named,
                                             ", not of ", vchannel, " or ", pchannel));
  }
  if (pos->msgid().empty()) {
    return InvalidArgumentError(absl::StrCat(where, ": the position has no message id"));
  }
  pos->set_channel_name(pchannel);
  return std::make_pair(pchannel, *std::move(pos));
}

Result<source::MsgPosition> DecodeReplicate(const std::string& base64,
                                            const std::string& replicate_channel) {
  auto pos = source::DecodePosition(base64);
  if (!pos.ok()) {
    return InvalidArgumentError(absl::StrCat("rpc_channel_info.position: ", pos.status().message(),
                                             "; give base64 of a serialized MsgPosition on ",
                                             replicate_channel));
  }
  if (!pos->channel_name().empty() && pos->channel_name() != replicate_channel) {
    return InvalidArgumentError(
        absl::StrCat("rpc_channel_info.position: the position is one of "
                     "channel ",
                     pos->channel_name(), ", not of the replicate channel ", replicate_channel));
  }
  pos->set_channel_name(replicate_channel);
  return *std::move(pos);
}

}  // namespace

Result<GivenStart> DecodeGivenStart(const task::TaskInfo& task,
                                    const std::vector<CollectionMeta>& collections,
                                    const std::string& replicate_channel) {
  GivenStart out;
  const auto entries = WithPositions(task);
  if (!entries.empty() && task.initial_sync) {
    return InvalidArgumentError(
        "initial_sync copies what the collection holds when the task starts, positions start it "
        "at a point in the past: give one of them");
  }
  for (const auto& e : entries) {
    if (e.db == "*" || e.info->name == "*") {
      return InvalidArgumentError(
          absl::StrCat(e.field, ": positions need one named collection, not `*`"));
    }
    const CollectionMeta* c = FindCollection(collections, e.db, e.info->name);
    if (c == nullptr) {
      return InvalidArgumentError(absl::StrCat(e.field, ": collection ", e.db, ".", e.info->name,
                                               " does not exist on the source"));
    }
    out.collection = absl::StrCat(e.db, ".", e.info->name);
    for (const auto& [vchannel, base64] : e.info->positions) {
      ASSIGN_OR_RETURN(auto one, DecodeOne(e, *c, vchannel, base64));
      auto [it, fresh] = out.dml.emplace(one.first, one.second);
      // Two shards on one pchannel: read it from the earlier position.
      if (!fresh && source::PositionBefore(one.second, it->second)) it->second = one.second;
    }
    std::vector<std::string> missing;
    for (const auto& v : c->vchannels)
      if (!e.info->positions.count(v)) missing.push_back(v);
    if (!missing.empty()) {
      return InvalidArgumentError(absl::StrCat(e.field, ": no position of ",
                                               absl::StrJoin(missing, ", "),
                                               "; give one for "
                                               "every vchannel of ",
                                               out.collection));
    }
  }
  if (!task.rpc_channel.position.empty()) {
    ASSIGN_OR_RETURN(auto rep, DecodeReplicate(task.rpc_channel.position, replicate_channel));
    out.replicate = std::move(rep);
    out.replicate_given = true;
  } else if (!out.dml.empty()) {
    uint64_t lowest = UINT64_MAX;
    for (const auto& [_, p] : out.dml) lowest = std::min<uint64_t>(lowest, p.timestamp());
    if (lowest > 0) {
      source::MsgPosition rep;  // no message id: the channel's first retained message
      rep.set_channel_name(replicate_channel);
      rep.set_timestamp(lowest);
      out.replicate = std::move(rep);
    }
  }
  return out;
}

std::vector<source::MsgPosition> Positions(const GivenStart& given) {
  std::vector<source::MsgPosition> out;
  for (const auto& [_, p] : given.dml) out.push_back(p);
  if (given.replicate && !given.replicate->msgid().empty()) out.push_back(*given.replicate);
  return out;
}

Status CheckGivenAgainstQueue(const GivenStart& given,
                              const std::map<std::string, source::MsgPosition>& latest,
                              const std::vector<bool>& held) {
  const auto all = Positions(given);
  for (size_t i = 0; i < all.size(); ++i) {
    const source::MsgPosition& p = all[i];
    const bool rep = given.replicate && p.channel_name() == given.replicate->channel_name() &&
                     !given.dml.count(p.channel_name());
    const std::string field =
        rep ? "rpc_channel_info.position" : absl::StrCat("the position of ", given.collection);
    if (i < held.size() && !held[i]) {
      return InvalidArgumentError(absl::StrCat(
          field, " on ", p.channel_name(), " (", source::DescribePosition(p),
          ") is no longer held by the source's queue (retention removed it); give a later "
          "position, or use initial_sync instead"));
    }
    auto end = latest.find(p.channel_name());
    if (end == latest.end()) continue;
    source::MsgPosition a = end->second, b = p;  // compare the message ids only
    a.set_timestamp(0);
    b.set_timestamp(0);
    if (source::PositionBefore(a, b)) {
      return InvalidArgumentError(
          absl::StrCat(field, " on ", p.channel_name(), " (", source::DescribePosition(p),
                       ") is past the channel's end (", source::DescribePosition(end->second),
                       "); is it a position of this source?"));
    }
  }
  return OkStatus();
}

}  // namespace cdc::replicate
