#include "api/cdc_handler.h"

#include <algorithm>

#include "api/envelope.h"
#include "api/position_view.h"
#include "common/log.h"
#include "spdlog/spdlog.h"
#include "task/task_json.h"

namespace cdc::api {

using json = nlohmann::json;

const char* const CdcHandler::kTypes[] = {"create",   "delete", "pause",       "resume", "get",
                                          "position", "list",   "maintenance", nullptr};

CdcHandler::Reply CdcHandler::Handle(const std::string& method, const std::string& body) {
  if (method != "POST") {
    return {ErrorEnvelope(Stage::kMethod, "", OkStatus()), "unknown"};
  }
  json req = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (req.is_discarded()) {
    return {ErrorEnvelope(Stage::kBody, "", InvalidArgumentError("the body is not valid JSON")),
            "unknown"};
  }
  if (!req.is_object()) {
    return {ErrorEnvelope(Stage::kBody, "",
                          InvalidArgumentError("the body must be a JSON object with "
                                               "request_type and request_data")),
            "unknown"};
  }
  std::string type;
  if (auto it = req.find("request_type"); it != req.end() && !it->is_null()) {
    if (!it->is_string()) {
      return {
          ErrorEnvelope(Stage::kBody, "", InvalidArgumentError("request_type must be a string")),
          "unknown"};
    }
    type = it->get<std::string>();
  }
  json data;
  if (auto it = req.find("request_data"); it != req.end() && !it->is_null()) {
    if (!it->is_object()) {
      return {ErrorEnvelope(Stage::kBody, "",
                            InvalidArgumentError("request_data must be a JSON object")),
              "unknown"};
    }
    data = *it;
  }

  using Fn = Result<json> (CdcHandler::*)(const json&);
  static const std::pair<const char*, Fn> kTable[] = {
      {"create", &CdcHandler::Create}, {"delete", &CdcHandler::Delete},
      {"pause", &CdcHandler::Pause},   {"resume", &CdcHandler::Resume},
      {"get", &CdcHandler::Get},       {"position", &CdcHandler::Position},
      {"list", &CdcHandler::List},     {"maintenance", &CdcHandler::Maintenance}};
  for (const auto& [name, fn] : kTable) {
    if (type != name) continue;
    Result<json> out = (this->*fn)(data);
    if (out.ok()) return {OkEnvelope(std::move(*out)), type};
    // Decode errors are tagged by the handlers with kDataLoss (see DecodeError below).
    bool decode = out.status().code() == StatusCode::kDataLoss;
    Stage stage = decode ? Stage::kDecode : Stage::kHandle;
    json env = ErrorEnvelope(stage, type, out.status());
    spdlog::warn("{}", env["message"].get<std::string>());
    return {std::move(env), type};
  }
  std::string list = "[";
  for (int i = 0; kTypes[i]; ++i) list += std::string(i ? " " : "") + kTypes[i];
  list += "]";
  return {ErrorEnvelope(Stage::kType, type, InvalidArgumentError(list)), "unknown"};
}

namespace {

// A request_data decoding failure, told apart from handler failures by its code.
Status DecodeError(const Status& s) { return Status(StatusCode::kDataLoss, s.message()); }

template <typename T>
Result<T> Decoded(Result<T> r) {
  if (!r.ok()) return DecodeError(r.status());
  return r;
}

}  // namespace

Result<json> CdcHandler::Create(const json& data) {
  ASSIGN_OR_RETURN(task::CreateRequest req, Decoded(task::DecodeCreateRequest(data)));
  ASSIGN_OR_RETURN(std::string id, tasks_->Create(req));
  return json{{"task_id", id}};
}

Result<json> CdcHandler::Delete(const json& data) {
  ASSIGN_OR_RETURN(std::string id, Decoded(task::DecodeStringField(data, "task_id")));
  ASSIGN_OR_RETURN(bool ignore, Decoded(task::DecodeBoolField(data, "ignore_not_found")));
  RETURN_IF_ERROR(tasks_->Delete(id, ignore));
  return json();
}

Result<json> CdcHandler::Pause(const json& data) {
  ASSIGN_OR_RETURN(std::string id, Decoded(task::DecodeStringField(data, "task_id")));
  RETURN_IF_ERROR(tasks_->Pause(id));
  return json();
}

Result<json> CdcHandler::Resume(const json& data) {
  ASSIGN_OR_RETURN(std::string id, Decoded(task::DecodeStringField(data, "task_id")));
  RETURN_IF_ERROR(tasks_->Resume(id));
  return json();
}

Result<json> CdcHandler::Get(const json& data) {
  ASSIGN_OR_RETURN(std::string id, Decoded(task::DecodeStringField(data, "task_id")));
  ASSIGN_OR_RETURN(task::TaskInfo t, tasks_->Get(id));
  json view = task::ToApiJson(t);
  view["channels"] = task::LagJson(tasks_->Lag(id));  // ours: checkpoint and lag per channel
  // Upstream answers under "task"; its usage doc shows "Task": give both.
  return json{{"task", view}, {"Task", view}};
}

Result<json> CdcHandler::List(const json&) {
  json tasks = json::array();
  for (const auto& t : tasks_->List()) {
    json view = task::ToApiJson(t);
    view["channels"] = task::LagJson(tasks_->Lag(t.task_id));
    tasks.push_back(std::move(view));
  }
  return json{{"tasks", tasks}};
}

Result<json> CdcHandler::Position(const json& data) {
  ASSIGN_OR_RETURN(std::string id, Decoded(task::DecodeStringField(data, "task_id")));
  ASSIGN_OR_RETURN(auto rows, tasks_->Positions(id));
  ASSIGN_OR_RETURN(json view, PositionView(rows));
  view["channels"] = task::LagJson(tasks_->Lag(id));  // ours, as in `get`
  return view;
}

Result<json> CdcHandler::Maintenance(const json& data) {
  ASSIGN_OR_RETURN(std::string op, Decoded(task::DecodeStringField(data, "operation")));
  json params = data.is_object() ? data.value("params", json::object()) : json::object();
  if (!params.is_object()) {
    return DecodeError(InvalidArgumentError(
        "'params' expected type 'map[string]interface {}', got unconvertible type"));
  }
  std::string state;
  if (op == "set_log_level") {
    if (!params.contains("log_level")) {
      state = "log_level is required";
    } else {
      const json& v = params["log_level"];
      std::string level = v.is_string() ? v.get<std::string>() : v.dump();
      if (Status s = InitLogging(level); !s.ok()) {
        state = "parse log level failed: unrecognized level: \"" + level + "\"";
      } else {
        state = "set log level to " + level;
        spdlog::info("log level set to {} through the maintenance request", level);
      }
    }
  } else {
    state = "unsupported operation: " + op;
  }
  return json{{"State", state}};
}

}  // namespace cdc::api
