#include "source/position.h"

#include <tuple>

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

namespace {
// -1, 0, 1 comparing the two ids, or 2 when they are not ids of the same kind.
int CompareIds(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return a.empty() == b.empty() ? 0 : (a.empty() ? -1 : 1);
  // Pulsar first, as DescribePosition: a Pulsar id of small numbers can be 8 bytes long too,
  // while a Kafka offset below 2^48 is never a valid Pulsar id.
  auto pa = DecodePulsarMsgId(a);
  auto pb = DecodePulsarMsgId(b);
  if (pa.ok() && pb.ok()) {
    auto ta = std::tie(pa->ledger, pa->entry, pa->batch_index);
    auto tb = std::tie(pb->ledger, pb->entry, pb->batch_index);
    return ta < tb ? -1 : (tb < ta ? 1 : 0);
  }
  auto ka = DecodeKafkaMsgId(a);
  auto kb = DecodeKafkaMsgId(b);
  if (ka.ok() && kb.ok()) return *ka < *kb ? -1 : (*ka > *kb ? 1 : 0);
  return 2;
}
}  // namespace

bool PositionBefore(const MsgPosition& a, const MsgPosition& b) {
  const int c = CompareIds(a.msgid(), b.msgid());
  if (c == -1 || c == 1) return c == -1;
  return a.timestamp() < b.timestamp();
}

}  // namespace cdc::source
