#pragma once
// The Kafka sink's producer options for a task's kafka_connect_param (upstream milvus-cdc's
// fields): address -> bootstrap.servers, topic; with enable_sasl, sasl.username/password ->
// sasl.username/sasl.password, sasl.mechanisms (default PLAIN) and sasl.security_protocol ->
// security.protocol (default SASL_PLAINTEXT). Pure, thread-safe.
#include "sink/rdkafka_producer.h"
#include "task/task_info.h"

namespace cdc::sink {

KafkaSinkOptions OptionsForTask(const task::KafkaConnectParam& k);

}  // namespace cdc::sink
