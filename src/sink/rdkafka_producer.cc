#include "sink/rdkafka_producer.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace cdc::sink {

namespace {

// Delivery reports of one ProduceAll call (its records' opaque); touched only by the thread
// that polls, which holds the producer's mutex.
struct Deliveries {
  size_t pending = 0;
  rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

void OnDelivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* /*conf_opaque*/) {
  auto* d = static_cast<Deliveries*>(m->_private);
  if (d == nullptr) return;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && d->first_error == RD_KAFKA_RESP_ERR_NO_ERROR)
    d->first_error = m->err;
  if (d->pending > 0) --d->pending;
}

}  // namespace

RdKafkaProducer::RdKafkaProducer(KafkaSinkOptions options) : options_(std::move(options)) {}

std::string RdKafkaProducer::Describe() const {
  return absl::StrCat("kafka ", options_.brokers, " topic ", options_.topic);
}

std::map<std::string, std::string> RdKafkaProducer::Settings() const {
  std::map<std::string, std::string> s = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "5"},
      {"message.timeout.ms", std::to_string(options_.delivery_timeout.count())},
      {"socket.timeout.ms", std::to_string(options_.request_timeout.count())},
  };
  for (const auto& [k, v] : options_.config) s[k] = v;
  return s;
}

Status RdKafkaProducer::Connect() {
  if (rk_) return OkStatus();
  ASSIGN_OR_RETURN(rk_, source::NewKafkaProducer(options_.brokers, Settings(), &OnDelivery));
  return OkStatus();
}

Status RdKafkaProducer::EnsureTopic() {
  std::lock_guard l(mu_);
  RETURN_IF_ERROR(Connect());
  auto topics = source::ListTopics(rk_.get(), static_cast<int>(options_.request_timeout.count()));
  if (!topics.ok()) {
    return UnavailableError(
        absl::StrCat(Describe(), ": the brokers do not answer (", topics.status().message(), ")"));
  }
  if (topics->count(options_.topic)) return OkStatus();
  return CreateTopic();
}

Status RdKafkaProducer::CreateTopic() {
  char err[256];
  rd_kafka_NewTopic_t* t =
      rd_kafka_NewTopic_new(options_.topic.c_str(), 1, /*replication_factor=*/-1, err, sizeof(err));
  if (t == nullptr) return InvalidArgumentError(absl::StrCat(Describe(), ": ", err));
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk_.get());
  rd_kafka_CreateTopics(rk_.get(), &t, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, static_cast<int>(options_.request_timeout.count()));
  Status s = DeadlineExceededError(absl::StrCat(Describe(), ": creating the topic got no answer"));
  if (ev != nullptr) {
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    size_t n = 0;
    const auto* res = rd_kafka_event_CreateTopics_result(ev);
    const rd_kafka_topic_result_t** r =
        res ? rd_kafka_CreateTopics_result_topics(res, &n) : nullptr;
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && n == 1) e = rd_kafka_topic_result_error(r[0]);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      s = OkStatus();
      spdlog::info("{}: created the topic (1 partition)", Describe());
    } else {
      s = FailedPreconditionError(
          absl::StrCat(Describe(), ": the topic does not exist and creating it failed (",
                       rd_kafka_err2str(e), "); create the topic or allow the sink to"));
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(t);
  return s;
}

Status RdKafkaProducer::Enqueue(const Record& r, void* opaque) {
  const auto deadline = std::chrono::steady_clock::now() + options_.delivery_timeout;
  while (true) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_TOPIC(options_.topic.c_str()),
        RD_KAFKA_V_KEY(const_cast<char*>(r.key.data()), r.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return OkStatus();
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || std::chrono::steady_clock::now() > deadline) {
      return UnavailableError(
          absl::StrCat(Describe(), ": produce ", r.key, ": ", rd_kafka_err2str(e)));
    }
    rd_kafka_poll(rk_.get(), 50);  // the local queue is full: serve delivery reports
  }
}

Status RdKafkaProducer::ProduceAll(const std::vector<Record>& records) {
  if (records.empty()) return OkStatus();
  std::lock_guard l(mu_);
  RETURN_IF_ERROR(Connect());
  Deliveries d;
  Status s = OkStatus();
  for (const auto& r : records) {
    s = Enqueue(r, &d);
    if (!s.ok()) break;
    ++d.pending;
  }
  // librdkafka reports every enqueued record by message.timeout.ms at the latest; purging
  // after that bound makes it report the rest at once.
  const auto deadline =
      std::chrono::steady_clock::now() + options_.delivery_timeout + std::chrono::seconds(5);
  while (d.pending > 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    }
    rd_kafka_poll(rk_.get(), 50);
  }
  if (s.ok() && d.first_error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    s = UnavailableError(
        absl::StrCat(Describe(), ": not acknowledged: ", rd_kafka_err2str(d.first_error)));
  }
  if (!s.ok()) rk_.reset();  // a fresh producer for the retry
  return s;
}

}  // namespace cdc::sink
