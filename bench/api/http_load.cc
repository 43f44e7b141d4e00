#include "http_load.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cdc::load {
namespace {

using Clock = std::chrono::steady_clock;

// A connected blocking IPv4 socket with send/receive timeouts, or -1 (error set).
int Dial(const std::string& host, int port, std::chrono::milliseconds timeout, std::string* error) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    *error = "not an IPv4 address: " + host;
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    *error = std::string("connect: ") + std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

HttpClient::HttpClient(std::string host, int port, std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), timeout_(timeout) {}

HttpClient::~HttpClient() { Close(); }

void HttpClient::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool HttpClient::Connect(std::string* error) {
  Close();
  fd_ = Dial(host_, port_, timeout_, error);
  return fd_ >= 0;
}

HttpClient::Response HttpClient::Request(const std::string& method, const std::string& path,
                                         const std::string& body, const std::string& headers) {
  std::string raw =
      method + " " + path + " HTTP/1.1\r\nHost: " + host_ +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n" + headers + "\r\n" + body;
  bool fresh = fd_ < 0;
  Response r;
  if (fresh && !Connect(&r.error)) return r;
  r = Exchange(raw);
  if (r.status < 0 && !fresh) {  // a kept-alive connection the server closed: once more
    if (!Connect(&r.error)) return r;
    r = Exchange(raw);
  }
  return r;
}

HttpClient::Response HttpClient::Exchange(const std::string& raw) {
  Response r;
  auto start = Clock::now();
  if (!SendAll(fd_, raw)) {
    r.error = std::string("send: ") + std::strerror(errno);
    Close();
    return r;
  }
  std::string in;
  size_t header_end = std::string::npos;
  size_t want = 0;
  bool close_after = false;
  char buf[16384];
  for (;;) {
    if (header_end != std::string::npos && in.size() >= header_end + want) break;
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      r.error = n == 0 ? "connection closed before the whole answer"
                       : std::string("recv: ") + std::strerror(errno);
      Close();
      return r;
    }
    in.append(buf, static_cast<size_t>(n));
    if (header_end == std::string::npos) {
      size_t e = in.find("\r\n\r\n");
      if (e == std::string::npos) continue;
      header_end = e + 4;
      std::string head = Lower(in.substr(0, e));
      r.status = std::atoi(head.c_str() + head.find(' ') + 1);
      if (auto p = head.find("\r\ncontent-length:"); p != std::string::npos) {
        want = std::strtoul(head.c_str() + p + 17, nullptr, 10);
      }
      close_after = head.find("\r\nconnection: close") != std::string::npos;
    }
  }
  r.body = in.substr(header_end, want);
  r.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  if (close_after) Close();
  return r;
}

SlowClients::SlowClients(std::string host, int port, Mix mix, bool reopen,
                         std::chrono::milliseconds interval)
    : host_(std::move(host)), port_(port), reopen_(reopen), interval_(interval) {
  auto add = [&](int n, Kind k) {
    for (int i = 0; i < n; ++i) conns_.push_back(Conn{k});
  };
  add(mix.idle, Kind::kIdle);
  add(mix.half_header, Kind::kHalfHeader);
  add(mix.header_trickle, Kind::kHeaderTrickle);
  add(mix.body_trickle, Kind::kBodyTrickle);
  for (auto& c : conns_) Open(c);
  thread_ = std::thread([this] { Run(); });
}

SlowClients::~SlowClients() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  for (auto& c : conns_) {
    if (c.fd >= 0) close(c.fd);
  }
}

namespace {

// Polls `done` every 10 ms until it holds (true) or `timeout` ran out (false).
template <typename Pred>
bool WaitUntil(Pred done, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace

bool SlowClients::WaitOpen(int n, std::chrono::milliseconds timeout) const {
  return WaitUntil([&] { return open_.load() >= n; }, timeout);
}

bool SlowClients::WaitClosed(int n, std::chrono::milliseconds timeout) const {
  return WaitUntil([&] { return closed_.load() >= n; }, timeout);
}

namespace {

// What each kind sends at once after connecting.
const char kHalfHeader[] = "POST /cdc HTTP/1.1\r\nHost: slow\r\nContent-Ty";
const char kHeaderStart[] = "POST /cdc HTTP/1.1\r\nHost: slow\r\nX-Slow: ";
const char kBodyStart[] = "POST /cdc HTTP/1.1\r\nHost: slow\r\nContent-Length: 1048576\r\n\r\n{";

}  // namespace

bool SlowClients::Open(Conn& c) {
  std::string error;
  c.fd = Dial(host_, port_, std::chrono::seconds(5), &error);
  if (c.fd < 0) return false;
  fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
  c.sent = 0;
  const char* first = c.kind == Kind::kHalfHeader      ? kHalfHeader
                      : c.kind == Kind::kHeaderTrickle ? kHeaderStart
                      : c.kind == Kind::kBodyTrickle   ? kBodyStart
                                                       : "";
  if (*first) send(c.fd, first, std::strlen(first), MSG_NOSIGNAL);
  ++open_;
  return true;
}

// Notices a close by the server (answers are read and dropped); sends the next trickled byte
// when `due`.
void SlowClients::Step(Conn& c, bool due) {
  if (c.fd < 0) {
    if (due && reopen_) Open(c);
    return;
  }
  char buf[4096];
  for (;;) {
    ssize_t n = recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    close(c.fd);  // closed (0) or reset (<0)
    c.fd = -1;
    --open_;
    ++closed_;
    return;
  }
  if (due && (c.kind == Kind::kHeaderTrickle || c.kind == Kind::kBodyTrickle)) {
    const char byte = c.kind == Kind::kHeaderTrickle ? 'a' : ' ';
    if (send(c.fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) ++c.sent;
  }
}

void SlowClients::Run() {
  std::vector<pollfd> fds;
  auto next_due = Clock::now() + interval_;
  while (!stop_) {
    fds.clear();
    for (auto& c : conns_) fds.push_back({c.fd, POLLIN | POLLRDHUP, 0});  // fd -1 is ignored
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_due - Clock::now());
    int ms = static_cast<int>(std::clamp<long long>(wait.count(), 0, 50));
    poll(fds.data(), fds.size(), ms);
    bool due = Clock::now() >= next_due;
    if (due) next_due += interval_;
    for (size_t i = 0; i < conns_.size(); ++i) {
      if (due || fds[i].revents != 0) Step(conns_[i], due);
    }
  }
}

}  // namespace cdc::load
