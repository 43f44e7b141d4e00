#include "cli/create_request.h"

#include <map>
#include <utility>

#include "cli/flag_values.h"

namespace cdc::cli {
namespace {

using nlohmann::json;

struct DbName {
  std::string db;
  std::string name;  // empty: the whole database (name maps only)
};

// "db.name" or "name" (in default_db); a name is one word: no further dots, none empty.
Result<DbName> SplitName(const std::string& flag, const std::string& text,
                         const std::string& default_db) {
  const auto dot = text.find('.');
  DbName out{default_db, text};
  if (dot != std::string::npos) out = {text.substr(0, dot), text.substr(dot + 1)};
  if (out.db.empty() || out.name.empty() || out.name.find('.') != std::string::npos) {
    return InvalidArgumentError(flag + " '" + text +
                                "': expected db.collection, collection or a * in either place");
  }
  return out;
}

// The request_data to start from: --from-json's (a bare request_data or a whole body).
Result<json> BaseRequest(const CreateFlags& f) {
  if (f.from_json.empty()) return json::object();
  ASSIGN_OR_RETURN(json j, ReadJsonObjectFile("--from-json", f.from_json));
  if (!j.contains("request_type")) return j;
  if (j["request_type"] != "create") {
    return InvalidArgumentError("--from-json " + f.from_json +
                                ": request_type must be \"create\" (or leave it out)");
  }
  json data = j.value("request_data", json::object());
  if (!data.is_object()) {
    return InvalidArgumentError("--from-json " + f.from_json + ": request_data is not an object");
  }
  return data;
}

void SetIfGiven(json* obj, const char* key, const std::string& value) {
  if (!value.empty()) (*obj)[key] = value;
}

Status ApplyTarget(const CreateFlags& f, json* data) {
  json& milvus = (*data)["milvus_connect_param"];
  if (!milvus.is_object()) milvus = json::object();
  SetIfGiven(&milvus, "uri", f.target_uri);
  if (!f.target_token_file.empty()) {
    ASSIGN_OR_RETURN(milvus["token"], ReadSecretFile("--target-token-file", f.target_token_file));
  }
  if (f.connect_timeout_s > 0) milvus["connect_timeout"] = f.connect_timeout_s;
  json& dial = milvus["dial_config"];
  if (!dial.is_object()) dial = json::object();
  SetIfGiven(&dial, "server_name", f.server_name);
  SetIfGiven(&dial, "server_pem_path", f.server_pem);
  SetIfGiven(&dial, "ca_pem_path", f.ca_pem);
  SetIfGiven(&dial, "client_pem_path", f.client_pem);
  SetIfGiven(&dial, "client_key_path", f.client_key);
  if (dial.empty()) milvus.erase("dial_config");
  const bool has_kafka = data->contains("kafka_connect_param");
  if (milvus.empty() && has_kafka) data->erase("milvus_connect_param");
  if (!milvus.contains("uri") && !milvus.contains("host") && !has_kafka) {
    return InvalidArgumentError(
        "--target-uri is required (the target Milvus, e.g. http://target:19530), or a "
        "milvus_connect_param in --from-json");
  }
  return OkStatus();
}

Status ApplyCollections(const CreateFlags& f, json* data) {
  if (!f.collections.empty()) {
    data->erase("collection_infos");
    data->erase("db_collections");
    ASSIGN_OR_RETURN(json c, CollectionsJson(f.collections, f.database));
    data->update(c);
  }
  if (!data->contains("collection_infos") && !data->contains("db_collections")) {
    return InvalidArgumentError(
        "--collections is required: what to replicate, e.g. '*' (everything), 'db1.*' or "
        "'db1.books'");
  }
  if (!f.name_map.empty()) {
    ASSIGN_OR_RETURN((*data)["name_mapping"], NameMappingJson(f.name_map));
  }
  return OkStatus();
}

}  // namespace

Result<json> CollectionsJson(const std::vector<std::string>& values, const std::string& database) {
  json out = json::object();
  for (const auto& text : SplitList(values)) {
    if (text == "*" || text == "*.*") {
      out["collection_infos"] = json::array({{{"name", "*"}}});
      continue;
    }
    ASSIGN_OR_RETURN(DbName n, SplitName("--collections", text, database));
    out["db_collections"][n.db].push_back({{"name", n.name}});
  }
  if (out.empty()) return InvalidArgumentError("--collections is empty; e.g. '*' or 'db1.*'");
  return out;
}

Result<json> NameMappingJson(const std::vector<std::string>& values) {
  std::map<std::string, json> by_source;  // source_db -> its entry, in name order
  for (const auto& text : SplitList(values)) {
    const auto eq = text.find('=');
    if (eq == std::string::npos) {
      return InvalidArgumentError("--name-map '" + text +
                                  "': expected SRCDB=DSTDB or SRCDB.COLL=DSTDB.COLL");
    }
    const std::string src = text.substr(0, eq), dst = text.substr(eq + 1);
    const bool coll = src.find('.') != std::string::npos;
    if (coll != (dst.find('.') != std::string::npos)) {
      return InvalidArgumentError("--name-map '" + text +
                                  "': map a database to a database or db.coll to db.coll");
    }
    ASSIGN_OR_RETURN(DbName s, SplitName("--name-map", coll ? src : src + ".x", ""));
    ASSIGN_OR_RETURN(DbName d, SplitName("--name-map", coll ? dst : dst + ".x", ""));
    json& entry = by_source[s.db];
    if (entry.is_null()) entry = {{"source_db", s.db}, {"target_db", d.db}};
    if (entry["target_db"] != d.db) {
      return InvalidArgumentError("--name-map maps database " + s.db + " to both " +
                                  entry["target_db"].get<std::string>() + " and " + d.db);
    }
    if (coll) entry["collection_mapping"][s.name] = d.name;
  }
  json out = json::array();
  for (auto& [db, entry] : by_source) out.push_back(std::move(entry));
  return out;
}

Result<json> BuildCreateRequest(const CreateFlags& f) {
  ASSIGN_OR_RETURN(json data, BaseRequest(f));
  RETURN_IF_ERROR(ApplyTarget(f, &data));
  RETURN_IF_ERROR(ApplyCollections(f, &data));
  if (f.initial_sync) data["initial_sync"] = true;
  if (f.paused) data["disable_auto_start"] = true;
  SetIfGiven(&data, "task_id", f.task_id);
  if (!f.rpc_channel.empty()) data["rpc_channel_info"]["name"] = f.rpc_channel;
  return data;
}

}  // namespace cdc::cli
