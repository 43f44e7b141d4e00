#pragma once
// PulsarProducer: writes messages to one Pulsar topic over our client (src/pulsar). Test support
// (tests and the benchmark put Milvus-format payloads, batched or compressed entries, on a real
// broker with it); the CDC server itself only reads, so this is not in the production library.
// Sends are pipelined: Send() returns once the frame is written, Flush() waits for every receipt
// (bounded by the operation timeout).
//
// Ownership and threads: owns its Connection; one thread. Errors name topic, broker, cause.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pulsar/connection.h"

namespace cdc::testing {

// Compresses a payload as Pulsar clients do (NONE, LZ4, ZLIB, ZSTD).
Result<std::string> Compress(::pulsar::proto::CompressionType type, std::string_view data);
// Concatenates messages into a batch payload (each with a SingleMessageMetadata).
std::string PackBatch(const std::vector<std::string_view>& payloads);

class PulsarProducer {
 public:
  static Result<std::unique_ptr<PulsarProducer>> Create(const pulsar::ClientOptions& client,
                                                        const std::string& topic);
  ~PulsarProducer();

  // One message per entry. At most `max_in_flight` receipts are awaited at a time.
  Status Send(std::string_view payload);
  // One batched entry holding `payloads`, compressed with `compression`.
  Status SendBatch(const std::vector<std::string_view>& payloads,
                   ::pulsar::proto::CompressionType compression = ::pulsar::proto::NONE);
  // Waits for all receipts; returns the ids of the entries written since the last Flush, in
  // order (batch_index -1).
  Result<std::vector<::pulsar::proto::MessageIdData>> Flush();
  Status Close();

 private:
  PulsarProducer() = default;
  Status SendEntry(const ::pulsar::proto::MessageMetadata& md, std::string_view payload,
                   int32_t num_messages);
  Status AwaitReceipt();

  pulsar::ClientOptions client_;
  std::string topic_;
  std::unique_ptr<pulsar::Connection> conn_;
  std::string name_;
  uint64_t producer_id_ = 1;
  uint64_t sequence_id_ = 0;
  size_t in_flight_ = 0;
  size_t max_in_flight_ = 1000;
  std::vector<::pulsar::proto::MessageIdData> ids_;
};

}  // namespace cdc::testing
