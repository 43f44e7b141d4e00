#pragma once
// api::HttpListener: an event-driven HTTP/1.1 server (Boost.Beast on Asio, optionally TLS) that
// a slow or idle client cannot hold hostage. Every connection is a small state machine on the
// I/O thread(s); no thread waits on a socket:
//   - the TLS handshake and the request line + headers must arrive within header_timeout
//     (counted from the accept, or from the first byte of a later request on a kept-alive
//     connection), the body within body_timeout after the headers, and an answer must be
//     taken by the client within body_timeout; a kept-alive connection without a request is
//     closed after idle_timeout;
//   - at most max_connections are open; a connection beyond is answered 503 (JSON envelope,
//     `Connection: close`) and closed;
//   - headers above max_header_bytes are answered 431, bodies above max_body_bytes 413;
//   - `Expect: 100-continue` is honoured.
// A complete request goes to the RequestHandler on an I/O thread; the handler must not block:
// it answers through the Responder (exactly once, from any thread), usually after running the
// work on a HandlerPool.
//
// Threads: Start/StopAccepting/Stop from one controlling thread. Stop stops accepting, waits
// (bounded by body_timeout, at most 5 s) for answers of requests already handed to the
// handler to be written, then stops the I/O threads and closes every connection. The handler
// must not call the Responder after Stop returned (the pools are drained before).
// Errors: Start returns Unavailable naming the address when it cannot listen, InvalidArgument
// naming the file when the TLS certificate or key cannot be loaded.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"

namespace cdc::api {

struct ListenerOptions {
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds idle_timeout{60000};
  size_t max_connections = 1024;
  size_t max_body_bytes = 16 << 20;
  size_t max_header_bytes = 64 << 10;
  int io_threads = 1;
  // Both set = HTTPS (TLS 1.2 or newer) with this PEM certificate chain and key.
  std::string tls_cert_path;
  std::string tls_key_path;
};

struct HttpRequest {
  std::string method;  // "POST"
  std::string path;    // "/cdc" (the query string removed)
  std::string body;
  std::string authorization;  // the Authorization header, "" if absent
  std::string remote_ip;      // the peer's address, e.g. "127.0.0.1"
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

using Responder = std::function<void(HttpResponse)>;
using RequestHandler = std::function<void(HttpRequest, Responder)>;
// Called (on an I/O thread) when the listener turns a client away: "connection_limit",
// "header_timeout", "body_timeout", "too_large", "bad_request".
using RejectObserver = std::function<void(const char* reason)>;

class HttpListener {
 public:
  HttpListener(ListenerOptions options, RequestHandler handler, RejectObserver on_reject);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Binds host:port (port 0 = any free port) and starts the I/O threads.
  Status Start(const std::string& host, int port);
  int port() const { return port_; }
  // Closes the listening socket; open connections are served on.
  void StopAccepting();
  void Stop();

  // Connections open right now (including ones being turned away).
  size_t open_connections() const;

  // Implementation detail (http_listener.cc): state the connections share with the listener.
  struct Shared;

 private:
  class Acceptor;

  std::shared_ptr<Shared> shared_;
  std::unique_ptr<Acceptor> acceptor_;
  std::vector<std::thread> threads_;
  int port_ = 0;
};

}  // namespace cdc::api
