// api_bench: requests/s and latency of a running milvus-cdc's HTTP API, with and without a
// crowd of slow clients (idle, half a header, a trickled header, a trickled body; see
// http_load.h) holding connections open.
//
//   api_bench --port 8444 [--host 127.0.0.1] [--seconds 10] [--clients 8] [--slow 500]
//             [--tasks 10 --target-uri http://127.0.0.1:19530] [--json FILE]
//
// With --tasks, first creates that many Paused tasks (disable_auto_start, one collection
// each) against --target-uri so that `list` answers something real. Then, for each case
// (`list` on kept-alive connections, `list` on a fresh connection per request), runs --clients
// threads sending `list` as fast as they are answered for --seconds, without and then with
// --slow slow clients, and prints requests/s, p50, p99 and max. --json writes the rows in the
// bench/README.md format.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "http_load.h"
#include "nlohmann/json.hpp"

namespace {

using cdc::load::HttpClient;
using cdc::load::SlowClients;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const char kList[] = R"({"request_type":"list"})";

struct Result {
  double rps = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  long errors = 0;
  long requests = 0;
};

// `clients` threads send `list` until `seconds` ran out; fresh = a new connection per request.
Result Load(const std::string& host, int port, int clients, int seconds, bool fresh) {
  std::mutex mu;
  std::vector<int64_t> all;  // microseconds
  long errors = 0;
  auto start = Clock::now();
  auto deadline = start + std::chrono::seconds(seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&] {
      std::vector<int64_t> mine;
      long bad = 0;
      auto keep = std::make_unique<HttpClient>(host, port);
      while (Clock::now() < deadline) {
        if (fresh) keep = std::make_unique<HttpClient>(host, port);
        auto t0 = Clock::now();
        auto r = keep->Request("POST", "/cdc", kList);
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
        if (r.status == 200) {
          mine.push_back(us.count());
        } else {
          ++bad;
        }
      }
      std::lock_guard lock(mu);
      all.insert(all.end(), mine.begin(), mine.end());
      errors += bad;
    });
  }
  for (auto& t : threads) t.join();
  double wall = std::chrono::duration<double>(Clock::now() - start).count();
  Result r;
  r.requests = static_cast<long>(all.size());
  r.errors = errors;
  r.rps = static_cast<double>(all.size()) / wall;
  if (!all.empty()) {
    std::sort(all.begin(), all.end());
    auto at = [&](double q) {
      return static_cast<double>(all[std::min(all.size() - 1, size_t(q * all.size()))]) / 1000.0;
    };
    r.p50_ms = at(0.50);
    r.p99_ms = at(0.99);
    r.max_ms = static_cast<double>(all.back()) / 1000.0;
  }
  return r;
}

int CreateTasks(const std::string& host, int port, int n, const std::string& target_uri) {
  HttpClient c(host, port, std::chrono::seconds(30));
  int made = 0;
  for (int i = 0; i < n; ++i) {
    json body = {{"request_type", "create"},
                 {"request_data",
                  {{"milvus_connect_param", {{"uri", target_uri}, {"connect_timeout", 10}}},
                   {"collection_infos", {{{"name", "bench_api_" + std::to_string(i)}}}},
                   {"disable_auto_start", true}}}};
    auto r = c.Request("POST", "/cdc", body.dump());
    json env = json::parse(r.body, nullptr, false);
    if (env.is_object() && env.value("code", 0) == 200) {
      ++made;
    } else {
      std::cerr << "api_bench: create " << i << " failed: " << r.body << r.error << "\n";
    }
  }
  return made;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"HTTP API throughput and latency with and without slow clients"};
  std::string host = "127.0.0.1", target_uri, json_path;
  int port = 0, seconds = 10, clients = 8, slow = 500, tasks = 0;
  app.add_option("--host", host);
  app.add_option("--port", port)->required();
  app.add_option("--seconds", seconds, "per case");
  app.add_option("--clients", clients, "concurrent clients sending list");
  app.add_option("--slow", slow, "slow clients in the second run of each case");
  app.add_option("--tasks", tasks, "Paused tasks to create first (needs --target-uri)");
  app.add_option("--target-uri", target_uri);
  app.add_option("--json", json_path);
  CLI11_PARSE(app, argc, argv);

  int made = 0;
  if (tasks > 0 && !target_uri.empty()) made = CreateTasks(host, port, tasks, target_uri);
  std::string with = std::to_string(clients) + " clients, " + std::to_string(made) + " tasks";
  json rows = json::array();
  std::printf("%-44s %10s %9s %9s %9s %7s\n", "case", "req/s", "p50 ms", "p99 ms", "max ms",
              "errors");
  for (bool fresh : {false, true}) {
    for (int crowd : {0, slow}) {
      std::unique_ptr<SlowClients> hostages;
      if (crowd > 0) {
        int q = crowd / 4;
        hostages = std::make_unique<SlowClients>(
            host, port,
            SlowClients::Mix{
                .idle = crowd - 3 * q, .half_header = q, .header_trickle = q, .body_trickle = q},
            /*reopen=*/true);
        if (!hostages->WaitOpen(crowd, std::chrono::seconds(30))) {
          std::cerr << "api_bench: only " << hostages->open() << " of " << crowd
                    << " slow clients connected\n";
          return 1;
        }
      }
      Result r = Load(host, port, clients, seconds, fresh);
      std::string name = std::string("list, ") + (fresh ? "new connection each" : "kept-alive") +
                         (crowd ? ", +" + std::to_string(crowd) + " slow clients" : "");
      std::printf("%-44s %10.0f %9.2f %9.2f %9.2f %7ld\n", name.c_str(), r.rps, r.p50_ms, r.p99_ms,
                  r.max_ms, r.errors);
      std::string note =
          with +
          (crowd ? ", slow clients held " + std::to_string(hostages->open()) : std::string()) +
          (r.errors ? ", " + std::to_string(r.errors) + " errors" : "");
      for (auto [metric, value, unit] :
           {std::tuple{"requests/s", r.rps, "req/s"}, std::tuple{"p50", r.p50_ms, "ms"},
            std::tuple{"p99", r.p99_ms, "ms"}}) {
        rows.push_back({{"bench", "api"},
                        {"case", name},
                        {"metric", metric},
                        {"value", value},
                        {"unit", unit},
                        {"note", note}});
      }
      if (r.requests == 0) {
        std::cerr << "api_bench: no request was answered in case '" << name << "'\n";
        return 1;
      }
    }
  }
  if (!json_path.empty()) std::ofstream(json_path) << rows.dump(1) << "\n";
  return 0;
}
