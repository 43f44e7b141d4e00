// milvus-source-sim: produces Milvus-format messages into Kafka (and, with the catalog
// subcommand, writes Milvus-format catalog keys into etcd) for tests and benchmarks.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "tools/sim/kafka_producer.h"
#include "tools/sim/scenario.h"

int main(int argc, char** argv) {
  CLI::App app{"Milvus source simulator (Milvus 2.3 wire format)"};
  app.require_subcommand(1);
  auto* produce = app.add_subcommand("produce", "write a scripted channel stream to Kafka");
  std::string brokers = "127.0.0.1:9092";
  cdc::sim::Scenario s;
  s.collection.name = "sim";
  s.collection.id = 100;
  produce->add_option("--brokers", brokers, "Kafka bootstrap servers");
  produce->add_option("--pchannel", s.pchannel, "physical channel (topic)");
  produce->add_option("--collection-id", s.collection.id);
  produce->add_option("--collection-name", s.collection.name);
  produce->add_option("--dim", s.collection.dim, "float vector dimension");
  produce->add_option("--inserts", s.inserts, "number of insert messages");
  produce->add_option("--rows", s.rows_per_insert, "rows per insert");
  produce->add_option("--inserts-per-tick", s.inserts_per_tick);
  produce->add_option("--delete-every", s.delete_every, "a delete after every N inserts");
  produce->add_option("--start-ms", s.start_ms, "physical ms of the first timestamp");
  produce->add_option("--first-msg-id", s.first_msg_id);
  produce->add_option("--first-pk", s.first_pk);
  bool no_create = false;
  produce->add_flag("--no-create", no_create, "skip the CreateCollection message");
  CLI11_PARSE(app, argc, argv);

  s.create_collection = !no_create;
  auto payloads = cdc::sim::BuildScenario(s);
  auto producer = cdc::sim::KafkaProducer::Create(brokers);
  if (!producer.ok()) {
    std::fprintf(stderr, "%s\n", std::string(producer.status().message()).c_str());
    return 1;
  }
  size_t bytes = 0;
  for (const auto& p : payloads) {
    if (auto st = producer->Produce(s.pchannel, p.bytes); !st.ok()) {
      std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
      return 1;
    }
    bytes += p.bytes.size();
  }
  if (auto st = producer->Flush(); !st.ok()) {
    std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
    return 1;
  }
  std::printf("produced %zu messages (%zu bytes) to %s; last ts %llu\n", payloads.size(), bytes,
              s.pchannel.c_str(), static_cast<unsigned long long>(payloads.back().ts));
  return 0;
}
