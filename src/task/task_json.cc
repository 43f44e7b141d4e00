#include "task/task_json.h"

#include <cmath>

#include "common/hybrid_time.h"

namespace cdc::task {
namespace {

using json = nlohmann::json;

// ---- writing --------------------------------------------------------------------------------

json CollectionsJson(const std::vector<CollectionInfo>& infos) {
  if (infos.empty()) return nullptr;  // Go marshals a nil slice as null
  json arr = json::array();
  for (const auto& c : infos) {
    json positions = c.positions.empty() ? json(nullptr) : json(c.positions);
    arr.push_back(
        {{"name", c.name}, {"positions", positions}, {"use_start_position", c.use_start_position}});
  }
  return arr;
}

json DbCollectionsJson(const std::map<std::string, std::vector<CollectionInfo>>& m) {
  if (m.empty()) return nullptr;
  json obj = json::object();
  for (const auto& [db, infos] : m) obj[db] = CollectionsJson(infos);
  return obj;
}

json DialJson(const DialConfig& d) {
  json j = json::object();  // every field is omitempty upstream
  if (!d.server_name.empty()) j["server_name"] = d.server_name;
  if (!d.server_pem_path.empty()) j["server_pem_path"] = d.server_pem_path;
  if (!d.ca_pem_path.empty()) j["ca_pem_path"] = d.ca_pem_path;
  if (!d.client_pem_path.empty()) j["client_pem_path"] = d.client_pem_path;
  if (!d.client_key_path.empty()) j["client_key_path"] = d.client_key_path;
  return j;
}

json MilvusJson(const MilvusConnectParam& m, bool with_secrets) {
  json j = {{"host", m.host},
            {"port", m.port},
            {"enable_tls", m.enable_tls},
            {"uri", m.uri},
            {"dial_config", DialJson(m.dial_config)},
            {"channel_num", m.channel_num},
            {"ignore_partition", m.ignore_partition},
            {"connect_timeout", m.connect_timeout}};
  if (with_secrets) {  // omitempty upstream
    if (!m.username.empty()) j["username"] = m.username;
    if (!m.password.empty()) j["password"] = m.password;
    if (!m.token.empty()) j["token"] = m.token;
  }
  return j;
}

json KafkaJson(const KafkaConnectParam& k, bool with_secrets) {
  json sasl = json::object();
  if (with_secrets && !k.sasl.username.empty()) sasl["username"] = k.sasl.username;
  if (with_secrets && !k.sasl.password.empty()) sasl["password"] = k.sasl.password;
  if (!k.sasl.mechanisms.empty()) sasl["mechanisms"] = k.sasl.mechanisms;
  if (!k.sasl.security_protocol.empty()) sasl["security_protocol"] = k.sasl.security_protocol;
  return {
      {"address", k.address}, {"topic", k.topic}, {"enable_sasl", k.enable_sasl}, {"sasl", sasl}};
}

// ---- reading (request decoding, mapstructure-like) -------------------------------------------

std::string TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "bool";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "float64";
    case json::value_t::array:
      return "[]interface {}";
    case json::value_t::object:
      return "map[string]interface {}";
    default:
      return "null";
  }
}

Status TypeError(const std::string& path, const std::string& want, const json& v) {
  return InvalidArgumentError("'" + path + "' expected type '" + want +
                              "', got unconvertible type '" + TypeName(v) + "'");
}

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// Each Get* leaves `out` unchanged if `key` is absent or null.
const json* Field(const json& obj, const std::string& key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Status GetStr(const json& obj, const std::string& key, const std::string& path, std::string* out) {
  const json* v = Field(obj, key);
  if (!v) return OkStatus();
  if (!v->is_string()) return TypeError(Join(path, key), "string", *v);
  *out = v->get<std::string>();
  return OkStatus();
}

Status GetInt(const json& obj, const std::string& key, const std::string& path, int* out) {
  const json* v = Field(obj, key);
  if (!v) return OkStatus();
  if (!v->is_number()) return TypeError(Join(path, key), "int", *v);
  double d = v->get<double>();
  if (!std::isfinite(d) || d > 2147483647.0 || d < -2147483648.0) {
    return InvalidArgumentError("'" + Join(path, key) + "' is out of the int range");
  }
  *out = static_cast<int>(d);
  return OkStatus();
}

Status GetBool(const json& obj, const std::string& key, const std::string& path, bool* out) {
  const json* v = Field(obj, key);
  if (!v) return OkStatus();
  if (!v->is_boolean()) return TypeError(Join(path, key), "bool", *v);
  *out = v->get<bool>();
  return OkStatus();
}

// Calls fn(sub_object, sub_path) if `key` holds an object.
template <typename Fn>
Status GetObj(const json& obj, const std::string& key, const std::string& path, Fn fn) {
  const json* v = Field(obj, key);
  if (!v) return OkStatus();
  if (!v->is_object()) return TypeError(Join(path, key), "struct", *v);
  return fn(*v, Join(path, key));
}

Status GetStrMap(const json& obj, const std::string& key, const std::string& path,
                 std::map<std::string, std::string>* out) {
  const json* v = Field(obj, key);
  if (!v) return OkStatus();
  if (!v->is_object()) return TypeError(Join(path, key), "map[string]string", *v);
  for (const auto& [k, val] : v->items()) {
    RETURN_IF_ERROR(GetStr(*v, k, Join(path, key), &(*out)[k]));
  }
  return OkStatus();
}

Status DecodeCollections(const json& v, const std::string& path, std::vector<CollectionInfo>* out) {
  if (v.is_null()) return OkStatus();
  if (!v.is_array()) return TypeError(path, "[]model.CollectionInfo", v);
  for (size_t i = 0; i < v.size(); ++i) {
    std::string p = path + "[" + std::to_string(i) + "]";
    if (!v[i].is_object()) return TypeError(p, "struct", v[i]);
    CollectionInfo c;
    RETURN_IF_ERROR(GetStr(v[i], "name", p, &c.name));
    RETURN_IF_ERROR(GetStrMap(v[i], "positions", p, &c.positions));
    RETURN_IF_ERROR(GetBool(v[i], "use_start_position", p, &c.use_start_position));
    out->push_back(std::move(c));
  }
  return OkStatus();
}

Status DecodeMilvus(const json& o, const std::string& p, MilvusConnectParam* m) {
  RETURN_IF_ERROR(GetStr(o, "host", p, &m->host));
  RETURN_IF_ERROR(GetInt(o, "port", p, &m->port));
  RETURN_IF_ERROR(GetBool(o, "enable_tls", p, &m->enable_tls));
  RETURN_IF_ERROR(GetStr(o, "username", p, &m->username));
  RETURN_IF_ERROR(GetStr(o, "password", p, &m->password));
  RETURN_IF_ERROR(GetStr(o, "uri", p, &m->uri));
  RETURN_IF_ERROR(GetStr(o, "token", p, &m->token));
  RETURN_IF_ERROR(GetObj(o, "dial_config", p, [&](const json& d, const std::string& dp) {
    RETURN_IF_ERROR(GetStr(d, "server_name", dp, &m->dial_config.server_name));
    RETURN_IF_ERROR(GetStr(d, "server_pem_path", dp, &m->dial_config.server_pem_path));
    RETURN_IF_ERROR(GetStr(d, "ca_pem_path", dp, &m->dial_config.ca_pem_path));
    RETURN_IF_ERROR(GetStr(d, "client_pem_path", dp, &m->dial_config.client_pem_path));
    return GetStr(d, "client_key_path", dp, &m->dial_config.client_key_path);
  }));
  RETURN_IF_ERROR(GetInt(o, "channel_num", p, &m->channel_num));
  RETURN_IF_ERROR(GetBool(o, "ignore_partition", p, &m->ignore_partition));
  return GetInt(o, "connect_timeout", p, &m->connect_timeout);
}

Status DecodeKafka(const json& o, const std::string& p, KafkaConnectParam* k) {
  RETURN_IF_ERROR(GetStr(o, "address", p, &k->address));
  RETURN_IF_ERROR(GetStr(o, "topic", p, &k->topic));
  RETURN_IF_ERROR(GetBool(o, "enable_sasl", p, &k->enable_sasl));
  return GetObj(o, "sasl", p, [&](const json& s, const std::string& sp) {
    RETURN_IF_ERROR(GetStr(s, "username", sp, &k->sasl.username));
    RETURN_IF_ERROR(GetStr(s, "password", sp, &k->sasl.password));
    RETURN_IF_ERROR(GetStr(s, "mechanisms", sp, &k->sasl.mechanisms));
    return GetStr(s, "security_protocol", sp, &k->sasl.security_protocol);
  });
}

Status DecodeDbCollections(const json& v, const std::string& path,
                           std::map<std::string, std::vector<CollectionInfo>>* out) {
  if (v.is_null()) return OkStatus();
  if (!v.is_object()) return TypeError(path, "map[string][]model.CollectionInfo", v);
  for (const auto& [db, infos] : v.items()) {
    RETURN_IF_ERROR(DecodeCollections(infos, path + "[" + db + "]", &(*out)[db]));
  }
  return OkStatus();
}

Status DecodeNameMapping(const json& v, const std::string& path, std::vector<NameMapping>* out) {
  if (v.is_null()) return OkStatus();
  if (!v.is_array()) return TypeError(path, "[]model.NameMapping", v);
  for (size_t i = 0; i < v.size(); ++i) {
    std::string p = path + "[" + std::to_string(i) + "]";
    if (!v[i].is_object()) return TypeError(p, "struct", v[i]);
    NameMapping n;
    RETURN_IF_ERROR(GetStr(v[i], "source_db", p, &n.source_db));
    RETURN_IF_ERROR(GetStr(v[i], "target_db", p, &n.target_db));
    RETURN_IF_ERROR(GetStrMap(v[i], "collection_mapping", p, &n.collection_mapping));
    out->push_back(std::move(n));
  }
  return OkStatus();
}

const json& OrNull(const json& obj, const char* key) {
  static const json kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

// A stored unix-ms time (ours, informational): 0 unless a number in the int64 range (converting
// 1e300 to int64 is undefined behaviour).
int64_t TimeMs(const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (!v.is_number_float()) return 0;
  const double d = v.get<double>();
  return d >= -0x1p63 && d < 0x1p63 ? static_cast<int64_t>(d) : 0;
}

json NameMappingJson(const std::vector<NameMapping>& entries) {
  json mapping = json::array();
  for (const auto& n : entries) {
    mapping.push_back({{"source_db", n.source_db},
                       {"target_db", n.target_db},
                       {"collection_mapping", n.collection_mapping}});
  }
  return mapping;
}

}  // namespace

json ToStoredJson(const TaskInfo& t) {
  json mapping = NameMappingJson(t.name_mapping);
  return {{"TaskID", t.task_id},
          {"MilvusConnectParam", MilvusJson(t.milvus, /*with_secrets=*/true)},
          {"KafkaConnectParam", KafkaJson(t.kafka, /*with_secrets=*/true)},
          {"WriterCacheConfig", {{"period", t.writer_cache.period}, {"size", t.writer_cache.size}}},
          {"CollectionInfos", CollectionsJson(t.collection_infos)},
          {"DBCollections", DbCollectionsJson(t.db_collections)},
          {"NameMapping", t.name_mapping.empty() ? json(nullptr) : mapping},
          {"RPCRequestChannelInfo",
           {{"name", t.rpc_channel.name}, {"position", t.rpc_channel.position}}},
          {"ExtraInfo", {{"enable_user_role", t.enable_user_role}}},
          {"ExcludeCollections",
           t.exclude_collections.empty() ? json(nullptr) : json(t.exclude_collections)},
          {"DisableAutoStart", t.disable_auto_start},
          {"InitialSync", t.initial_sync},
          {"State", t.state},
          {"Reason", t.reason},
          {"CreateTime", t.create_time_ms},
          {"StateTime", t.state_time_ms}};
}

Result<TaskInfo> FromStoredJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InternalError("decode stored task info: not a JSON object");
  }
  TaskInfo t;
  auto bad = [](const Status& s) {
    return InternalError("decode stored task info: " + std::string(s.message()));
  };
  Status s = GetStr(j, "TaskID", "", &t.task_id);
  if (s.ok()) {
    s = GetObj(j, "MilvusConnectParam", "",
               [&](const json& o, const std::string& p) { return DecodeMilvus(o, p, &t.milvus); });
  }
  if (s.ok()) {
    s = GetObj(j, "KafkaConnectParam", "",
               [&](const json& o, const std::string& p) { return DecodeKafka(o, p, &t.kafka); });
  }
  if (s.ok()) {
    s = GetObj(j, "WriterCacheConfig", "", [&](const json& o, const std::string& p) {
      RETURN_IF_ERROR(GetInt(o, "period", p, &t.writer_cache.period));
      return GetInt(o, "size", p, &t.writer_cache.size);
    });
  }
  if (s.ok())
    s = DecodeCollections(OrNull(j, "CollectionInfos"), "CollectionInfos", &t.collection_infos);
  if (s.ok())
    s = DecodeDbCollections(OrNull(j, "DBCollections"), "DBCollections", &t.db_collections);
  if (s.ok()) s = DecodeNameMapping(OrNull(j, "NameMapping"), "NameMapping", &t.name_mapping);
  if (s.ok()) {
    s = GetObj(j, "RPCRequestChannelInfo", "", [&](const json& o, const std::string& p) {
      RETURN_IF_ERROR(GetStr(o, "name", p, &t.rpc_channel.name));
      return GetStr(o, "position", p, &t.rpc_channel.position);
    });
  }
  if (s.ok()) {
    s = GetObj(j, "ExtraInfo", "", [&](const json& o, const std::string& p) {
      return GetBool(o, "enable_user_role", p, &t.enable_user_role);
    });
  }
  if (s.ok()) {
    const json& ex = OrNull(j, "ExcludeCollections");
    if (ex.is_array()) {
      for (const auto& e : ex) {
        if (e.is_string()) t.exclude_collections.push_back(e.get<std::string>());
      }
    }
    s = GetBool(j, "DisableAutoStart", "", &t.disable_auto_start);
  }
  if (s.ok()) s = GetBool(j, "InitialSync", "", &t.initial_sync);
  if (s.ok()) s = GetInt(j, "State", "", &t.state);
  if (s.ok()) s = GetStr(j, "Reason", "", &t.reason);
  if (s.ok()) t.create_time_ms = TimeMs(OrNull(j, "CreateTime"));
  if (s.ok()) t.state_time_ms = TimeMs(OrNull(j, "StateTime"));
  if (!s.ok()) return bad(s);
  if (t.task_id.empty()) return InternalError("decode stored task info: TaskID is empty");
  return t;
}

json ToApiJson(const TaskInfo& t) {
  json j = {{"task_id", t.task_id},
            {"milvus_connect_param", MilvusJson(t.milvus, /*with_secrets=*/false)},
            {"kafka_connect_param", KafkaJson(t.kafka, /*with_secrets=*/false)},
            {"collection_infos", CollectionsJson(t.collection_infos)},
            {"db_collections", DbCollectionsJson(t.db_collections)},
            {"state", StateName(t.state)}};
  if (t.initial_sync) j["initial_sync"] = true;
  if (!t.name_mapping.empty()) j["name_mapping"] = NameMappingJson(t.name_mapping);  // rc4+
  if (!t.reason.empty()) j["reason"] = t.reason;
  if (!t.owner.empty()) j["owner"] = t.owner;
  return j;
}

json LagJson(const std::vector<ChannelLag>& channels) {
  json out = json::array();
  for (const auto& c : channels) {
    out.push_back({{"channel_name", c.channel},
                   {"checkpoint", c.checkpoint},
                   {"checkpoint_ts", c.checkpoint_ts},
                   {"checkpoint_time", HybridToMs(c.checkpoint_ts)},
                   {"lag_ms", c.lag_ms},
                   {"lag_messages", c.lag_messages}});
  }
  return out;
}

void AddHealthJson(const TaskHealth& health, json* view) {
  json collections = json::array();
  for (const auto& c : health.collections) {
    json e = {{"name", c.name}, {"state", c.state}, {"reason", c.reason}};
    if (!c.target.empty()) e["target"] = c.target;
    if (c.since_ms > 0) e["since"] = c.since_ms;
    collections.push_back(std::move(e));
  }
  (*view)["collections"] = std::move(collections);
  (*view)["skipped"] = health.skipped;
  if (!health.initial_sync.empty()) {
    json sync = json::array();
    for (const auto& c : health.initial_sync) {
      json e = {{"name", c.name},
                {"phase", c.phase},
                {"rows_copied", c.rows_copied},
                {"rows_estimated", c.rows_estimated},
                {"eta_s", c.eta_s}};
      if (!c.target.empty()) e["target"] = c.target;
      sync.push_back(std::move(e));
    }
    (*view)["initial_sync"] = std::move(sync);
  }
}

Result<CreateRequest> DecodeCreateRequest(const json& data) {
  CreateRequest r;
  if (data.is_null()) return r;
  if (!data.is_object()) return TypeError("request_data", "struct", data);
  RETURN_IF_ERROR(
      GetObj(data, "milvus_connect_param", "",
             [&](const json& o, const std::string& p) { return DecodeMilvus(o, p, &r.milvus); }));
  RETURN_IF_ERROR(GetObj(data, "kafka_connect_param", "", [&](const json& o, const std::string& p) {
    return DecodeKafka(o, p, &r.kafka);
  }));
  RETURN_IF_ERROR(
      DecodeCollections(OrNull(data, "collection_infos"), "collection_infos", &r.collection_infos));
  RETURN_IF_ERROR(
      DecodeDbCollections(OrNull(data, "db_collections"), "db_collections", &r.db_collections));
  RETURN_IF_ERROR(GetObj(data, "rpc_channel_info", "", [&](const json& o, const std::string& p) {
    RETURN_IF_ERROR(GetStr(o, "name", p, &r.rpc_channel.name));
    return GetStr(o, "position", p, &r.rpc_channel.position);
  }));
  RETURN_IF_ERROR(GetObj(data, "extra_info", "", [&](const json& o, const std::string& p) {
    return GetBool(o, "enable_user_role", p, &r.enable_user_role);
  }));
  RETURN_IF_ERROR(GetObj(data, "buffer_config", "", [&](const json& o, const std::string& p) {
    RETURN_IF_ERROR(GetInt(o, "period", p, &r.buffer.period));
    return GetInt(o, "size", p, &r.buffer.size);
  }));
  RETURN_IF_ERROR(DecodeNameMapping(OrNull(data, "name_mapping"), "name_mapping", &r.name_mapping));
  RETURN_IF_ERROR(GetBool(data, "disable_auto_start", "", &r.disable_auto_start));
  RETURN_IF_ERROR(GetBool(data, "initial_sync", "", &r.initial_sync));
  RETURN_IF_ERROR(GetStr(data, "task_id", "", &r.task_id));
  RETURN_IF_ERROR(GetStrMap(data, "positions", "", &r.positions));
  return r;
}

Result<std::string> DecodeStringField(const json& data, const std::string& key) {
  std::string out;
  if (data.is_null()) return out;
  if (!data.is_object()) return TypeError("request_data", "struct", data);
  RETURN_IF_ERROR(GetStr(data, key, "", &out));
  return out;
}

Result<bool> DecodeBoolField(const json& data, const std::string& key) {
  bool out = false;
  if (data.is_null()) return out;
  if (!data.is_object()) return TypeError("request_data", "struct", data);
  RETURN_IF_ERROR(GetBool(data, key, "", &out));
  return out;
}

namespace {

constexpr std::string_view kSealedPrefix = "cdc-sealed:v1:";

// The secret fields of a stored document, as paths of keys.
const std::vector<std::vector<std::string>>& SecretPaths() {
  static const std::vector<std::vector<std::string>> kPaths = {
      {"MilvusConnectParam", "username"},
      {"MilvusConnectParam", "password"},
      {"MilvusConnectParam", "token"},
      {"KafkaConnectParam", "sasl", "username"},
      {"KafkaConnectParam", "sasl", "password"}};
  return kPaths;
}

std::string PathName(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& k : path) out += (out.empty() ? "" : ".") + k;
  return out;
}

// The string at `path`, or nullptr if absent, not a string or empty.
json* SecretAt(json& doc, const std::vector<std::string>& path) {
  json* cur = &doc;
  for (const auto& k : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur->is_string() && !cur->get_ref<const std::string&>().empty() ? cur : nullptr;
}

bool IsSealed(const json& v) {
  return v.get_ref<const std::string&>().rfind(kSealedPrefix, 0) == 0;
}

// "<TaskID>/<field path>": binds a sealed value to its place.
std::string Aad(const json& doc, const std::vector<std::string>& path) {
  std::string id = doc.is_object() && doc.value("TaskID", json()).is_string()
                       ? doc["TaskID"].get<std::string>()
                       : "";
  return id + "/" + PathName(path);
}

std::string TaskName(const json& doc) {
  return "task " + (doc.is_object() ? doc.value("TaskID", std::string("?")) : std::string("?"));
}

}  // namespace

Result<json> SealSecrets(json doc, const crypto::AesKey& key) {
  for (const auto& path : SecretPaths()) {
    json* v = SecretAt(doc, path);
    if (!v || IsSealed(*v)) continue;
    ASSIGN_OR_RETURN(std::string sealed,
                     crypto::Seal(key, v->get_ref<const std::string&>(), Aad(doc, path)));
    *v = std::string(kSealedPrefix) + key.id + ":" + crypto::Base64Encode(sealed);
  }
  return doc;
}

Result<json> OpenSecrets(json doc, const crypto::AesKey* key) {
  for (const auto& path : SecretPaths()) {
    json* v = SecretAt(doc, path);
    if (!v || !IsSealed(*v)) continue;
    std::string_view text = v->get_ref<const std::string&>();
    text.remove_prefix(kSealedPrefix.size());
    const std::string where = TaskName(doc) + ": " + PathName(path);
    auto colon = text.find(':');
    if (colon == std::string_view::npos) {
      return absl::DataLossError(where + " is not a well-formed sealed value");
    }
    std::string key_id(text.substr(0, colon));
    if (!key) {
      return FailedPreconditionError(where + " is encrypted (key " + key_id +
                                     ") and no secret key is configured");
    }
    if (key_id != key->id) {
      return absl::DataLossError(where + " was encrypted with key " + key_id +
                                 ", the configured key is " + key->id);
    }
    auto raw = crypto::Base64Decode(text.substr(colon + 1));
    if (!raw.ok()) return absl::DataLossError(where + " is not a well-formed sealed value");
    auto plain = crypto::Open(*key, *raw, Aad(doc, path));
    if (!plain.ok()) {
      return absl::DataLossError(where + " does not decrypt with key " + key->id +
                                 " (altered, or moved from another task or field)");
    }
    *v = std::move(*plain);
  }
  return doc;
}

SecretCounts CountSecrets(const json& doc) {
  SecretCounts c;
  json copy = doc;
  for (const auto& path : SecretPaths()) {
    if (json* v = SecretAt(copy, path)) ++(IsSealed(*v) ? c.sealed : c.plain);
  }
  return c;
}

}  // namespace cdc::task
