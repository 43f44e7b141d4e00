#include "api/cdc_handler.h"

#include <algorithm>

#include "api/envelope.h"
#include "api/maintenance.h"
#include "api/position_view.h"
#include "api/request_log.h"
#include "spdlog/spdlog.h"
#include "task/task_json.h"
#include "verify/verifier.h"
#include "verify/verify_json.h"

namespace cdc::api {

using json = nlohmann::json;

namespace {

// Nesting allowed in a body (requests need 6 levels). Copying and printing a JSON value recurse
// once per level: a body of a few hundred KB nested deeper overflowed the stack.
constexpr int kMaxBodyDepth = 100;
struct TooDeep {};

// The body as JSON; a syntax error says where it is, e.g. "malformed JSON: parse error at line
// 1, column 17: syntax error while parsing value - unexpected end of input; ...".
Result<json> ParseBody(const std::string& body) {
  try {
    return json::parse(body, [](int depth, json::parse_event_t, json&) {
      if (depth >= kMaxBodyDepth) throw TooDeep();  // depth counts from 0
      return true;
    });
  } catch (const TooDeep&) {
    return InvalidArgumentError("malformed JSON: nested deeper than " +
                                std::to_string(kMaxBodyDepth) + " levels");
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    std::string what = e.what();
    // Drop the library's tag, "[json.exception.parse_error.101] ".
    if (auto end = what.find("] "); what.rfind("[json.exception.", 0) == 0 && end != what.npos) {
      what.erase(0, end + 2);
    }
    // The text quotes the bytes last read, which need not be UTF-8: replace those (U+FFFD) so
    // the answer can be serialised (it was a 500 "internal error" instead of this 400).
    what = json::parse(json(what).dump(-1, ' ', false, json::error_handler_t::replace))
               .get<std::string>();
    return InvalidArgumentError("malformed JSON: " + what);
  }
}

}  // namespace

const char* const CdcHandler::kTypes[] = {"create",   "delete", "pause",       "resume", "get",
                                          "position", "list",   "maintenance", "verify", nullptr};

CdcHandler::Reply CdcHandler::Handle(const std::string& method, const std::string& body) {
  auto parsed = Parse(method, body);
  if (auto* reply = std::get_if<Reply>(&parsed)) return std::move(*reply);
  return Execute(std::get<Request>(parsed));
}

bool CdcHandler::IsReadOnly(const std::string& type) {
  return type == "get" || type == "list" || type == "position" || type == "verify";
}

bool CdcHandler::IsSlow(const std::string& type) {
  // verify may wait up to its wait_seconds for the job's answer.
  return type == "create" || type == "delete" || type == "pause" || type == "resume" ||
         type == "verify";
}

std::variant<CdcHandler::Request, CdcHandler::Reply> CdcHandler::Parse(
    const std::string& method, const std::string& body) const {
  if (method != "POST") {
    return Reply{ErrorEnvelope(Stage::kMethod, "", OkStatus()), "unknown"};
  }
  Result<json> parsed = ParseBody(body);
  if (!parsed.ok()) {
    // Only where it failed: the library's text quotes the input, which may hold a secret.
    std::string where(parsed.status().message());
    where.resize(std::min(where.size(), where.find(':', where.find("column"))));
    spdlog::debug("request receive: {} bytes, {}", body.size(), where);
    return Reply{ErrorEnvelope(Stage::kBody, "", parsed.status()), "unknown"};
  }
  json& req = *parsed;
  if (!req.is_object()) {
    return Reply{ErrorEnvelope(Stage::kBody, "",
                               InvalidArgumentError("the body must be a JSON object with "
                                                    "request_type and request_data")),
                 "unknown"};
  }
  Request out;
  if (auto it = req.find("request_type"); it != req.end() && !it->is_null()) {
    if (!it->is_string()) {
      return Reply{
          ErrorEnvelope(Stage::kBody, "", InvalidArgumentError("request_type must be a string")),
          "unknown"};
    }
    out.type = it->get<std::string>();
  }
  if (auto it = req.find("request_data"); it != req.end() && !it->is_null()) {
    if (!it->is_object()) {
      return Reply{ErrorEnvelope(Stage::kBody, "",
                                 InvalidArgumentError("request_data must be a JSON object")),
                   "unknown"};
    }
    out.data = std::move(*it);
  }
  return out;
}

CdcHandler::Reply CdcHandler::Execute(const Request& req) {
  const std::string& type = req.type;
  const json& data = req.data;
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("request receive: type {}, data {}", type, MaskSecrets(data).dump());
  }

  using Fn = Result<json> (CdcHandler::*)(const json&);
  static const std::pair<const char*, Fn> kTable[] = {
      {"create", &CdcHandler::Create}, {"delete", &CdcHandler::Delete},
      {"pause", &CdcHandler::Pause},   {"resume", &CdcHandler::Resume},
      {"get", &CdcHandler::Get},       {"position", &CdcHandler::Position},
      {"list", &CdcHandler::List},     {"maintenance", &CdcHandler::Maintenance},
      {"verify", &CdcHandler::Verify}};
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
  task::AddHealthJson(tasks_->Health(id), &view);     // ours: collections set aside, skips
  if (verifier_ != nullptr) {
    if (auto v = verifier_->Get(id); v.ok()) view["verify"] = verify::JobSummaryJson(*v);
  }
  // Upstream answers under "task"; its usage doc shows "Task": give both.
  return json{{"task", view}, {"Task", view}};
}

Result<json> CdcHandler::List(const json&) {
  json tasks = json::array();
  for (const auto& t : tasks_->List()) {
    json view = task::ToApiJson(t);
    view["channels"] = task::LagJson(tasks_->Lag(t.task_id));
    task::AddHealthJson(tasks_->Health(t.task_id), &view);
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
  return json{{"State", RunMaintenance(op, params)}};
}

// Starts a verify of the task (or answers the one running), or with "action": "status" only
// answers the running or last one; "wait": true waits for it up to wait_seconds.
Result<json> CdcHandler::Verify(const json& data) {
  ASSIGN_OR_RETURN(verify::VerifyApiRequest req, Decoded(verify::DecodeVerifyRequest(data)));
  const std::string& id = req.request.task_id;
  if (id.empty()) return InvalidArgumentError("task_id is empty");
  if (verifier_ == nullptr) {
    return FailedPreconditionError("this server cannot verify (no verifier configured)");
  }
  Result<verify::JobView> job =
      req.status_only ? verifier_->Get(id) : verifier_->Start(req.request);
  RETURN_IF_ERROR(job.status());
  if (req.wait && job->state == verify::JobState::kRunning) {
    job = verifier_->Wait(id, req.wait_for);
    RETURN_IF_ERROR(job.status());
  }
  return json{{"verify", verify::JobJson(*job)}};
}

}  // namespace cdc::api
