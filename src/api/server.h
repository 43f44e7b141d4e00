#pragma once
// api::Server: the HTTP API on an event-driven listener (HttpListener), with its handlers run on
// two HandlerPools so that no client and no slow handler delays the others.
//   POST /cdc                 the upstream API (CdcHandler); any other method on /cdc -> 405
//                             envelope with HTTP 200, as upstream
//   GET  /healthz             200 "OK" (never needs a token)
//   GET  /                    the status page (status_page.h; never needs a token: it holds no
//                             data, its calls to /cdc carry the token)
//   GET  /metrics, /cdc/metrics, /cdc/metrics_default   Prometheus text (Metrics)
//   anything else             HTTP 404 with a JSON envelope naming the path
// Where requests run:
//   I/O thread   routing, /healthz, the status page, the token check
//   read pool    parsing every /cdc body; get, list, position, maintenance; metrics
//   slow pool    create, delete, pause, resume (store writes, the target probe)
// With authentication on (AuthOptions), /cdc and the metrics need `Authorization: Bearer`:
// HTTP 401 (missing or unknown token), 403 (a read-only token on an admin request), 429 (too
// many failures from the address), each with a JSON envelope {"code", "message"}. A full pool
// queue is HTTP 503 with an envelope.
//
// Start binds (Unavailable naming the address; InvalidArgument for a bad token file or TLS
// files) and serves on background threads; Stop stops accepting, finishes the requests in
// flight and joins. The manager is borrowed and must outlive the server.
#include <functional>
#include <memory>
#include <string>

#include "api/authenticator.h"
#include "api/cdc_handler.h"
#include "api/handler_pool.h"
#include "api/http_listener.h"
#include "api/metrics.h"
#include "common/status.h"

namespace cdc::api {

struct ServerOptions {
  ListenerOptions listener;
  int read_threads = 2;      // api.readThreads
  int slow_threads = 4;      // api.handlerThreads
  size_t queue_limit = 256;  // api.queueLimit, per pool
  AuthOptions auth;
};

class Server {
 public:
  explicit Server(task::TaskManager* tasks, ServerOptions options = {});
  ~Server();

  Status Start(const std::string& host, int port);
  // The bound port (useful when started on port 0).
  int port() const { return listener_ ? listener_->port() : 0; }
  void Stop();

  // The /cdc handler and the metrics, to wire optional services (verify) before Start.
  CdcHandler& handler() { return handler_; }
  Metrics& metrics() { return metrics_; }
  // More Prometheus text appended to /metrics (e.g. ha::Coordinator's), before Start; called
  // on a read pool thread.
  void set_extra_metrics(std::function<std::string()> render) {
    extra_metrics_ = std::move(render);
  }

 private:
  void OnRequest(HttpRequest req, Responder respond);
  void ServeCdc(const HttpRequest& req, Role role, const Responder& respond);
  void Finish(const CdcHandler::Reply& reply, const Responder& respond);
  HttpResponse RenderMetrics();

  task::TaskManager* tasks_;
  ServerOptions options_;
  CdcHandler handler_;
  Metrics metrics_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<HandlerPool> read_pool_;
  std::unique_ptr<HandlerPool> slow_pool_;
  std::unique_ptr<HttpListener> listener_;
  std::function<std::string()> extra_metrics_;
};

}  // namespace cdc::api
