#include "pulsar/connection.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace cdc::pulsar {
namespace {

using proto::BaseCommand;

constexpr int32_t kProtocolVersion = 19;

std::optional<uint64_t> ResponseRequestId(const BaseCommand& c) {
  switch (c.type()) {
    case BaseCommand::SUCCESS:
      return c.success().request_id();
    case BaseCommand::ERROR:
      return c.error().request_id();
    case BaseCommand::LOOKUP_RESPONSE:
      return c.lookuptopicresponse().request_id();
    case BaseCommand::PARTITIONED_METADATA_RESPONSE:
      return c.partitionmetadataresponse().request_id();
    case BaseCommand::GET_LAST_MESSAGE_ID_RESPONSE:
      return c.getlastmessageidresponse().request_id();
    case BaseCommand::PRODUCER_SUCCESS:
      return c.producer_success().request_id();
    default:
      return std::nullopt;
  }
}

}  // namespace

Status ServerErrorStatus(std::string_view action, std::string_view broker,
                         ::pulsar::proto::ServerError error, std::string_view message) {
  std::string text =
      absl::StrCat(std::string(action), " on Pulsar broker ", std::string(broker), ": ",
                   ::pulsar::proto::ServerError_Name(error), ": ", std::string(message));
  switch (error) {
    case ::pulsar::proto::ServiceNotReady:
    case ::pulsar::proto::TooManyRequests:
    case ::pulsar::proto::ConsumerBusy:
    case ::pulsar::proto::MetadataError:
    case ::pulsar::proto::PersistenceError:
    case ::pulsar::proto::ProducerBusy:
      return UnavailableError(text + "; retrying");
    case ::pulsar::proto::AuthenticationError:
      return absl::PermissionDeniedError(
          text + "; check sourceConfig.pulsar.authPlugin and authParams (token)");
    case ::pulsar::proto::AuthorizationError:
      return absl::PermissionDeniedError(text + "; grant the role consume permission");
    case ::pulsar::proto::TopicNotFound:
      return NotFoundError(text);
    default:
      return FailedPreconditionError(text);
  }
}

Result<std::unique_ptr<Connection>> Connection::Open(const Endpoint& ep, const ClientOptions& opts,
                                                     const std::string& proxy_to_broker_url) {
  std::unique_ptr<Connection> c(new Connection());
  c->opts_ = opts;
  c->peer_ = ep.Url();
  c->reader_.set_max_frame_size(opts.max_frame_size);
  ASSIGN_OR_RETURN(c->transport_,
                   Transport::Connect(ep, opts.tls, opts.Within(opts.connect_timeout)));
  c->last_recv_ = Clock::now();
  c->last_ping_sent_ = c->last_recv_;
  RETURN_IF_ERROR(c->Handshake(proxy_to_broker_url));
  return c;
}

Status Connection::Handshake(const std::string& proxy_to_broker_url) {
  BaseCommand cmd;
  cmd.set_type(BaseCommand::CONNECT);
  auto* c = cmd.mutable_connect();
  c->set_client_version(opts_.client_version);
  c->set_protocol_version(kProtocolVersion);
  if (!opts_.auth_method.empty()) {
    c->set_auth_method_name(opts_.auth_method);
    c->set_auth_data(opts_.auth_data);
  }
  if (!proxy_to_broker_url.empty()) c->set_proxy_to_broker_url(proxy_to_broker_url);
  RETURN_IF_ERROR(Send(cmd));
  const auto start = Clock::now();
  const Deadline deadline = opts_.Within(opts_.connect_timeout, start);
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - start);
  while (true) {
    ASSIGN_OR_RETURN(auto f, ReadFrame(deadline));
    if (!f.has_value()) {
      return DeadlineExceededError(absl::StrCat("connect to Pulsar broker ", peer_,
                                                ": no CONNECTED answer within ", wait.count(),
                                                " ms"));
    }
    if (f->command.type() == BaseCommand::CONNECTED) {
      broker_max_message_size_ = f->command.connected().max_message_size();
      if (broker_max_message_size_ > 0) {
        size_t want = static_cast<size_t>(broker_max_message_size_) + kFrameOverhead;
        if (want > reader_.max_frame_size()) reader_.set_max_frame_size(want);
      }
      return OkStatus();
    }
    if (f->command.type() == BaseCommand::ERROR) {
      return ServerErrorStatus("connect", peer_, f->command.error().error(),
                               f->command.error().message());
    }
    if (f->command.type() == BaseCommand::AUTH_CHALLENGE) {
      return absl::PermissionDeniedError(
          absl::StrCat("connect to Pulsar broker ", peer_,
                       ": the broker asks for an authentication challenge, which milvus-cdc does "
                       "not support; use token authentication"));
    }
  }
}

Status Connection::Send(const BaseCommand& cmd) { return SendRaw(EncodeCommand(cmd)); }

Status Connection::SendRaw(std::string_view frame) {
  return Annotate(transport_->WriteAll(frame, OpDeadline()),
                  absl::StrCat("send to Pulsar broker ", peer_));
}

Result<std::optional<Frame>> Connection::ReadFrame(Deadline deadline) {
  char buf[64 * 1024];
  while (true) {
    ASSIGN_OR_RETURN(auto f, reader_.Next());
    if (f.has_value()) {
      if (f->command.type() == BaseCommand::PING) {
        BaseCommand pong;
        pong.set_type(BaseCommand::PONG);
        pong.mutable_pong();
        RETURN_IF_ERROR(Send(pong));
        continue;
      }
      if (f->command.type() == BaseCommand::PONG) continue;
      return f;
    }
    const auto now = Clock::now();
    const auto silent = now - last_recv_;
    if (silent >= 2 * opts_.keepalive) {
      return UnavailableError(
          absl::StrCat("Pulsar broker ", peer_, " sent nothing (not even a PONG) for ",
                       std::chrono::duration_cast<std::chrono::seconds>(silent).count(),
                       " s; the connection is considered dead"));
    }
    if (silent >= opts_.keepalive && now - last_ping_sent_ >= opts_.keepalive) {
      BaseCommand ping;
      ping.set_type(BaseCommand::PING);
      ping.mutable_ping();
      RETURN_IF_ERROR(Send(ping));
      last_ping_sent_ = now;
    }
    if (now >= deadline) return std::optional<Frame>();
    // Wake up in time for the next keep-alive check even if the caller's deadline is later.
    Deadline wait =
        std::min(deadline, last_recv_ + opts_.keepalive +
                               (silent >= opts_.keepalive ? opts_.keepalive : decltype(silent){0}));
    if (wait <= now) wait = now + std::chrono::milliseconds(100);
    auto n = transport_->Read(buf, sizeof buf, wait);
    if (!n.ok()) {
      if (n.status().code() == StatusCode::kDeadlineExceeded) continue;
      return n.status();
    }
    last_recv_ = Clock::now();
    reader_.Append(buf, *n);
  }
}

Result<Frame> Connection::Call(const BaseCommand& req, uint64_t request_id, std::string_view action,
                               const FrameSink& other) {
  RETURN_IF_ERROR(Send(req));
  const auto start = Clock::now();
  const Deadline deadline = opts_.Within(opts_.operation_timeout, start);
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - start);
  while (true) {
    ASSIGN_OR_RETURN(auto f, ReadFrame(deadline));
    if (!f.has_value()) {
      return DeadlineExceededError(absl::StrCat(std::string(action), " on Pulsar broker ", peer_,
                                                ": no answer within ", wait.count(), " ms"));
    }
    auto id = ResponseRequestId(f->command);
    if (id.has_value() && *id == request_id) {
      if (f->command.type() == BaseCommand::ERROR) {
        return ServerErrorStatus(action, peer_, f->command.error().error(),
                                 f->command.error().message());
      }
      return std::move(*f);
    }
    if (other) other(std::move(*f));
  }
}

Result<TopicOwner> LookupTopic(const ClientOptions& opts, const std::string& topic,
                               std::unique_ptr<Connection>* conn) {
  ASSIGN_OR_RETURN(auto service, ParseServiceUrl(opts.service_url));
  if (*conn == nullptr) {
    Status last;
    for (const Endpoint& ep : service) {
      auto c = Connection::Open(ep, opts);
      if (c.ok()) {
        *conn = std::move(*c);
        break;
      }
      last = c.status();
    }
    if (*conn == nullptr) return last;
  }
  bool authoritative = false;
  for (int hop = 0; hop < 8; ++hop) {
    Connection* c = conn->get();
    BaseCommand req;
    req.set_type(BaseCommand::LOOKUP);
    const uint64_t rid = c->NextRequestId();
    auto* l = req.mutable_lookuptopic();
    l->set_topic(topic);
    l->set_request_id(rid);
    l->set_authoritative(authoritative);
    const std::string action = "look up topic " + topic;
    ASSIGN_OR_RETURN(Frame f, c->Call(req, rid, action, nullptr));
    if (f.command.type() != BaseCommand::LOOKUP_RESPONSE) {
      return InternalError(absl::StrCat(std::string(action), ": unexpected answer ",
                                        BaseCommand::Type_Name(f.command.type())));
    }
    const auto& r = f.command.lookuptopicresponse();
    if (r.response() == proto::CommandLookupTopicResponse::Failed) {
      return ServerErrorStatus(action, c->peer(), r.error(), r.message());
    }
    const std::string url = service[0].tls && r.has_brokerserviceurltls() ? r.brokerserviceurltls()
                                                                          : r.brokerserviceurl();
    ASSIGN_OR_RETURN(auto eps, ParseServiceUrl(url));
    if (r.response() == proto::CommandLookupTopicResponse::Redirect) {
      authoritative = r.authoritative();
      spdlog::debug("pulsar lookup of {} redirected from {} to {}", topic, c->peer(), url);
      if (r.proxy_through_service_url()) continue;  // ask again through the proxy
      ASSIGN_OR_RETURN(*conn, Connection::Open(eps[0], opts));
      continue;
    }
    TopicOwner owner;
    owner.broker_url = url;
    if (r.proxy_through_service_url()) {
      owner.connect_to = service[0];
      owner.proxy_to_broker_url = absl::StrCat(eps[0].host, ":", eps[0].port);
    } else {
      owner.connect_to = eps[0];
    }
    // Milvus channels are non-partitioned topics; refuse a partitioned one clearly.
    BaseCommand pm;
    pm.set_type(BaseCommand::PARTITIONED_METADATA);
    const uint64_t pid = c->NextRequestId();
    pm.mutable_partitionmetadata()->set_topic(topic);
    pm.mutable_partitionmetadata()->set_request_id(pid);
    ASSIGN_OR_RETURN(Frame pf, c->Call(pm, pid, "get partitions of topic " + topic, nullptr));
    const auto& pr = pf.command.partitionmetadataresponse();
    if (pr.response() == proto::CommandPartitionedTopicMetadataResponse::Failed) {
      return ServerErrorStatus("get partitions of topic " + topic, c->peer(), pr.error(),
                               pr.message());
    }
    if (pr.partitions() > 0) {
      return FailedPreconditionError(absl::StrCat(
          "topic ", topic, " has ", pr.partitions(),
          " partitions; Milvus channels are non-partitioned topics: check the tenant/namespace "
          "in sourceConfig.pulsar"));
    }
    return owner;
  }
  return UnavailableError(absl::StrCat("look up topic ", topic,
                                       ": more than 8 redirects; check the brokers' "
                                       "advertised addresses"));
}

Result<std::unique_ptr<Connection>> ConnectToOwner(const ClientOptions& opts,
                                                   const std::string& topic,
                                                   TopicOwner* owner_out) {
  std::unique_ptr<Connection> conn;
  ASSIGN_OR_RETURN(TopicOwner owner, LookupTopic(opts, topic, &conn));
  if (owner_out != nullptr) *owner_out = owner;
  if (conn->peer() == owner.connect_to.Url() && owner.proxy_to_broker_url.empty()) return conn;
  return Connection::Open(owner.connect_to, opts, owner.proxy_to_broker_url);
}

}  // namespace cdc::pulsar
