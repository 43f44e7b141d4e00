// Source-side throughput: decode + pack of Milvus insert streams (128- and 768-dim float
// vectors), beside the raw librdkafka consume rate of the same topic, measured in one run.
//
//   source_bench --brokers 127.0.0.1:9092 [--messages 2000] [--rows 100] [--json FILE]
//
// For each dimension it produces a fresh topic with the simulator (one tick per 10 inserts),
// then measures, in order:
//   raw      librdkafka consume of the whole topic (poll only, no decoding)
//   reader   KafkaChannelReader from earliest: consume + header decode + packing
//   decode   DecodeHeader + Packer over the same payloads already in memory (no I/O)
// Rates are per wall second and per CPU second of this process (all threads), i.e. "per core".
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "source/kafka/kafka_client.h"
#include "source/kafka/kafka_reader.h"
#include "tools/sim/kafka_producer.h"
#include "tools/sim/scenario.h"

namespace {
using namespace cdc;
using Clock = std::chrono::steady_clock;

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct Row {
  const char* what;
  int dim;
  size_t msgs;
  size_t bytes;
  double wall;
  double cpu;
};

std::vector<std::string> g_json;  // rows for --json (bench/README.md contract)

void Print(const Row& r) {
  double mb = r.bytes / 1e6;
  std::printf("%-8s %5d %8zu %9.1f %11.0f %9.1f %12.0f %10.1f\n", r.what, r.dim, r.msgs, mb,
              r.msgs / r.wall, mb / r.wall, r.msgs / r.cpu, mb / r.cpu);
  char buf[512];
  const std::pair<const char*, double> metrics[] = {
      {"msgs/s", r.msgs / r.wall}, {"MB/s", mb / r.wall}, {"MB/cpu-s", mb / r.cpu}};
  for (const auto& [unit, v] : metrics) {
    std::snprintf(buf, sizeof(buf),
                  "{\"bench\": \"source\", \"case\": \"%s dim=%d\", \"metric\": \"%s\", "
                  "\"value\": %.3f, \"unit\": \"%s\"}",
                  r.what, r.dim, unit, v, unit);
    g_json.push_back(buf);
  }
}

Row RawConsume(const std::string& brokers, const std::string& topic, int dim, size_t want) {
  auto rk = source::NewKafkaClient(true, brokers,
                                   {{"group.id", "bench-raw"},
                                    {"enable.auto.commit", "false"},
                                    {"queued.max.messages.kbytes", "16384"}});
  if (!rk.ok()) {
    std::fprintf(stderr, "%s\n", std::string(rk.status().message()).c_str());
    std::exit(1);
  }
  (void)source::AssignPartition0(rk->get(), topic, RD_KAFKA_OFFSET_BEGINNING);
  size_t n = 0, bytes = 0;
  auto t0 = Clock::now();
  double c0 = CpuSeconds();
  while (n < want && Clock::now() - t0 < std::chrono::minutes(5)) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk->get(), 100);
    if (!m) continue;
    if (!m->err) {
      ++n;
      bytes += m->len;
    }
    rd_kafka_message_destroy(m);
  }
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  Row r{"raw", dim, n, bytes, wall, CpuSeconds() - c0};
  rd_kafka_consumer_close(rk->get());
  return r;
}

Row ReaderConsume(const std::string& brokers, const std::string& topic, int dim, uint64_t last_ts) {
  source::KafkaReaderOptions o;
  o.brokers = brokers;
  o.reader.channel = topic;
  o.reader.owner = "bench";
  source::KafkaChannelReader reader(o);
  auto t0 = Clock::now();
  double c0 = CpuSeconds();
  if (auto s = reader.Start(source::StartPosition::Earliest()); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    std::exit(1);
  }
  while (Clock::now() - t0 < std::chrono::minutes(5)) {
    auto p = reader.Next(std::chrono::milliseconds(200));
    if (p.ok() && p->has_value() && (*p)->end_ts >= last_ts) break;
  }
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  auto st = reader.stats();
  Row r{"reader", dim, st.messages, st.bytes, wall, CpuSeconds() - c0};
  reader.Close();
  return r;
}

Row DecodeOnly(const std::vector<sim::Payload>& payloads, int dim) {
  size_t bytes = 0, packs = 0;
  auto t0 = Clock::now();
  double c0 = CpuSeconds();
  const int reps = 5;
  for (int rep = 0; rep < reps; ++rep) {
    source::Packer packer("bench", "g", std::nullopt);
    int64_t off = 0;
    for (const auto& p : payloads) {
      source::Message m;
      m.payload = p.bytes;
      m.offset = off;
      auto h = source::DecodeHeader(m.payload);
      if (!h.ok()) std::exit(2);
      m.header = std::move(*h);
      m.position = source::KafkaPosition("bench", off++, m.header.timestamp);
      bytes += p.bytes.size();
      if (packer.Add(std::move(m))) ++packs;
    }
  }
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  return Row{"decode", dim, payloads.size() * reps, bytes, wall, CpuSeconds() - c0};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"source-side decode+pack throughput beside raw librdkafka consume"};
  std::string brokers;
  int messages = 2000, rows = 100;
  app.add_option("--brokers", brokers, "Kafka bootstrap servers (default: $CDC_TEST_KAFKA)");
  app.add_option("--messages", messages, "insert messages per dimension");
  app.add_option("--rows", rows, "rows per insert");
  std::string json_path;
  app.add_option("--json", json_path, "also write the rows as a JSON list to this file");
  CLI11_PARSE(app, argc, argv);
  if (brokers.empty() && std::getenv("CDC_TEST_KAFKA")) brokers = std::getenv("CDC_TEST_KAFKA");
  if (brokers.empty()) {
    std::fprintf(stderr, "no broker: pass --brokers or run scripts/e2e-env.sh up kafka\n");
    return 1;
  }
  std::printf("cpus online: %ld; %d inserts x %d rows per dimension\n",
              sysconf(_SC_NPROCESSORS_ONLN), messages, rows);
  std::printf("%-8s %5s %8s %9s %11s %9s %12s %10s\n", "path", "dim", "msgs", "MB", "msgs/s",
              "MB/s", "msgs/cpu-s", "MB/cpu-s");
  for (int dim : {128, 768}) {
    sim::Scenario s;
    s.collection.name = "bench";
    s.collection.id = 1000 + dim;
    s.collection.dim = dim;
    s.inserts = messages;
    s.rows_per_insert = rows;
    s.inserts_per_tick = 10;
    std::string topic = "cdc-bench-" + std::to_string(getpid()) + "-" + std::to_string(dim);
    s.pchannel = topic;
    auto payloads = sim::BuildScenario(s);
    auto producer = sim::KafkaProducer::Create(brokers);
    if (!producer.ok()) return 1;
    for (const auto& p : payloads) {
      if (!producer->Produce(topic, p.bytes).ok()) return 1;
    }
    if (auto st = producer->Flush(120000); !st.ok()) {
      std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
      return 1;
    }
    Print(RawConsume(brokers, topic, dim, payloads.size()));
    Print(ReaderConsume(brokers, topic, dim, payloads.back().ts));
    Print(DecodeOnly(payloads, dim));
  }
  if (!json_path.empty()) {
    FILE* f = std::fopen(json_path.c_str(), "w");
    if (!f) return 1;
    std::fprintf(f, "[\n");
    for (size_t i = 0; i < g_json.size(); ++i)
      std::fprintf(f, " %s%s\n", g_json[i].c_str(), i + 1 < g_json.size() ? "," : "");
    std::fprintf(f, "]\n");
    std::fclose(f);
  }
  return 0;
}
