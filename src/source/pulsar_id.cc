#include "source/pulsar_id.h"

#include "absl/strings/str_cat.h"
#include "source/position.h"

namespace cdc::source {

namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in->empty()) return false;
    uint8_t b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

std::string EncodePulsarMsgId(const PulsarMsgId& id) {
  std::string out;
  out.push_back(0x08);
  PutVarint(&out, static_cast<uint64_t>(id.ledger));
  out.push_back(0x10);
  PutVarint(&out, static_cast<uint64_t>(id.entry));
  out.push_back(0x18);  // int32 fields are sign-extended to 64 bits on the wire
  PutVarint(&out, static_cast<uint64_t>(static_cast<int64_t>(id.partition)));
  out.push_back(0x20);
  PutVarint(&out, static_cast<uint64_t>(static_cast<int64_t>(id.batch_index)));
  return out;
}

Result<PulsarMsgId> DecodePulsarMsgId(std::string_view id) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(absl::StrCat(
        "decode Pulsar message id (", id.size(), " bytes): ", AbslView(why),
        id.size() == 8 ? "; this looks like a Kafka offset: is the position from a Kafka source?"
                       : ""));
  };
  PulsarMsgId out;
  bool have_ledger = false, have_entry = false;
  std::string_view in = id;
  while (!in.empty()) {
    uint64_t key;
    if (!GetVarint(&in, &key)) return bad("truncated field key");
    const uint64_t field = key >> 3;
    const int wire = static_cast<int>(key & 7);
    if (field == 0) return bad("field number 0");
    uint64_t v = 0;
    if (wire == 0) {
      if (!GetVarint(&in, &v)) return bad("truncated varint");
    } else if (wire == 1 || wire == 5) {
      size_t n = wire == 1 ? 8 : 4;
      if (in.size() < n) return bad("truncated fixed field");
      in.remove_prefix(n);
      continue;
    } else if (wire == 2) {
      if (!GetVarint(&in, &v) || v > in.size()) return bad("truncated length-delimited field");
      in.remove_prefix(v);
      continue;
    } else {
      return bad(absl::StrCat("wire type ", wire, " for field ", field));
    }
    switch (field) {
      case 1:
        out.ledger = static_cast<int64_t>(v);
        have_ledger = true;
        break;
      case 2:
        out.entry = static_cast<int64_t>(v);
        have_entry = true;
        break;
      case 3:
        out.partition = static_cast<int32_t>(v);
        break;
      case 4:
        out.batch_index = static_cast<int32_t>(v);
        break;
      default:
        break;
    }
  }
  if (!have_ledger || !have_entry) return bad("ledgerId or entryId missing");
  return out;
}

}  // namespace cdc::source
