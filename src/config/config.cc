#include "config/config.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "config/yaml_reader.h"

namespace cdc::config {
namespace {

constexpr int kMaxInt = INT_MAX;

Status ReadEtcd(YamlReader& r, EtcdConfig* e, std::vector<std::string>* warnings) {
  RETURN_IF_ERROR(r.StrList("address", &e->address));
  RETURN_IF_ERROR(r.Str("rootPath", &e->root_path));
  RETURN_IF_ERROR(r.Str("metaSubPath", &e->meta_sub_path));
  RETURN_IF_ERROR(r.Bool("enableAuth", &e->enable_auth));
  RETURN_IF_ERROR(r.Str("username", &e->username));
  RETURN_IF_ERROR(r.Str("password", &e->password, /*secret=*/true));
  RETURN_IF_ERROR(r.Bool("enableTLS", &e->enable_tls));
  RETURN_IF_ERROR(r.Str("tlsCertPath", &e->tls_cert_path));
  RETURN_IF_ERROR(r.Str("tlsKeyPath", &e->tls_key_path));
  RETURN_IF_ERROR(r.Str("tlsCACertPath", &e->tls_ca_cert_path));
  RETURN_IF_ERROR(r.Str("tlsMinVersion", &e->tls_min_version));
  r.CollectUnknown(warnings);
  return OkStatus();
}

// Reads the nested mapping `key` of `parent` with `fn(reader)` if present.
template <typename Fn>
Status WithSub(YamlReader& parent, const char* key, Fn fn) {
  ASSIGN_OR_RETURN(std::optional<YamlReader> sub, parent.Sub(key));
  if (!sub) return OkStatus();
  return fn(*sub);
}

Status ReadMeta(YamlReader& r, MetaStoreConfig* m, std::vector<std::string>* w) {
  RETURN_IF_ERROR(r.Str("storeType", &m->store_type));
  RETURN_IF_ERROR(r.StrList("etcdEndpoints", &m->etcd_endpoints));
  RETURN_IF_ERROR(WithSub(r, "etcd", [&](YamlReader& s) { return ReadEtcd(s, &m->etcd, w); }));
  RETURN_IF_ERROR(r.Str("mysqlSourceUrl", &m->mysql_source_url, /*secret=*/true));
  RETURN_IF_ERROR(r.Str("rootPath", &m->root_path));
  RETURN_IF_ERROR(r.Str("secretKeyFile", &m->secret_key_file));
  RETURN_IF_ERROR(WithSub(r, "sqlite", [&](YamlReader& s) {
    RETURN_IF_ERROR(s.Str("path", &m->sqlite_path));
    s.CollectUnknown(w);
    return OkStatus();
  }));
  r.CollectUnknown(w);
  return OkStatus();
}

Status ReadPulsar(YamlReader& r, PulsarConfig* p, std::vector<std::string>* w) {
  RETURN_IF_ERROR(r.Str("address", &p->address));
  RETURN_IF_ERROR(r.Str("webAddress", &p->web_address));
  RETURN_IF_ERROR(r.Int("webPort", &p->web_port, 0, 65535));
  RETURN_IF_ERROR(r.Str("maxMessageSize", &p->max_message_size));
  RETURN_IF_ERROR(r.Str("tenant", &p->tenant));
  RETURN_IF_ERROR(r.Str("namespace", &p->name_space));
  RETURN_IF_ERROR(r.Str("authPlugin", &p->auth_plugin));
  RETURN_IF_ERROR(r.Str("authParams", &p->auth_params, /*secret=*/true));
  r.CollectUnknown(w);
  return OkStatus();
}

Status ReadKafka(YamlReader& r, KafkaConfig* k, std::vector<std::string>* w) {
  RETURN_IF_ERROR(r.Str("address", &k->address));
  RETURN_IF_ERROR(r.StrMap("producer", &k->producer));
  RETURN_IF_ERROR(r.StrMap("consumer", &k->consumer));
  RETURN_IF_ERROR(r.Str("saslUsername", &k->sasl_username, /*secret=*/true));
  RETURN_IF_ERROR(r.Str("saslPassword", &k->sasl_password, /*secret=*/true));
  RETURN_IF_ERROR(r.Str("saslMechanisms", &k->sasl_mechanisms));
  RETURN_IF_ERROR(r.Str("securityProtocol", &k->security_protocol));
  r.CollectUnknown(w);
  return OkStatus();
}

Status ReadSourceMilvus(YamlReader& r, MilvusSourceConfig* m, std::vector<std::string>* w) {
  RETURN_IF_ERROR(r.Str("uri", &m->uri));
  RETURN_IF_ERROR(r.Str("token", &m->token, /*secret=*/true));
  RETURN_IF_ERROR(r.Int("connect_timeout", &m->connect_timeout, 1, 3600));
  RETURN_IF_ERROR(WithSub(r, "dial_config", [&](YamlReader& d) {
    RETURN_IF_ERROR(d.Str("server_name", &m->server_name));
    RETURN_IF_ERROR(d.Str("server_pem_path", &m->server_pem_path));
    RETURN_IF_ERROR(d.Str("ca_pem_path", &m->ca_pem_path));
    RETURN_IF_ERROR(d.Str("client_pem_path", &m->client_pem_path));
    RETURN_IF_ERROR(d.Str("client_key_path", &m->client_key_path));
    d.CollectUnknown(w);
    return OkStatus();
  }));
  r.CollectUnknown(w);
  if (m->uri.empty() &&
      (!m->token.empty() || !m->server_name.empty() || !m->server_pem_path.empty() ||
       !m->ca_pem_path.empty() || !m->client_pem_path.empty() || !m->client_key_path.empty())) {
    return InvalidArgumentError(
        "config key sourceConfig.milvus.uri is missing or empty; set it to the source Milvus' "
        "proxy, e.g. http://127.0.0.1:19530 (the other sourceConfig.milvus keys need it)");
  }
  return OkStatus();
}

Status ReadSource(YamlReader& r, SourceConfig* s, std::vector<std::string>* w) {
  RETURN_IF_ERROR(r.StrList("etcdAddress", &s->etcd_address));
  RETURN_IF_ERROR(r.Str("etcdRootPath", &s->etcd_root_path));
  RETURN_IF_ERROR(r.Str("etcdMetaSubPath", &s->etcd_meta_sub_path));
  RETURN_IF_ERROR(WithSub(r, "etcd", [&](YamlReader& e) { return ReadEtcd(e, &s->etcd, w); }));
  RETURN_IF_ERROR(r.Int("readChanLen", &s->read_chan_len, 1, 1 << 20));
  RETURN_IF_ERROR(r.Int("readBufferMB", &s->read_buffer_mb, 1, 1 << 20));
  RETURN_IF_ERROR(r.Bool("sharedReaders", &s->shared_readers));
  RETURN_IF_ERROR(r.Int("channelNum", &s->channel_num, 0, 1 << 16));
  RETURN_IF_ERROR(r.Int("timeTickInterval", &s->time_tick_interval, 0, kMaxInt));
  RETURN_IF_ERROR(r.Str("defaultPartitionName", &s->default_partition_name));
  RETURN_IF_ERROR(r.Str("replicateChan", &s->replicate_chan));
  RETURN_IF_ERROR(
      WithSub(r, "pulsar", [&](YamlReader& p) { return ReadPulsar(p, &s->pulsar, w); }));
  RETURN_IF_ERROR(WithSub(r, "kafka", [&](YamlReader& k) { return ReadKafka(k, &s->kafka, w); }));
  RETURN_IF_ERROR(
      WithSub(r, "milvus", [&](YamlReader& m) { return ReadSourceMilvus(m, &s->milvus, w); }));
  r.CollectUnknown(w);
  return OkStatus();
}

Status ReadApi(YamlReader& r, ApiConfig* a, std::vector<std::string>* w) {
  constexpr int kHour = 3600 * 1000;
  RETURN_IF_ERROR(r.Int("headerTimeoutMs", &a->header_timeout_ms, 1, kHour));
  RETURN_IF_ERROR(r.Int("bodyTimeoutMs", &a->body_timeout_ms, 1, kHour));
  RETURN_IF_ERROR(r.Int("idleTimeoutMs", &a->idle_timeout_ms, 1, kHour));
  RETURN_IF_ERROR(r.Int("maxConnections", &a->max_connections, 1, 1 << 20));
  RETURN_IF_ERROR(r.Int("maxBodyBytes", &a->max_body_bytes, 1024, 1 << 30));
  RETURN_IF_ERROR(r.Int("handlerThreads", &a->handler_threads, 1, 256));
  RETURN_IF_ERROR(r.Int("readThreads", &a->read_threads, 1, 256));
  RETURN_IF_ERROR(r.Int("queueLimit", &a->queue_limit, 1, 1 << 20));
  RETURN_IF_ERROR(WithSub(r, "auth", [&](YamlReader& s) {
    RETURN_IF_ERROR(s.StrList("adminTokenHashes", &a->auth.admin_token_hashes));
    RETURN_IF_ERROR(s.StrList("readTokenHashes", &a->auth.read_token_hashes));
    RETURN_IF_ERROR(s.Str("tokenFile", &a->auth.token_file));
    RETURN_IF_ERROR(s.Int("maxFailuresPerMinute", &a->auth.max_failures_per_minute, 1, 1 << 20));
    s.CollectUnknown(w);
    return OkStatus();
  }));
  RETURN_IF_ERROR(WithSub(r, "tls", [&](YamlReader& s) {
    RETURN_IF_ERROR(s.Str("certPath", &a->tls.cert_path));
    RETURN_IF_ERROR(s.Str("keyPath", &a->tls.key_path));
    s.CollectUnknown(w);
    return OkStatus();
  }));
  r.CollectUnknown(w);
  return OkStatus();
}

// A token hash must be 64 hex characters; stored lower-case.
Status ValidateHashes(std::vector<std::string>& hashes, const std::string& key) {
  for (auto& h : hashes) {
    for (auto& ch : h) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (h.size() != 64 || h.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return InvalidArgumentError("config key " + key +
                                  ": an entry is not a sha256 hex digest (64 characters 0-9a-f); "
                                  "compute it with: printf %s \"$TOKEN\" | sha256sum");
    }
  }
  return OkStatus();
}

Status ValidateApi(ApiConfig& a) {
  RETURN_IF_ERROR(ValidateHashes(a.auth.admin_token_hashes, "api.auth.adminTokenHashes"));
  RETURN_IF_ERROR(ValidateHashes(a.auth.read_token_hashes, "api.auth.readTokenHashes"));
  if (a.tls.cert_path.empty() != a.tls.key_path.empty()) {
    return InvalidArgumentError(
        "config keys api.tls.certPath and api.tls.keyPath: set both (HTTPS) or neither (HTTP)");
  }
  return OkStatus();
}

Status ReadTop(YamlReader& r, Config* c) {
  auto* w = &c->warnings;
  RETURN_IF_ERROR(r.Str("address", &c->address));
  RETURN_IF_ERROR(r.Int("maxTaskNum", &c->max_task_num, 0, kMaxInt));
  RETURN_IF_ERROR(r.Int("maxNameLength", &c->max_name_length, 0, kMaxInt));
  RETURN_IF_ERROR(r.Str("logLevel", &c->log_level));
  RETURN_IF_ERROR(r.Bool("detectDeadLock", &c->detect_dead_lock));
  RETURN_IF_ERROR(r.Bool("batchMode", &c->batch_mode));
  RETURN_IF_ERROR(r.Str("replicateID", &c->replicate_id));
  RETURN_IF_ERROR(r.Bool("dryRun", &c->dry_run));
  RETURN_IF_ERROR(r.Bool("enableReverse", &c->enable_reverse));
  r.Ignore("reverseMilvus");  // deprecated upstream, never used
  r.Ignore("currentMilvus");  // deprecated upstream, never used
  RETURN_IF_ERROR(WithSub(r, "retry", [&](YamlReader& s) {
    RETURN_IF_ERROR(s.Int("retryTimes", &c->retry.retry_times, 0, kMaxInt));
    RETURN_IF_ERROR(s.Int("initBackOff", &c->retry.init_back_off, 0, kMaxInt));
    RETURN_IF_ERROR(s.Int("maxBackOff", &c->retry.max_back_off, 0, kMaxInt));
    s.CollectUnknown(w);
    return OkStatus();
  }));
  RETURN_IF_ERROR(WithSub(r, "packer", [&](YamlReader& s) {
    RETURN_IF_ERROR(s.Int("timerInterval", &c->packer.timer_interval, 0, kMaxInt));
    RETURN_IF_ERROR(s.Int("maxCount", &c->packer.max_count, 0, kMaxInt));
    RETURN_IF_ERROR(s.Int("maxMsgSize", &c->packer.max_msg_size, 0, kMaxInt));
    RETURN_IF_ERROR(s.Int("memoryLimit", &c->packer.memory_limit, 0, kMaxInt));
    s.CollectUnknown(w);
    return OkStatus();
  }));
  RETURN_IF_ERROR(
      WithSub(r, "metaStoreConfig", [&](YamlReader& s) { return ReadMeta(s, &c->meta_store, w); }));
  RETURN_IF_ERROR(
      WithSub(r, "sourceConfig", [&](YamlReader& s) { return ReadSource(s, &c->source, w); }));
  RETURN_IF_ERROR(WithSub(r, "api", [&](YamlReader& s) { return ReadApi(s, &c->api, w); }));
  RETURN_IF_ERROR(WithSub(r, "initialSync", [&](YamlReader& s) {
    RETURN_IF_ERROR(s.Str("way", &c->initial_sync.way));
    RETURN_IF_ERROR(s.Int("queryBatchRows", &c->initial_sync.query_batch_rows, 1, 16384));
    RETURN_IF_ERROR(
        s.Int("queryRowsPerSecond", &c->initial_sync.query_rows_per_second, 0, 100000000));
    s.CollectUnknown(w);
    return OkStatus();
  }));
  RETURN_IF_ERROR(WithSub(r, "ha", [&](YamlReader& s) {
    RETURN_IF_ERROR(s.Str("serverId", &c->ha.server_id));
    RETURN_IF_ERROR(s.Int("leaseTTLSeconds", &c->ha.lease_ttl_seconds, 2, 300));
    RETURN_IF_ERROR(s.Int("pollIntervalMs", &c->ha.poll_interval_ms, 100, 60000));
    RETURN_IF_ERROR(s.Int("drainTimeoutSeconds", &c->ha.drain_timeout_seconds, 0, 600));
    s.CollectUnknown(w);
    return OkStatus();
  }));
  RETURN_IF_ERROR(WithSub(r, "coalesce", [&](YamlReader& s) {
    RETURN_IF_ERROR(s.Bool("enabled", &c->coalesce.enabled));
    // Below 64 KiB little is merged; above 16 MiB one message would fill a ReplicateMessage.
    RETURN_IF_ERROR(s.Int("maxMessageBytes", &c->coalesce.max_message_bytes, 64 << 10, 16 << 20));
    s.CollectUnknown(w);
    return OkStatus();
  }));
  r.CollectUnknown(w);
  return OkStatus();
}

// user:pass@tcp(host:port)/db?params, the Go MySQL driver's form (checked by hand: std::regex
// recursed once per character and overflowed the stack on a long value).
bool IsMysqlDsn(std::string_view dsn) {
  const size_t at = dsn.find('@');
  if (at == dsn.npos || dsn.substr(at, 5) != "@tcp(") return false;
  const size_t close = dsn.find(')', at + 5);
  if (close == dsn.npos) return false;
  const std::string_view addr = dsn.substr(at + 5, close - at - 5);
  const size_t colon = addr.rfind(':');
  if (colon == addr.npos || colon == 0 || colon + 1 == addr.size() ||
      addr.find_first_not_of("0123456789", colon + 1) != addr.npos) {
    return false;
  }
  const std::string_view rest = dsn.substr(close + 1);
  const size_t q = rest.find('?');
  const std::string_view db = rest.substr(0, q);
  return db.size() > 1 && db[0] == '/' && db.find('/', 1) == db.npos;
}

Status Required(const std::string& value, const std::string& key, const std::string& what) {
  if (!value.empty()) return OkStatus();
  return InvalidArgumentError("config key " + key + " is missing or empty; set it to " + what);
}

Status Validate(Config& c) {
  if (c.initial_sync.way != "auto" && c.initial_sync.way != "query") {
    return InvalidArgumentError("config key initialSync.way: got '" + c.initial_sync.way +
                                "', expected auto (replay from the source's queue where it "
                                "still holds a collection) or query");
  }
  // address: host:port.
  if (c.ListenPort() <= 0) {
    return InvalidArgumentError("config key address: got '" + c.address +
                                "', expected host:port with a port from 1 to 65535, e.g. "
                                "0.0.0.0:8444");
  }
  static const char* kLevels[] = {"debug", "info",   "warn",  "warning",
                                  "error", "dpanic", "panic", "fatal"};
  std::string lvl = c.log_level;
  for (auto& ch : lvl) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  bool ok_level = lvl.empty();
  for (const char* l : kLevels) ok_level = ok_level || lvl == l;
  if (!ok_level) {
    return InvalidArgumentError("config key logLevel: got '" + c.log_level +
                                "', expected one of debug, info, warn, error, dpanic, panic, "
                                "fatal");
  }
  if (c.max_name_length == 0) c.max_name_length = 256;  // upstream: 0 means 256

  auto& m = c.meta_store;
  std::string type = m.store_type;
  for (auto& ch : type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (type != "sqlite" && type != "etcd" && type != "mysql" && type != "memory") {
    return InvalidArgumentError("config key metaStoreConfig.storeType: got '" + m.store_type +
                                "', expected one of sqlite, etcd, mysql, memory");
  }
  m.store_type = type;
  if (type == "sqlite") {
    RETURN_IF_ERROR(Required(m.sqlite_path, "metaStoreConfig.sqlite.path",
                             "the SQLite database file, e.g. data/cdc-meta.db"));
  } else if (type == "etcd") {
    if (m.EffectiveEtcd().address.empty()) {
      return InvalidArgumentError(
          "config key metaStoreConfig.etcd.address is missing or empty; storeType etcd needs at "
          "least one endpoint, e.g. [http://127.0.0.1:2379]");
    }
  } else {
    RETURN_IF_ERROR(Required(m.mysql_source_url, "metaStoreConfig.mysqlSourceUrl",
                             "user:pass@tcp(host:port)/db?charset=utf8"));
    if (!IsMysqlDsn(m.mysql_source_url)) {
      // The value may hold a password: never echo it.
      return InvalidArgumentError(
          "config key metaStoreConfig.mysqlSourceUrl: the value (hidden, it may hold a password) "
          "is not of the form user:pass@tcp(host:port)/db?charset=utf8");
    }
  }
  RETURN_IF_ERROR(Required(c.source.replicate_chan, "sourceConfig.replicateChan",
                           "the source's replicate channel, "
                           "{msgChannel.chanNamePrefix.cluster}-replicate-msg, e.g. "
                           "by-dev-replicate-msg"));
  return ValidateApi(c.api);
}

}  // namespace

EtcdConfig MetaStoreConfig::EffectiveEtcd() const {
  if (!etcd_endpoints.empty()) {
    EtcdConfig e;
    e.address = etcd_endpoints;
    return e;
  }
  return etcd;
}

EtcdConfig SourceConfig::EffectiveEtcd() const {
  if (!etcd_address.empty()) {
    EtcdConfig e;
    e.address = etcd_address;
    e.root_path = etcd_root_path;
    e.meta_sub_path = etcd_meta_sub_path;
    return e;
  }
  return etcd;
}

std::string Config::ListenHost() const {
  auto pos = address.rfind(':');
  std::string host = pos == std::string::npos ? address : address.substr(0, pos);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // [::1]:8444
  }
  return host.empty() ? "0.0.0.0" : host;  // ":8444" means every interface, as in Go
}

int Config::ListenPort() const {
  auto pos = address.rfind(':');
  if (pos == std::string::npos || pos + 1 >= address.size()) return -1;
  std::string p = address.substr(pos + 1);
  if (p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return -1;
  int port = std::stoi(p);
  return port >= 1 && port <= 65535 ? port : -1;
}

Result<Config> LoadString(const std::string& yaml, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("parse config " + origin + ": " + e.what() +
                                "; fix the YAML syntax");
  }
  Config c;
  c.source.etcd.address = {"127.0.0.1:2379"};
  c.source.etcd.root_path = "by-dev";
  c.source.etcd.meta_sub_path = "meta";
  auto reader = YamlReader::Open(root, "");
  if (!reader.ok()) return Annotate(reader.status(), "load config " + origin);
  RETURN_IF_ERROR(Annotate(ReadTop(*reader, &c), "load config " + origin));
  RETURN_IF_ERROR(Annotate(Validate(c), "load config " + origin));
  return c;
}

Result<Config> LoadFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return InvalidArgumentError("read config file " + path +
                                ": is a directory; pass a YAML file with --config");
  }
  std::ifstream in(path);
  if (!in) {
    return InvalidArgumentError("read config file " + path + ": " + std::strerror(errno) +
                                "; pass an existing file with --config");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    return InvalidArgumentError("read config file " + path + ": " + std::strerror(errno));
  }
  return LoadString(ss.str(), path);
}

}  // namespace cdc::config
