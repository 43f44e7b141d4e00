// Fuzz target: the Milvus message header decode (source::DecodeHeader) of any stream payload,
// and the decoded messages fed through source::Packer (DML channels) or
// source::SingleMessagePacker (the replicate channel) as a channel reader does.
//
// Input: [options: u8] ([resume ts: u64] if options bit 0) ([ignored collection: u64] if
// options bit 1), then records (fuzz_util.h), one message payload each. Options bit 2 packs
// as the replicate channel. Payloads that do not decode go to AddError, as the readers do.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_util.h"
#include "source/message.h"
#include "source/packer.h"

namespace {

using cdc::source::Message;
using cdc::source::MsgPosition;
using cdc::source::Pack;

// What every pack must satisfy (packer.h).
void CheckPack(const Pack& p, const std::optional<MsgPosition>& prev_end, bool single) {
  for (const Message& m : p.msgs) {
    FUZZ_CHECK(m.header.type != cdc::source::MsgType::TimeTick || single, "a tick in a pack");
    FUZZ_CHECK(m.header.timestamp <= p.end_ts, absl::StrCat(m.header.timestamp, " > ", p.end_ts));
  }
  if (single) return;
  FUZZ_CHECK(p.begin_ts < p.end_ts, absl::StrCat(p.begin_ts, " >= ", p.end_ts));
  FUZZ_CHECK(p.end_position.timestamp() == p.end_ts, "end position ts");
  if (prev_end) {
    FUZZ_CHECK(p.start_position.SerializeAsString() == prev_end->SerializeAsString(),
               "a pack starts where the previous one ended");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cdc::fuzz::DropLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cdc::fuzz::RecordReader in(data, size);
  const uint8_t options = in.Byte().value_or(0);
  std::optional<MsgPosition> resume;
  if (options & 1) {
    resume.emplace();
    resume->set_channel_name("by-dev-rootcoord-dml_0");
    resume->set_msgid(std::string(8, '\0'));
    resume->set_timestamp(in.U64());
  }
  auto filter = std::make_shared<cdc::source::CollectionFilter>();
  if (options & 2) filter->Ignore(static_cast<int64_t>(in.U64()));
  const bool single = (options & 4) != 0;
  cdc::source::Packer packer("by-dev-rootcoord-dml_0", "cdc-fuzz", resume, filter);
  cdc::source::SingleMessagePacker replicate("by-dev-replicate-msg", resume);

  std::optional<MsgPosition> prev_end;
  int64_t offset = 0;
  while (auto payload = in.Record()) {
    auto owner = std::make_shared<const std::string>(*payload);
    auto header = cdc::source::DecodeHeader(*owner);
    if (header.ok()) {
      (void)cdc::source::MsgTypeName(header->type);
      (void)cdc::source::IsKnownDmlChannelType(header->type);
    }
    std::optional<Pack> pack;
    if (!header.ok()) {
      std::string why(header.status().message());
      FUZZ_CHECK(!why.empty(), "an error without a message");
      if (single) {
        pack = replicate.AddError(why);
      } else {
        packer.AddError(why);
      }
    } else {
      Message msg;
      msg.owner = owner;
      msg.payload = *owner;
      msg.offset = offset;
      msg.header = *header;
      msg.position.set_channel_name("by-dev-rootcoord-dml_0");
      msg.position.set_msgid(std::string(reinterpret_cast<const char*>(&offset), 8));
      msg.position.set_timestamp(header->timestamp);
      pack = single ? replicate.Add(std::move(msg)) : packer.Add(std::move(msg));
    }
    if (pack) {
      CheckPack(*pack, prev_end, single);
      if (!single) prev_end = pack->end_position;
    }
    ++offset;
  }
  return 0;
}
