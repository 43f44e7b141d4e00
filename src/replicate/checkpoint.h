#pragma once
// The JSON layout of checkpoint maps inside meta::PositionRecord, as upstream's
// TaskCollectionPosition: channel -> {"StartTime", "Time" (ms of the hybrid ts), "DataPair":
// {"key": channel, "data": base64}, "Dropped"}.
//  - positions (source pchannel): data = base64 of the source MQ msg id to seek to; "TS" (ours)
//    = the exact hybrid watermark already applied to the target (messages at or below it are
//    skipped on resume). Without TS (an upstream checkpoint), resume after "Time" ms.
//  - target positions (target pchannel): data = the position string ReplicateMessage returned.
// Pure functions, thread-safe; decode errors are InvalidArgument naming the channel.
#include <cstdint>
#include <map>
#include <string>

#include "common/hybrid_time.h"
#include "common/status.h"
#include "source/position.h"

namespace cdc::replicate {

// The collection id of the checkpoint row that holds the replicate-msg channel (as upstream).
constexpr int64_t kReplicateChannelRow = -10;

struct TargetPosition {
  std::string position;  // as returned by the target
  uint64_t ts = 0;       // hybrid ts of the last pack sent
};

// `extras` (ours): key -> a JSON value stored in every entry beside the position, e.g.
// "Pending" in the replicate channel's (the requests not yet taken by the target,
// replicate/ddl_applier.h) and "InitialSync" in a collection's (replicate/initial_sync.h).
// Upstream readers ignore them.
std::string EncodeSourcePositions(const std::map<std::string, source::MsgPosition>& positions,
                                  const std::map<std::string, std::string>& extras = {});
Result<std::map<std::string, source::MsgPosition>> DecodeSourcePositions(const std::string& json);
// The JSON value stored under `key` by EncodeSourcePositions, or `absent`.
std::string DecodeExtra(const std::string& positions_json, const std::string& key,
                        const std::string& absent);

inline constexpr char kPendingKey[] = "Pending";
inline constexpr char kPartitionLoadsKey[] = "PartitionLoads";
inline constexpr char kRbacKey[] = "Rbac";  // replicate/rbac_sync.h

std::string EncodeTargetPositions(const std::map<std::string, TargetPosition>& positions);

}  // namespace cdc::replicate
