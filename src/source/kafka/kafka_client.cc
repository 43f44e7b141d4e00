#include "source/kafka/kafka_client.h"

#include "absl/strings/str_cat.h"

namespace cdc::source {

void RdKafkaDeleter::operator()(rd_kafka_t* rk) const {
  if (rk == nullptr) return;
  rd_kafka_destroy(rk);  // consumers: the owner calls rd_kafka_consumer_close() first
}

namespace {

// A conf with bootstrap.servers = brokers plus `config`; the caller owns it.
Result<rd_kafka_conf_t*> NewConf(const std::string& brokers,
                                 const std::map<std::string, std::string>& config) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const std::string& k, const std::string& v) -> Status {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      return InvalidArgumentError(absl::StrCat("kafka config ", k, ": ", err));
    }
    return OkStatus();
  };
  Status s = set("bootstrap.servers", brokers);
  for (const auto& [k, v] : config) {
    if (s.ok()) s = set(k, v);
  }
  if (!s.ok()) {
    rd_kafka_conf_destroy(conf);
    return s;
  }
  return conf;
}

Result<RdKafkaHandle> NewFromConf(rd_kafka_type_t type, rd_kafka_conf_t* conf,
                                  const std::string& brokers) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return InvalidArgumentError(absl::StrCat("create kafka client for ", brokers, ": ", err));
  }
  return RdKafkaHandle(rk);
}

}  // namespace

Result<RdKafkaHandle> NewKafkaClient(bool is_consumer, const std::string& brokers,
                                     const std::map<std::string, std::string>& config) {
  ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, NewConf(brokers, config));
  ASSIGN_OR_RETURN(RdKafkaHandle rk,
                   NewFromConf(is_consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, brokers));
  if (is_consumer) rd_kafka_poll_set_consumer(rk.get());
  return rk;
}

Result<RdKafkaHandle> NewKafkaProducer(const std::string& brokers,
                                       const std::map<std::string, std::string>& config,
                                       DeliveryCallback on_delivery) {
  ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, NewConf(brokers, config));
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  return NewFromConf(RD_KAFKA_PRODUCER, conf, brokers);
}

Status AssignPartition0(rd_kafka_t* rk, const std::string& topic, int64_t offset) {
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic.c_str(), 0)->offset = offset;
  rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return UnavailableError(
        absl::StrCat("assign kafka topic ", topic, " partition 0: ", rd_kafka_err2str(e)));
  }
  return OkStatus();
}

std::vector<Result<int64_t>> QueryOffsets(rd_kafka_t* rk, const std::vector<std::string>& topics,
                                          int64_t which, int timeout_ms) {
  const char* what = which == RD_KAFKA_OFFSET_BEGINNING ? "first" : "latest";
  std::vector<Result<int64_t>> out;
  if (topics.empty()) return out;
  rd_kafka_topic_partition_list_t* parts =
      rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const auto& t : topics)
    rd_kafka_topic_partition_list_add(parts, t.c_str(), 0)->offset = which;
  const rd_kafka_resp_err_t all = rd_kafka_offsets_for_times(rk, parts, timeout_ms);
  for (size_t i = 0; i < topics.size(); ++i) {
    const rd_kafka_topic_partition_t* p =
        rd_kafka_topic_partition_list_find(parts, topics[i].c_str(), 0);
    const rd_kafka_resp_err_t e =
        all != RD_KAFKA_RESP_ERR_NO_ERROR && all != RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION
            ? all
            : (p != nullptr ? p->err : RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION);
    const std::string why = absl::StrCat("query the ", what, " offset of kafka topic ", topics[i],
                                         " partition 0: ", rd_kafka_err2str(e));
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && p != nullptr) {
      out.emplace_back(p->offset);
    } else if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
               e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
      out.emplace_back(NotFoundError(why));
    } else if (e == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      out.emplace_back(
          DeadlineExceededError(absl::StrCat(why, " (no answer in ", timeout_ms, " ms)")));
    } else {
      out.emplace_back(UnavailableError(why));
    }
  }
  rd_kafka_topic_partition_list_destroy(parts);
  return out;
}

Result<std::set<std::string>> ListTopics(rd_kafka_t* rk, int timeout_ms) {
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, nullptr, &md, timeout_ms);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return UnavailableError(absl::StrCat("list kafka topics: ", rd_kafka_err2str(e)));
  }
  std::set<std::string> out;  // listed = exists (its leader may still be unavailable)
  for (int i = 0; i < md->topic_cnt; ++i) out.insert(md->topics[i].topic);
  rd_kafka_metadata_destroy(md);
  return out;
}

Result<int64_t> QueryHighWatermark(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
  return QueryOffsets(rk, {topic}, RD_KAFKA_OFFSET_END, timeout_ms).front();
}

}  // namespace cdc::source
