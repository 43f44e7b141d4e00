#pragma once
// Rewrites top-level fields of a serialized stream message without decoding the rest: the row
// data of an Insert is copied as bytes, never parsed. Pure functions, thread-safe.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cdc::replicate {

struct FieldOverrides {
  std::map<int, int64_t> varints;      // field number -> new value (int64/uint64 fields)
  std::map<int, std::string> strings;  // field number -> new value (string/bytes fields)
};

// Copies `payload`, replacing every occurrence of the overridden top-level fields by the new
// value (written once). InvalidArgument if the bytes are not a protobuf message.
Result<std::string> RewriteFields(std::string_view payload, const FieldOverrides& overrides);

// The value of top-level varint field `field` (the last one, as protobuf reads it); 0 when
// absent. InvalidArgument if the bytes are not a protobuf message.
Result<int64_t> ReadVarintField(std::string_view payload, int field);

// A copy of stream message `payload` stamped with `ts`: MsgBase.timestamp, and for an Insert or
// Delete (`dml`) every row's timestamp (field 10 of both), which is where Milvus reads a DML
// message's time from. InvalidArgument if the bytes are not a protobuf message.
Result<std::string> Restamp(std::string_view payload, uint64_t ts, bool dml);

// msg.InsertRequest.num_rows.
inline constexpr int kInsertNumRows = 14;
// msg.DeleteRequest.num_rows.
inline constexpr int kDeleteNumRows = 11;
// Field numbers shared by msg.InsertRequest and msg.DeleteRequest.
inline constexpr int kDmlShardName = 2;
inline constexpr int kDmlDbName = 3;
inline constexpr int kDmlCollectionName = 4;
inline constexpr int kDmlCollectionId = 7;
inline constexpr int kDmlPartitionId = 8;
// msg.DropCollectionRequest / msg.DropPartitionRequest.
inline constexpr int kDropCollectionDbName = 2;
inline constexpr int kDropCollectionName = 3;
inline constexpr int kDropCollectionCollectionId = 5;
inline constexpr int kDropPartitionDbName = 2;
inline constexpr int kDropPartitionCollectionName = 3;
inline constexpr int kDropPartitionCollectionId = 6;
inline constexpr int kDropPartitionPartitionId = 7;

// A serialized msg.TimeTickMsg at `ts` (msg_type TimeTick, sourceID -1, as upstream CDC).
std::string MakeTimeTick(uint64_t ts);

}  // namespace cdc::replicate
