#include "source/position.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "source/pulsar_id.h"

namespace cdc::source {

std::string EncodeKafkaMsgId(int64_t offset) {
  std::string out(8, '\0');
  uint64_t v = static_cast<uint64_t>(offset);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

Result<int64_t> DecodeKafkaMsgId(std::string_view id) {
  if (id.size() != 8) {
    return InvalidArgumentError(absl::StrCat("decode Kafka message id: expected 8 bytes, got ",
                                             id.size(), "; is the position from a Pulsar source?"));
  }
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(id[i]);
  return static_cast<int64_t>(v);
}

std::string EncodePosition(const MsgPosition& pos) {
  return absl::Base64Escape(pos.SerializeAsString());
}

Result<MsgPosition> DecodePosition(std::string_view base64) {
  std::string raw;
  if (!absl::Base64Unescape(AbslView(base64), &raw)) {
    return InvalidArgumentError(
        absl::StrCat("decode position: not base64: '", AbslView(base64.substr(0, 64)), "'"));
  }
  MsgPosition pos;
  if (!pos.ParseFromString(raw)) {
    return InvalidArgumentError("decode position: base64 text is not a serialized MsgPosition");
  }
  return pos;
}

MsgPosition KafkaPosition(std::string_view channel, int64_t offset, uint64_t timestamp) {
  MsgPosition pos;
  pos.set_channel_name(std::string(channel));
  pos.set_msgid(EncodeKafkaMsgId(offset));
  pos.set_timestamp(timestamp);
  return pos;
}

std::string DescribePosition(const MsgPosition& pos) {
  std::string id;
  if (pos.msgid().empty()) {
    id = "-";
  } else if (auto p = DecodePulsarMsgId(pos.msgid()); p.ok()) {
    // Checked first: a Kafka offset below 2^48 ends in two zero bytes, never a valid Pulsar id.
    id = absl::StrCat(p->ledger, ":", p->entry);
    if (p->batch_index >= 0) absl::StrAppend(&id, ":", p->batch_index);
  } else if (auto off = DecodeKafkaMsgId(pos.msgid()); off.ok()) {
    id = absl::StrCat(*off);
  } else {
    id = absl::BytesToHexString(pos.msgid());
  }
  return absl::StrCat(pos.channel_name(), "@", id, " ts=", pos.timestamp());
}

}  // namespace cdc::source
