// Consume throughput of our Pulsar client beside Pulsar's own Java client, on the same topic in
// the same run. Writes a backlog of Milvus insert messages (source simulator) with our
// producer, then reads it from the earliest message three ways:
//   cpp-client  our Consumer (protocol, checksums, flow control), payloads only;
//   cpp-reader  PulsarChannelReader (the above + header decode + packing by time tick);
//   java-client org.apache.pulsar.client.api.Consumer via bench/pulsar/PulsarConsumeBench.java
//               (only with --java; the clock starts at subscribe, JVM start-up excluded).
// Prints a table and, with --json FILE, the rows of bench/README.md's step contract.
//
//   scripts/e2e-env.sh up pulsar && . .cache/env/env.sh && build/bench/pulsar_bench
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "mocks/pulsar_producer.h"
#include "pulsar/consumer.h"
#include "source/pulsar/pulsar_config.h"
#include "source/pulsar/pulsar_reader.h"
#include "tools/sim/scenario.h"

namespace {

using namespace cdc;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Measured {
  std::string client;
  uint64_t messages = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  std::string note;
};

double Secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

Measured ConsumeOurs(const cdc::pulsar::ClientOptions& client, const std::string& topic,
                     uint64_t want, uint32_t queue) {
  Measured r;
  r.client = "cpp-client";
  cdc::pulsar::ConsumerOptions co;
  co.topic = topic;
  co.subscription = "bench-cpp-" + std::to_string(getpid());
  co.start_earliest = true;
  co.receiver_queue = queue;
  auto t0 = Clock::now();
  auto c = cdc::pulsar::Consumer::Subscribe(client, co);
  if (!c.ok()) {
    r.note = std::string(c.status().message());
    return r;
  }
  auto deadline = Clock::now() + 300s;
  while (r.messages < want && Clock::now() < deadline) {
    auto m = (*c)->Receive(1000ms);
    if (!m.ok()) {
      r.note = std::string(m.status().message());
      break;
    }
    if (!m->has_value()) continue;
    ++r.messages;
    r.bytes += (*m)->payload.size();
  }
  r.seconds = Secs(Clock::now() - t0);
  (void)(*c)->Close();
  return r;
}

Measured ConsumeReader(const cdc::pulsar::ClientOptions& client, const std::string& channel,
                       uint64_t end_ts, uint32_t queue) {
  Measured r;
  r.client = "cpp-reader";
  source::PulsarReaderOptions o;
  o.client = client;
  o.reader.channel = channel;
  o.reader.owner = "bench-" + std::to_string(getpid());
  o.receiver_queue = queue;
  source::PulsarChannelReader reader(o);
  auto t0 = Clock::now();
  if (Status s = reader.Start(source::StartPosition::Earliest()); !s.ok()) {
    r.note = std::string(s.message());
    return r;
  }
  auto deadline = Clock::now() + 300s;
  while (Clock::now() < deadline) {
    auto p = reader.Next(1000ms);
    if (!p.ok() || !p->has_value()) continue;
    if ((*p)->end_ts >= end_ts) break;
  }
  r.seconds = Secs(Clock::now() - t0);
  auto st = reader.stats();
  r.messages = st.messages;
  r.bytes = st.bytes;
  r.note = "header decode + packs";
  reader.Close();
  return r;
}

Measured ConsumeJava(const std::string& java_cmd, const std::string& url, const std::string& topic,
                     uint64_t want, uint32_t queue) {
  Measured r;
  r.client = "java-client";
  std::string cmd = java_cmd + " '" + url + "' '" + topic + "' " + std::to_string(want) + " " +
                    std::to_string(queue);
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) {
    r.note = "cannot run " + java_cmd;
    return r;
  }
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, f) != nullptr) out += buf;
  int rc = pclose(f);
  try {
    // The result is the last line; the Java client's own log lines (some with JSON) precede it.
    const size_t at = out.rfind("{\"messages\"");
    if (at == std::string::npos) throw std::runtime_error("no result line");
    auto j = nlohmann::json::parse(out.substr(at, out.find('\n', at) - at));
    r.messages = j["messages"];
    r.bytes = j["bytes"];
    r.seconds = j["seconds"];
    r.note = "org.apache.pulsar.client (broker's version)";
  } catch (const std::exception& e) {
    r.note = "java consumer failed (rc " + std::to_string(rc) + ", " + e.what() +
             "): " + out.substr(out.size() > 400 ? out.size() - 400 : 0);
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Pulsar consume throughput: our client vs Pulsar's Java client"};
  std::string url = getenv("CDC_TEST_PULSAR") ? getenv("CDC_TEST_PULSAR") : "";
  int inserts = 20000, rows = 10, dim = 32;
  uint32_t queue = 1000;
  size_t batch = 1;
  std::string java, json_out;
  app.add_option("--url", url, "pulsar://HOST:PORT (default $CDC_TEST_PULSAR)");
  app.add_option("--inserts", inserts, "insert messages in the backlog");
  app.add_option("--rows", rows, "rows per insert");
  app.add_option("--dim", dim, "float vector dimension");
  app.add_option("--batch", batch, "messages per stored entry (1 = no batching, as Milvus)");
  app.add_option("--queue", queue, "receiver queue (FLOW permits) of every consumer");
  app.add_option("--java", java, "command running PulsarConsumeBench (URL TOPIC COUNT QUEUE)");
  app.add_option("--json", json_out, "write result rows (bench step contract) to this file");
  CLI11_PARSE(app, argc, argv);
  if (url.empty()) {
    std::cerr << "no Pulsar: pass --url or run scripts/e2e-env.sh up pulsar\n";
    return 2;
  }
  cdc::pulsar::ClientOptions client;
  client.service_url = url;
  client.max_frame_size = 64 << 20;

  sim::Scenario s;
  s.collection.name = "bench";
  s.collection.id = 100;
  s.collection.dim = dim;
  s.inserts = inserts;
  s.rows_per_insert = rows;
  s.inserts_per_tick = 10;
  const std::string channel = "cdc-bench-" + std::to_string(getpid());
  const std::string topic = source::PulsarTopic("public", "default", channel);
  auto payloads = sim::BuildScenario(s);
  uint64_t total_bytes = 0;
  for (const auto& p : payloads) total_bytes += p.bytes.size();
  std::cerr << "writing " << payloads.size() << " messages (" << total_bytes / 1e6 << " MB) to "
            << topic << "\n";
  {
    auto p = testing::PulsarProducer::Create(client, topic);
    if (!p.ok()) {
      std::cerr << p.status() << "\n";
      return 1;
    }
    for (size_t i = 0; i < payloads.size(); i += batch) {
      Status st;
      if (batch <= 1) {
        st = (*p)->Send(payloads[i].bytes);
      } else {
        std::vector<std::string_view> v;
        for (size_t j = i; j < std::min(payloads.size(), i + batch); ++j)
          v.push_back(payloads[j].bytes);
        st = (*p)->SendBatch(v);
      }
      if (!st.ok()) {
        std::cerr << st << "\n";
        return 1;
      }
    }
    if (Status st = (*p)->Close(); !st.ok()) {
      std::cerr << st << "\n";
      return 1;
    }
  }
  std::vector<Measured> results;
  results.push_back(ConsumeOurs(client, topic, payloads.size(), queue));
  results.push_back(ConsumeReader(client, channel, payloads.back().ts, queue));
  if (!java.empty()) results.push_back(ConsumeJava(java, url, topic, payloads.size(), queue));

  const std::string cs = "inserts=" + std::to_string(inserts) + " rows=" + std::to_string(rows) +
                         " dim=" + std::to_string(dim) + " batch=" + std::to_string(batch);
  std::printf("%-12s %10s %10s %8s %12s %8s  %s\n", "client", "messages", "MB", "s", "msgs/s",
              "MB/s", "note");
  nlohmann::json rows_json = nlohmann::json::array();
  for (const auto& r : results) {
    double mps = r.seconds > 0 ? r.messages / r.seconds : 0;
    double mbps = r.seconds > 0 ? r.bytes / 1e6 / r.seconds : 0;
    std::printf("%-12s %10lu %10.1f %8.2f %12.0f %8.1f  %s\n", r.client.c_str(),
                static_cast<unsigned long>(r.messages), r.bytes / 1e6, r.seconds, mps, mbps,
                r.note.c_str());
    bool ok = r.messages >= payloads.size() || (r.client == "cpp-reader" && r.messages > 0);
    if (!ok) continue;
    for (auto [metric, value] : {std::pair<const char*, double>{"msgs/s", mps}, {"MB/s", mbps}}) {
      rows_json.push_back({{"bench", "pulsar"},
                           {"case", r.client + " " + cs},
                           {"metric", metric},
                           {"value", value},
                           {"unit", metric},
                           {"note", r.note}});
    }
  }
  std::cout << rows_json.dump() << "\n";
  if (!json_out.empty()) std::ofstream(json_out) << rows_json.dump(1) << "\n";
  for (const auto& r : results)
    if (r.client != "cpp-reader" && r.messages < payloads.size()) return 1;
  return 0;
}
