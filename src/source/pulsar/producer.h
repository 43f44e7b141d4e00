#pragma once
// Producer: writes messages to one Pulsar topic. Used by tests and the benchmark to put
// Milvus-format payloads (and batched or compressed entries) on a real broker; the CDC server
// itself only reads. Sends are pipelined: Send() returns once the frame is written, Flush()
// waits for every receipt (bounded by the operation timeout).
//
// Ownership and threads: owns its Connection; one thread. Errors name topic, broker, cause.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "source/pulsar/connection.h"

namespace cdc::source::pulsar {

class Producer {
 public:
  static Result<std::unique_ptr<Producer>> Create(const ClientOptions& client,
                                                  const std::string& topic);
  ~Producer();

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
  Producer() = default;
  Status SendEntry(const ::pulsar::proto::MessageMetadata& md, std::string_view payload,
                   int32_t num_messages);
  Status AwaitReceipt();

  ClientOptions client_;
  std::string topic_;
  std::unique_ptr<Connection> conn_;
  std::string name_;
  uint64_t producer_id_ = 1;
  uint64_t sequence_id_ = 0;
  size_t in_flight_ = 0;
  size_t max_in_flight_ = 1000;
  std::vector<::pulsar::proto::MessageIdData> ids_;
};

}  // namespace cdc::source::pulsar
