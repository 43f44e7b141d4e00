#include "verify/verify_json.h"

#include "absl/strings/str_cat.h"
#include "task/task_json.h"

namespace cdc::verify {
namespace {

using json = nlohmann::json;

// Go's names of JSON types, as upstream's decoder words a wrong type (task/task_json.h).
std::string TypeName(const json& v) {
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  if (v.is_number()) return "float64";
  if (v.is_array()) return "[]interface {}";
  if (v.is_object()) return "map[string]interface {}";
  return "invalid";
}

Status WrongType(const std::string& key, const std::string& want, const json& v) {
  return InvalidArgumentError(absl::StrCat("'", key, "' expected type '", want,
                                           "', got unconvertible type '", TypeName(v), "'"));
}

Status GetInt(const json& data, const char* key, int64_t min, int64_t max, int64_t* out) {
  auto it = data.find(key);
  if (it == data.end() || it->is_null()) return OkStatus();
  if (!it->is_number()) return WrongType(key, "int", *it);
  const double v = it->get<double>();
  if (v < static_cast<double>(min) || v > static_cast<double>(max) ||
      v != static_cast<double>(static_cast<int64_t>(v))) {
    return InvalidArgumentError(
        absl::StrCat("'", key, "' must be a whole number from ", min, " to ", max));
  }
  *out = static_cast<int64_t>(v);
  return OkStatus();
}

json ResultJson(const CollectionResult& r) {
  json differences = json::array();
  for (const auto& d : r.differences)
    differences.push_back({{"aspect", d.aspect}, {"detail", d.detail}});
  json keys = json::array();
  for (const auto& k : r.keys) {
    json e = {{"key", KeyJson(k.key)}, {"kind", KeyDiffKindName(k.kind)}};
    if (!k.partition.empty()) e["partition"] = k.partition;
    if (!k.detail.empty()) e["detail"] = k.detail;
    keys.push_back(std::move(e));
  }
  json out = {{"name", r.name},
              {"result", VerdictName(r.verdict)},
              {"differences", std::move(differences)},
              {"first_differing_keys", std::move(keys)},
              {"source_rows", r.source_rows},
              {"target_rows", r.target_rows},
              {"keys_compared", r.keys_compared},
              {"ranges", r.ranges},
              {"ranges_differing", r.ranges_differing},
              {"ranges_unsettled", r.ranges_unsettled},
              {"rows_sampled", r.rows_sampled},
              {"read_ts", r.read_ts}};
  if (!r.target_name.empty()) out["target"] = r.target_name;
  if (!r.message.empty()) out["message"] = r.message;
  if (!r.note.empty()) out["note"] = r.note;
  if (!r.source_digest.empty()) {
    out["source_digest"] = r.source_digest;
    out["target_digest"] = r.target_digest;
  }
  return out;
}

bool AllEqual(const JobView& job) {
  if (job.state != JobState::kDone || !job.error.empty()) return false;
  for (const auto& r : job.results)
    if (r.verdict != Verdict::kEqual) return false;
  return true;
}

const char* StateWord(const JobView& job) {
  return job.state == JobState::kRunning ? "running" : "done";
}

}  // namespace

json KeyJson(const target::PrimaryKey& key) {
  if (const auto* i = std::get_if<int64_t>(&key)) return *i;
  return std::get<std::string>(key);
}

Result<VerifyApiRequest> DecodeVerifyRequest(const json& data) {
  VerifyApiRequest out;
  if (data.is_null()) return out;
  if (!data.is_object()) return WrongType("request_data", "struct", data);
  ASSIGN_OR_RETURN(out.request.task_id, task::DecodeStringField(data, "task_id"));
  if (auto it = data.find("collections"); it != data.end() && !it->is_null()) {
    if (!it->is_array()) return WrongType("collections", "[]string", *it);
    for (const auto& c : *it) {
      if (!c.is_string()) return WrongType("collections[]", "string", c);
      out.request.collections.push_back(c.get<std::string>());
    }
  }
  ASSIGN_OR_RETURN(std::string action, task::DecodeStringField(data, "action"));
  if (action.empty()) action = "start";
  if (action != "start" && action != "status") {
    return InvalidArgumentError("'action' must be \"start\" (the default) or \"status\", got \"" +
                                action + "\"");
  }
  out.status_only = action == "status";
  ASSIGN_OR_RETURN(out.wait, task::DecodeBoolField(data, "wait"));
  int64_t wait_seconds = out.wait_for.count();
  RETURN_IF_ERROR(GetInt(data, "wait_seconds", 1, kMaxWaitSeconds, &wait_seconds));
  out.wait_for = std::chrono::seconds(wait_seconds);
  auto sample = static_cast<int64_t>(out.request.options.sample_rows);
  RETURN_IF_ERROR(GetInt(data, "sample_rows", 0, 10000, &sample));
  out.request.options.sample_rows = static_cast<size_t>(sample);
  return out;
}

json JobJson(const JobView& job) {
  json results = json::array();
  for (const auto& r : job.results) results.push_back(ResultJson(r));
  json out = {{"task_id", job.task_id},
              {"state", StateWord(job)},
              {"started", job.started_ms},
              {"equal", AllEqual(job)},
              {"collections_total", job.collections.size()},
              {"collections_done", job.results.size()},
              {"results", std::move(results)}};
  if (job.finished_ms > 0) out["finished"] = job.finished_ms;
  if (!job.error.empty()) out["error"] = job.error;
  if (!job.current.empty()) {
    out["current"] = {{"name", job.current},
                      {"phase", job.progress.phase},
                      {"keys_compared", job.progress.keys_compared},
                      {"rows_estimated", job.progress.rows_estimated},
                      {"ranges", job.progress.ranges},
                      {"ranges_differing", job.progress.ranges_differing}};
  }
  return out;
}

json JobSummaryJson(const JobView& job) {
  json results = json::object();
  for (const auto& r : job.results) results[r.name] = VerdictName(r.verdict);
  json out = {{"state", StateWord(job)},
              {"started", job.started_ms},
              {"equal", AllEqual(job)},
              {"results", std::move(results)}};
  if (job.finished_ms > 0) out["finished"] = job.finished_ms;
  if (!job.error.empty()) out["error"] = job.error;
  return out;
}

}  // namespace cdc::verify
