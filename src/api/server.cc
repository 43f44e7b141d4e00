#include "api/server.h"

#include "httplib.h"
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

}  // namespace

Server::Server(task::TaskManager* tasks) : tasks_(tasks), handler_(tasks) {}

Server::~Server() { Stop(); }

Status Server::Start(const std::string& host, int port) {
  http_ = std::make_unique<httplib::Server>();
  auto cdc = [this](const httplib::Request& req, httplib::Response& res) {
    CdcHandler::Reply reply = handler_.Handle(req.method, req.body);
    int code = reply.envelope.value("code", 500);
    if (code != 405) metrics_.CountRequest(reply.request_type, code, "total");
    metrics_.CountRequest(reply.request_type, code, StatusLabel(code));
    res.status = 200;  // upstream: the error lives in `code`, never in the HTTP status
    res.set_content(reply.envelope.dump() + "\n", "application/json");
  };
  http_->Post("/cdc", cdc);
  http_->Get("/cdc", cdc);
  http_->Put("/cdc", cdc);
  http_->Delete("/cdc", cdc);
  http_->Patch("/cdc", cdc);
  http_->Options("/cdc", cdc);
  http_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("OK", "text/plain");
  });
  auto metrics = [this](const httplib::Request&, httplib::Response& res) {
    std::map<std::string, std::vector<task::ChannelLag>> lags;
    for (const auto& t : tasks_->List()) {
      auto channels = tasks_->Lag(t.task_id);
      if (!channels.empty()) lags[t.task_id] = std::move(channels);
    }
    res.set_content(metrics_.Render(tasks_->CountByState(), lags), "text/plain; version=0.0.4");
  };
  http_->Get("/metrics", metrics);
  http_->Get("/cdc/metrics", metrics);
  http_->Get("/cdc/metrics_default", metrics);
  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status != 404) return;
    nlohmann::json env = {{"code", 404},
                          {"message", "no handler for " + req.method + " " + req.path +
                                          "; use POST /cdc, GET /healthz or GET /metrics"}};
    res.set_content(env.dump() + "\n", "application/json");
  });
  http_->set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("{} {}: {}", req.method, req.path, what);
        nlohmann::json env = {{"code", 500}, {"message", "internal error: " + what}};
        res.status = 200;
        res.set_content(env.dump() + "\n", "application/json");
      });
  http_->set_payload_max_length(16 << 20);

  if (port == 0) {
    port_ = http_->bind_to_any_port(host);
  } else {
    port_ = http_->bind_to_port(host, port) ? port : -1;
  }
  if (port_ <= 0) {
    return UnavailableError("listen on " + host + ":" + std::to_string(port) + ": " +
                            std::strerror(errno) +
                            "; is another server using it? change `address` in the config");
  }
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  spdlog::info("HTTP API listening on {}:{}", host, port_);
  return OkStatus();
}

void Server::Stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cdc::api
