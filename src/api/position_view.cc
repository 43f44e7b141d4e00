#include "api/position_view.h"

#include "absl/strings/escaping.h"
#include "common/hybrid_time.h"

namespace cdc::api {
namespace {

using json = nlohmann::json;

void AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// MsgPosition{channel_name = 1 (string), msgID = 2 (bytes), timestamp = 4 (uint64)} in protobuf
// wire format. Upstream writes no timestamp; ours (the exact watermark, when the entry has it)
// lets a task created with these positions start right after them.
std::string EncodeMsgPosition(const std::string& channel, const std::string& msg_id, uint64_t ts) {
  std::string out;
  if (!channel.empty()) {
    out.push_back(0x0A);
    AppendVarint(&out, channel.size());
    out += channel;
  }
  if (!msg_id.empty()) {
    out.push_back(0x12);
    AppendVarint(&out, msg_id.size());
    out += msg_id;
  }
  if (ts != 0) {
    out.push_back(0x20);
    AppendVarint(&out, ts);
  }
  return out;
}

Status AppendMap(const meta::PositionRecord& row, const std::string& text, json* out) {
  if (text.empty()) return OkStatus();
  json m = json::parse(text, nullptr, false);
  auto bad = [&](const std::string& why) {
    return InternalError("decode position of task " + row.task_id + " collection " +
                         std::to_string(row.collection_id) + ": " + why);
  };
  if (m.is_discarded()) return bad("not JSON");
  if (m.is_null()) return OkStatus();
  if (!m.is_object()) return bad("not a JSON object");
  for (const auto& [channel, info] : m.items()) {
    if (!info.is_object()) continue;
    if (info.value("Dropped", false)) continue;
    int64_t time = info.value("Time", int64_t{0});
    const uint64_t ts =
        info.contains("TS") && info["TS"].is_number_unsigned() ? info["TS"].get<uint64_t>() : 0;
    std::string key, data;
    if (info.contains("DataPair") && info["DataPair"].is_object()) {
      const json& dp = info["DataPair"];
      key = dp.value("key", std::string());
      std::string b64 = dp.value("data", std::string());
      if (!absl::Base64Unescape(b64, &data)) return bad("DataPair.data is not base64");
    }
    out->push_back({{"collection_id", row.collection_id},
                    {"channel_name", channel},
                    {"time", time},
                    {"tt", MsToHybrid(time + 1)},
                    {"msg_id", absl::Base64Escape(EncodeMsgPosition(key, data, ts))}});
  }
  return OkStatus();
}

}  // namespace

Result<json> PositionView(const std::vector<meta::PositionRecord>& rows) {
  json positions = json::array(), op = json::array(), target = json::array();
  for (const auto& row : rows) {
    RETURN_IF_ERROR(AppendMap(row, row.positions_json, &positions));
    RETURN_IF_ERROR(AppendMap(row, row.op_positions_json, &op));
    RETURN_IF_ERROR(AppendMap(row, row.target_positions_json, &target));
  }
  auto or_null = [](json& a) { return a.empty() ? json(nullptr) : a; };  // Go nil slices
  return json{{"positions", or_null(positions)},
              {"op_positions", or_null(op)},
              {"target_positions", or_null(target)}};
}

}  // namespace cdc::api
