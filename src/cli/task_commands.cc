#include "cli/task_commands.h"

#include <algorithm>
#include <chrono>

#include "cli/exit_code.h"
#include "cli/flag_values.h"
#include "cli/json_fields.h"
#include "cli/task_render.h"
#include "cli/verify_render.h"

namespace cdc::cli {
namespace {

using nlohmann::json;

const json& Data(const json& answer) { return Field(answer, "data"); }

}  // namespace

bool TaskCommands::Call(const std::string& type, const json& data, json* answer, int* code) {
  auto result = client_.Call(type, data);
  if (!result.ok()) {
    err_ << type << ": " << result.status().message() << "\n";
    *code = ExitCodeOf(result.status());
    return false;
  }
  *answer = std::move(*result);
  *code = kExitOk;
  return true;
}

int TaskCommands::Show(const std::string& type, const json& data, const Render& render) {
  json answer;
  int code = kExitOk;
  if (!Call(type, data, &answer, &code)) return code;
  out_ << (json_ ? answer.dump(2) + "\n" : render(Data(answer)));
  return kExitOk;
}

int TaskCommands::Simple(const std::string& type, const json& data, const std::string& done) {
  return Show(type, data, [&](const json&) { return done + "\n"; });
}

int TaskCommands::Create(const json& request_data) {
  return Show("create", request_data, [](const json& d) { return Str(d, "task_id") + "\n"; });
}

int TaskCommands::List() {
  return Show("list", nullptr, [](const json& d) { return RenderTaskList(Field(d, "tasks")); });
}

int TaskCommands::Get(const std::string& id) {
  return Show("get", {{"task_id", id}}, [](const json& d) { return RenderTask(Field(d, "task")); });
}

int TaskCommands::Position(const std::string& id) {
  return Show("position", {{"task_id", id}}, RenderPosition);
}

int TaskCommands::Pause(const std::string& id) {
  return Simple("pause", {{"task_id", id}}, "paused " + id);
}

int TaskCommands::Resume(const std::string& id) {
  return Simple("resume", {{"task_id", id}}, "resumed " + id);
}

int TaskCommands::Delete(const std::string& id, bool ignore_not_found) {
  json data = {{"task_id", id}};
  if (ignore_not_found) data["ignore_not_found"] = true;
  return Simple("delete", data, "deleted " + id);
}

int TaskCommands::Verify(const std::string& id, const VerifyFlags& flags) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(flags.max_wait_s);
  // Each call holds at most wait_seconds on the server, within the client's timeout.
  const int hold_s = std::clamp(client_.timeout_s() - 5, 1, 20);
  json data = {{"task_id", id}, {"wait", !flags.no_wait}, {"wait_seconds", hold_s}};
  if (flags.status) data["action"] = "status";
  const auto collections = SplitList(flags.collections);
  if (!collections.empty()) data["collections"] = collections;
  if (flags.sample_rows >= 0) data["sample_rows"] = flags.sample_rows;
  json answer;
  int code = kExitOk;
  if (!Call("verify", data, &answer, &code)) return code;
  const json status = {
      {"task_id", id}, {"action", "status"}, {"wait", true}, {"wait_seconds", hold_s}};
  while (!flags.no_wait && Str(Field(Data(answer), "verify"), "state") == "running" &&
         std::chrono::steady_clock::now() < deadline) {
    if (!Call("verify", status, &answer, &code)) return code;
  }
  return PrintVerify(answer, flags.no_wait);
}

int TaskCommands::PrintVerify(const json& answer, bool no_wait) {
  const json& verify = Field(Data(answer), "verify");
  out_ << (json_ ? answer.dump(2) + "\n" : RenderVerify(verify));
  if (Str(verify, "state") == "running") {
    if (no_wait) return kExitOk;
    err_ << "verify: still running; follow it with `milvus-cdc task verify ID --status`\n";
  }
  return Str(verify, "state") == "done" && Bool(verify, "equal") ? kExitOk : kExitDiffers;
}

}  // namespace cdc::cli
