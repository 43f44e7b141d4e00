#include "pulsar/transport.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cdc::pulsar {
namespace {

int MsLeft(Deadline d) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(d - Clock::now()).count();
  if (left <= 0) return 0;
  return left > 60000 ? 60000 : static_cast<int>(left);
}

std::string SslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

SSL* AsSsl(void* p) { return static_cast<SSL*>(p); }

}  // namespace

std::string Endpoint::Url() const {
  return absl::StrCat(tls ? "pulsar+ssl://" : "pulsar://", host, ":", port);
}

Result<std::vector<Endpoint>> ParseServiceUrl(std::string_view url) {
  const std::string form = "; expected pulsar://HOST:PORT or pulsar+ssl://HOST:PORT";
  std::string_view rest = url;
  bool tls = false;
  if (rest.rfind("pulsar+ssl://", 0) == 0) {
    tls = true;
    rest.remove_prefix(13);
  } else if (rest.rfind("pulsar://", 0) == 0) {
    rest.remove_prefix(9);
  } else {
    return InvalidArgumentError(
        absl::StrCat("Pulsar service URL '", std::string(url), "' has no scheme", form));
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::vector<Endpoint> out;
  const std::string hosts(rest);
  for (absl::string_view hp : absl::StrSplit(hosts, ',')) {
    Endpoint ep;
    ep.tls = tls;
    ep.port = tls ? 6651 : 6650;
    size_t colon = hp.rfind(':');
    if (!hp.empty() && hp.front() == '[') {  // [v6]:port
      size_t close = hp.find(']');
      if (close == absl::string_view::npos) {
        return InvalidArgumentError(
            absl::StrCat("Pulsar service URL '", std::string(url), "': bad host", form));
      }
      ep.host = std::string(hp.substr(1, close - 1));
      colon = hp.size() > close + 1 && hp[close + 1] == ':' ? close + 1 : absl::string_view::npos;
    } else {
      ep.host = std::string(hp.substr(0, colon));
    }
    if (colon != absl::string_view::npos) {
      int port = 0;
      if (!absl::SimpleAtoi(hp.substr(colon + 1), &port) || port <= 0 || port > 65535) {
        return InvalidArgumentError(absl::StrCat("Pulsar service URL '", std::string(url),
                                                 "': bad port in '", hp, "'", form));
      }
      ep.port = port;
    }
    if (ep.host.empty()) {
      return InvalidArgumentError(
          absl::StrCat("Pulsar service URL '", std::string(url), "': empty host", form));
    }
    out.push_back(std::move(ep));
  }
  return out;
}

Transport::~Transport() {
  if (ssl_ != nullptr) SSL_free(AsSsl(ssl_));
  if (ssl_ctx_ != nullptr) SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
  if (fd_ >= 0) ::close(fd_);
}

void Transport::Shutdown() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

Status Transport::WaitFd(bool for_write, Deadline deadline, std::string_view what) {
  while (true) {
    pollfd p{fd_, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    int ms = MsLeft(deadline);
    int rc = ::poll(&p, 1, ms);
    if (rc > 0) return OkStatus();
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0)
      return UnavailableError(absl::StrCat(std::string(what), " ", peer_, ": ", strerror(errno)));
    if (Clock::now() >= deadline) {
      return DeadlineExceededError(
          absl::StrCat(std::string(what), " ", peer_, ": no answer in time"));
    }
  }
}

Result<std::unique_ptr<Transport>> Transport::Connect(const Endpoint& ep, const TlsOptions& tls,
                                                      Deadline deadline) {
  std::unique_ptr<Transport> t(new Transport());
  t->peer_ = absl::StrCat(ep.host, ":", ep.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int gai = ::getaddrinfo(ep.host.c_str(), std::to_string(ep.port).c_str(), &hints, &res);
  if (gai != 0) {
    return UnavailableError(
        absl::StrCat("resolve Pulsar broker ", t->peer_, ": ", gai_strerror(gai)));
  }
  std::string last = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno != EINPROGRESS) {
      last = strerror(errno);
      ::close(fd);
      continue;
    }
    t->fd_ = fd;
    if (rc != 0) {
      Status w = t->WaitFd(true, deadline, "connect to Pulsar broker");
      int err = 0;
      socklen_t len = sizeof err;
      if (w.ok()) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (!w.ok() || err != 0) {
        last = w.ok() ? strerror(err) : std::string(w.message());
        ::close(fd);
        t->fd_ = -1;
        if (!w.ok() && w.code() == StatusCode::kDeadlineExceeded) break;
        continue;
      }
    }
    break;
  }
  ::freeaddrinfo(res);
  if (t->fd_ < 0) {
    return UnavailableError(absl::StrCat("connect to Pulsar broker ", t->peer_, ": ", last,
                                         "; check that the broker is up and the address is right"));
  }
  if (ep.tls) RETURN_IF_ERROR(t->TlsHandshake(ep, tls, deadline));
  return t;
}

Status Transport::TlsHandshake(const Endpoint& ep, const TlsOptions& opts, Deadline deadline) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return InternalError("create TLS context: " + SslErrors());
  ssl_ctx_ = ctx;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (!opts.allow_insecure) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    int ok = opts.trust_certs_file.empty()
                 ? SSL_CTX_set_default_verify_paths(ctx)
                 : SSL_CTX_load_verify_locations(ctx, opts.trust_certs_file.c_str(), nullptr);
    if (ok != 1) {
      return InvalidArgumentError(
          absl::StrCat("load TLS trust certificates '", opts.trust_certs_file, "': ", SslErrors()));
    }
  }
  SSL* ssl = SSL_new(ctx);
  ssl_ = ssl;
  SSL_set_fd(ssl, fd_);
  SSL_set_tlsext_host_name(ssl, ep.host.c_str());
  if (!opts.allow_insecure && opts.verify_hostname) SSL_set1_host(ssl, ep.host.c_str());
  while (true) {
    ERR_clear_error();
    int rc = SSL_connect(ssl);
    if (rc == 1) return OkStatus();
    int err = SSL_get_error(ssl, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      RETURN_IF_ERROR(WaitFd(err == SSL_ERROR_WANT_WRITE, deadline, "TLS handshake with"));
      continue;
    }
    long vr = SSL_get_verify_result(ssl);
    std::string why = vr != X509_V_OK ? X509_verify_cert_error_string(vr) : SslErrors();
    return UnavailableError(absl::StrCat("TLS handshake with Pulsar broker ", peer_, ": ", why,
                                         "; check the broker certificate and the trusted CAs"));
  }
}

Status Transport::WriteAll(std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    ssize_t n;
    bool want_write = true;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      int rc = SSL_write(AsSsl(ssl_), data.data(), static_cast<int>(data.size()));
      if (rc > 0) {
        n = rc;
      } else {
        int err = SSL_get_error(AsSsl(ssl_), rc);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
          return UnavailableError(
              absl::StrCat("write to Pulsar broker ", peer_, ": ", SslErrors()));
        }
        want_write = err == SSL_ERROR_WANT_WRITE;
        n = -1;
        errno = EAGAIN;
      }
    } else {
      n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    }
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return UnavailableError(
          absl::StrCat("write to Pulsar broker ", peer_, ": ", strerror(errno)));
    }
    RETURN_IF_ERROR(WaitFd(want_write, deadline, "write to Pulsar broker"));
  }
  return OkStatus();
}

Result<size_t> Transport::Read(char* buf, size_t cap, Deadline deadline) {
  while (true) {
    bool want_write = false;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      int rc = SSL_read(AsSsl(ssl_), buf, static_cast<int>(cap));
      if (rc > 0) return static_cast<size_t>(rc);
      int err = SSL_get_error(AsSsl(ssl_), rc);
      if (err == SSL_ERROR_ZERO_RETURN) {
        return UnavailableError(absl::StrCat("Pulsar broker ", peer_, " closed the connection"));
      }
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        return UnavailableError(absl::StrCat("read from Pulsar broker ", peer_, ": ", SslErrors()));
      }
      want_write = err == SSL_ERROR_WANT_WRITE;
    } else {
      ssize_t n = ::recv(fd_, buf, cap, 0);
      if (n > 0) return static_cast<size_t>(n);
      if (n == 0) {
        return UnavailableError(absl::StrCat("Pulsar broker ", peer_, " closed the connection"));
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return UnavailableError(
            absl::StrCat("read from Pulsar broker ", peer_, ": ", strerror(errno)));
      }
    }
    RETURN_IF_ERROR(WaitFd(want_write, deadline, "read from Pulsar broker"));
  }
}

}  // namespace cdc::pulsar
