// Fuzz target: the Pulsar binary-protocol decoding a consumer applies to what a broker sends:
// FrameReader (frame sizes, commands, broker entry metadata, checksum, message metadata), then
// for MESSAGE frames UnpackEntry (decompression, batches) and source::DecodeHeader of each
// message, as the Pulsar consumer and channel reader do.
//
// Input: the byte stream as read from the broker's socket (frames back to back).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz/fuzz_util.h"
#include "pulsar/entry.h"
#include "pulsar/frame.h"
#include "source/message.h"

namespace cp = cdc::pulsar;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cdc::fuzz::DropLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cp::FrameReader reader;
  reader.Append(reinterpret_cast<const char*>(data), size);
  while (true) {
    auto next = reader.Next();
    if (!next.ok()) {
      FUZZ_CHECK(!next.status().message().empty(), "an error without a message");
      break;
    }
    if (!next->has_value()) break;
    const cp::Frame& f = **next;
    if (!f.has_payload || !f.checksum_ok) continue;
    auto entry = cp::UnpackEntry(f.metadata, f.buffer, f.payload);
    if (!entry.ok()) continue;
    FUZZ_CHECK(entry->batch_size == 0 || entry->messages.size() <= size_t(entry->batch_size),
               "more messages than the batch holds");
    for (const cp::EntryMessage& m : entry->messages) {
      FUZZ_CHECK(m.payload.empty() || (m.payload.data() >= entry->owner->data() &&
                                       m.payload.data() + m.payload.size() <=
                                           entry->owner->data() + entry->owner->size()),
                 "a message outside the entry's buffer");
      (void)cdc::source::DecodeHeader(m.payload);
    }
  }
  return 0;
}
