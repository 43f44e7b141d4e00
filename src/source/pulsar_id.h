#pragma once
// Milvus's encoding of a Pulsar message id inside MsgPosition.msgID (see position.h for
// positions in general). Pure functions, thread-safe.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cdc::source {

// A Pulsar message id as Milvus keeps it in MsgPosition.msgID: pulsar-client-go's
// MessageID.Serialize(), i.e. a serialized pulsar.proto.MessageIdData with ledgerId (1),
// entryId (2), partition (3) and batch_index (4) all written (-1 when unset, as 10-byte
// varints). Encoded by hand so this folder does not need the Pulsar protocol library.
struct PulsarMsgId {
  int64_t ledger = 0;
  int64_t entry = 0;
  int32_t partition = -1;
  int32_t batch_index = -1;
};
std::string EncodePulsarMsgId(const PulsarMsgId& id);
// InvalidArgument if `id` is not a serialized MessageIdData (e.g. an 8-byte Kafka offset, the
// mix-up behind upstream's "wrong wireType for AckSet" reports). Unknown fields are skipped.
Result<PulsarMsgId> DecodePulsarMsgId(std::string_view id);

}  // namespace cdc::source
