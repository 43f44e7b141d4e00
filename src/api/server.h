#pragma once
// api::Server: the HTTP listener (cpp-httplib, its own thread pool).
//   POST /cdc                 the upstream API (CdcHandler); any other method on /cdc -> 405
//                             envelope with HTTP 200, as upstream
//   GET  /healthz             200 "OK"
//   GET  /metrics, /cdc/metrics, /cdc/metrics_default   Prometheus text (Metrics)
//   anything else             HTTP 404 with a JSON envelope naming the path
// Start binds (failure = Unavailable naming the address) and serves on a background thread;
// Stop stops accepting, finishes in-flight requests and joins. The handler and manager are
// borrowed and must outlive the server.
#include <memory>
#include <string>
#include <thread>

#include "api/cdc_handler.h"
#include "api/metrics.h"
#include "common/status.h"

namespace httplib {
class Server;
}

namespace cdc::api {

class Server {
 public:
  Server(task::TaskManager* tasks);
  ~Server();

  Status Start(const std::string& host, int port);
  // The bound port (useful when started on port 0).
  int port() const { return port_; }
  void Stop();

  // The /cdc handler and the metrics, to wire optional services (verify) before Start.
  CdcHandler& handler() { return handler_; }
  Metrics& metrics() { return metrics_; }

 private:
  task::TaskManager* tasks_;
  CdcHandler handler_;
  Metrics metrics_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace cdc::api
