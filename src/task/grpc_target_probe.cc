#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "grpcpp/grpcpp.h"
#include "task/target_probe.h"

namespace cdc::task {
namespace {

struct Endpoint {
  std::string host;
  std::string port;
  bool tls = false;
};

Endpoint ParseUri(const std::string& uri, const std::string& default_port) {
  Endpoint e;
  std::string rest = uri;
  auto scheme = rest.find("://");
  if (scheme != std::string::npos) {
    e.tls = rest.compare(0, scheme, "https") == 0;
    rest = rest.substr(scheme + 3);
  }
  auto slash = rest.find('/');
  if (slash != std::string::npos) rest = rest.substr(0, slash);
  auto at = rest.rfind('@');  // user:password@ is not part of the address
  if (at != std::string::npos) rest = rest.substr(at + 1);
  auto colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']') == std::string::npos) {
    e.host = rest.substr(0, colon);
    e.port = rest.substr(colon + 1);
  } else {
    e.host = rest;
    e.port = default_port;
  }
  return e;
}

Result<std::string> ReadFile(const std::string& field, const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return InvalidArgumentError("read milvus_connect_param.dial_config." + field + " " + path +
                                ": " + std::strerror(errno));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TimeoutText(std::chrono::seconds t) { return std::to_string(t.count()) + "s"; }

}  // namespace

Status GrpcTargetProbe::CheckMilvus(const MilvusConnectParam& target,
                                    std::chrono::seconds timeout) {
  const std::string full_uri = target.EffectiveUri();
  const std::string uri = RedactUri(full_uri);  // for messages
  Endpoint ep = ParseUri(full_uri, "19530");
  if (ep.host.empty()) {
    return InvalidArgumentError("the milvus uri '" + uri + "' has no host");
  }
  const auto& d = target.dial_config;
  bool tls =
      ep.tls || !d.server_pem_path.empty() || !d.ca_pem_path.empty() || !d.client_pem_path.empty();
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  grpc::ChannelArguments args;
  if (tls) {
    grpc::SslCredentialsOptions opts;
    std::string ca = !d.ca_pem_path.empty() ? d.ca_pem_path : d.server_pem_path;
    if (!ca.empty()) {
      ASSIGN_OR_RETURN(opts.pem_root_certs,
                       ReadFile(!d.ca_pem_path.empty() ? "ca_pem_path" : "server_pem_path", ca));
    }
    if (!d.client_pem_path.empty()) {
      ASSIGN_OR_RETURN(opts.pem_cert_chain, ReadFile("client_pem_path", d.client_pem_path));
      ASSIGN_OR_RETURN(opts.pem_private_key, ReadFile("client_key_path", d.client_key_path));
    }
    creds = grpc::SslCredentials(opts);
    if (!d.server_name.empty()) args.SetSslTargetNameOverride(d.server_name);
  }
  auto channel = grpc::CreateCustomChannel(ep.host + ":" + ep.port, creds, args);
  auto deadline = std::chrono::system_clock::now() + timeout;
  if (!channel->WaitForConnected(deadline)) {
    return UnavailableError("fail to connect the milvus: target milvus " + uri + " (" + ep.host +
                            ":" + ep.port + (tls ? ", TLS" : "") + ") did not answer within " +
                            TimeoutText(timeout) +
                            "; check milvus_connect_param.uri, that the target is up, and "
                            "connect_timeout");
  }
  return OkStatus();
}

Status GrpcTargetProbe::CheckKafka(const KafkaConnectParam& target, std::chrono::seconds timeout) {
  std::string first = target.address.substr(0, target.address.find(','));
  Endpoint ep = ParseUri(first, "9092");
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  auto fail = [&](const std::string& why) {
    return UnavailableError("fail to connect the kafka: target kafka " + RedactUri(target.address) +
                            ": " + why +
                            "; check kafka_connect_param.address and that the broker is up");
  };
  if (getaddrinfo(ep.host.c_str(), ep.port.c_str(), &hints, &res) != 0 || !res) {
    return fail("cannot resolve " + ep.host);
  }
  int fd = socket(res->ai_family, SOCK_STREAM, 0);
  if (fd < 0) {
    freeaddrinfo(res);
    return fail(std::strerror(errno));
  }
  fcntl(fd, F_SETFL, O_NONBLOCK);
  int rc = connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  std::string err;
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = poll(&p, 1, static_cast<int>(timeout.count() * 1000));
    if (rc == 0) {
      err = "no answer within " + TimeoutText(timeout);
    } else {
      int so = 0;
      socklen_t len = sizeof(so);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len);
      if (so != 0) err = std::strerror(so);
    }
  } else if (rc != 0) {
    err = std::strerror(errno);
  }
  close(fd);
  return err.empty() ? OkStatus() : fail(err);
}

}  // namespace cdc::task
