#include "meta/layout.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace cdc::meta {
namespace {

using Json = nlohmann::ordered_json;

std::string CleanSlashes(const std::string& p) {
  std::string out;
  out.reserve(p.size());
  for (char c : p) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string MapOrEmpty(const std::string& s) { return s.empty() ? "{}" : s; }

}  // namespace

std::string JoinPath(const std::string& a, const std::string& b, const std::string& c) {
  std::string joined;
  for (const std::string* part : {&a, &b, &c}) {
    if (part->empty()) continue;
    if (!joined.empty()) joined.push_back('/');
    joined += *part;
  }
  return CleanSlashes(joined);
}

std::string TaskInfoKey(const std::string& root, const std::string& task_id) {
  return JoinPath(root, "task_info", task_id);
}
std::string TaskInfoPrefix(const std::string& root) { return JoinPath(root, "task_info") + "/"; }
std::string PositionKey(const std::string& root, const std::string& task_id,
                        int64_t collection_id) {
  return JoinPath(root, "task_position", JoinPath(task_id, std::to_string(collection_id)));
}
std::string PositionTaskPrefix(const std::string& root, const std::string& task_id) {
  return JoinPath(root, "task_position", task_id) + "/";
}
std::string PositionPrefix(const std::string& root) {
  return JoinPath(root, "task_position") + "/";
}

Status CheckJsonObject(const std::string& json, const std::string& what) {
  if (json.empty()) return OkStatus();
  Json parsed = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !(parsed.is_object() || parsed.is_null())) {
    return InvalidArgumentError(
        absl::StrCat(what, " is not a JSON object: '", json.substr(0, 80), "'"));
  }
  return OkStatus();
}

Result<std::string> EncodePosition(const PositionRecord& row) {
  std::string what =
      absl::StrCat("position task=", row.task_id, " collection=", row.collection_id, ": ");
  RETURN_IF_ERROR(CheckJsonObject(row.positions_json, what + "Positions"));
  RETURN_IF_ERROR(CheckJsonObject(row.op_positions_json, what + "OpPositions"));
  RETURN_IF_ERROR(CheckJsonObject(row.target_positions_json, what + "TargetPositions"));
  return absl::StrCat("{\"TaskID\":", Json(row.task_id).dump(),
                      ",\"CollectionID\":", row.collection_id,
                      ",\"CollectionName\":", Json(row.collection_name).dump(),
                      ",\"Positions\":", MapOrEmpty(row.positions_json),
                      ",\"OpPositions\":", MapOrEmpty(row.op_positions_json),
                      ",\"TargetPositions\":", MapOrEmpty(row.target_positions_json), "}");
}

Result<PositionRecord> DecodePosition(const std::string& key, const std::string& value) {
  Json j = Json::parse(value, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](const std::string& why) {
    return InternalError(absl::StrCat("meta key '", key, "': ", why));
  };
  if (j.is_discarded() || !j.is_object()) return bad("value is not a JSON object");
  PositionRecord row;
  if (!j.contains("TaskID") || !j["TaskID"].is_string()) return bad("TaskID missing");
  row.task_id = j["TaskID"].get<std::string>();
  if (!j.contains("CollectionID") || !j["CollectionID"].is_number_integer()) {
    return bad("CollectionID missing");
  }
  row.collection_id = j["CollectionID"].get<int64_t>();
  if (j.contains("CollectionName") && j["CollectionName"].is_string()) {
    row.collection_name = j["CollectionName"].get<std::string>();
  }
  auto map = [&](const char* name) -> std::string {
    if (!j.contains(name) || j[name].is_null()) return "{}";
    return j[name].dump();
  };
  row.positions_json = map("Positions");
  row.op_positions_json = map("OpPositions");
  row.target_positions_json = map("TargetPositions");
  return row;
}

}  // namespace cdc::meta
