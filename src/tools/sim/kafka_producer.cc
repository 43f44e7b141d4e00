#include "tools/sim/kafka_producer.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"

namespace cdc::sim {
namespace {
std::atomic<int> g_failed{0};
std::string g_first_error;  // written once, by the first failing delivery report

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && g_failed.fetch_add(1) == 0) {
    g_first_error = rd_kafka_err2str(m->err);
  }
}
}  // namespace

Result<KafkaProducer> KafkaProducer::Create(const std::string& brokers,
                                            const std::map<std::string, std::string>& config) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  auto set = [&](const std::string& k, const std::string& v) {
    return rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) == RD_KAFKA_CONF_OK;
  };
  std::map<std::string, std::string> all = {
      {"bootstrap.servers", brokers}, {"linger.ms", "5"}, {"message.max.bytes", "10485760"}};
  for (const auto& [k, v] : config) all[k] = v;
  for (const auto& [k, v] : all) {
    if (!set(k, v)) {
      rd_kafka_conf_destroy(conf);
      return InvalidArgumentError(absl::StrCat("kafka producer config ", k, ": ", err));
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return InvalidArgumentError(absl::StrCat("create kafka producer for ", brokers, ": ", err));
  }
  KafkaProducer p{source::RdKafkaHandle(rk)};
  p.brokers_ = brokers;
  return p;
}

Status KafkaProducer::Produce(const std::string& topic, const std::string& payload) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_poll(rk_.get(), 0);
      return OkStatus();
    }
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || std::chrono::steady_clock::now() > deadline) {
      return UnavailableError(absl::StrCat("produce to kafka topic ", topic, " at ", brokers_, ": ",
                                           rd_kafka_err2str(e)));
    }
    rd_kafka_poll(rk_.get(), 100);
  }
}

Status KafkaProducer::Flush(int timeout_ms) {
  rd_kafka_resp_err_t e = rd_kafka_flush(rk_.get(), timeout_ms);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return UnavailableError(absl::StrCat("flush kafka producer to ", brokers_, ": ",
                                         rd_kafka_err2str(e), "; is the broker up?"));
  }
  if (int n = g_failed.exchange(0); n > 0) {
    return UnavailableError(absl::StrCat(n, " message(s) to ", brokers_,
                                         " were not delivered; first error: ", g_first_error));
  }
  return OkStatus();
}

}  // namespace cdc::sim
