// bench_loadgen: the source and the target of the lag / scale / backlog benchmarks in one
// process, driven over a small HTTP API by bench/lag/lag.py and bench/scale/scale.py.
//   - writes N collections (Milvus 2.3 catalog keys) into the source etcd, spread over up to
//     16 physical channels as Milvus's dmlChannelNum does;
//   - StreamProducer: paced Inserts and 200 ms time ticks into Kafka, recording broker acks;
//   - RecordingSink: a gRPC MilvusService target recording each Insert's arrival.
// HTTP (127.0.0.1:ctl-port): GET /stats (JSON), POST
// /produce?rate=&seconds=&count=&from=&collections=, POST /block, POST /unblock, GET /acks and GET
// /arrivals (CSV msg_id,us), POST /clear, POST /quit. Prints one JSON line
// {"sink_port":..,"ctl_port":..} on stdout when ready.
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "etcd/client.h"
#include "lag/recording_sink.h"
#include "lag/stream_producer.h"
#include "source/catalog_types.h"
#include "tools/sim/catalog.h"

namespace {
using cdc::bench::StreamCollection;

cdc::Status WriteCatalog(const std::string& etcd, const std::string& root,
                         const std::vector<StreamCollection>& cols) {
  cdc::etcd::ClientOptions o;
  o.endpoints = {etcd};
  ASSIGN_OR_RETURN(auto client, cdc::etcd::Client::Connect(o));
  cdc::sim::CatalogLayout layout;
  layout.meta_prefix = root + "/meta/";
  // Created an hour ago: "existing" collections, which a new task reads from the latest message.
  const auto now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  const uint64_t create_ts = cdc::sim::ComposeTs(now_ms - 3600 * 1000);
  std::vector<cdc::sim::Kv> kvs = {
      cdc::sim::DatabaseKv(layout, cdc::source::kDefaultDatabaseId, "default", 1)};
  for (const auto& c : cols) {
    auto more =
        cdc::sim::CollectionKvs(layout, c.spec, {c.pchannel}, {0}, c.spec.id + 1, create_ts);
    kvs.insert(kvs.end(), more.begin(), more.end());
  }
  for (size_t i = 0; i < kvs.size(); i += 100) {  // etcd caps a Txn at 128 operations
    std::vector<cdc::etcd::TxnOp> ops;
    for (size_t j = i; j < std::min(kvs.size(), i + 100); ++j)
      ops.push_back(cdc::etcd::TxnOp::Put(kvs[j].first, kvs[j].second));
    ASSIGN_OR_RETURN(auto r, client->Txn({}, ops));
    (void)r;
  }
  return cdc::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"load generator and recording target for milvus-cdc benchmarks"};
  std::string brokers, etcd, root = "by-dev", prefix = "bench_c";
  int collections = 1, pchannels = 16, dim = 128, rows = 100, tick_ms = 200;
  int sink_port = 0, ctl_port = 0;
  int64_t first_collection_id = 440000;
  app.add_option("--brokers", brokers, "Kafka bootstrap servers")->required();
  app.add_option("--etcd", etcd, "source etcd endpoint")->required();
  app.add_option("--root", root, "source Milvus etcd.rootPath");
  app.add_option("--collections", collections, "collections to create");
  app.add_option("--name-prefix", prefix, "collection names are <prefix><i>");
  app.add_option("--pchannels", pchannels, "at most this many DML channels (Milvus: 16)");
  app.add_option("--dim", dim, "float vector dimension");
  app.add_option("--rows", rows, "rows per insert message");
  app.add_option("--tick-ms", tick_ms, "time tick interval per channel (Milvus: 200)");
  app.add_option("--first-collection-id", first_collection_id);
  app.add_option("--sink-port", sink_port, "gRPC port of the recording target (0: free)");
  app.add_option("--ctl-port", ctl_port, "HTTP control port (0: free)");
  CLI11_PARSE(app, argc, argv);

  std::vector<StreamCollection> cols;
  for (int i = 0; i < collections; ++i) {
    StreamCollection c;
    c.spec.name = prefix + std::to_string(i);
    c.spec.id = first_collection_id + i * 10;
    c.spec.dim = dim;
    c.pchannel = root + "-rootcoord-dml_" + std::to_string(i % std::max(1, pchannels));
    c.first_msg_id = int64_t{1000000} * (i + 1);
    cols.push_back(c);
  }
  if (auto s = WriteCatalog(etcd, root, cols); !s.ok()) {
    std::fprintf(stderr, "write catalog: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  auto producer =
      cdc::bench::StreamProducer::Create(brokers, cols, rows, tick_ms, {root + "-replicate-msg"});
  if (!producer.ok()) {
    std::fprintf(stderr, "%s\n", std::string(producer.status().message()).c_str());
    return 1;
  }
  cdc::bench::RecordingSink sink;
  const int bound = sink.Start(sink_port);
  if (bound == 0) {
    std::fprintf(stderr, "recording sink: cannot listen on 127.0.0.1:%d\n", sink_port);
    return 1;
  }

  httplib::Server http;
  using nlohmann::json;
  auto num = [](const httplib::Request& r, const char* k, double d) {
    return r.has_param(k) ? std::stod(r.get_param_value(k)) : d;
  };
  http.Get("/stats", [&](const httplib::Request&, httplib::Response& res) {
    auto s = sink.stats();
    auto p = (*producer)->stats();
    json j = {{"sink",
               {{"replicate_calls", s.replicate_calls},
                {"refused_calls", s.refused_calls},
                {"inserts", s.inserts},
                {"distinct_inserts", s.distinct_inserts},
                {"deletes", s.deletes},
                {"ticks", s.ticks},
                {"bytes", s.bytes},
                {"collections", s.collections}}},
              {"producer",
               {{"running", p.running},
                {"produced", p.produced},
                {"acked", p.acked},
                {"failed", p.failed},
                {"ticks", p.ticks},
                {"bytes", p.bytes},
                {"error", p.error}}}};
    res.set_content(j.dump(), "application/json");
  });
  http.Post("/produce", [&](const httplib::Request& r, httplib::Response& res) {
    cdc::bench::ProduceRun run;
    run.rate = num(r, "rate", 0);
    run.seconds = num(r, "seconds", 0);
    run.count = static_cast<int64_t>(num(r, "count", 0));
    run.first = static_cast<int>(num(r, "from", 0));
    run.collections = static_cast<int>(num(r, "collections", 0));
    auto s = (*producer)->Start(run);
    res.status = s.ok() ? 200 : 409;
    res.set_content(s.ok() ? "started\n" : std::string(s.message()) + "\n", "text/plain");
  });
  http.Post("/block", [&](const httplib::Request&, httplib::Response& res) {
    sink.set_blocked(true);
    res.set_content("blocked\n", "text/plain");
  });
  http.Post("/unblock", [&](const httplib::Request&, httplib::Response& res) {
    sink.set_blocked(false);
    res.set_content("unblocked\n", "text/plain");
  });
  http.Get("/acks", [&](const httplib::Request&, httplib::Response& res) {
    std::string out = "msg_id,us\n";
    for (const auto& a : (*producer)->Acks()) absl::StrAppend(&out, a.msg_id, ",", a.ack_us, "\n");
    res.set_content(out, "text/csv");
  });
  http.Get("/arrivals", [&](const httplib::Request&, httplib::Response& res) {
    std::string out = "msg_id,us\n";
    for (const auto& a : sink.Arrivals()) absl::StrAppend(&out, a.msg_id, ",", a.arrival_us, "\n");
    res.set_content(out, "text/csv");
  });
  http.Post("/clear", [&](const httplib::Request&, httplib::Response& res) {
    (*producer)->ClearAcks();
    sink.ClearArrivals();
    res.set_content("cleared\n", "text/plain");
  });
  http.Post("/quit", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content("bye\n", "text/plain");
    http.stop();
  });
  const int ctl = ctl_port ? (http.bind_to_port("127.0.0.1", ctl_port) ? ctl_port : -1)
                           : http.bind_to_any_port("127.0.0.1");
  if (ctl <= 0) {
    std::fprintf(stderr, "control HTTP: cannot listen on 127.0.0.1:%d\n", ctl_port);
    return 1;
  }
  std::printf("{\"sink_port\": %d, \"ctl_port\": %d}\n", bound, ctl);
  std::fflush(stdout);
  http.listen_after_bind();
  sink.Stop();
  return 0;
}
