// Fuzz target: stream positions as users and the meta store hand them back (create requests'
// `positions`, checkpoints): source::DecodePosition (base64 of a MsgPosition), the Pulsar and
// Kafka message ids inside it, DescribePosition, and the Pulsar id round trip.
//
// Input: the base64 text of a position.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "source/position.h"
#include "source/pulsar_id.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cdc::fuzz::DropLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto pos = cdc::source::DecodePosition(text);
  if (!pos.ok()) {
    FUZZ_CHECK(!pos.status().message().empty(), "an error without a message");
    return 0;
  }
  (void)cdc::source::DescribePosition(*pos);
  auto again = cdc::source::DecodePosition(cdc::source::EncodePosition(*pos));
  FUZZ_CHECK(again.ok() && again->SerializeAsString() == pos->SerializeAsString(),
             "position round trip");
  (void)cdc::source::DecodeKafkaMsgId(pos->msgid());
  if (auto id = cdc::source::DecodePulsarMsgId(pos->msgid()); id.ok()) {
    auto back = cdc::source::DecodePulsarMsgId(cdc::source::EncodePulsarMsgId(*id));
    FUZZ_CHECK(back.ok() && back->ledger == id->ledger && back->entry == id->entry &&
                   back->partition == id->partition && back->batch_index == id->batch_index,
               "Pulsar id round trip");
  }
  return 0;
}
