#pragma once
// Plain value types of the etcd client (no gRPC or protobuf in this header).
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cdc::etcd {

// How to reach and authenticate to an etcd cluster.
struct ClientOptions {
  // "host:port", "http://host:port" or "https://host:port" (https turns TLS on). Calls go to one
  // endpoint at a time and fail over to the next when it is unreachable.
  std::vector<std::string> endpoints;
  // Username/password auth (etcd Authenticate); empty username = no auth. Never logged.
  std::string username;
  std::string password;
  // TLS: on when `tls` is set or an endpoint starts with https://. ca_path empty = system roots.
  // cert_path + key_path together enable mutual TLS.
  bool tls = false;
  std::string ca_path;
  std::string cert_path;
  std::string key_path;
  std::string tls_server_name;  // overrides the name checked in the server certificate
  // Connect() gives up after dial_timeout; every unary call gets call_timeout as deadline.
  std::chrono::milliseconds dial_timeout{5000};
  std::chrono::milliseconds call_timeout{10000};
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
  bool operator==(const KeyValue&) const = default;
};

struct RangeOptions {
  bool prefix = false;     // every key starting with `key`
  std::string range_end;   // explicit [key, range_end) when not empty (ignored with prefix)
  int64_t limit = 0;       // 0 = no limit
  int64_t revision = 0;    // 0 = newest
  bool keys_only = false;  // values left empty
  bool count_only = false;
  // Only keys last modified at or after this revision are returned (0 = no filter); `count`
  // still counts every key in the range.
  int64_t min_mod_revision = 0;
};

struct RangeResult {
  std::vector<KeyValue> kvs;
  bool more = false;     // a limit cut the answer short
  int64_t count = 0;     // keys in the range, regardless of limit
  int64_t revision = 0;  // store revision the answer was read at
};

// One guard of a transaction: `target(key) op operand`.
struct Compare {
  enum class Target { kVersion, kCreateRevision, kModRevision, kValue };
  enum class Op { kEqual, kGreater, kLess, kNotEqual };
  std::string key;
  Target target = Target::kVersion;
  Op op = Op::kEqual;
  std::string value;   // for kValue
  int64_t number = 0;  // for the revision/version targets

  static Compare Value(std::string key, Op op, std::string value);
  static Compare Version(std::string key, Op op, int64_t version);  // version 0 = absent
  static Compare ModRevision(std::string key, Op op, int64_t revision);
  static Compare CreateRevision(std::string key, Op op, int64_t revision);
};

// One operation inside a transaction branch.
struct TxnOp {
  enum class Kind { kGet, kPut, kDelete };
  Kind kind = Kind::kGet;
  std::string key;
  std::string value;    // kPut
  int64_t lease = 0;    // kPut
  bool prefix = false;  // kGet / kDelete

  static TxnOp Get(std::string key, bool prefix = false);
  static TxnOp Put(std::string key, std::string value, int64_t lease = 0);
  static TxnOp Delete(std::string key, bool prefix = false);
};

struct TxnResult {
  bool succeeded = false;  // the guards held and the `then` branch ran
  int64_t revision = 0;
  std::vector<RangeResult> gets;  // one per kGet op of the branch that ran, in order
};

struct Event {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;  // for a delete: the key and the deletion revision as mod_revision
  std::optional<KeyValue> prev_kv;
};

struct WatchOptions {
  bool prefix = false;
  int64_t start_revision = 0;  // inclusive; 0 = changes after now
  bool prev_kv = false;
  // Called on the watch's thread each time etcd confirms the watch again after a disconnect
  // (the watch resumes by itself): whoever waits out an etcd outage can retry now.
  std::function<void()> on_resumed;
};

// The smallest key greater than every key starting with `prefix` ("\0" for "" = whole space).
std::string PrefixEnd(const std::string& prefix);

}  // namespace cdc::etcd
