#include "source/pulsar/pulsar_broker.h"

#include <atomic>
#include <thread>

#include "source/message.h"
#include "source/pulsar/pulsar_reader.h"
#include "source/pulsar_id.h"

namespace cdc::source {

Result<std::unique_ptr<PulsarBroker>> PulsarBroker::Create(PulsarBrokerOptions options) {
  ASSIGN_OR_RETURN(auto client, PulsarClientOptions(options.settings));
  return std::unique_ptr<PulsarBroker>(new PulsarBroker(std::move(options), std::move(client)));
}

PulsarBroker::PulsarBroker(PulsarBrokerOptions options, pulsar::ClientOptions client)
    : options_(std::move(options)), client_(std::move(client)) {
  const auto& s = options_.settings;
  PulsarAdminSettings admin;
  admin.web_url = PulsarAdminUrl(s.web_address, s.web_port);
  admin.token = client_.auth_data;
  if (!s.tenant.empty()) admin.tenant = s.tenant;
  if (!s.name_space.empty()) admin.name_space = s.name_space;
  backlog_ = std::make_shared<PulsarBacklog>(std::move(admin));
}

std::string PulsarBroker::Describe() const { return "pulsar " + client_.service_url; }

Result<std::unique_ptr<ChannelReader>> PulsarBroker::OpenReader(const ReaderOptions& options) {
  PulsarReaderOptions po;
  po.reader = options;
  po.client = client_;
  if (!options_.settings.tenant.empty()) po.tenant = options_.settings.tenant;
  if (!options_.settings.name_space.empty()) po.name_space = options_.settings.name_space;
  po.receiver_queue = options_.receiver_queue;
  po.backlog = backlog_;
  return std::unique_ptr<ChannelReader>(std::make_unique<PulsarChannelReader>(std::move(po)));
}

int64_t PulsarBroker::MessagesAfter(const MsgPosition& position,
                                    std::chrono::milliseconds timeout) {
  return backlog_->MessagesAfter(position, timeout);
}

namespace {

std::atomic<uint64_t> latest_calls{0};

// The timestamp of the last message of entry `last` when it is a time tick, else 0 (see
// LatestPositions in broker.h): the consumer is moved to that entry and reads it.
Result<uint64_t> LastTick(pulsar::Consumer& consumer, const pulsar::proto::MessageIdData& last,
                          pulsar::Deadline deadline) {
  RETURN_IF_ERROR(consumer.Seek(last));
  while (pulsar::Clock::now() < deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - pulsar::Clock::now());
    ASSIGN_OR_RETURN(auto m, consumer.Receive(std::min(left, std::chrono::milliseconds(200))));
    if (!m.has_value()) continue;
    if (m->id.ledgerid() != last.ledgerid() || m->id.entryid() != last.entryid()) return 0;
    if (!m->last_of_entry) continue;
    if (!m->error.empty()) return 0;  // unreadable: no timestamp, which is always safe
    auto header = DecodeHeader(m->payload);
    const bool tick = header.ok() && header->type == milvus::proto::common::TimeTick;
    return tick ? header->timestamp : 0;
  }
  return DeadlineExceededError("read its last message: no answer in time");
}

// One channel's latest position; every wait ends by client.deadline.
Result<MsgPosition> LatestPosition(const pulsar::ClientOptions& client, const std::string& topic,
                                   const std::string& channel, const std::string& subscription) {
  MsgPosition out;
  out.set_channel_name(channel);
  pulsar::ConsumerOptions co;
  co.topic = topic;
  co.subscription = subscription;
  co.consumer_name = subscription;
  co.durable = false;
  co.start_earliest = true;  // no "latest" pin: the last id is asked for below
  co.receiver_queue = 1;
  auto consumer = pulsar::Consumer::Subscribe(client, co);
  // A topic that does not exist (the broker creates none on subscribe): its beginning.
  if (consumer.status().code() == StatusCode::kNotFound) return out;
  RETURN_IF_ERROR(consumer.status());
  auto last = (*consumer)->GetLastMessageId();
  Result<uint64_t> ts = uint64_t{0};
  if (last.ok() && static_cast<int64_t>(last->entryid()) >= 0) {
    // Right after the last entry: a reader starts there and drops nothing by its timestamp
    // unless that entry ends with a time tick.
    out.set_msgid(EncodePulsarMsgId(
        {static_cast<int64_t>(last->ledgerid()), static_cast<int64_t>(last->entryid()) + 1, 0, 0}));
    ts = LastTick(**consumer, *last, client.deadline);
  }
  (void)(*consumer)->Close();
  RETURN_IF_ERROR(last.status());
  RETURN_IF_ERROR(ts.status());
  out.set_timestamp(*ts);
  return out;
}

}  // namespace

Result<std::vector<MsgPosition>> PulsarBroker::LatestPositions(
    const std::vector<std::string>& channels, std::chrono::milliseconds timeout) {
  pulsar::ClientOptions client = client_;
  client.deadline = pulsar::Clock::now() + timeout;
  const std::string call = std::to_string(++latest_calls);
  std::vector<Result<MsgPosition>> results(channels.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < channels.size(); ++i) {
    threads.emplace_back([&, i] {
      const std::string topic =
          PulsarTopic(options_.settings.tenant, options_.settings.name_space, channels[i]);
      results[i] =
          LatestPosition(client, topic, channels[i], "cdc-latest-" + call + "-" + channels[i]);
      if (!results[i].ok()) {
        results[i] = Annotate(results[i].status(), "latest position of pulsar topic " + topic +
                                                       " on " + client_.service_url);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<MsgPosition> out;
  for (auto& r : results) {
    RETURN_IF_ERROR(r.status());
    out.push_back(std::move(*r));
  }
  return out;
}

namespace {

// Whether `topic` still holds message `at`: its first retained message is at or before it.
Result<bool> HoldsOne(const pulsar::ClientOptions& client, const std::string& topic,
                      const PulsarMsgId& at, const std::string& subscription) {
  pulsar::ConsumerOptions co;
  co.topic = topic;
  co.subscription = subscription;
  co.consumer_name = subscription;
  co.durable = false;
  co.start_earliest = true;
  co.receiver_queue = 1;
  auto consumer = pulsar::Consumer::Subscribe(client, co);
  if (consumer.status().code() == StatusCode::kNotFound) return false;  // the topic is gone
  RETURN_IF_ERROR(consumer.status());
  Result<bool> held = DeadlineExceededError("read its first message: no answer in time");
  // Nothing written after `at`: whatever follows is read from there.
  auto last = (*consumer)->GetLastMessageId();
  if (last.ok()) {
    const auto ledger = static_cast<int64_t>(last->ledgerid());
    const auto entry = static_cast<int64_t>(last->entryid());
    if (entry < 0 || ledger < at.ledger || (ledger == at.ledger && entry <= at.entry)) {
      (void)(*consumer)->Close();
      return true;
    }
  }
  while (pulsar::Clock::now() < client.deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(client.deadline -
                                                                            pulsar::Clock::now());
    auto m = (*consumer)->Receive(std::min(left, std::chrono::milliseconds(200)));
    if (!m.ok()) {
      held = m.status();
      break;
    }
    if (!m->has_value()) continue;
    const auto& id = (*m)->id;
    const auto ledger = static_cast<int64_t>(id.ledgerid());
    const auto entry = static_cast<int64_t>(id.entryid());
    held = ledger < at.ledger || (ledger == at.ledger && entry <= at.entry);
    break;
  }
  (void)(*consumer)->Close();
  return held;
}

}  // namespace

Result<std::vector<bool>> PulsarBroker::Holds(const std::vector<MsgPosition>& positions,
                                              std::chrono::milliseconds timeout) {
  pulsar::ClientOptions client = client_;
  client.deadline = pulsar::Clock::now() + timeout;
  const std::string call = std::to_string(++latest_calls);
  std::vector<Result<bool>> results(positions.size(), true);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < positions.size(); ++i) {
    if (positions[i].msgid().empty()) continue;
    auto id = DecodePulsarMsgId(positions[i].msgid());
    if (!id.ok()) {
      results[i] = InvalidArgumentError("position " + DescribePosition(positions[i]) +
                                        " is not a Pulsar position (" + Describe() + ")");
      continue;
    }
    threads.emplace_back([&, i, at = *id] {
      const std::string& ch = positions[i].channel_name();
      const std::string topic =
          PulsarTopic(options_.settings.tenant, options_.settings.name_space, ch);
      results[i] = HoldsOne(client, topic, at, "cdc-retention-" + call + "-" + std::to_string(i));
      if (!results[i].ok()) {
        results[i] = Annotate(results[i].status(), "retention check of pulsar topic " + topic +
                                                       " on " + client_.service_url);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<bool> out;
  for (auto& r : results) {
    RETURN_IF_ERROR(r.status());
    out.push_back(*r);
  }
  return out;
}

}  // namespace cdc::source
