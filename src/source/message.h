#pragma once
// One message read from a Milvus channel, and the header fields routing needs.
//
// The payload is never copied: `payload` views bytes owned by `owner` (for Kafka, the
// librdkafka message, freed when the last Message referring to it goes away). Messages are
// immutable once built and may be shared across threads.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "milvus/common.pb.h"
#include "source/position.h"

namespace cdc::source {

using MsgType = milvus::proto::common::MsgType;

// Header fields, decoded lazily from the payload's top-level fields without parsing the rows.
struct Header {
  int type = 0;  // common.MsgType value (may be one we do not know)
  // Hybrid ts: for Insert/Delete the latest of the rows' timestamps, as Milvus orders them (a
  // Milvus 2.3 upsert writes InsertMsgs whose base.timestamp is 0); else base.timestamp.
  uint64_t timestamp = 0;
  int64_t msg_id = 0;         // base.msgID (Milvus's id, used for duplicate detection)
  int64_t source_id = 0;      // base.sourceID
  bool is_replicate = false;  // base.replicateInfo.isReplicate
  std::string shard_name;     // Insert/Delete: the vchannel
  int64_t collection_id = 0;  // Insert/Delete/Create/Drop collection and partition
  int64_t partition_id = 0;   // Insert/Delete/Create/Drop partition
};

// Decodes the header of any Milvus stream payload (msg.* or milvus.* request).
// InvalidArgument, naming the cause, if the bytes are not a protobuf message with a MsgBase.
Result<Header> DecodeHeader(std::string_view payload);

// True for the message types a DML channel carries in Milvus 2.3/2.4.
bool IsKnownDmlChannelType(int type);
// Name of a MsgType value, or "MsgType(<n>)".
std::string MsgTypeName(int type);

struct Message {
  std::shared_ptr<const void> owner;  // keeps `payload` alive
  std::string_view payload;
  MsgPosition position;  // channel (topic base name) + MQ id; timestamp = header.timestamp
  int64_t offset = -1;   // Kafka offset (or -1)
  Header header;
};

}  // namespace cdc::source
