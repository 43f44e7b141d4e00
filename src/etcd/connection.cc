#include "etcd/connection.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace cdc::etcd {
namespace {

Result<std::string> ReadPem(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgumentError(
        absl::StrCat("etcd TLS: cannot read ", what, " file '", path, "'; check the path"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Shortens gRPC's transport messages to the part a user can act on.
std::string Cause(const grpc::Status& s, std::chrono::milliseconds timeout) {
  const std::string& m = s.error_message();
  if (absl::StrContains(m, "Connection refused")) return "connection refused";
  if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::StrCat("no answer within ", timeout.count(), "ms (deadline exceeded)");
  }
  if (absl::StrContains(m, "Ssl handshake failed") || absl::StrContains(m, "SSL_ERROR") ||
      absl::StrContains(m, "TLS")) {
    return absl::StrCat("TLS handshake failed (", m, "); check the CA, certificate and key");
  }
  if (absl::StrContains(m, "Socket closed") || absl::StrContains(m, "Connection reset")) {
    return absl::StrCat("connection lost (", m, ")");
  }
  absl::string_view v = m;
  if (absl::StartsWith(v, "etcdserver: ")) v.remove_prefix(12);
  return m.empty() ? absl::StrCat("gRPC code ", static_cast<int>(s.error_code())) : std::string(v);
}

}  // namespace

Result<std::shared_ptr<Connection>> Connection::Create(const ClientOptions& options) {
  if (options.endpoints.empty()) {
    return InvalidArgumentError("etcd: no endpoints configured; give at least one host:port");
  }
  if (options.cert_path.empty() != options.key_path.empty()) {
    return InvalidArgumentError(
        "etcd TLS: a client certificate needs both a certificate and a key file");
  }
  std::shared_ptr<Connection> conn(new Connection(options));
  bool tls = options.tls;
  std::vector<std::string> addresses;
  for (const std::string& raw : options.endpoints) {
    absl::string_view e = raw;
    if (absl::ConsumePrefix(&e, "https://")) {
      tls = true;
    } else {
      absl::ConsumePrefix(&e, "http://");
    }
    while (absl::ConsumeSuffix(&e, "/")) {
    }
    if (e.empty() || e.find(':') == absl::string_view::npos) {
      return InvalidArgumentError(
          absl::StrCat("etcd: endpoint '", raw, "' is not host:port (e.g. 127.0.0.1:2379)"));
    }
    addresses.emplace_back(e);
  }
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.ca_path.empty()) {
      ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem(options.ca_path, "CA certificate"));
    }
    if (!options.cert_path.empty()) {
      ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadPem(options.cert_path, "client certificate"));
      ASSIGN_OR_RETURN(ssl.pem_private_key, ReadPem(options.key_path, "client key"));
    }
    creds = grpc::SslCredentials(ssl);
  }
  conn->creds_ = creds;
  for (const std::string& a : addresses) {
    conn->endpoints_.push_back({a, conn->MakeChannel(a), std::nullopt});
  }
  return conn;
}

std::shared_ptr<grpc::Channel> Connection::MakeChannel(const std::string& address) const {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  // Our own subchannels, so a replaced channel really starts new connections.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (!options_.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options_.tls_server_name);
  }
  return grpc::CreateCustomChannel(address, creds_, args);
}

std::shared_ptr<grpc::Channel> Connection::channel(size_t i) const {
  std::lock_guard lock(mu_);
  return endpoints_[i].channel;
}

void Connection::MarkHealthy(size_t i) {
  std::lock_guard lock(mu_);
  endpoints_[i].failing_since.reset();
}

size_t Connection::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

void Connection::Failover(size_t failed) {
  std::lock_guard lock(mu_);
  Endpoint& e = endpoints_[failed];
  auto now = std::chrono::steady_clock::now();
  if (!e.failing_since) {
    e.failing_since = now;
  } else if (now - *e.failing_since > std::chrono::seconds(2)) {
    e.channel = MakeChannel(e.address);
    e.failing_since = now;
  }
  if (current_ == failed) current_ = (current_ + 1) % endpoints_.size();
}

void Connection::InvalidateToken() {
  std::lock_guard lock(mu_);
  token_.clear();
}

bool Connection::IsTokenError(absl::string_view m) {
  return absl::StrContains(m, "invalid auth token") || absl::StrContains(m, "user name is empty");
}

bool Connection::IsTokenError(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAUTHENTICATED || IsTokenError(s.error_message());
}

Status Connection::MapError(const grpc::Status& s, size_t i, absl::string_view action) const {
  auto code = static_cast<StatusCode>(s.error_code());
  return Status(code, absl::StrCat("etcd ", endpoint(i), ": ", action, ": ",
                                   Cause(s, options_.call_timeout)));
}

Result<std::string> Connection::Token(size_t i) {
  if (options_.username.empty()) return std::string();
  {
    std::lock_guard lock(mu_);
    if (!token_.empty()) return token_;
  }
  auto stub = etcdserverpb::Auth::NewStub(channel(i));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + options_.call_timeout);
  etcdserverpb::AuthenticateRequest req;
  req.set_name(options_.username);
  req.set_password(options_.password);
  etcdserverpb::AuthenticateResponse resp;
  grpc::Status s = stub->Authenticate(&ctx, req, &resp);
  if (!s.ok()) {
    Status st = MapError(s, i, absl::StrCat("authenticate user '", options_.username, "'"));
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE &&
        s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      st = Status(st.code(), absl::StrCat(st.message(), "; check the etcd username and password"));
    }
    return st;
  }
  std::lock_guard lock(mu_);
  token_ = resp.token();
  return token_;
}

Status Connection::PrepareStreamContext(size_t i, grpc::ClientContext* ctx) {
  ASSIGN_OR_RETURN(std::string token, Token(i));
  if (!token.empty()) ctx->AddMetadata("token", token);
  return OkStatus();
}

Status Connection::Call(absl::string_view action, const UnaryFn& fn,
                        std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) timeout = options_.call_timeout;
  std::vector<std::string> failures;
  bool reauthenticated = false;
  size_t tried = 0;
  while (tried < endpoints_.size()) {
    size_t i = current();
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
    Result<std::string> token = Token(i);
    grpc::Status s;
    if (!token.ok()) {
      if (token.status().code() != StatusCode::kUnavailable) return token.status();
      failures.emplace_back(token.status().message());
      Failover(i);
      ++tried;
      continue;
    }
    if (!token->empty()) ctx.AddMetadata("token", *token);
    s = fn(channel(i), ctx);
    if (s.ok() || s.error_code() != grpc::StatusCode::UNAVAILABLE) MarkHealthy(i);
    if (s.ok()) return OkStatus();
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
      failures.emplace_back(MapError(s, i, action).message());
      Failover(i);
      ++tried;
      continue;
    }
    if (!options_.username.empty() && IsTokenError(s) && !reauthenticated) {
      reauthenticated = true;
      InvalidateToken();
      continue;
    }
    Status err = MapError(s, i, action);
    if (options_.username.empty() && IsTokenError(s)) {
      err = Status(err.code(), absl::StrCat(err.message(),
                                            "; this etcd requires authentication: set the etcd "
                                            "username and password"));
    }
    return err;
  }
  return UnavailableError(absl::StrJoin(failures, "; "));
}

}  // namespace cdc::etcd
