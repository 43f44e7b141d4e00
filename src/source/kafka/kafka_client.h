#pragma once
// Small librdkafka helpers shared by the reader, the simulator and the benchmark.
// librdkafka objects are created here and owned by the caller through the RAII handles.
#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>

#include "common/status.h"

namespace cdc::source {

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const;
};
using RdKafkaHandle = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;

// Creates a consumer (is_consumer) or producer with bootstrap.servers = brokers plus
// `config`. InvalidArgument naming the key for a bad setting.
Result<RdKafkaHandle> NewKafkaClient(bool is_consumer, const std::string& brokers,
                                     const std::map<std::string, std::string>& config);

// Assigns partition 0 of `topic` at `offset` (RD_KAFKA_OFFSET_BEGINNING/END or >= 0).
Status AssignPartition0(rd_kafka_t* rk, const std::string& topic, int64_t offset);

// Asks the broker for the high watermark (offset one past the last message) of partition 0 of
// `topic`, waiting at most `timeout_ms`. Unavailable naming topic and broker on failure.
Result<int64_t> QueryHighWatermark(rd_kafka_t* rk, const std::string& topic, int timeout_ms);

}  // namespace cdc::source
