#include "source/message.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace cdc::source {
namespace {

using google::protobuf::internal::WireFormatLite;
namespace common = milvus::proto::common;

// Where each message type keeps collectionID / partitionID (field numbers), 0 = absent.
struct IdFields {
  int collection;
  int partition;
};

IdFields IdFieldsFor(int type) {
  switch (type) {
    case common::Insert:
    case common::Delete:
      return {7, 8};
    case common::CreateCollection:
      return {6, 0};
    case common::DropCollection:
      return {5, 0};
    case common::CreatePartition:
    case common::DropPartition:
      return {6, 7};
    default:
      return {0, 0};
  }
}

constexpr int kDmlTimestampsField = 10;  // InsertRequest/DeleteRequest.timestamps

// Largest of the packed row timestamps (repeated uint64) in `bytes` into *max_ts.
bool MaxPackedTimestamp(std::string_view bytes, uint64_t* max_ts) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  while (in.CurrentPosition() < static_cast<int>(bytes.size())) {
    uint64_t ts;
    if (!in.ReadVarint64(&ts)) return false;
    *max_ts = std::max(*max_ts, ts);
  }
  return true;
}

}  // namespace

Result<Header> DecodeHeader(std::string_view payload) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(payload.data()),
                                            static_cast<int>(payload.size()));
  Header h;
  bool have_base = false;
  uint64_t varints[9] = {};  // top-level varint fields 1..8, interpreted once the type is known
  std::string_view field2;
  std::vector<std::string_view> packed_ts;  // field 10 (row timestamps of Insert/Delete)
  uint64_t row_ts = 0;                      // largest unpacked field-10 value
  while (true) {
    uint32_t tag = in.ReadTag();
    if (tag == 0) {
      if (in.CurrentPosition() != static_cast<int>(payload.size())) {
        return InvalidArgumentError(
            absl::StrCat("decode header: bad field tag at byte ", in.CurrentPosition()));
      }
      break;
    }
    int field = WireFormatLite::GetTagFieldNumber(tag);
    auto wt = WireFormatLite::GetTagWireType(tag);
    if (field == 0) return InvalidArgumentError("decode header: field number 0");
    switch (wt) {
      case WireFormatLite::WIRETYPE_VARINT: {
        uint64_t v;
        if (!in.ReadVarint64(&v)) return InvalidArgumentError("decode header: truncated varint");
        if (field <= 8) varints[field] = v;
        if (field == kDmlTimestampsField) row_ts = std::max(row_ts, v);
        break;
      }
      case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
        uint32_t len;
        if (!in.ReadVarint32(&len) ||
            len > payload.size() - static_cast<size_t>(in.CurrentPosition())) {
          return InvalidArgumentError(
              absl::StrCat("decode header: field ", field, " length runs past the payload"));
        }
        std::string_view bytes = payload.substr(in.CurrentPosition(), len);
        if (field == 1) {
          common::MsgBase base;
          if (!base.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            return InvalidArgumentError("decode header: field 1 is not a MsgBase");
          }
          h.type = base.msg_type();
          h.timestamp = base.timestamp();
          h.msg_id = base.msgid();
          h.source_id = base.sourceid();
          h.is_replicate = base.replicateinfo().isreplicate();
          have_base = true;
        } else if (field == 2) {
          field2 = bytes;
        } else if (field == kDmlTimestampsField) {
          packed_ts.push_back(bytes);
        }
        if (!in.Skip(static_cast<int>(len)))
          return InvalidArgumentError("decode header: truncated");
        break;
      }
      case WireFormatLite::WIRETYPE_FIXED64:
        if (!in.Skip(8)) return InvalidArgumentError("decode header: truncated fixed64");
        break;
      case WireFormatLite::WIRETYPE_FIXED32:
        if (!in.Skip(4)) return InvalidArgumentError("decode header: truncated fixed32");
        break;
      default:
        return InvalidArgumentError(absl::StrCat("decode header: unsupported wire type ",
                                                 static_cast<int>(wt), " for field ", field));
    }
  }
  if (!have_base) {
    return InvalidArgumentError(
        absl::StrCat("decode header: no MsgBase (field 1) in ", payload.size(), " bytes"));
  }
  if (h.type == common::Insert || h.type == common::Delete) {
    h.shard_name = std::string(field2);
    // Milvus orders an Insert/Delete by its rows' timestamps, not its base's (a 2.3 upsert
    // leaves the base's 0): the message ends at the latest of them.
    for (std::string_view bytes : packed_ts) {
      if (!MaxPackedTimestamp(bytes, &row_ts)) {
        return InvalidArgumentError(absl::StrCat("decode header: malformed row timestamps (field ",
                                                 kDmlTimestampsField, ") of ",
                                                 MsgTypeName(h.type)));
      }
    }
    if (row_ts != 0) h.timestamp = row_ts;
  }
  IdFields ids = IdFieldsFor(h.type);
  if (ids.collection) h.collection_id = static_cast<int64_t>(varints[ids.collection]);
  if (ids.partition) h.partition_id = static_cast<int64_t>(varints[ids.partition]);
  return h;
}

bool IsKnownDmlChannelType(int type) {
  switch (type) {
    case common::Insert:
    case common::Delete:
    case common::TimeTick:
    case common::CreateCollection:
    case common::DropCollection:
    case common::CreatePartition:
    case common::DropPartition:
    case common::Import:
    case common::Replicate:
      return true;
    default:
      return false;
  }
}

std::string MsgTypeName(int type) {
  if (common::MsgType_IsValid(type)) return common::MsgType_Name(static_cast<MsgType>(type));
  return absl::StrCat("MsgType(", type, ")");
}

}  // namespace cdc::source
