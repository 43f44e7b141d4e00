#include "sink/sink_options.h"

namespace cdc::sink {

KafkaSinkOptions OptionsForTask(const task::KafkaConnectParam& k) {
  KafkaSinkOptions o;
  o.brokers = k.address;
  o.topic = k.topic;
  if (!k.sasl.security_protocol.empty()) o.config["security.protocol"] = k.sasl.security_protocol;
  if (k.enable_sasl) {
    o.config["sasl.username"] = k.sasl.username;
    o.config["sasl.password"] = k.sasl.password;
    o.config["sasl.mechanisms"] = k.sasl.mechanisms.empty() ? "PLAIN" : k.sasl.mechanisms;
    if (k.sasl.security_protocol.empty()) o.config["security.protocol"] = "SASL_PLAINTEXT";
  }
  return o;
}

}  // namespace cdc::sink
