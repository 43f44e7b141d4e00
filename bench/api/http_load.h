#pragma once
// Load tools for the HTTP API, shared by its integration tests (tests/integration/api) and its
// benchmark (bench/api):
//   HttpClient   a minimal blocking HTTP/1.1 client over one kept-alive connection that
//                reports the status, the body and how long the answer took;
//   SlowClients  a crowd of connections that never finish a request (idle, half a header,
//                a header trickled a byte at a time, a body trickled a byte at a time), held by
//                one background thread that reopens any the server closes (if asked to).
// Not thread-safe per object; each object may be used from one thread at a time (SlowClients
// runs its own thread). Connections go to 127.0.0.1 or any IPv4 address.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace cdc::load {

class HttpClient {
 public:
  HttpClient(std::string host, int port,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  struct Response {
    int status = -1;  // -1: no answer (see error)
    std::string body;
    std::string error;
    std::chrono::microseconds elapsed{0};  // from sending to the last byte of the answer
  };
  // Sends one request on the kept-alive connection (opened, or reopened once if the server
  // closed it). `headers` are extra "Name: value\r\n" lines.
  Response Request(const std::string& method, const std::string& path, const std::string& body = "",
                   const std::string& headers = "");
  void Close();

 private:
  bool Connect(std::string* error);
  Response Exchange(const std::string& raw);

  std::string host_;
  int port_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
};

class SlowClients {
 public:
  struct Mix {
    int idle = 0;            // connect, send nothing
    int half_header = 0;     // send half a request header once, then nothing
    int header_trickle = 0;  // send a header one byte per interval, never finishing it
    int body_trickle = 0;    // send a full header (Content-Length 1 MB), then the body one
                             // byte per interval
    int total() const { return idle + half_header + header_trickle + body_trickle; }
  };
  SlowClients(std::string host, int port, Mix mix, bool reopen,
              std::chrono::milliseconds interval = std::chrono::milliseconds(200));
  ~SlowClients();
  SlowClients(const SlowClients&) = delete;
  SlowClients& operator=(const SlowClients&) = delete;

  // Connections open now, and how many times the server closed one.
  int open() const { return open_.load(); }
  int closed_by_server() const { return closed_.load(); }
  // Waits until `n` are open; false after `timeout`.
  bool WaitOpen(int n, std::chrono::milliseconds timeout) const;
  // Waits until the server closed `n` in total; false after `timeout`.
  bool WaitClosed(int n, std::chrono::milliseconds timeout) const;

 private:
  enum class Kind { kIdle, kHalfHeader, kHeaderTrickle, kBodyTrickle };
  struct Conn {
    Kind kind;
    int fd = -1;
    size_t sent = 0;  // bytes of the script sent so far
  };
  void Run();
  bool Open(Conn& c);
  void Step(Conn& c, bool due);

  std::string host_;
  int port_;
  bool reopen_;
  std::chrono::milliseconds interval_;
  std::vector<Conn> conns_;  // owned by the thread once it runs
  std::atomic<int> open_{0};
  std::atomic<int> closed_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace cdc::load
