#pragma once
// Small librdkafka helpers shared by the reader, the simulator and the benchmark.
// librdkafka objects are created here and owned by the caller through the RAII handles.
#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

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

// librdkafka's delivery report callback (dr_msg_cb): called from rd_kafka_poll/flush on the
// thread that polls, once per produced message, with the message's opaque.
using DeliveryCallback = void (*)(rd_kafka_t*, const rd_kafka_message_t*, void*);
// NewKafkaClient for a producer whose delivery reports go to `on_delivery`.
Result<RdKafkaHandle> NewKafkaProducer(const std::string& brokers,
                                       const std::map<std::string, std::string>& config,
                                       DeliveryCallback on_delivery);

// Assigns partition 0 of `topic` at `offset` (RD_KAFKA_OFFSET_BEGINNING/END or >= 0).
Status AssignPartition0(rd_kafka_t* rk, const std::string& topic, int64_t offset);

// Asks the brokers for an offset of partition 0 of each topic, all in one request per broker:
// `which` = RD_KAFKA_OFFSET_END for the high watermark (one past the last message) or
// RD_KAFKA_OFFSET_BEGINNING for the low watermark (the first message kept). Waits at most
// `timeout_ms`, also when a broker accepts the connection but never answers (librdkafka 2.0's
// rd_kafka_query_watermark_offsets waits for socket.timeout.ms, 60 s, then). Per topic: the
// offset, NotFound for a topic that does not exist, else Unavailable / DeadlineExceeded naming
// the topic.
std::vector<Result<int64_t>> QueryOffsets(rd_kafka_t* rk, const std::vector<std::string>& topics,
                                          int64_t which, int timeout_ms);
// The topics the cluster has (one metadata request), waiting at most `timeout_ms`. Unavailable
// when the brokers do not answer, so "not listed" always means "does not exist".
Result<std::set<std::string>> ListTopics(rd_kafka_t* rk, int timeout_ms);
// QueryOffsets of one topic's high watermark.
Result<int64_t> QueryHighWatermark(rd_kafka_t* rk, const std::string& topic, int timeout_ms);

}  // namespace cdc::source
