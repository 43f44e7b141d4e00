#include "target/tcp_probe.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "target/address.h"

namespace cdc::target {
namespace {

// Empty when a non-blocking connect of `fd` to `ai` completes within `timeout`, else why not.
std::string Connect(int fd, const addrinfo& ai, std::chrono::seconds timeout) {
  fcntl(fd, F_SETFL, O_NONBLOCK);
  if (connect(fd, ai.ai_addr, ai.ai_addrlen) == 0) return "";
  if (errno != EINPROGRESS) return std::strerror(errno);
  pollfd p{fd, POLLOUT, 0};
  const int rc = poll(&p, 1, static_cast<int>(timeout.count() * 1000));
  if (rc == 0) return absl::StrCat("no answer within ", timeout.count(), "s");
  if (rc < 0) return std::strerror(errno);
  int so = 0;
  socklen_t len = sizeof(so);
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len);
  return so == 0 ? "" : std::strerror(so);
}

}  // namespace

Status ProbeTcp(const std::string& address, int default_port, const std::string& field,
                std::chrono::seconds timeout) {
  ASSIGN_OR_RETURN(Address a, ParseAddress(address, default_port, field));
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(a.port);
  if (getaddrinfo(a.host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    return UnavailableError(absl::StrCat("cannot resolve ", a.host));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(res, &freeaddrinfo);
  const int fd = socket(res->ai_family, SOCK_STREAM, 0);
  if (fd < 0) return UnavailableError(std::strerror(errno));
  const std::string why = Connect(fd, *res, timeout);
  close(fd);
  if (why.empty()) return OkStatus();
  return UnavailableError(absl::StrCat("connect to ", a.HostPort(), ": ", why));
}

}  // namespace cdc::target
