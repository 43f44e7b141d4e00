#pragma once
// One stored Pulsar entry turned into the messages it holds: decompression (NONE, LZ4, ZLIB,
// ZSTD) and batch unpacking (SingleMessageMetadata records). Pure functions, thread-safe.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "pulsar/PulsarApi.pb.h"

namespace cdc::pulsar {

struct EntryMessage {
  std::string_view payload;  // views Entry::owner
  int32_t batch_index = -1;  // -1 outside a batch
};

struct Entry {
  std::shared_ptr<const std::string> owner;  // frame buffer, or the decompressed bytes
  std::vector<EntryMessage> messages;        // compacted-out batch members are left out
  int32_t batch_size = 0;                    // messages in the batch (0: not batched)
};

// Largest uncompressed entry UnpackEntry allocates. Milvus splits its messages at the Pulsar
// maxMessageSize (5 MiB by default) and does not batch, so an entry claiming more is corrupt.
inline constexpr uint32_t kMaxUncompressedEntrySize = 256u << 20;

// `payload` views `owner`. Errors name the cause: Unimplemented for compression SNAPPY,
// encryption or chunking; DataLoss for a payload that does not decompress or split, or that
// claims more than kMaxUncompressedEntrySize uncompressed.
Result<Entry> UnpackEntry(const ::pulsar::proto::MessageMetadata& metadata,
                          std::shared_ptr<const std::string> owner, std::string_view payload);

}  // namespace cdc::pulsar
