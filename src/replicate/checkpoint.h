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

std::string EncodeSourcePositions(const std::map<std::string, source::MsgPosition>& positions);
Result<std::map<std::string, source::MsgPosition>> DecodeSourcePositions(const std::string& json);

// The replicate channel's entry carries, besides its position, "Pending" (ours): the requests
// read but not yet taken by the target, a JSON array (replicate/ddl_applier.h).
std::string EncodeReplicatePosition(const source::MsgPosition& position,
                                    const std::string& pending_json);
// The "Pending" array of the replicate channel's entry ("[]" when absent).
std::string DecodePending(const std::string& positions_json);

std::string EncodeTargetPositions(const std::map<std::string, TargetPosition>& positions);

}  // namespace cdc::replicate
