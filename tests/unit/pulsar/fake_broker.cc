#include "fake_broker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cdc::pulsar::testing {
namespace {

using proto::BaseCommand;

void WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace

FakeBroker::FakeBroker() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::listen(listen_fd_, 4);
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

FakeBroker::~FakeBroker() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  thread_.join();
  ::close(listen_fd_);
}

void FakeBroker::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    Handle(fd);
    ::close(fd);
  }
}

void FakeBroker::Handle(int fd) {
  FrameReader reader;
  uint64_t consumer_id = 0;
  bool delivered = false;
  char buf[4096];
  while (!stop_) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    reader.Append(buf, static_cast<size_t>(n));
    while (true) {
      auto f = reader.Next();
      if (!f.ok() || !f->has_value()) break;
      const BaseCommand& c = (*f)->command;
      BaseCommand out;
      switch (c.type()) {
        case BaseCommand::CONNECT:
          if (!answer_connect) break;
          out.set_type(BaseCommand::CONNECTED);
          out.mutable_connected()->set_server_version("fake");
          out.mutable_connected()->set_protocol_version(19);
          WriteAll(fd, EncodeCommand(out));
          if (ping_after_connect) {
            BaseCommand ping;
            ping.set_type(BaseCommand::PING);
            ping.mutable_ping();
            WriteAll(fd, EncodeCommand(ping));
          }
          break;
        case BaseCommand::LOOKUP:
          out.set_type(BaseCommand::LOOKUP_RESPONSE);
          out.mutable_lookuptopicresponse()->set_request_id(c.lookuptopic().request_id());
          out.mutable_lookuptopicresponse()->set_response(
              proto::CommandLookupTopicResponse::Connect);
          out.mutable_lookuptopicresponse()->set_brokerserviceurl(url());
          WriteAll(fd, EncodeCommand(out));
          break;
        case BaseCommand::PARTITIONED_METADATA:
          out.set_type(BaseCommand::PARTITIONED_METADATA_RESPONSE);
          out.mutable_partitionmetadataresponse()->set_request_id(
              c.partitionmetadata().request_id());
          out.mutable_partitionmetadataresponse()->set_partitions(0);
          WriteAll(fd, EncodeCommand(out));
          break;
        case BaseCommand::SUBSCRIBE:
          consumer_id = c.subscribe().consumer_id();
          out.set_type(BaseCommand::SUCCESS);
          out.mutable_success()->set_request_id(c.subscribe().request_id());
          WriteAll(fd, EncodeCommand(out));
          break;
        case BaseCommand::CLOSE_CONSUMER:
          out.set_type(BaseCommand::SUCCESS);
          out.mutable_success()->set_request_id(c.close_consumer().request_id());
          WriteAll(fd, EncodeCommand(out));
          break;
        case BaseCommand::GET_LAST_MESSAGE_ID:
          out.set_type(BaseCommand::GET_LAST_MESSAGE_ID_RESPONSE);
          out.mutable_getlastmessageidresponse()->set_request_id(c.getlastmessageid().request_id());
          out.mutable_getlastmessageidresponse()->mutable_last_message_id()->set_ledgerid(1);
          out.mutable_getlastmessageidresponse()->mutable_last_message_id()->set_entryid(
              messages.empty() ? static_cast<uint64_t>(-1) : messages.size() - 1);
          WriteAll(fd, EncodeCommand(out));
          break;
        case BaseCommand::SEEK:
          ++seeks_received;
          if (!answer_seek) break;  // the upstream deadlock: a seek nobody answers
          out.set_type(BaseCommand::SUCCESS);
          out.mutable_success()->set_request_id(c.seek().request_id());
          WriteAll(fd, EncodeCommand(out));
          break;
        case BaseCommand::PONG:
          ++pongs_received;
          break;
        case BaseCommand::FLOW:
          if (delivered) break;
          delivered = true;
          for (size_t i = 0; i < messages.size(); ++i) {
            BaseCommand m;
            m.set_type(BaseCommand::MESSAGE);
            m.mutable_message()->set_consumer_id(consumer_id);
            m.mutable_message()->mutable_message_id()->set_ledgerid(1);
            m.mutable_message()->mutable_message_id()->set_entryid(i);
            proto::MessageMetadata md;
            md.set_producer_name("fake");
            md.set_sequence_id(i);
            md.set_publish_time(1);
            std::string frame = EncodePayloadCommand(m, md, messages[i].payload);
            if (messages[i].corrupt_checksum) frame.back() ^= 0x5a;
            WriteAll(fd, frame);
          }
          break;
        default:
          break;
      }
    }
  }
}

}  // namespace cdc::pulsar::testing
