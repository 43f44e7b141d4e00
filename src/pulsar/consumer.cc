#include "pulsar/consumer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace cdc::pulsar {
namespace {

using proto::BaseCommand;
using proto::MessageIdData;

int Cmp(int64_t a, int64_t b) { return a < b ? -1 : (a > b ? 1 : 0); }

}  // namespace

int CompareIds(const MessageIdData& a, const MessageIdData& b) {
  if (int c = Cmp(static_cast<int64_t>(a.ledgerid()), static_cast<int64_t>(b.ledgerid()))) return c;
  if (int c = Cmp(static_cast<int64_t>(a.entryid()), static_cast<int64_t>(b.entryid()))) return c;
  // A message outside a batch has batch index -1 from the broker and 0 from the Go client.
  return Cmp(std::max(a.batch_index(), 0), std::max(b.batch_index(), 0));
}

std::string IdString(const MessageIdData& id) {
  return absl::StrCat(static_cast<int64_t>(id.ledgerid()), ":", static_cast<int64_t>(id.entryid()),
                      ":", std::max(id.batch_index(), 0));
}

Consumer::Consumer(ClientOptions client, ConsumerOptions options)
    : client_(std::move(client)), options_(std::move(options)) {
  if (options_.receiver_queue == 0) options_.receiver_queue = 1;
  seek_on_subscribe_ = options_.durable && options_.start_id.has_value();
}

Consumer::~Consumer() {
  if (!closed_) (void)Close();
}

Result<std::unique_ptr<Consumer>> Consumer::Subscribe(const ClientOptions& client,
                                                      const ConsumerOptions& options) {
  std::unique_ptr<Consumer> c(new Consumer(client, options));
  RETURN_IF_ERROR(c->Connect());
  if (!options.start_id.has_value() && !options.start_earliest) {
    // Pin "latest" so that a reconnect before the first message resumes from here.
    auto last = c->GetLastMessageId();
    if (last.ok() && static_cast<int64_t>(last->entryid()) >= 0) c->latest_pin_ = *last;
  }
  return c;
}

int32_t Consumer::broker_max_message_size() const {
  return conn_ ? conn_->broker_max_message_size() : 0;
}

Status Consumer::Connect() {
  TopicOwner owner;
  ASSIGN_OR_RETURN(conn_, ConnectToOwner(client_, options_.topic, &owner));
  broker_ = owner.broker_url;
  return SubscribeOnce();
}

Status Consumer::SubscribeOnce() {
  need_resubscribe_ = false;
  ++consumer_id_;
  BaseCommand cmd;
  cmd.set_type(BaseCommand::SUBSCRIBE);
  const uint64_t rid = conn_->NextRequestId();
  auto* s = cmd.mutable_subscribe();
  s->set_topic(options_.topic);
  s->set_subscription(options_.subscription);
  s->set_subtype(proto::CommandSubscribe::Exclusive);
  s->set_consumer_id(consumer_id_);
  s->set_request_id(rid);
  if (!options_.consumer_name.empty()) s->set_consumer_name(options_.consumer_name);
  s->set_durable(options_.durable);
  const MessageIdData* from = nullptr;
  if (last_delivered_.has_value()) {
    from = &*last_delivered_;
  } else if (options_.start_id.has_value()) {
    from = &*options_.start_id;
  } else if (latest_pin_.has_value()) {
    from = &*latest_pin_;
  }
  if (from != nullptr && !options_.durable) {
    // The broker starts a non-durable cursor at this entry (inclusive); Wanted() drops what
    // precedes the wanted message inside it.
    MessageIdData* id = s->mutable_start_message_id();
    id->set_ledgerid(from->ledgerid());
    id->set_entryid(from->entryid());
    id->set_partition(-1);
    id->set_batch_index(from->batch_index() >= 0 ? from->batch_index() : 0);
  }
  s->set_initialposition(options_.start_earliest ? proto::CommandSubscribe::Earliest
                                                 : proto::CommandSubscribe::Latest);
  const std::string action =
      absl::StrCat("subscribe ", options_.subscription, " to topic ", options_.topic);
  ASSIGN_OR_RETURN(Frame f,
                   conn_->Call(cmd, rid, action, [this](Frame&& o) { HandleOther(std::move(o)); }));
  (void)f;
  permits_to_return_ = 0;
  RETURN_IF_ERROR(SendFlow(options_.receiver_queue));
  if (seek_on_subscribe_) {
    seek_on_subscribe_ = false;
    return Seek(*options_.start_id);
  }
  return OkStatus();
}

Status Consumer::SendFlow(uint32_t permits) {
  BaseCommand cmd;
  cmd.set_type(BaseCommand::FLOW);
  cmd.mutable_flow()->set_consumer_id(consumer_id_);
  cmd.mutable_flow()->set_messagepermits(permits);
  return conn_->Send(cmd);
}

void Consumer::HandleOther(Frame&& f) {
  switch (f.command.type()) {
    case BaseCommand::MESSAGE:
      if (f.command.message().consumer_id() == consumer_id_) incoming_.push_back(std::move(f));
      break;
    case BaseCommand::CLOSE_CONSUMER:
      if (f.command.close_consumer().consumer_id() == consumer_id_) {
        spdlog::info("pulsar broker {} closed consumer of {}; subscribing again", broker_,
                     options_.topic);
        need_resubscribe_ = true;
      }
      break;
    case BaseCommand::TOPIC_MIGRATED:
      need_reconnect_ = true;
      break;
    case BaseCommand::REACHED_END_OF_TOPIC:
      spdlog::warn("pulsar topic {} was terminated: no more messages will arrive", options_.topic);
      break;
    default:
      break;  // ACTIVE_CONSUMER_CHANGE, late answers of timed-out requests, ...
  }
}

bool Consumer::Wanted(const MessageIdData& id) const {
  if (last_delivered_.has_value()) return CompareIds(id, *last_delivered_) > 0;
  if (options_.start_id.has_value()) return CompareIds(id, *options_.start_id) >= 0;
  if (latest_pin_.has_value() && counts_.reconnects > 0) return CompareIds(id, *latest_pin_) > 0;
  return true;
}

void Consumer::Enqueue(Frame&& f) {
  const auto& m = f.command.message();
  MessageIdData base = m.message_id();
  base.set_partition(-1);
  const uint32_t permits =
      f.metadata.has_num_messages_in_batch() && f.metadata.num_messages_in_batch() > 0
          ? static_cast<uint32_t>(f.metadata.num_messages_in_batch())
          : 1;
  permits_to_return_ += permits;
  auto error_message = [&](const std::string& why) {
    ReceivedMessage r;
    r.id = base;
    r.id.set_batch_index(-1);
    r.error = absl::StrCat("read topic ", options_.topic, " message ", IdString(r.id),
                           " from broker ", broker_, ": ", why);
    r.last_of_entry = true;
    pending_.push_back(std::move(r));
  };
  if (!f.checksum_ok) {
    ++counts_.checksum_errors;
    error_message(absl::StrCat("checksum mismatch (frame says ", f.checksum_expected, ", computed ",
                               f.checksum_actual, "); the entry is corrupt and is not used"));
    return;
  }
  auto entry = UnpackEntry(f.metadata, f.buffer, f.payload);
  if (!entry.ok()) {
    error_message(std::string(entry.status().message()));
    return;
  }
  bool first = true;
  for (const EntryMessage& em : entry->messages) {
    ReceivedMessage r;
    r.id = base;
    r.id.set_batch_index(std::max(em.batch_index, 0));  // as pulsar-client-go numbers them
    r.owner = entry->owner;
    r.payload = em.payload;
    r.publish_time = f.metadata.publish_time();
    if (first) r.entry_bytes = f.payload.size();
    first = false;
    pending_.push_back(std::move(r));
  }
  if (!entry->messages.empty()) pending_.back().last_of_entry = true;
}

Result<std::optional<ReceivedMessage>> Consumer::Receive(std::chrono::milliseconds timeout) {
  if (conn_ == nullptr) {
    return UnavailableError(absl::StrCat("read topic ", options_.topic, ": not connected"));
  }
  const Deadline deadline = Clock::now() + timeout;
  while (true) {
    if (need_reconnect_) {
      need_reconnect_ = false;
      return UnavailableError(absl::StrCat("read topic ", options_.topic, ": broker ", broker_,
                                           " moved the topic; reconnecting"));
    }
    if (need_resubscribe_) RETURN_IF_ERROR(SubscribeOnce());
    while (!pending_.empty()) {
      ReceivedMessage r = std::move(pending_.front());
      pending_.pop_front();
      if (!Wanted(r.id)) continue;
      last_delivered_ = r.id;
      return std::optional<ReceivedMessage>(std::move(r));
    }
    if (!incoming_.empty()) {
      Frame f = std::move(incoming_.front());
      incoming_.pop_front();
      Enqueue(std::move(f));
      if (permits_to_return_ >= std::max<uint32_t>(1, options_.receiver_queue / 2)) {
        RETURN_IF_ERROR(SendFlow(permits_to_return_));
        permits_to_return_ = 0;
      }
      continue;
    }
    auto f = conn_->ReadFrame(deadline);
    if (!f.ok()) {
      return Annotate(f.status(), absl::StrCat("read topic ", options_.topic));
    }
    if (!f->has_value()) return std::optional<ReceivedMessage>();
    HandleOther(std::move(**f));
  }
}

Status Consumer::Seek(const MessageIdData& id) {
  if (conn_ == nullptr) return UnavailableError("seek topic " + options_.topic + ": not connected");
  BaseCommand cmd;
  cmd.set_type(BaseCommand::SEEK);
  const uint64_t rid = conn_->NextRequestId();
  cmd.mutable_seek()->set_consumer_id(consumer_id_);
  cmd.mutable_seek()->set_request_id(rid);
  MessageIdData* m = cmd.mutable_seek()->mutable_message_id();
  m->set_ledgerid(id.ledgerid());
  m->set_entryid(id.entryid());
  const std::string action = absl::StrCat("seek topic ", options_.topic, " to ", IdString(id));
  // The broker closes the consumers of a reset cursor; we subscribe again below anyway.
  auto other = [this](Frame&& o) {
    const bool ours = o.command.type() == BaseCommand::CLOSE_CONSUMER &&
                      o.command.close_consumer().consumer_id() == consumer_id_;
    if (ours) {
      need_resubscribe_ = true;
    } else {
      HandleOther(std::move(o));
    }
  };
  ASSIGN_OR_RETURN(Frame f, conn_->Call(cmd, rid, action, other));
  (void)f;
  // Whatever was prefetched came from before the seek: drop it and start a fresh consumer id
  // so late frames of the old one are ignored. The broker may also close the consumer itself.
  incoming_.clear();
  pending_.clear();
  last_delivered_.reset();
  latest_pin_.reset();
  options_.start_id = id;
  if (options_.durable) {
    need_resubscribe_ = true;  // the broker disconnects consumers of a reset durable cursor
    return OkStatus();
  }
  BaseCommand close;
  close.set_type(BaseCommand::CLOSE_CONSUMER);
  const uint64_t cid = conn_->NextRequestId();
  close.mutable_close_consumer()->set_consumer_id(consumer_id_);
  close.mutable_close_consumer()->set_request_id(cid);
  auto closed = conn_->Call(close, cid, "close consumer after seek", nullptr);
  if (!closed.ok() && closed.status().code() != StatusCode::kFailedPrecondition &&
      closed.status().code() != StatusCode::kNotFound) {
    return closed.status();
  }
  return SubscribeOnce();
}

Result<MessageIdData> Consumer::GetLastMessageId() {
  if (conn_ == nullptr) {
    return UnavailableError("get last message id of " + options_.topic + ": not connected");
  }
  BaseCommand cmd;
  cmd.set_type(BaseCommand::GET_LAST_MESSAGE_ID);
  const uint64_t rid = conn_->NextRequestId();
  cmd.mutable_getlastmessageid()->set_consumer_id(consumer_id_);
  cmd.mutable_getlastmessageid()->set_request_id(rid);
  ASSIGN_OR_RETURN(Frame f, conn_->Call(cmd, rid, "get last message id of " + options_.topic,
                                        [this](Frame&& o) { HandleOther(std::move(o)); }));
  if (f.command.type() != BaseCommand::GET_LAST_MESSAGE_ID_RESPONSE) {
    return InternalError("get last message id of " + options_.topic + ": unexpected answer " +
                         BaseCommand::Type_Name(f.command.type()));
  }
  return f.command.getlastmessageidresponse().last_message_id();
}

Status Consumer::Ack(const MessageIdData& id, bool cumulative) {
  if (conn_ == nullptr) return UnavailableError("ack on " + options_.topic + ": not connected");
  BaseCommand cmd;
  cmd.set_type(BaseCommand::ACK);
  auto* a = cmd.mutable_ack();
  a->set_consumer_id(consumer_id_);
  a->set_ack_type(cumulative ? proto::CommandAck::Cumulative : proto::CommandAck::Individual);
  MessageIdData* m = a->add_message_id();
  m->set_ledgerid(id.ledgerid());
  m->set_entryid(id.entryid());
  return conn_->Send(cmd);
}

Status Consumer::Reconnect() {
  conn_.reset();
  incoming_.clear();
  pending_.clear();
  need_resubscribe_ = false;
  need_reconnect_ = false;
  ++counts_.reconnects;
  return Connect();
}

Status Consumer::Close() {
  closed_ = true;
  if (conn_ == nullptr) return OkStatus();
  BaseCommand cmd;
  cmd.set_type(BaseCommand::CLOSE_CONSUMER);
  const uint64_t rid = conn_->NextRequestId();
  cmd.mutable_close_consumer()->set_consumer_id(consumer_id_);
  cmd.mutable_close_consumer()->set_request_id(rid);
  auto r = conn_->Call(cmd, rid, "close consumer of " + options_.topic, nullptr);
  conn_.reset();
  return r.ok() ? OkStatus() : r.status();
}

}  // namespace cdc::pulsar
