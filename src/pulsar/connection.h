#pragma once
// Connection: one logical connection to a Pulsar broker (CONNECT handshake done), with
// request/response matching by request id, PING/PONG keep-alive in both directions and a
// deadline on every wait. Also the topic lookup (LOOKUP with redirects, proxy-through).
//
// Ownership and threads: owned by one Consumer/Producer and used from one thread; only
// Interrupt() may be called from another thread. Errors: Unavailable when the broker is
// unreachable or the connection broke (reconnect), DeadlineExceeded when the broker did not
// answer in time, and the broker's own errors mapped by ServerErrorStatus().
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "pulsar/frame.h"
#include "pulsar/transport.h"

namespace cdc::pulsar {

struct ClientOptions {
  std::string service_url;  // pulsar://host:port or pulsar+ssl://host:port
  std::string auth_method;  // "token" or empty (no authentication)
  std::string auth_data;    // the token (secret: never logged)
  TlsOptions tls;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds operation_timeout{10000};  // lookup, subscribe, seek, ...
  std::chrono::milliseconds keepalive{30000};  // PING after this much silence; dead after 2x
  size_t max_frame_size = kDefaultMaxFrameSize;
  std::string client_version = "milvus-cdc";
  // No wait of a connection made with these options goes past this (e.g. one request's whole
  // budget); the timeouts above still apply to each step. max() = no overall deadline.
  Deadline deadline = Deadline::max();
  // The earlier of `from` + `d` and `deadline`.
  Deadline Within(std::chrono::milliseconds d, Clock::time_point from = Clock::now()) const {
    return std::min(from + d, deadline);
  }
};

// Maps a broker error to a Status: ServiceNotReady, TooManyRequests, ConsumerBusy,
// MetadataError and PersistenceError are Unavailable (retry); authentication and
// authorization errors are PermissionDenied; TopicNotFound is NotFound; others
// FailedPrecondition. `action` says what was attempted (e.g. "subscribe to persistent://...").
Status ServerErrorStatus(std::string_view action, std::string_view broker,
                         ::pulsar::proto::ServerError error, std::string_view message);

class Connection {
 public:
  // Connects (TCP/TLS) and performs CONNECT (auth, protocol version). When
  // `proxy_to_broker_url` is set the peer is a Pulsar proxy that forwards to that broker.
  static Result<std::unique_ptr<Connection>> Open(const Endpoint& ep, const ClientOptions& opts,
                                                  const std::string& proxy_to_broker_url = "");

  Status Send(const proto::BaseCommand& cmd);
  Status SendRaw(std::string_view frame);

  // Next frame, answering PINGs and absorbing PONGs. nullopt when nothing arrived by
  // `deadline`. Sends a PING after `keepalive` of silence and fails with Unavailable after
  // twice that (a half-open connection).
  Result<std::optional<Frame>> ReadFrame(Deadline deadline);

  // Sends `req` and waits (operation timeout) for the answer carrying `request_id` (SUCCESS,
  // ERROR or the typed response). Other frames that arrive meanwhile go to `other`. A broker
  // ERROR is returned as ServerErrorStatus(action, ...).
  using FrameSink = std::function<void(Frame&&)>;
  Result<Frame> Call(const proto::BaseCommand& req, uint64_t request_id, std::string_view action,
                     const FrameSink& other);

  uint64_t NextRequestId() { return next_request_id_++; }
  // Max message size the broker announced in CONNECTED (0 if it did not).
  int32_t broker_max_message_size() const { return broker_max_message_size_; }
  const std::string& peer() const { return peer_; }
  const ClientOptions& options() const { return opts_; }
  // Breaks a blocked read from another thread (the read then fails with Unavailable).
  void Interrupt() { transport_->Shutdown(); }

 private:
  Connection() = default;
  Status Handshake(const std::string& proxy_to_broker_url);
  Deadline OpDeadline() const { return opts_.Within(opts_.operation_timeout); }

  ClientOptions opts_;
  std::unique_ptr<Transport> transport_;
  FrameReader reader_;
  std::string peer_;  // service URL form, for messages
  uint64_t next_request_id_ = 1;
  int32_t broker_max_message_size_ = 0;
  Clock::time_point last_recv_;
  Clock::time_point last_ping_sent_;
};

// Where a topic is served: the endpoint to connect to and, behind a proxy, the broker URL the
// proxy must forward to.
struct TopicOwner {
  Endpoint connect_to;
  std::string proxy_to_broker_url;
  std::string broker_url;  // the owning broker (for messages)
};

// LOOKUP `topic` starting at the service URL, following redirects (at most 8), then
// PARTITIONED_METADATA: FailedPrecondition for a partitioned topic (Milvus channels are not).
// Reuses `*conn` when it is already connected to the owner, else replaces it.
Result<TopicOwner> LookupTopic(const ClientOptions& opts, const std::string& topic,
                               std::unique_ptr<Connection>* conn);

// Opens a connection to the owner of `topic` (lookup included).
Result<std::unique_ptr<Connection>> ConnectToOwner(const ClientOptions& opts,
                                                   const std::string& topic, TopicOwner* owner_out);

}  // namespace cdc::pulsar
