#pragma once
// Milvus stream positions. A position is a msg.MsgPosition {channel_name, msgID, msgGroup,
// timestamp}; for Kafka, msgID is the partition-0 offset as 8 little-endian bytes, exactly as
// Milvus's Kafka message id serializes it, so positions can be handed to Milvus and back.
// Checkpoints and the HTTP API carry positions as base64 (standard, padded) of the
// serialized MsgPosition. All functions are pure and thread-safe.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "milvus/msg.pb.h"

namespace cdc::source {

using MsgPosition = milvus::proto::msg::MsgPosition;

// 8-byte little-endian encoding of a Kafka offset.
std::string EncodeKafkaMsgId(int64_t offset);
// InvalidArgument unless `id` is exactly 8 bytes.
Result<int64_t> DecodeKafkaMsgId(std::string_view id);

// base64 of the serialized MsgPosition.
std::string EncodePosition(const MsgPosition& pos);
// InvalidArgument if the text is not base64 or not a MsgPosition.
Result<MsgPosition> DecodePosition(std::string_view base64);

// A Kafka position on `channel` at `offset`.
MsgPosition KafkaPosition(std::string_view channel, int64_t offset, uint64_t timestamp);

// True when `a` comes before `b` in their channel: by message id when both are ids of the
// same queue (Kafka offsets, Pulsar ledger/entry/batch), else by timestamp; equal ids order
// by timestamp (the lower one skips less when a reader starts there). An empty id is the
// channel's beginning, before every other id.
bool PositionBefore(const MsgPosition& a, const MsgPosition& b);

// Short human form for logs and reasons: "by-dev-rootcoord-dml_0@17 ts=449..." (Kafka ids
// shown as offsets, others as hex).
std::string DescribePosition(const MsgPosition& pos);

// absl here predates std::string_view interop; this bridges the two.
inline absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace cdc::source
