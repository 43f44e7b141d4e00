#include "source/pulsar/producer.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "source/pulsar/entry.h"

namespace cdc::source::pulsar {

using proto::BaseCommand;

Result<std::unique_ptr<Producer>> Producer::Create(const ClientOptions& client,
                                                   const std::string& topic) {
  std::unique_ptr<Producer> p(new Producer());
  p->client_ = client;
  p->topic_ = topic;
  ASSIGN_OR_RETURN(p->conn_, ConnectToOwner(client, topic, nullptr));
  BaseCommand cmd;
  cmd.set_type(BaseCommand::PRODUCER);
  const uint64_t rid = p->conn_->NextRequestId();
  cmd.mutable_producer()->set_topic(topic);
  cmd.mutable_producer()->set_producer_id(p->producer_id_);
  cmd.mutable_producer()->set_request_id(rid);
  ASSIGN_OR_RETURN(Frame f, p->conn_->Call(cmd, rid, "create producer on " + topic, nullptr));
  p->name_ = f.command.producer_success().producer_name();
  return p;
}

Producer::~Producer() { (void)Close(); }

Status Producer::SendEntry(const proto::MessageMetadata& md_in, std::string_view payload,
                           int32_t num_messages) {
  if (conn_ == nullptr) return UnavailableError("send to " + topic_ + ": producer closed");
  while (in_flight_ >= max_in_flight_) RETURN_IF_ERROR(AwaitReceipt());
  proto::MessageMetadata md = md_in;
  md.set_producer_name(name_);
  md.set_sequence_id(sequence_id_);
  md.set_publish_time(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count()));
  BaseCommand cmd;
  cmd.set_type(BaseCommand::SEND);
  cmd.mutable_send()->set_producer_id(producer_id_);
  cmd.mutable_send()->set_sequence_id(sequence_id_);
  if (num_messages > 1 || md.has_num_messages_in_batch()) {
    cmd.mutable_send()->set_num_messages(num_messages);
  }
  ++sequence_id_;
  RETURN_IF_ERROR(conn_->SendRaw(EncodePayloadCommand(cmd, md, payload)));
  ++in_flight_;
  return OkStatus();
}

Status Producer::Send(std::string_view payload) {
  proto::MessageMetadata md;
  return SendEntry(md, payload, 1);
}

Status Producer::SendBatch(const std::vector<std::string_view>& payloads,
                           proto::CompressionType compression) {
  std::string batch = PackBatch(payloads);
  proto::MessageMetadata md;
  md.set_num_messages_in_batch(static_cast<int32_t>(payloads.size()));
  if (compression != proto::NONE) {
    md.set_compression(compression);
    md.set_uncompressed_size(static_cast<uint32_t>(batch.size()));
    ASSIGN_OR_RETURN(batch, Compress(compression, batch));
  }
  return SendEntry(md, batch, static_cast<int32_t>(payloads.size()));
}

Status Producer::AwaitReceipt() {
  const Deadline deadline = Clock::now() + client_.operation_timeout;
  while (true) {
    ASSIGN_OR_RETURN(auto f, conn_->ReadFrame(deadline));
    if (!f.has_value()) {
      return DeadlineExceededError(absl::StrCat("send to topic ", topic_, " on broker ",
                                                conn_->peer(), ": no receipt in time"));
    }
    if (f->command.type() == BaseCommand::SEND_RECEIPT) {
      proto::MessageIdData id = f->command.send_receipt().message_id();
      id.set_batch_index(-1);
      ids_.push_back(id);
      --in_flight_;
      return OkStatus();
    }
    if (f->command.type() == BaseCommand::SEND_ERROR) {
      const auto& e = f->command.send_error();
      return ServerErrorStatus("send to topic " + topic_, conn_->peer(), e.error(), e.message());
    }
  }
}

Result<std::vector<proto::MessageIdData>> Producer::Flush() {
  while (in_flight_ > 0) RETURN_IF_ERROR(AwaitReceipt());
  std::vector<proto::MessageIdData> out;
  out.swap(ids_);
  return out;
}

Status Producer::Close() {
  if (conn_ == nullptr) return OkStatus();
  Status s = Flush().status();
  BaseCommand cmd;
  cmd.set_type(BaseCommand::CLOSE_PRODUCER);
  const uint64_t rid = conn_->NextRequestId();
  cmd.mutable_close_producer()->set_producer_id(producer_id_);
  cmd.mutable_close_producer()->set_request_id(rid);
  auto r = conn_->Call(cmd, rid, "close producer on " + topic_, nullptr);
  conn_.reset();
  if (!s.ok()) return s;
  return r.ok() ? OkStatus() : r.status();
}

}  // namespace cdc::source::pulsar
