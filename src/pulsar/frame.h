#pragma once
// Pulsar binary-protocol framing (pure functions, thread-safe).
//
//   simple command:  [totalSize u32][commandSize u32][BaseCommand]
//   payload command: [totalSize u32][commandSize u32][BaseCommand]
//                    ([0x0e02][size u32][BrokerEntryMetadata])   optional, skipped
//                    [0x0e01][crc32c u32][metadataSize u32][MessageMetadata][payload]
// All integers big-endian; totalSize counts every byte after itself; the CRC32C covers
// everything from metadataSize to the end. Frames from before checksums (no 0x0e01) are
// accepted. A checksum mismatch does not fail decoding: the frame is returned with
// checksum_ok = false so the caller can count and report it.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "pulsar/PulsarApi.pb.h"

namespace cdc::pulsar {

namespace proto = ::pulsar::proto;

// Default bound on one frame: Pulsar's default maxMessageSize (5 MiB) plus room for headers.
inline constexpr size_t kFrameOverhead = size_t{64} * 1024;
inline constexpr size_t kDefaultMaxFrameSize = size_t{5} * 1024 * 1024 + kFrameOverhead;

struct Frame {
  proto::BaseCommand command;
  bool has_payload = false;
  proto::MessageMetadata metadata;            // payload frames only
  std::shared_ptr<const std::string> buffer;  // owns the bytes `payload` views
  std::string_view payload;                   // entry payload, as stored (maybe compressed)
  bool checksum_present = false;
  bool checksum_ok = true;
  uint32_t checksum_expected = 0;
  uint32_t checksum_actual = 0;
};

std::string EncodeCommand(const proto::BaseCommand& cmd);
std::string EncodePayloadCommand(const proto::BaseCommand& cmd,
                                 const proto::MessageMetadata& metadata, std::string_view payload);

// Decodes the bytes after totalSize (`body` must be exactly totalSize bytes and stay alive
// through `owner`). InvalidArgument (DataLoss for a bad frame layout) naming what is wrong.
Result<Frame> DecodeFrame(std::shared_ptr<const std::string> owner, std::string_view body);

// Splits a byte stream into frames. Not thread-safe (one per connection).
class FrameReader {
 public:
  explicit FrameReader(size_t max_frame_size = kDefaultMaxFrameSize)
      : max_frame_size_(max_frame_size) {}

  void set_max_frame_size(size_t n) { max_frame_size_ = n; }
  size_t max_frame_size() const { return max_frame_size_; }

  // Appends received bytes.
  void Append(const char* data, size_t size) { buf_.append(data, size); }
  // Next complete frame, nullopt if more bytes are needed. DataLoss for a frame larger than the
  // bound or not decodable: the stream cannot be trusted afterwards (drop the connection).
  Result<std::optional<Frame>> Next();
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  size_t max_frame_size_;
  std::string buf_;
  size_t pos_ = 0;
};

uint32_t ReadBe32(const char* p);
void AppendBe32(std::string* out, uint32_t v);

}  // namespace cdc::pulsar
