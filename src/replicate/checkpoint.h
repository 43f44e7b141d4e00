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

#include "common/status.h"
#include "source/position.h"

namespace cdc::replicate {

// The collection id of the checkpoint row that holds the replicate-msg channel (as upstream).
constexpr int64_t kReplicateChannelRow = -10;

struct TargetPosition {
  std::string position;  // as returned by the target
  uint64_t ts = 0;       // hybrid ts of the last pack sent
};

// Physical milliseconds of a hybrid timestamp (upper bits; 18 logical bits).
inline int64_t HybridToMs(uint64_t ts) { return static_cast<int64_t>(ts >> 18); }
inline uint64_t MsToHybrid(int64_t ms) { return static_cast<uint64_t>(ms) << 18; }

std::string EncodeSourcePositions(const std::map<std::string, source::MsgPosition>& positions);
Result<std::map<std::string, source::MsgPosition>> DecodeSourcePositions(const std::string& json);

std::string EncodeTargetPositions(const std::map<std::string, TargetPosition>& positions);

}  // namespace cdc::replicate
