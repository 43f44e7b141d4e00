#include "api/maintenance.h"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>

#include "common/log.h"
#include "common/msg_log.h"
#include "spdlog/spdlog.h"

namespace cdc::api {
namespace {

using json = nlohmann::json;

// A parameter as text, as upstream reads it (fmt.Sprint of the decoded JSON value).
std::string Text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    // In range first: converting 1e300 to int64 is undefined behaviour.
    if (d >= -0x1p63 && d < 0x1p63 && d == static_cast<double>(static_cast<int64_t>(d))) {
      return std::to_string(static_cast<int64_t>(d));
    }
  }
  return v.dump();
}

// Go's strconv.ParseBool spellings.
std::optional<bool> ParseBool(const std::string& s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") {
    return false;
  }
  return std::nullopt;
}

// A decimal integer with an optional sign, as strconv.Atoi reads it.
std::optional<int64_t> ParseInt(const std::string& s) {
  const char* begin = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
  const char* end = s.data() + s.size();
  int64_t v = 0;
  auto [p, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || p != end || begin == end) return std::nullopt;
  return v;
}

std::string SetLogLevel(const json& params) {
  if (!params.contains("log_level")) return "log_level is required";
  std::string level = Text(params["log_level"]);
  if (!InitLogging(level).ok()) {
    return "parse log level failed: unrecognized level: \"" + level + "\"";
  }
  spdlog::info("log level set to {} through the maintenance request", level);
  return "set log level to " + level;
}

std::string SetForceLogMsg(const json& params) {
  if (!params.contains("force")) return "force is required";
  std::string text = Text(params["force"]);
  std::optional<bool> parsed = ParseBool(text);
  if (!parsed) {
    return "parse force failed: strconv.ParseBool: parsing \"" + text + "\": invalid syntax";
  }
  const bool force = *parsed;
  MsgLog::Global().SetForce(force);
  spdlog::info("replicated message log forced {} through the maintenance request",
               force ? "on" : "off");
  return std::string("set force log msg to ") + (force ? "true" : "false");
}

std::string ResetLogMsg(const json& params) {
  int64_t values[2] = {0, 0};
  const char* names[2] = {"count", "duration"};
  for (int i = 0; i < 2; ++i) {
    if (!params.contains(names[i])) return std::string(names[i]) + " is required";
    std::string text = Text(params[names[i]]);
    std::optional<int64_t> v = ParseInt(text);
    if (!v) {
      return std::string("parse ") + names[i] + " failed: strconv.Atoi: parsing \"" + text +
             "\": invalid syntax";
    }
    values[i] = *v;
  }
  MsgLog::Global().Reset(values[0], values[1]);
  spdlog::info("replicated message log reopened for {} message(s) within {} minute(s)", values[0],
               values[1]);
  return "reset log msg count to " + std::to_string(values[0]) + ", duration to " +
         std::to_string(values[1]);
}

}  // namespace

std::string RunMaintenance(const std::string& operation, const json& params) {
  if (operation == "set_log_level") return SetLogLevel(params);
  if (operation == "set_force_log_msg") return SetForceLogMsg(params);
  if (operation == "reset_log_msg") return ResetLogMsg(params);
  return "unsupported operation: " + operation;
}

}  // namespace cdc::api
