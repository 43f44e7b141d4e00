#include "api/server.h"

#include "api/process_metrics.h"
#include "api/status_page.h"
#include "spdlog/spdlog.h"

namespace cdc::api {
namespace {

std::string StatusLabel(int code) {
  switch (code) {
    case 200:
      return "success";
    case 405:
      return "invalid_method";
    default:
      return "fail";
  }
}

HttpResponse Json(int http_status, const nlohmann::json& envelope) {
  HttpResponse res;
  res.status = http_status;
  res.body = envelope.dump() + "\n";
  return res;
}

HttpResponse Busy(const char* pool, size_t limit) {
  HttpResponse res = Json(503, {{"code", 503},
                                {"message", std::string("the server is busy: ") + pool +
                                                " requests are waiting (api.queueLimit " +
                                                std::to_string(limit) + "); retry later"}});
  res.headers.emplace_back("Retry-After", "1");
  return res;
}

// Runs `fn`; if it throws, answers 500 with the exception's text (as the old server did).
template <typename Fn>
void Guarded(const HttpRequest& req, const Responder& respond, Fn&& fn) {
  std::string what;
  try {
    fn();
    return;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown error";
  }
  spdlog::error("{} {}: {}", req.method, req.path, what);
  respond(Json(200, {{"code", 500}, {"message", "internal error: " + what}}));
}

bool IsMetricsPath(const std::string& path) {
  return path == "/metrics" || path == "/cdc/metrics" || path == "/cdc/metrics_default";
}

}  // namespace

Server::Server(task::TaskManager* tasks, ServerOptions options)
    : tasks_(tasks), options_(std::move(options)), handler_(tasks) {}

Server::~Server() { Stop(); }

Status Server::Start(const std::string& host, int port) {
  ASSIGN_OR_RETURN(auth_, Authenticator::Create(options_.auth));
  read_pool_ =
      std::make_unique<HandlerPool>("api-read", options_.read_threads, options_.queue_limit);
  slow_pool_ =
      std::make_unique<HandlerPool>("api-slow", options_.slow_threads, options_.queue_limit);
  listener_ = std::make_unique<HttpListener>(
      options_.listener,
      [this](HttpRequest req, Responder respond) { OnRequest(std::move(req), std::move(respond)); },
      [this](const char* reason) { metrics_.CountRejected(reason); });
  Status s = listener_->Start(host, port);
  if (!s.ok()) {
    Stop();
    return s;
  }
  bool tls = !options_.listener.tls_cert_path.empty();
  spdlog::info("HTTP API listening on {}://{}:{} (authentication {})", tls ? "https" : "http", host,
               listener_->port(), auth_->enabled() ? "on" : "off");
  return OkStatus();
}

void Server::Stop() {
  if (listener_) listener_->StopAccepting();
  // Requests already queued are answered; the listener then writes their answers.
  if (read_pool_) read_pool_->Shutdown();
  if (slow_pool_) slow_pool_->Shutdown();
  if (listener_) listener_->Stop();
  listener_.reset();
  read_pool_.reset();
  slow_pool_.reset();
}

void Server::OnRequest(HttpRequest req, Responder respond) {
  if (req.path == "/healthz" && req.method == "GET") {
    HttpResponse ok;
    ok.content_type = "text/plain";
    ok.body = "OK";
    return respond(std::move(ok));
  }
  if (req.path == "/" && req.method == "GET") return respond(StatusPageResponse());
  const bool cdc = req.path == "/cdc";
  const bool metrics = req.method == "GET" && IsMetricsPath(req.path);
  if (!cdc && !metrics) {
    return respond(Json(
        404, {{"code", 404},
              {"message",
               "no handler for " + req.method + " " + req.path +
                   "; use POST /cdc, GET /healthz, GET /metrics or GET / (the status page)"}}));
  }
  Authenticator::Decision auth = auth_->Check(req.authorization, req.remote_ip);
  if (!auth.ok) {
    metrics_.CountRejected(auth.reason);
    HttpResponse res =
        Json(auth.http_status, {{"code", auth.http_status}, {"message", auth.message}});
    if (auth.http_status == 401) {
      res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"milvus-cdc\"");
    } else {
      res.headers.emplace_back("Retry-After", std::to_string(auth.retry_after_s));
    }
    return respond(std::move(res));
  }
  auto job = [this, metrics, req = std::move(req), role = auth.role, respond]() {
    Guarded(req, respond, [&] {
      if (metrics) return respond(RenderMetrics());
      ServeCdc(req, role, respond);
    });
  };
  if (!read_pool_->Submit(std::move(job))) {
    metrics_.CountRejected("busy");
    respond(Busy("read", options_.queue_limit));
  }
}

// On a read pool thread.
void Server::ServeCdc(const HttpRequest& req, Role role, const Responder& respond) {
  auto parsed = handler_.Parse(req.method, req.body);
  if (auto* reply = std::get_if<CdcHandler::Reply>(&parsed)) return Finish(*reply, respond);
  auto& request = std::get<CdcHandler::Request>(parsed);
  bool known = false;
  for (int i = 0; CdcHandler::kTypes[i]; ++i)
    known = known || request.type == CdcHandler::kTypes[i];
  if (role == Role::kRead && known && !CdcHandler::IsReadOnly(request.type)) {
    metrics_.CountRejected("forbidden");
    metrics_.CountRequest(request.type, 403, "total");
    metrics_.CountRequest(request.type, 403, "fail");
    return respond(Json(403, {{"code", 403},
                              {"message", "a read-only token may not send '" + request.type +
                                              "' requests; use an admin token"}}));
  }
  if (!CdcHandler::IsSlow(request.type)) return Finish(handler_.Execute(request), respond);
  auto job = [this, req, request = std::move(request), respond]() {
    Guarded(req, respond, [&] { Finish(handler_.Execute(request), respond); });
  };
  if (!slow_pool_->Submit(std::move(job))) {
    metrics_.CountRejected("busy");
    respond(Busy("create/delete/pause/resume", options_.queue_limit));
  }
}

void Server::Finish(const CdcHandler::Reply& reply, const Responder& respond) {
  int code = reply.envelope.value("code", 500);
  if (code != 405) metrics_.CountRequest(reply.request_type, code, "total");
  metrics_.CountRequest(reply.request_type, code, StatusLabel(code));
  respond(Json(200, reply.envelope));  // upstream: the error lives in `code`, not the status
}

// On a read pool thread.
HttpResponse Server::RenderMetrics() {
  std::map<std::string, std::vector<task::ChannelLag>> lags;
  std::map<std::string, task::TaskHealth> health;
  const auto tasks = tasks_->List();
  for (const auto& t : tasks) {
    auto channels = tasks_->Lag(t.task_id);
    if (!channels.empty()) lags[t.task_id] = std::move(channels);
    health[t.task_id] = tasks_->Health(t.task_id);
  }
  HttpResponse res;
  res.content_type = "text/plain; version=0.0.4";
  res.body = metrics_.Render(tasks_->CountByState(), lags) + Metrics::RenderTasks(tasks) +
             Metrics::RenderHealth(health) +
             metrics_.RenderApi(listener_ ? listener_->open_connections() : 0) +
             RenderProcessMetrics();
  if (extra_metrics_) res.body += extra_metrics_();
  return res;
}

}  // namespace cdc::api
