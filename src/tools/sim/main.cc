// milvus-source-sim: produces Milvus-format messages into Kafka (and, with the catalog
// subcommand, writes Milvus-format catalog keys into etcd) for tests and benchmarks.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "etcd/client.h"
#include "source/catalog_types.h"
#include "tools/sim/catalog.h"
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
  auto* catalog = app.add_subcommand(
      "catalog", "write a database and a collection into etcd, as Milvus's root-coord does");
  std::string etcd_ep = "127.0.0.1:2379", root = "by-dev", db_name = "default";
  int64_t partition_id = 0, start_offset = 0;
  uint64_t create_ts = cdc::sim::ComposeTs(1700000000000);
  catalog->add_option("--etcd", etcd_ep, "etcd endpoint");
  catalog->add_option("--root", root, "Milvus etcd.rootPath (meta under {root}/meta/)");
  catalog->add_option("--db-id", s.collection.db_id);
  catalog->add_option("--db-name", db_name);
  catalog->add_option("--pchannel", s.pchannel);
  catalog->add_option("--collection-id", s.collection.id);
  catalog->add_option("--collection-name", s.collection.name);
  catalog->add_option("--dim", s.collection.dim);
  catalog->add_option("--partition-id", partition_id, "default partition id (collection id + 1)");
  catalog->add_option("--start-offset", start_offset,
                      "Kafka offset of the collection's CreateCollection message");
  catalog->add_option("--create-ts", create_ts, "hybrid create timestamp");
  CLI11_PARSE(app, argc, argv);

  if (catalog->parsed()) {
    cdc::etcd::ClientOptions o;
    o.endpoints = {etcd_ep};
    auto client = cdc::etcd::Client::Connect(o);
    if (!client.ok()) {
      std::fprintf(stderr, "%s\n", std::string(client.status().message()).c_str());
      return 1;
    }
    cdc::sim::CatalogLayout layout;
    layout.meta_prefix = root + "/meta/";
    s.collection.db_name = db_name;
    std::vector<cdc::sim::Kv> kvs = {
        cdc::sim::DatabaseKv(layout, cdc::source::kDefaultDatabaseId, "default", 1)};
    if (s.collection.db_id != cdc::source::kDefaultDatabaseId) {
      kvs.push_back(cdc::sim::DatabaseKv(layout, s.collection.db_id, db_name, 2));
    }
    auto coll =
        cdc::sim::CollectionKvs(layout, s.collection, {s.pchannel}, {start_offset},
                                partition_id ? partition_id : s.collection.id + 1, create_ts);
    kvs.insert(kvs.end(), coll.begin(), coll.end());
    std::vector<cdc::etcd::TxnOp> ops;
    for (const auto& [k, v] : kvs) ops.push_back(cdc::etcd::TxnOp::Put(k, v));
    auto r = (*client)->Txn({}, ops);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", std::string(r.status().message()).c_str());
      return 1;
    }
    std::printf("wrote %zu catalog keys under %s at revision %lld\n", kvs.size(),
                layout.Root().c_str(), static_cast<long long>(r->revision));
    return 0;
  }

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
