#pragma once
// source::CreateBroker: the source queue named in sourceConfig, as upstream picks it: Pulsar when
// sourceConfig.pulsar.address is set, otherwise Kafka (sourceConfig.kafka.address).
//
// Errors are InvalidArgument naming the config key, e.g.
//   "neither sourceConfig.pulsar.address nor sourceConfig.kafka.address is set; ..."
//   "sourceConfig.pulsar.authPlugin 'oauth2' is not supported; use 'token'"
// Nothing is contacted here: a broker that is down shows later, in readers and lag.
#include <memory>

#include "common/status.h"
#include "source/broker.h"
#include "source/kafka/kafka_broker.h"
#include "source/pulsar/pulsar_config.h"

namespace cdc::source {

struct BrokerOptions {
  KafkaBrokerOptions kafka;     // sourceConfig.kafka
  PulsarSourceSettings pulsar;  // sourceConfig.pulsar; used when its address is set
};

Result<std::unique_ptr<Broker>> CreateBroker(const BrokerOptions& options);

// A Broker that answers every reader and latest-positions call with `error` (and lag with -1):
// lets the server serve its API with a source queue that is not configured, while every task
// that starts fails with the key to fix.
std::unique_ptr<Broker> UnusableBroker(Status error);

}  // namespace cdc::source
