#pragma once
// task::TaskInfo: one replication task, the same fields as the upstream Go TaskInfo
// (server/model/meta/task.go) plus our timestamps. Plain values, copyable, no locking.
//
// Three JSON shapes (task_json.h):
//   stored   upstream TaskInfo layout: Go field names at the top (TaskID, MilvusConnectParam,
//            ..., State as int, Reason) and snake_case inside; secrets kept (the store is the
//            only place that needs them to reconnect after a restart).
//   api      the `get`/`list` Task view: task_id, milvus_connect_param, kafka_connect_param,
//            collection_infos, db_collections, state (name), reason; secrets blanked.
//   request  the `create` request_data (snake_case, as upstream's mapstructure tags).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cdc::task {

enum class TaskState : int { kInitial = 0, kRunning = 1, kPaused = 2 };

// The reasons of a Paused task that no failure paused (upstream wording).
inline constexpr char kManualPauseReason[] = "manually pause through http interface";
inline constexpr char kDisabledAutoStartReason[] = "the task is disabled auto start";

// "Initial", "Running", "Paused"; anything else "Unknown value[N]" as upstream.
std::string StateName(int state);
inline std::string StateName(TaskState s) { return StateName(static_cast<int>(s)); }

struct DialConfig {
  std::string server_name;
  std::string server_pem_path;
  std::string ca_pem_path;
  std::string client_pem_path;
  std::string client_key_path;
  bool operator==(const DialConfig&) const = default;
};

struct MilvusConnectParam {
  std::string host;         // deprecated: use uri
  int port = 0;             // deprecated: use uri
  bool enable_tls = false;  // deprecated: use uri https://
  std::string username;     // deprecated: use token (secret)
  std::string password;     // deprecated: use token (secret)
  std::string uri;
  std::string token;  // secret
  DialConfig dial_config;
  int channel_num = 0;
  bool ignore_partition = false;
  int connect_timeout = 0;  // seconds; 0 = 5 s
  bool operator==(const MilvusConnectParam&) const = default;

  bool Empty() const { return uri.empty() && host.empty() && port <= 0; }
  // uri, or one built from host/port/enable_tls (upstream GetMilvusURI).
  std::string EffectiveUri() const;
};

struct KafkaSasl {
  std::string username;  // secret
  std::string password;  // secret
  std::string mechanisms;
  std::string security_protocol;
  bool operator==(const KafkaSasl&) const = default;
};

struct KafkaConnectParam {
  std::string address;
  std::string topic;
  bool enable_sasl = false;
  KafkaSasl sasl;
  bool operator==(const KafkaConnectParam&) const = default;
};

struct CollectionInfo {
  std::string name;
  std::map<std::string, std::string> positions;  // vchannel -> base64 MsgPosition
  bool use_start_position = false;
  bool operator==(const CollectionInfo&) const = default;
};

struct ChannelInfo {
  std::string name;
  std::string position;
  bool operator==(const ChannelInfo&) const = default;
};

struct NameMapping {
  std::string source_db;
  std::string target_db;
  std::map<std::string, std::string> collection_mapping;
  bool operator==(const NameMapping&) const = default;
};

struct BufferConfig {
  int period = 0;
  int size = 0;
  bool operator==(const BufferConfig&) const = default;
};

struct TaskInfo {
  std::string task_id;  // 32 lower-case hex chars
  MilvusConnectParam milvus;
  KafkaConnectParam kafka;
  BufferConfig writer_cache;
  std::vector<CollectionInfo> collection_infos;
  std::map<std::string, std::vector<CollectionInfo>> db_collections;
  std::vector<NameMapping> name_mapping;
  ChannelInfo rpc_channel;
  bool enable_user_role = false;                 // ExtraInfo.enable_user_role
  std::vector<std::string> exclude_collections;  // names other tasks own, for wildcard tasks
  bool disable_auto_start = false;
  // Ours: copy what the selected collections already hold when the task starts, then stream
  // (docs/initial-sync.md). Stored as "InitialSync".
  bool initial_sync = false;
  int state = static_cast<int>(TaskState::kInitial);
  std::string reason;
  int64_t create_time_ms = 0;  // ours: unix ms of create
  int64_t state_time_ms = 0;   // ours: unix ms of the last state change
  // Ours, not stored: the server running the task when several share the tasks (its
  // ha.serverId; "" when none or on a single server). Shown by get/list.
  std::string owner;
  bool operator==(const TaskInfo&) const = default;

  TaskState State() const { return static_cast<TaskState>(state); }
  // Paused by something other than a pause request or disable_auto_start (a failure the
  // pipeline could not retry, or a start that failed).
  bool PausedByFailure() const {
    return State() == TaskState::kPaused && reason != kManualPauseReason &&
           reason != kDisabledAutoStartReason;
  }
  // The target identity used to scope duplicate checks: the Milvus uri or the Kafka address.
  std::string TargetKey() const;
  // Every filter entry normalised to "db.collection" (collection_infos use db "default").
  std::vector<std::string> FullCollectionNames() const;
};

// The create request (request_data of request_type create).
struct CreateRequest {
  MilvusConnectParam milvus;
  KafkaConnectParam kafka;
  std::vector<CollectionInfo> collection_infos;
  std::map<std::string, std::vector<CollectionInfo>> db_collections;
  ChannelInfo rpc_channel;
  bool enable_user_role = false;
  BufferConfig buffer;
  std::vector<NameMapping> name_mapping;
  bool disable_auto_start = false;
  bool initial_sync = false;  // ours
  std::string task_id;
  std::map<std::string, std::string> positions;  // deprecated
};

// `uri` with any user:password@ part replaced by "***@", for messages and logs.
std::string RedactUri(const std::string& uri);

// A new random task id: 32 lower-case hex chars (a UUID v4 without dashes, as upstream).
std::string NewTaskId();

}  // namespace cdc::task
