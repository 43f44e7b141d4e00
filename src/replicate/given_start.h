#pragma once
// replicate::GivenStart: the start a user gives at create, decoded and checked, so that the
// task starts exactly there instead of where create answered (replicate/start_point.h).
//
// Input (upstream's create fields, v2.0.0-rc8):
//  - `collection_infos[].positions` / `db_collections{db: [{positions}]}`: {vchannel: base64 of
//    a serialized msg.MsgPosition}. The key is a vchannel of the named collection,
//    `{pchannel}_{collectionID}v{shard}` (as upstream: the pchannel part says which source
//    channel is read from there, the collection id which collection it belongs to). E.g. the
//    channel checkpoints of a milvus-backup, or `msg_id`s of another task's `position`.
//  - `rpc_channel_info.position`: base64 MsgPosition on the replicate-msg channel.
// A position is a seek position as Milvus uses it: the reader starts at its msgID (inclusive)
// and skips messages at or below its timestamp (0: none), so a checkpoint (msgID = where to go
// on, timestamp = what is done) starts right after what it covers.
// Without `rpc_channel_info.position`, the replicate channel is read from its first retained
// message, skipping requests at or below the lowest timestamp of the positions, when every
// position has one; else it starts where create answered, as upstream (requests between the
// positions and create are then not replayed).
//
// Pure functions, thread-safe. Errors are InvalidArgument naming the create field and channel.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "replicate/catalog_view.h"
#include "source/position.h"
#include "task/task_info.h"

namespace cdc::replicate {

struct GivenStart {
  std::string collection;                          // db.collection the positions belong to
  std::map<std::string, source::MsgPosition> dml;  // source pchannel -> start (channel = pchannel)
  std::optional<source::MsgPosition> replicate;    // start on the replicate channel
  bool replicate_given = false;  // from rpc_channel_info.position (else derived from `dml`)
  bool empty() const { return dml.empty() && !replicate; }
};

// Decodes the task's positions and checks them against the source's live collections: every
// key a vchannel of the named collection (its current id), all of its vchannels given, each
// value base64 of a MsgPosition whose channel_name (if set) is that vchannel or its pchannel.
// An empty GivenStart when the task gives no position.
Result<GivenStart> DecodeGivenStart(const task::TaskInfo& task,
                                    const std::vector<CollectionMeta>& collections,
                                    const std::string& replicate_channel);

// Checks the given positions against the source's queue: `latest` holds each channel's end now
// (source::Broker::LatestPositions), `held` whether the queue still holds each position of
// `Positions(given)` (source::Broker::Holds). A position past a channel's end or no longer held
// is InvalidArgument naming the channel and the create field.
Status CheckGivenAgainstQueue(const GivenStart& given,
                              const std::map<std::string, source::MsgPosition>& latest,
                              const std::vector<bool>& held);

// The given positions with a message id (what Broker::Holds is asked about), DML first in
// channel order, then the replicate channel's.
std::vector<source::MsgPosition> Positions(const GivenStart& given);

}  // namespace cdc::replicate
