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

std::string MakeTimeTick(uint64_t ts) {
  ::milvus::proto::msg::TimeTickMsg tt;
  tt.mutable_base()->set_msg_type(::milvus::proto::common::TimeTick);
  tt.mutable_base()->set_timestamp(ts);
  tt.mutable_base()->set_sourceid(-1);
  return tt.SerializeAsString();
}

}  // namespace cdc::replicate
