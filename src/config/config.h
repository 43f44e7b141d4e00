#pragma once
// config::Config: everything cdc.yaml can say, with the upstream key names (zilliztech/milvus-cdc
// server/configs/cdc.yaml and server/config.go). Keys are matched case-insensitively, as the Go
// server does. Each field documents its key and its default.
//
// Loading never throws: LoadFile/LoadString return a Status naming the key, the value and what
// is allowed. Unknown keys are not errors; they are returned in Config::warnings.
// Secrets (passwords, SASL credentials) are never put into messages or warnings.
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace cdc::config {

// metaStoreConfig.etcd and sourceConfig.etcd (upstream core/config/etcd.go).
struct EtcdConfig {
  std::vector<std::string> address;  // address: endpoints, e.g. http://127.0.0.1:2379
  std::string root_path;             // rootPath
  std::string meta_sub_path;         // metaSubPath
  bool enable_auth = false;          // enableAuth
  std::string username;              // username
  std::string password;              // password (secret)
  bool enable_tls = false;           // enableTLS
  std::string tls_cert_path;         // tlsCertPath
  std::string tls_key_path;          // tlsKeyPath
  std::string tls_ca_cert_path;      // tlsCACertPath
  std::string tls_min_version;       // tlsMinVersion, e.g. "1.3"
};

// sourceConfig.pulsar (upstream core/config/mq.go).
struct PulsarConfig {
  std::string address;           // address, e.g. pulsar://localhost:6650. Set = use Pulsar.
  std::string web_address;       // webAddress
  int web_port = 0;              // webPort
  std::string max_message_size;  // maxMessageSize (bytes, kept as text like upstream)
  std::string tenant;            // tenant
  std::string name_space;        // namespace
  std::string auth_plugin;       // authPlugin
  std::string auth_params;       // authParams "k:v,k2:v2" (secret)
};

// sourceConfig.kafka.
struct KafkaConfig {
  std::string address;                          // address, e.g. 127.0.0.1:9092
  std::map<std::string, std::string> producer;  // producer: raw librdkafka keys
  std::map<std::string, std::string> consumer;  // consumer: raw librdkafka keys
  std::string sasl_username;                    // saslUsername (secret)
  std::string sasl_password;                    // saslPassword (secret)
  std::string sasl_mechanisms;                  // saslMechanisms
  std::string security_protocol;                // securityProtocol
};

// retry: seconds. If any is 0 the upstream fallback applies (17280 attempts, 1 s, 10 s max).
struct RetryConfig {
  int retry_times = 0;    // retryTimes
  int init_back_off = 0;  // initBackOff
  int max_back_off = 0;   // maxBackOff
};

// packer (upstream server/msgpacker).
struct PackerConfig {
  int timer_interval = 5000;      // timerInterval, ms
  int max_count = 10;             // maxCount
  int max_msg_size = 512 * 1024;  // maxMsgSize, bytes
  int memory_limit = 4096;        // memoryLimit, MB
};

// api.auth (ours): bearer tokens for the HTTP API. Off while no token hash is configured.
// Hashes are lower-case sha256 hex of the token (`printf %s "$TOKEN" | sha256sum`).
struct ApiAuthConfig {
  std::vector<std::string> admin_token_hashes;  // adminTokenHashes: every request
  std::vector<std::string> read_token_hashes;   // readTokenHashes: get, list, position, metrics
  std::string token_file;  // tokenFile: lines "admin <hash>" / "read <hash>", '#' comments
  int max_failures_per_minute = 10;  // maxFailuresPerMinute: per client IP, then 429 for 60 s
};

// api.tls (ours): HTTPS for the API when both paths are set (TLS 1.2 or newer).
struct ApiTlsConfig {
  std::string cert_path;  // certPath: PEM certificate chain
  std::string key_path;   // keyPath: PEM private key
};

// api (ours): limits of the HTTP listener (see docs/api.md "Limits").
struct ApiConfig {
  int header_timeout_ms = 10000;  // headerTimeoutMs: request line + headers (and TLS
                                  // handshake) of a request must arrive within it
  int body_timeout_ms = 30000;    // bodyTimeoutMs: the body after the headers; also
                                  // the time to send an answer
  int idle_timeout_ms = 60000;    // idleTimeoutMs: a kept-alive connection without a request
  int max_connections = 1024;     // maxConnections: more are answered 503 and closed
  int max_body_bytes = 16 << 20;  // maxBodyBytes: larger bodies are answered 413
  int handler_threads = 4;        // handlerThreads: create, delete, pause, resume
  int read_threads = 2;           // readThreads: parsing, get, list, position, metrics, ...
  int queue_limit = 256;          // queueLimit: waiting requests per pool, then 503
  ApiAuthConfig auth;             // auth
  ApiTlsConfig tls;               // tls
};

struct MetaStoreConfig {
  std::string store_type = "sqlite";  // storeType: sqlite | etcd | mysql (| memory: tests)
  std::string sqlite_path = "data/cdc-meta.db";  // sqlite.path (ours)
  EtcdConfig etcd;                               // etcd
  std::vector<std::string> etcd_endpoints;  // etcdEndpoints (deprecated: wins over etcd.address)
  std::string mysql_source_url;          // mysqlSourceUrl: user:pass@tcp(host:port)/db?charset=utf8
  std::string root_path = "cdc-by-dev";  // rootPath: key prefix isolating servers sharing a store
  // secretKeyFile (ours): a file with a 256-bit key (64 hex characters). Set = target tokens,
  // passwords and Kafka SASL credentials in stored tasks are encrypted (AES-256-GCM); unset =
  // plain upstream JSON. See docs/security.md.
  std::string secret_key_file;

  // etcd settings after the deprecated etcdEndpoints fallback (upstream
  // GetEtcdServerConfigFromMetaConfig).
  EtcdConfig EffectiveEtcd() const;
};

// sourceConfig.milvus (ours): the source Milvus' proxy, which verify (and initial sync) query.
// The same keys as a task's milvus_connect_param. Optional: without `uri` nothing queries the
// source and verify answers that it needs this section.
struct MilvusSourceConfig {
  std::string uri;              // uri: http://host:port, https://host:port or host:port
  std::string token;            // token (secret): user:password or an API key
  int connect_timeout = 10;     // connect_timeout: seconds to wait for the connection
  std::string server_name;      // dial_config.server_name
  std::string server_pem_path;  // dial_config.server_pem_path
  std::string ca_pem_path;      // dial_config.ca_pem_path
  std::string client_pem_path;  // dial_config.client_pem_path
  std::string client_key_path;  // dial_config.client_key_path

  bool Configured() const { return !uri.empty(); }
};

struct SourceConfig {
  EtcdConfig etcd;                        // etcd (defaults: 127.0.0.1:2379, by-dev, meta)
  std::vector<std::string> etcd_address;  // etcdAddress (deprecated, wins over etcd)
  std::string etcd_root_path;             // etcdRootPath (deprecated)
  std::string etcd_meta_sub_path;         // etcdMetaSubPath (deprecated)
  int read_chan_len = 4;                  // readChanLen
  // readBufferMB (ours): per task, MB of source messages held between its readers and the
  // target (each reader queues up to a quarter of it more); a backlog beyond stays in the MQ.
  int read_buffer_mb = 256;
  // sharedReaders (ours): one reader per source channel for every task of the server; false =
  // one per task and channel (docs/source.md).
  bool shared_readers = true;
  int channel_num = 0;           // channelNum: source dmlChannelNum, 0 = target's
  int time_tick_interval = 500;  // timeTickInterval, ms
  std::string default_partition_name = "_default";  // defaultPartitionName
  std::string replicate_chan;  // replicateChan (required), e.g. by-dev-replicate-msg
  PulsarConfig pulsar;         // pulsar
  KafkaConfig kafka;           // kafka
  MilvusSourceConfig milvus;   // milvus (ours)

  // etcd settings after the deprecated flat-key fallback (upstream
  // GetEtcdServerConfigFromSourceConfig).
  EtcdConfig EffectiveEtcd() const;
};

// initialSync (ours): how create's "initial_sync": true copies existing collections
// (docs/initial-sync.md).
struct InitialSyncConfig {
  std::string way = "auto";       // way: auto (replay from the queue where it can) | query
  int query_batch_rows = 4000;    // queryBatchRows: rows per page of the query way
  int query_rows_per_second = 0;  // queryRowsPerSecond: per task, over its copies; 0 = no limit
};

// ha (ours): several servers sharing the tasks of an etcd meta store
// (docs/high-availability.md). Used only with metaStoreConfig.storeType etcd.
struct HaConfig {
  std::string server_id;           // serverId: unique per server; "" = the address host:port
  int lease_ttl_seconds = 10;      // leaseTTLSeconds: a dead server's tasks move after this
  int poll_interval_ms = 1000;     // pollIntervalMs: how often a server reads owners and tasks
  int drain_timeout_seconds = 10;  // drainTimeoutSeconds: SIGTERM waits this long for handover
};

// coalesce (ours): runs of small Insert/Delete messages of one source pack go to the target as
// one message each (docs/replication.md, "Coalescing").
struct CoalesceConfig {
  bool enabled = true;                      // enabled: false = every message as it was read
  int max_message_bytes = 4 * 1024 * 1024;  // maxMessageBytes: cap of one merged message
};

struct Config {
  std::string address = "0.0.0.0:8444";  // address: host:port of the HTTP API
  int max_task_num = 100;                // maxTaskNum
  int max_name_length = 256;             // maxNameLength (0 means 256)
  std::string log_level = "info";        // logLevel: debug|info|warn|error (+dpanic|panic|fatal)
  bool detect_dead_lock = false;         // detectDeadLock
  bool batch_mode = true;                // batchMode
  std::string replicate_id;              // replicateID
  bool dry_run = false;                  // dryRun
  bool enable_reverse = false;           // enableReverse (deprecated, ignored)
  RetryConfig retry;                     // retry
  PackerConfig packer;                   // packer
  MetaStoreConfig meta_store;            // metaStoreConfig
  SourceConfig source;                   // sourceConfig
  ApiConfig api;                         // api (ours)
  InitialSyncConfig initial_sync;        // initialSync (ours)
  HaConfig ha;                           // ha (ours)
  CoalesceConfig coalesce;               // coalesce (ours)

  // Non-fatal findings (unknown keys), one line each, safe to log.
  std::vector<std::string> warnings;

  // host and port of `address`.
  std::string ListenHost() const;
  int ListenPort() const;
};

// Parses and validates YAML text. `origin` names the source in messages (e.g. the file path).
Result<Config> LoadString(const std::string& yaml, const std::string& origin = "cdc.yaml");
// Reads and parses a file; an unreadable file is an InvalidArgument naming the path and errno.
Result<Config> LoadFile(const std::string& path);

}  // namespace cdc::config
