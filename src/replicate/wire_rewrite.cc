#include "replicate/wire_rewrite.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include "milvus/msg.pb.h"

namespace cdc::replicate {

namespace pbio = google::protobuf::io;
using google::protobuf::internal::WireFormatLite;

Result<std::string> RewriteFields(std::string_view payload, const FieldOverrides& overrides) {
  std::string out;
  out.reserve(payload.size() + 32);
  {
    pbio::StringOutputStream sink(&out);
    pbio::CodedOutputStream output(&sink);
    pbio::CodedInputStream input(reinterpret_cast<const uint8_t*>(payload.data()),
                                 static_cast<int>(payload.size()));
    input.SetTotalBytesLimit(INT32_MAX);
    while (true) {
      uint32_t tag = input.ReadTag();
      if (tag == 0) break;
      int field = static_cast<int>(WireFormatLite::GetTagFieldNumber(tag));
      if (overrides.varints.count(field) || overrides.strings.count(field)) {
        if (!WireFormatLite::SkipField(&input, tag)) {
          return InvalidArgumentError("rewrite stream message: malformed field " +
                                      std::to_string(field));
        }
        continue;
      }
      if (!WireFormatLite::SkipField(&input, tag, &output)) {
        return InvalidArgumentError("rewrite stream message: malformed field " +
                                    std::to_string(field));
      }
    }
    if (input.CurrentPosition() != static_cast<int>(payload.size())) {
      return InvalidArgumentError("rewrite stream message: malformed bytes at offset " +
                                  std::to_string(input.CurrentPosition()));
    }
    for (const auto& [field, value] : overrides.varints) {
      if (value == 0) continue;  // proto3 default: absent
      output.WriteTag(WireFormatLite::MakeTag(field, WireFormatLite::WIRETYPE_VARINT));
      output.WriteVarint64(static_cast<uint64_t>(value));
    }
    for (const auto& [field, value] : overrides.strings) {
      if (value.empty()) continue;
      output.WriteTag(WireFormatLite::MakeTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
      output.WriteVarint32(static_cast<uint32_t>(value.size()));
      output.WriteString(value);
    }
  }
  return out;
}

Result<int64_t> ReadVarintField(std::string_view payload, int field) {
  pbio::CodedInputStream input(reinterpret_cast<const uint8_t*>(payload.data()),
                               static_cast<int>(payload.size()));
  input.SetTotalBytesLimit(INT32_MAX);
  int64_t value = 0;
  while (true) {
    uint32_t tag = input.ReadTag();
    if (tag == 0) break;
    if (static_cast<int>(WireFormatLite::GetTagFieldNumber(tag)) == field &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_VARINT) {
      uint64_t v = 0;
      if (!input.ReadVarint64(&v)) break;
      value = static_cast<int64_t>(v);
      continue;
    }
    if (!WireFormatLite::SkipField(&input, tag)) {
      return InvalidArgumentError("read stream message: malformed field " +
                                  std::to_string(WireFormatLite::GetTagFieldNumber(tag)));
    }
  }
  if (input.CurrentPosition() != static_cast<int>(payload.size())) {
    return InvalidArgumentError("read stream message: malformed bytes at offset " +
                                std::to_string(input.CurrentPosition()));
  }
  return value;
}

namespace {

constexpr int kBaseField = 1;           // every stream message's common.MsgBase
constexpr int kBaseTimestampField = 3;  // common.MsgBase.timestamp
constexpr int kDmlTimestamps = 10;      // msg.InsertRequest / msg.DeleteRequest .timestamps

// The last top-level length-delimited field `field` of `payload` (empty when absent), and how
// many varints field `count_field` holds (packed or not).
Status ScanFields(std::string_view payload, int field, std::string* bytes, int count_field,
                  int64_t* count) {
  pbio::CodedInputStream input(reinterpret_cast<const uint8_t*>(payload.data()),
                               static_cast<int>(payload.size()));
  input.SetTotalBytesLimit(INT32_MAX);
  while (true) {
    const uint32_t tag = input.ReadTag();
    if (tag == 0) break;
    const int f = static_cast<int>(WireFormatLite::GetTagFieldNumber(tag));
    const auto type = WireFormatLite::GetTagWireType(tag);
    if (f == count_field && type == WireFormatLite::WIRETYPE_VARINT) {
      uint64_t v = 0;
      if (!input.ReadVarint64(&v)) break;
      ++*count;
      continue;
    }
    if ((f == field || f == count_field) && type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t size = 0;
      std::string value;
      if (!input.ReadVarint32(&size) || !input.ReadString(&value, static_cast<int>(size))) break;
      if (f == field) {
        *bytes = std::move(value);
        continue;
      }
      pbio::CodedInputStream packed(reinterpret_cast<const uint8_t*>(value.data()),
                                    static_cast<int>(value.size()));
      uint64_t v = 0;
      while (packed.CurrentPosition() < static_cast<int>(value.size()) && packed.ReadVarint64(&v))
        ++*count;
      continue;
    }
    if (!WireFormatLite::SkipField(&input, tag)) break;
  }
  if (input.CurrentPosition() != static_cast<int>(payload.size())) {
    return InvalidArgumentError("restamp stream message: malformed bytes at offset " +
                                std::to_string(input.CurrentPosition()));
  }
  return OkStatus();
}

}  // namespace

Result<std::string> Restamp(std::string_view payload, uint64_t ts, bool dml) {
  std::string base;
  int64_t rows = 0;
  RETURN_IF_ERROR(ScanFields(payload, kBaseField, &base, dml ? kDmlTimestamps : -1, &rows));
  FieldOverrides base_fields;
  base_fields.varints[kBaseTimestampField] = static_cast<int64_t>(ts);
  ASSIGN_OR_RETURN(std::string new_base, RewriteFields(base, base_fields));
  FieldOverrides fields;
  fields.strings[kBaseField] = std::move(new_base);
  if (dml && rows > 0) {
    std::string packed;
    {
      pbio::StringOutputStream sink(&packed);
      pbio::CodedOutputStream out(&sink);
      for (int64_t i = 0; i < rows; ++i) out.WriteVarint64(ts);
    }
    fields.strings[kDmlTimestamps] = std::move(packed);
  }
  return RewriteFields(payload, fields);
}

std::string MakeTimeTick(uint64_t ts) {
  ::milvus::proto::msg::TimeTickMsg tt;
  tt.mutable_base()->set_msg_type(::milvus::proto::common::TimeTick);
  tt.mutable_base()->set_timestamp(ts);
  tt.mutable_base()->set_sourceid(-1);
  return tt.SerializeAsString();
}

}  // namespace cdc::replicate
