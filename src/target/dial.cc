#include "target/dial.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "milvus/milvus.grpc.pb.h"

namespace cdc::target {
namespace {

// "milvus_connect_param.dial_config." (or the source's settings) + key.
std::string DialKey(const ConnectOptions& opts, const char* key) {
  return absl::StrCat(opts.names.settings, ".dial_config.", key);
}

// The file's text; InvalidArgument naming the dial_config key unless it holds a PEM block.
Result<std::string> ReadPem(const ConnectOptions& opts, const std::string& path, const char* key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgumentError(absl::StrCat("read ", DialKey(opts, key), "=", path,
                                             ": cannot open the file; check the path"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (!absl::StrContains(ss.str(), "-----BEGIN ")) {
    return InvalidArgumentError(absl::StrCat("read ", DialKey(opts, key), "=", path,
                                             ": not a PEM file (no -----BEGIN line)"));
  }
  return ss.str();
}

Result<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentials(const ConnectOptions& opts,
                                                                 grpc::ChannelArguments* args) {
  if (opts.client_pem_path.empty() != opts.client_key_path.empty()) {
    return InvalidArgumentError(absl::StrCat(DialKey(opts, "client_pem_path"),
                                             " and client_key_path must be set "
                                             "together for mutual TLS"));
  }
  grpc::SslCredentialsOptions ssl;
  if (!opts.ca_pem_path.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem(opts, opts.ca_pem_path, "ca_pem_path"));
  }
  if (!opts.server_pem_path.empty()) {
    ASSIGN_OR_RETURN(std::string server, ReadPem(opts, opts.server_pem_path, "server_pem_path"));
    ssl.pem_root_certs += server;
  }
  if (!opts.client_pem_path.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadPem(opts, opts.client_pem_path, "client_pem_path"));
    ASSIGN_OR_RETURN(ssl.pem_private_key, ReadPem(opts, opts.client_key_path, "client_key_path"));
  }
  if (!opts.server_name.empty()) args->SetSslTargetNameOverride(opts.server_name);
  return grpc::SslCredentials(ssl);
}

// How a TLS connection failed, from gRPC's description of it.
enum class TlsFailure { kOther, kName, kUntrusted, kPlainText, kClosedByTarget, kHandshake };

TlsFailure ClassifyTls(const std::string& last_error) {
  const std::string e = absl::AsciiStrToLower(last_error);
  auto has = [&e](const char* text) { return absl::StrContains(e, text); };
  if (has("peer name")) return TlsFailure::kName;
  if (has("certificate verify failed") || has("certificate_verify_failed"))
    return TlsFailure::kUntrusted;
  // A TLS 1.3 server that refuses the client's certificate (or its absence) closes the
  // connection after the client thinks the handshake is done, or sends an alert.
  if (has("socket closed") || has("endpoint read failed") || has("connection reset") ||
      has("alert"))
    return TlsFailure::kClosedByTarget;
  if (has("wrong version number") || has("wrong_version_number")) return TlsFailure::kPlainText;
  if (has("handshake")) return TlsFailure::kHandshake;
  return TlsFailure::kOther;
}

// A certificate the client rejected stays rejected, and a plain-text server stays one: no
// reason to wait out the timeout.
bool HandshakeRejected(const std::string& last_error) {
  const TlsFailure f = ClassifyTls(last_error);
  return f == TlsFailure::kName || f == TlsFailure::kUntrusted || f == TlsFailure::kPlainText;
}

// What to check, from gRPC's description of the failed connection.
std::string Hint(const ConnectOptions& opts, bool tls, const std::string& last_error) {
  const std::string& role = opts.names.role;
  const std::string check_uri =
      absl::StrCat("check ", opts.names.settings, ".uri and that the ", role, " Milvus runs");
  if (!tls) {
    return absl::StrCat(check_uri,
                        "; if it uses TLS (common.security.tlsMode 1 or 2) use an https:// uri "
                        "and dial_config");
  }
  switch (ClassifyTls(last_error)) {
    case TlsFailure::kName:
      return absl::StrCat(
          "the name checked (dial_config.server_name, else the uri's host) is "
          "not in the ",
          role, "'s certificate; set dial_config.server_name to a name it holds");
    case TlsFailure::kUntrusted:
      return absl::StrCat("the ", role, "'s certificate is not signed by a CA in ",
                          !opts.ca_pem_path.empty() || !opts.server_pem_path.empty()
                              ? "dial_config.ca_pem_path / server_pem_path"
                              : "the system's trusted CAs (set dial_config.ca_pem_path)");
    case TlsFailure::kClosedByTarget:
      return absl::StrCat("the ", role,
                          " closed the TLS connection; with common.security.tlsMode 2 it needs "
                          "a client certificate its CA signed: check "
                          "dial_config.client_pem_path and client_key_path");
    case TlsFailure::kPlainText:
    case TlsFailure::kHandshake:
      return absl::StrCat("the TLS handshake failed; if the ", role,
                          " does not use TLS (common.security.tlsMode 0) use an http:// uri "
                          "without dial_config");
    case TlsFailure::kOther:
      break;
  }
  return check_uri;
}

// gRPC's reason for the failed connection: a call that does not wait for the channel fails
// with it at once (bounded to 2 s while a connection attempt is still under way).
std::string LastError(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = ::milvus::proto::milvus::MilvusService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(false);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  ::milvus::proto::milvus::GetVersionRequest req;
  ::milvus::proto::milvus::GetVersionResponse resp;
  grpc::Status s = stub->GetVersion(&ctx, req, &resp);
  if (s.ok()) return "";
  return s.error_message();
}

// True once `channel` is connected within `timeout`; else false with gRPC's last error. With
// TLS it gives up early when the handshake cannot succeed (HandshakeRejected).
bool WaitConnected(const std::shared_ptr<grpc::Channel>& channel, bool tls,
                   std::chrono::seconds timeout, std::string* last_error) {
  const auto deadline = std::chrono::system_clock::now() + timeout;
  for (auto state = channel->GetState(true); state != GRPC_CHANNEL_READY;
       state = channel->GetState(true)) {
    if (tls && state == GRPC_CHANNEL_TRANSIENT_FAILURE) {
      *last_error = LastError(channel);
      if (HandshakeRejected(*last_error)) return false;
    }
    if (!channel->WaitForStateChange(state, deadline)) {
      *last_error = LastError(channel);
      return false;
    }
  }
  return true;
}

bool UsesTls(const ConnectOptions& opts, const Address& address) {
  return address.https || !opts.server_pem_path.empty() || !opts.ca_pem_path.empty() ||
         !opts.client_pem_path.empty();
}

}  // namespace

Status CheckConnectOptions(const ConnectOptions& opts) {
  ASSIGN_OR_RETURN(Address address, ParseAddress(opts.uri, 19530, opts.names.settings + ".uri"));
  if (!UsesTls(opts, address)) return OkStatus();
  grpc::ChannelArguments args;
  return TlsCredentials(opts, &args).status();
}

Result<DialedChannel> Dial(const ConnectOptions& opts) {
  DialedChannel d;
  ASSIGN_OR_RETURN(d.address, ParseAddress(opts.uri, 19530, opts.names.settings + ".uri"));
  d.tls = UsesTls(opts, d.address);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (d.tls) {
    ASSIGN_OR_RETURN(creds, TlsCredentials(opts, &args));
  }
  d.channel = grpc::CreateCustomChannel(d.address.HostPort(), creds, args);
  const int timeout_s = opts.connect_timeout_s > 0 ? opts.connect_timeout_s : 10;
  std::string last;
  if (WaitConnected(d.channel, d.tls, std::chrono::seconds(timeout_s), &last)) return d;
  const std::string why = HandshakeRejected(last)
                              ? "TLS handshake refused"
                              : absl::StrCat("not connected within ", timeout_s, "s");
  return UnavailableError(absl::StrCat(
      "connect to milvus ", opts.names.role, " ", d.address.HostPort(), d.tls ? " (TLS)" : "", ": ",
      why, last.empty() ? "" : " (" + last + ")", "; ", Hint(opts, d.tls, last)));
}

}  // namespace cdc::target
