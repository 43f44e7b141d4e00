#include "source/kafka/kafka_broker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "source/kafka/kafka_client.h"
#include "source/kafka/kafka_reader.h"
#include "source/message.h"

namespace cdc::source {

Status CheckKafkaConfig(const std::map<std::string, std::string>& config) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  Status s;
  for (const auto& [k, v] : config) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      s = InvalidArgumentError(
          absl::StrCat("sourceConfig.kafka: librdkafka refuses the setting '", k, "': ", err,
                       "; check sourceConfig.kafka.consumer and the SASL keys"));
      break;
    }
  }
  rd_kafka_conf_destroy(conf);
  return s;
}

KafkaBroker::KafkaBroker(KafkaBrokerOptions options)
    : options_(std::move(options)), backlog_(options_.brokers, options_.config) {}

std::string KafkaBroker::Describe() const { return "kafka " + options_.brokers; }

Result<std::unique_ptr<ChannelReader>> KafkaBroker::OpenReader(const ReaderOptions& options) {
  KafkaReaderOptions ko;
  ko.reader = options;
  ko.brokers = options_.brokers;
  ko.config = options_.config;
  // librdkafka's own prefetch per consumer (queued.max.messages.kbytes): a quarter of the
  // reader's queue, 1..16 MB (16 MB for the default 256 MB read buffer, whose readers queue
  // 64 MB). It is held by every channel of every task however little of it the task keeps, so it
  // sets the memory of many tasks under a backlog, and librdkafka 2.0 refetches a full queue only
  // after a pause, so it also bounds how fast a backlog is read (bench: 30 MB/s at 4 MB, 60 MB/s
  // at 16 MB with a 64 MB buffer). A key of the same name in the Kafka config wins.
  ko.queued_max_kbytes =
      static_cast<int>(std::clamp<size_t>(options.max_queued_bytes / 4 / 1024, 1024, 16384));
  return std::unique_ptr<ChannelReader>(std::make_unique<KafkaChannelReader>(std::move(ko)));
}

int64_t KafkaBroker::MessagesAfter(const MsgPosition& position, std::chrono::milliseconds timeout) {
  return backlog_.MessagesAfter(position, timeout);
}

namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<int64_t>(ms, 1));
}

// The last message of each topic in `wanted` (topic -> its offset), read with `rk`: sets the
// position's timestamp when that message is a time tick (see LatestPositions in broker.h).
// DeadlineExceeded naming a topic whose last message did not arrive by `deadline`.
Status ReadLastTicks(rd_kafka_t* rk, std::map<std::string, std::pair<int64_t, MsgPosition*>> wanted,
                     Clock::time_point deadline) {
  rd_kafka_topic_partition_list_t* parts =
      rd_kafka_topic_partition_list_new(static_cast<int>(wanted.size()));
  for (const auto& [topic, at] : wanted) {
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), 0)->offset = at.first;
  }
  const rd_kafka_resp_err_t assigned = rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  if (assigned != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return UnavailableError(absl::StrCat("assign: ", rd_kafka_err2str(assigned)));
  }
  while (!wanted.empty() && Clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, std::min(RemainingMs(deadline), 100));
    if (m == nullptr) continue;
    auto it = m->rkt ? wanted.find(rd_kafka_topic_name(m->rkt)) : wanted.end();
    if (it != wanted.end()) {
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->offset == it->second.first) {
        auto header = DecodeHeader(std::string_view(static_cast<const char*>(m->payload), m->len));
        if (header.ok() && header->type == milvus::proto::common::TimeTick) {
          it->second.second->set_timestamp(header->timestamp);
        }
        wanted.erase(it);
      } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        // End of the partition without a message (a control record), or the message is gone
        // (retention): no timestamp, which is always safe.
        wanted.erase(it);
      }
    }
    rd_kafka_message_destroy(m);
  }
  if (wanted.empty()) return OkStatus();
  return DeadlineExceededError(absl::StrCat("read the last message of topic ",
                                            wanted.begin()->first,
                                            " partition 0: no answer in time; check that the "
                                            "broker is up"));
}

// Fills `out` (one position per channel, see LatestPositions in broker.h) with consumer `rk`.
Status LatestPositionsWith(rd_kafka_t* rk, const std::vector<std::string>& channels,
                           Clock::time_point deadline, std::vector<MsgPosition>& out) {
  // Only a topic the brokers do not list is missing (its position is the beginning); any other
  // failure is an error, never taken for "missing", which would replay the channel.
  ASSIGN_OR_RETURN(auto topics, ListTopics(rk, RemainingMs(deadline)));
  std::vector<std::string> existing;
  for (const auto& ch : channels)
    if (topics.count(ch) > 0) existing.push_back(ch);
  auto high = QueryOffsets(rk, existing, RD_KAFKA_OFFSET_END, RemainingMs(deadline));
  std::map<std::string, int64_t> end;
  for (size_t i = 0; i < existing.size(); ++i) {
    RETURN_IF_ERROR(high[i].status());
    end[existing[i]] = *high[i];
  }
  out.assign(channels.size(), MsgPosition());
  std::map<std::string, std::pair<int64_t, MsgPosition*>> last;
  for (size_t i = 0; i < channels.size(); ++i) {
    out[i].set_channel_name(channels[i]);
    auto it = end.find(channels[i]);
    if (it == end.end()) continue;  // not created yet: the beginning
    out[i].set_msgid(EncodeKafkaMsgId(it->second));
    if (it->second > 0) last[channels[i]] = {it->second - 1, &out[i]};
  }
  return last.empty() ? OkStatus() : ReadLastTicks(rk, last, deadline);
}

}  // namespace

Result<std::vector<MsgPosition>> KafkaBroker::LatestPositions(
    const std::vector<std::string>& channels, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<MsgPosition> out;
  if (channels.empty()) return out;
  std::map<std::string, std::string> conf = {
      {"group.id", "cdc-latest-positions"},  {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"}, {"enable.partition.eof", "true"},
      {"auto.offset.reset", "error"},
  };
  for (const auto& [k, v] : options_.config) conf[k] = v;
  ASSIGN_OR_RETURN(auto rk, NewKafkaClient(true, options_.brokers, conf));
  Status s = LatestPositionsWith(rk.get(), channels, deadline, out);
  rd_kafka_consumer_close(rk.get());
  if (s.ok()) return out;
  std::string which = channels.empty() ? "no channel" : channels.front();
  if (channels.size() > 1) absl::StrAppend(&which, " (and ", channels.size() - 1, " more)");
  return Status(s.code(),
                absl::StrCat("latest positions of ", which, " on ", Describe(), ": ", s.message()));
}

Result<std::vector<bool>> KafkaBroker::Holds(const std::vector<MsgPosition>& positions,
                                             std::chrono::milliseconds timeout) {
  std::vector<bool> out(positions.size(), true);
  std::vector<std::string> topics;
  std::vector<size_t> asked;  // index in positions of topics[i]
  std::vector<int64_t> offsets;
  for (size_t i = 0; i < positions.size(); ++i) {
    if (positions[i].msgid().empty()) continue;  // the beginning
    auto off = DecodeKafkaMsgId(positions[i].msgid());
    if (!off.ok()) {
      return InvalidArgumentError(absl::StrCat("position ", DescribePosition(positions[i]),
                                               " is not a Kafka position (", Describe(), ")"));
    }
    topics.push_back(positions[i].channel_name());
    asked.push_back(i);
    offsets.push_back(*off);
  }
  if (topics.empty()) return out;
  std::map<std::string, std::string> conf = {{"group.id", "cdc-retention-check"},
                                             {"enable.auto.commit", "false"}};
  for (const auto& [k, v] : options_.config) conf[k] = v;
  ASSIGN_OR_RETURN(auto rk, NewKafkaClient(true, options_.brokers, conf));
  auto first = QueryOffsets(rk.get(), topics, RD_KAFKA_OFFSET_BEGINNING,
                            static_cast<int>(std::max<int64_t>(timeout.count(), 1)));
  rd_kafka_consumer_close(rk.get());
  for (size_t j = 0; j < topics.size(); ++j) {
    if (first[j].status().code() == StatusCode::kNotFound) {
      out[asked[j]] = false;  // the topic is gone: nothing of it is held
      continue;
    }
    if (!first[j].ok()) {
      return Status(first[j].status().code(), absl::StrCat("retention check on ", Describe(), ": ",
                                                           first[j].status().message()));
    }
    // Offset 0 first: nothing was ever deleted (a create on an empty topic records -1).
    out[asked[j]] = *first[j] == 0 || *first[j] <= offsets[j];
  }
  return out;
}

}  // namespace cdc::source
