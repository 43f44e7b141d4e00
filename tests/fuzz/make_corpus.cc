// make_corpus: writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/) from
// the golden captures of a real Milvus (tests/data/golden), the sample config and a few
// hand-written requests. Deterministic: the same inputs give the same files.
//
//   make_corpus <repo root> <output dir>
//
// Exit 1 naming the file when an input cannot be read or an output cannot be written.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "fuzz/fuzz_util.h"
#include "nlohmann/json.hpp"
#include "pulsar/entry.h"
#include "pulsar/frame.h"
#include "source/message.h"
#include "source/position.h"
#include "source/pulsar_id.h"
#include "task/task_json.h"

namespace {

namespace fs = std::filesystem;
namespace cp = cdc::pulsar;
using json = nlohmann::json;
using cdc::fuzz::AppendRecord;
using cdc::fuzz::AppendU64;

[[noreturn]] void Fail(const std::string& what) {
  std::cerr << "make_corpus: " << what << "\n";
  std::exit(1);
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) Fail("cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json ReadJson(const fs::path& p) {
  json j = json::parse(ReadFile(p), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) Fail(p.string() + " is not JSON");
  return j;
}

std::string Unbase64(const json& v) {
  std::string out;
  if (v.is_string() && !absl::Base64Unescape(v.get<std::string>(), &out)) {
    Fail("bad base64 in the golden data");
  }
  return out;
}

class Writer {
 public:
  explicit Writer(fs::path root) : root_(std::move(root)) {}
  void Put(const std::string& target, const std::string& name, const std::string& bytes) {
    fs::path dir = root_ / target;
    std::error_code ec;
    fs::create_directories(dir, ec);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out << bytes;
    if (!out) Fail("cannot write " + (dir / name).string());
    ++count_[target];
  }
  void Summary() const {
    for (const auto& [target, n] : count_) std::cout << target << ": " << n << " seeds\n";
  }

 private:
  fs::path root_;
  std::map<std::string, int> count_;
};

// ---- http_request: request bodies, NUL-separated ----------------------------------------------

void HttpSeeds(Writer& w) {
  const std::string create = R"({"request_type":"create","request_data":{
    "milvus_connect_param":{"uri":"http://target:19530","token":"root:Milvus","connect_timeout":5,
      "channel_num":16,"ignore_partition":false,"dial_config":{"server_name":"t"}},
    "collection_infos":[{"name":"*"}],"rpc_channel_info":{"name":"by-dev-replicate-msg"},
    "task_id":"fuzz1"}})";
  w.Put("http_request", "create", create);
  w.Put("http_request", "create-db-collections",
        R"({"request_type":"create","request_data":{"milvus_connect_param":{"host":"t","port":19530,
        "username":"root","password":"p","enable_tls":true},
        "db_collections":{"db1":[{"name":"c1","positions":{"ch":"AQID"},"use_start_position":true}],
        "*":[{"name":"*"}]},"name_mapping":[{"source_db":"db1","target_db":"db2",
        "collection_mapping":{"c1":"c2"}}],"extra_info":{"enable_user_role":false},
        "buffer_config":{"period":10,"size":100},"disable_auto_start":true,
        "positions":{"by-dev-rootcoord-dml_0":"AAAAAAAAAAA="}}})");
  w.Put("http_request", "create-kafka",
        R"({"request_type":"create","request_data":{"kafka_connect_param":{"address":"k:9092",
        "topic":"t","enable_sasl":true,"sasl":{"username":"u","password":"p",
        "mechanisms":"PLAIN","security_protocol":"SASL_SSL"}},"collection_infos":[{"name":"c"}]}})");
  std::string lifecycle = create;
  for (const char* type : {"get", "pause", "resume", "position", "list"}) {
    lifecycle += std::string(1, '\0') + R"({"request_type":")" + type +
                 R"(","request_data":{"task_id":"fuzz1"}})";
  }
  lifecycle +=
      std::string(1, '\0') +
      R"({"request_type":"delete","request_data":{"task_id":"fuzz1","ignore_not_found":true}})";
  w.Put("http_request", "lifecycle", lifecycle);
  w.Put("http_request", "list", R"({"request_type":"list"})");
  w.Put(
      "http_request", "maintenance-log-level",
      R"({"request_type":"maintenance","request_data":{"operation":"set_log_level","params":{"log_level":"debug"}}})");
  w.Put(
      "http_request", "maintenance-reset",
      R"({"request_type":"maintenance","request_data":{"operation":"reset_log_msg","params":{"count":10,"duration":5}}})");
  w.Put(
      "http_request", "maintenance-force",
      R"({"request_type":"maintenance","request_data":{"operation":"set_force_log_msg","params":{"force":true}}})");
  w.Put(
      "http_request", "maintenance-numbers",
      R"({"request_type":"maintenance","request_data":{"operation":"reset_log_msg","params":{"count":1.5e3,"duration":-1E300}}})");
  w.Put("http_request", "bad-type", R"({"request_type":7,"request_data":[]})");
  w.Put("http_request", "bad-json", R"({"request_type":"get",)");
}

// ---- stored_task: task documents as the meta store keeps them ---------------------------------

void StoredTaskSeeds(Writer& w) {
  cdc::task::TaskInfo t;
  t.task_id = "0123456789abcdef";
  t.milvus.uri = "https://target:19530";
  t.milvus.token = "root:Milvus";
  t.milvus.dial_config.ca_pem_path = "/ca.pem";
  t.milvus.connect_timeout = 5;
  t.collection_infos = {{"*", {}, false}};
  t.rpc_channel = {"by-dev-replicate-msg", ""};
  t.state = 1;
  t.create_time_ms = t.state_time_ms = 1700000000000;
  w.Put("stored_task", "running", cdc::task::ToStoredJson(t).dump());
  t.collection_infos.clear();
  t.db_collections = {{"db1", {{"c1", {{"ch", "AQID"}}, true}}}};
  t.name_mapping = {{"db1", "db2", {{"c1", "c2"}}}};
  t.kafka.address = "k:9092";
  t.kafka.sasl.username = "u";
  t.exclude_collections = {"db1.c3"};
  t.state = 2;
  t.reason = "manually pause through http interface";
  w.Put("stored_task", "paused-db-collections", cdc::task::ToStoredJson(t).dump());
  w.Put("stored_task", "numbers",
        R"({"TaskID":"a","State":1.0,"CreateTime":1.7e12,"StateTime":-1E300,)"
        R"("WriterCacheConfig":{"period":2147483647,"size":-2147483648}})");
}

// ---- milvus_message and pulsar_frame: the golden Kafka records --------------------------------

struct Record {
  std::string type;
  std::string value;
};

std::vector<Record> Records(const fs::path& file) {
  std::vector<Record> out;
  for (const auto& r : ReadJson(file)) {
    out.push_back({r.value("msg_type", ""), Unbase64(r["value"])});
  }
  return out;
}

std::string Messages(uint8_t options, const std::vector<Record>& records, uint64_t resume_ts = 0,
                     uint64_t ignored = 0) {
  std::string out(1, static_cast<char>(options));
  if (options & 1) AppendU64(&out, resume_ts);
  if (options & 2) AppendU64(&out, ignored);
  for (const auto& r : records) AppendRecord(&out, r.value);
  return out;
}

void MessageSeeds(Writer& w, const std::vector<Record>& dml, const std::vector<Record>& rep) {
  w.Put("milvus_message", "dml-channel", Messages(0, dml));
  w.Put("milvus_message", "replicate-channel", Messages(4, rep));
  // Resumed at the fifth tick, and with the golden collection filtered out.
  uint64_t tick_ts = 0;
  int ticks = 0;
  int64_t collection = 0;
  for (const auto& r : dml) {
    auto h = cdc::source::DecodeHeader(r.value);
    if (!h.ok()) Fail("a golden record does not decode: " + h.status().ToString());
    if (r.type == "TimeTick" && ++ticks == 5) tick_ts = h->timestamp;
    if (h->collection_id != 0) collection = h->collection_id;
  }
  w.Put("milvus_message", "dml-resumed", Messages(1, dml, tick_ts));
  w.Put("milvus_message", "dml-filtered", Messages(2, dml, 0, static_cast<uint64_t>(collection)));
  std::set<std::string> seen;
  for (const auto& r : dml) {
    if (seen.insert(r.type).second) w.Put("milvus_message", "one-" + r.type, Messages(0, {r}));
  }
}

cp::proto::BaseCommand MessageCommand(uint64_t entry) {
  cp::proto::BaseCommand c;
  c.set_type(cp::proto::BaseCommand::MESSAGE);
  c.mutable_message()->set_consumer_id(1);
  c.mutable_message()->mutable_message_id()->set_ledgerid(10);
  c.mutable_message()->mutable_message_id()->set_entryid(entry);
  return c;
}

cp::proto::MessageMetadata Metadata(uint64_t seq) {
  cp::proto::MessageMetadata md;
  md.set_producer_name("milvus");
  md.set_sequence_id(seq);
  md.set_publish_time(1795618760000);
  return md;
}

std::string Frame(const cp::proto::BaseCommand& cmd) { return cp::EncodeCommand(cmd); }

// A payload frame in the layout from before checksums (no 0x0e01 magic and CRC), which brokers
// may still send: mutations of its metadata and payload are not hidden behind a checksum
// mismatch, so the fuzzer reaches UnpackEntry with them.
std::string FrameWithoutChecksum(const cp::proto::BaseCommand& cmd,
                                 const cp::proto::MessageMetadata& md, std::string_view payload) {
  const std::string c = cmd.SerializeAsString();
  const std::string m = md.SerializeAsString();
  std::string out;
  cp::AppendBe32(&out, static_cast<uint32_t>(4 + c.size() + 4 + m.size() + payload.size()));
  cp::AppendBe32(&out, static_cast<uint32_t>(c.size()));
  out += c;
  cp::AppendBe32(&out, static_cast<uint32_t>(m.size()));
  out += m;
  out.append(payload);
  return out;
}

void PulsarSeeds(Writer& w, const std::vector<Record>& dml) {
  // A consumer's view of the DML channel: CONNECTED, then one MESSAGE frame per record.
  cp::proto::BaseCommand connected;
  connected.set_type(cp::proto::BaseCommand::CONNECTED);
  connected.mutable_connected()->set_server_version("Pulsar Server3.0");
  connected.mutable_connected()->set_protocol_version(19);
  connected.mutable_connected()->set_max_message_size(5 << 20);
  std::string stream = Frame(connected);
  for (size_t i = 0; i < dml.size() && i < 12; ++i) {
    stream += cp::EncodePayloadCommand(MessageCommand(i), Metadata(i), dml[i].value);
  }
  w.Put("pulsar_frame", "dml-stream", stream);
  // One batch of the first records, in each compression.
  std::vector<std::string_view> batch;
  for (size_t i = 0; i < dml.size() && batch.size() < 4; ++i) batch.push_back(dml[i].value);
  const std::string packed = cp::PackBatch(batch);
  for (auto type : {cp::proto::NONE, cp::proto::LZ4, cp::proto::ZLIB, cp::proto::ZSTD}) {
    auto body = cp::Compress(type, packed);
    if (!body.ok()) Fail(body.status().ToString());
    auto md = Metadata(100);
    md.set_num_messages_in_batch(static_cast<int32_t>(batch.size()));
    md.set_compression(type);
    md.set_uncompressed_size(static_cast<uint32_t>(packed.size()));
    w.Put("pulsar_frame", "batch-" + cp::proto::CompressionType_Name(type),
          cp::EncodePayloadCommand(MessageCommand(100), md, *body));
    w.Put("pulsar_frame", "batch-" + cp::proto::CompressionType_Name(type) + "-no-checksum",
          FrameWithoutChecksum(MessageCommand(100), md, *body));
  }
  w.Put("pulsar_frame", "one-no-checksum",
        FrameWithoutChecksum(MessageCommand(9), Metadata(9), dml[0].value));
  // Corrupt sizes that once sized allocations (tests/unit/pulsar/frame_test.cc).
  auto huge = Metadata(10);
  huge.set_compression(cp::proto::LZ4);
  huge.set_uncompressed_size(0xffffffffu);
  w.Put("pulsar_frame", "corrupt-uncompressed-size",
        FrameWithoutChecksum(MessageCommand(10), huge, std::string(8, '\0')));
  huge = Metadata(11);
  huge.set_num_messages_in_batch(0x7fffffff);
  w.Put("pulsar_frame", "corrupt-batch-count",
        FrameWithoutChecksum(MessageCommand(11), huge, std::string(8, '\0')));
  // Broker entry metadata before the checksum, as brokers with entry metadata interceptors
  // send it: [0x0e02][size][BrokerEntryMetadata] is spliced in after the command.
  std::string one = cp::EncodePayloadCommand(MessageCommand(7), Metadata(7), dml[0].value);
  // BrokerEntryMetadata {index: 7} (field 2, varint): our proto subset leaves it out.
  const std::string bem("\x10\x07", 2);
  std::string bem_bytes("\x0e\x02", 2);
  cp::AppendBe32(&bem_bytes, static_cast<uint32_t>(bem.size()));
  bem_bytes += bem;
  const size_t after_cmd = 8 + cp::ReadBe32(one.data() + 4);
  one.insert(after_cmd, bem_bytes);
  std::string total;
  cp::AppendBe32(&total, static_cast<uint32_t>(one.size() - 4));
  one.replace(0, 4, total);
  w.Put("pulsar_frame", "broker-entry-metadata", one);
  // A flipped payload byte: the checksum no longer matches.
  std::string corrupt = cp::EncodePayloadCommand(MessageCommand(8), Metadata(8), dml[0].value);
  corrupt.back() = static_cast<char>(corrupt.back() ^ 0x5a);
  w.Put("pulsar_frame", "bad-checksum", corrupt);
  cp::proto::BaseCommand ping;
  ping.set_type(cp::proto::BaseCommand::PING);
  ping.mutable_ping();
  w.Put("pulsar_frame", "ping", Frame(ping));
}

// ---- position: base64 MsgPositions, Kafka and Pulsar ---------------------------------------

void PositionSeeds(Writer& w, const std::vector<Record>& dml) {
  uint64_t ts = 0;
  for (const auto& r : dml) {
    if (auto h = cdc::source::DecodeHeader(r.value); h.ok() && h->timestamp) ts = h->timestamp;
  }
  w.Put("position", "kafka",
        cdc::source::EncodePosition(cdc::source::KafkaPosition("by-dev-rootcoord-dml_0", 17, ts)));
  cdc::source::MsgPosition p;
  p.set_channel_name("by-dev-rootcoord-dml_0");
  p.set_msgid(cdc::source::EncodePulsarMsgId({10, 7, -1, 2}));
  p.set_msggroup("cdc-task");
  p.set_timestamp(ts);
  w.Put("position", "pulsar", cdc::source::EncodePosition(p));
}

// ---- catalog: the golden etcd watch events and listings ---------------------------------------

constexpr char kMetaPrefix[] = "by-dev/meta/";

// One change record of the catalog target; `last` ends the revision.
void AppendChange(std::string* out, const std::string& key, const std::string& value, bool deleted,
                  bool last, bool snapshot) {
  const bool under = key.rfind(kMetaPrefix, 0) == 0;
  uint8_t flags = (deleted ? 1 : 0) | (under ? 0 : 2) | (last ? 4 : 0) | (snapshot ? 8 : 0);
  out->push_back(static_cast<char>(flags));
  AppendRecord(out, under ? key.substr(sizeof(kMetaPrefix) - 1) : key);
  AppendRecord(out, value);
}

// Root-coord keys only (the rest is not catalog data; a few stay to show they are ignored).
bool KeepKey(const std::string& key, int* others) {
  if (key.find("/meta/root-coord/") != std::string::npos) return true;
  return (*others)++ < 3;
}

void CatalogSeeds(Writer& w, const fs::path& golden) {
  json events = ReadJson(golden / "etcd-events.json")["events"];
  std::string watch;
  int others = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const json& e = events[i];
    const std::string key = Unbase64(e["key"]);
    if (!KeepKey(key, &others)) continue;
    const bool last = i + 1 == events.size() || events[i + 1]["mod_revision"] != e["mod_revision"];
    AppendChange(&watch, key, Unbase64(e["value"]), e["type"] == "DELETE", last, false);
  }
  w.Put("catalog", "watch-events", watch);
  for (const char* name : {"etcd-before-drops", "etcd-final"}) {
    json kvs = ReadJson(golden / (std::string(name) + ".json"))["kvs"];
    std::string snapshot;
    others = 0;
    for (const auto& kv : kvs) {
      const std::string key = Unbase64(kv["key"]);
      if (KeepKey(key, &others))
        AppendChange(&snapshot, key, Unbase64(kv["value"]), false, false, true);
    }
    w.Put("catalog", std::string("snapshot-") + name, snapshot);
  }
}

// ---- config ------------------------------------------------------------------------------------

void ConfigSeeds(Writer& w, const fs::path& root) {
  w.Put("config", "cdc.yaml", ReadFile(root / "configs" / "cdc.yaml"));
  w.Put("config", "etcd-pulsar.yaml", R"(address: "[::1]:8444"
LogLevel: DEBUG
metaStoreConfig:
  storeType: ETCD
  etcdEndpoints: http://127.0.0.1:2379
  rootPath: cdc
sourceConfig:
  etcdAddress: [http://a:2379, http://b:2379]
  etcdRootPath: by-dev
  etcdMetaSubPath: meta
  readBufferMB: 64
  channelNum: 16
  replicateChan: by-dev-replicate-msg
  pulsar:
    address: pulsar+ssl://localhost:6651
    webAddress: localhost
    webPort: 8080
    maxMessageSize: 5242880
    tenant: public
    namespace: default
    authPlugin: token
    authParams: "token:secret"
packer: {timerInterval: 1000, maxCount: 5, maxMsgSize: 1024, memoryLimit: 64}
currentMilvus: {}
)");
  w.Put("config", "mysql-kafka.yaml", R"(address: ":8444"
metaStoreConfig:
  storeType: mysql
  mysqlSourceUrl: root:root@tcp(127.0.0.1:3306)/milvuscdc?charset=utf8
sourceConfig:
  replicateChan: by-dev-replicate-msg
  kafka:
    address: 127.0.0.1:9092
    consumer: {fetch.max.bytes: "1048576"}
    saslUsername: u
    saslPassword: p
    saslMechanisms: PLAIN
    securityProtocol: SASL_PLAINTEXT
unknownKey: 1
)");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) Fail("usage: make_corpus <repo root> <output dir>");
  const fs::path root = argv[1];
  const fs::path golden = root / "tests" / "data" / "golden";
  Writer w(argv[2]);
  HttpSeeds(w);
  StoredTaskSeeds(w);
  auto dml = Records(golden / "kafka-dml.json");
  auto rep = Records(golden / "kafka-replicate.json");
  if (dml.empty() || rep.empty()) Fail("no records in " + golden.string());
  MessageSeeds(w, dml, rep);
  PulsarSeeds(w, dml);
  PositionSeeds(w, dml);
  CatalogSeeds(w, golden);
  ConfigSeeds(w, root);
  w.Summary();
  return 0;
}
