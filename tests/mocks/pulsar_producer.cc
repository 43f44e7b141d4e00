#include "mocks/pulsar_producer.h"

#include <lz4.h>
#include <zlib.h>
#include <zstd.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "pulsar/frame.h"

namespace cdc::testing {

namespace proto = ::pulsar::proto;
using proto::BaseCommand;
using pulsar::Clock;
using pulsar::Deadline;
using pulsar::Frame;

Result<std::string> Compress(::pulsar::proto::CompressionType type, std::string_view data) {
  switch (type) {
    case ::pulsar::proto::NONE:
      return std::string(data);
    case ::pulsar::proto::LZ4: {
      std::string out(static_cast<size_t>(LZ4_compressBound(static_cast<int>(data.size()))), '\0');
      int n = LZ4_compress_default(data.data(), out.data(), static_cast<int>(data.size()),
                                   static_cast<int>(out.size()));
      if (n <= 0) return absl::InternalError("LZ4 compression failed");
      out.resize(static_cast<size_t>(n));
      return out;
    }
    case ::pulsar::proto::ZLIB: {
      uLongf n = compressBound(data.size());
      std::string out(n, '\0');
      if (compress(reinterpret_cast<Bytef*>(out.data()), &n,
                   reinterpret_cast<const Bytef*>(data.data()), data.size()) != Z_OK) {
        return absl::InternalError("ZLIB compression failed");
      }
      out.resize(n);
      return out;
    }
    case ::pulsar::proto::ZSTD: {
      std::string out(ZSTD_compressBound(data.size()), '\0');
      size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
      if (ZSTD_isError(n)) return absl::InternalError("ZSTD compression failed");
      out.resize(n);
      return out;
    }
    default:
      return absl::UnimplementedError("compression " + ::pulsar::proto::CompressionType_Name(type));
  }
}

std::string PackBatch(const std::vector<std::string_view>& payloads) {
  std::string out;
  for (std::string_view p : payloads) {
    ::pulsar::proto::SingleMessageMetadata smd;
    smd.set_payload_size(static_cast<int32_t>(p.size()));
    pulsar::AppendBe32(&out, static_cast<uint32_t>(smd.ByteSizeLong()));
    smd.AppendToString(&out);
    out.append(p.data(), p.size());
  }
  return out;
}

Result<std::unique_ptr<PulsarProducer>> PulsarProducer::Create(const pulsar::ClientOptions& client,
                                                               const std::string& topic) {
  std::unique_ptr<PulsarProducer> p(new PulsarProducer());
  p->client_ = client;
  p->topic_ = topic;
  ASSIGN_OR_RETURN(p->conn_, pulsar::ConnectToOwner(client, topic, nullptr));
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

PulsarProducer::~PulsarProducer() { (void)Close(); }

Status PulsarProducer::SendEntry(const proto::MessageMetadata& md_in, std::string_view payload,
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
  RETURN_IF_ERROR(conn_->SendRaw(pulsar::EncodePayloadCommand(cmd, md, payload)));
  ++in_flight_;
  return OkStatus();
}

Status PulsarProducer::Send(std::string_view payload) {
  proto::MessageMetadata md;
  return SendEntry(md, payload, 1);
}

Status PulsarProducer::SendBatch(const std::vector<std::string_view>& payloads,
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

Status PulsarProducer::AwaitReceipt() {
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
      return pulsar::ServerErrorStatus("send to topic " + topic_, conn_->peer(), e.error(),
                                       e.message());
    }
  }
}

Result<std::vector<proto::MessageIdData>> PulsarProducer::Flush() {
  while (in_flight_ > 0) RETURN_IF_ERROR(AwaitReceipt());
  std::vector<proto::MessageIdData> out;
  out.swap(ids_);
  return out;
}

Status PulsarProducer::Close() {
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

}  // namespace cdc::testing
