#include "replicate/checkpoint.h"

#include "absl/strings/escaping.h"
#include "nlohmann/json.hpp"

namespace cdc::replicate {

namespace {
nlohmann::json Entry(const std::string& channel, uint64_t ts, const std::string& data_b64) {
  return {{"StartTime", 0},
          {"Time", HybridToMs(ts)},
          {"TS", ts},  // ours: the exact hybrid watermark (upstream keeps only ms)
          {"DataPair", {{"key", channel}, {"data", data_b64}}},
          {"Dropped", false}};
}
}  // namespace

std::string EncodeSourcePositions(const std::map<std::string, source::MsgPosition>& positions,
                                  const std::map<std::string, std::string>& extras) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [channel, pos] : positions) {
    nlohmann::json entry =
        Entry(channel, pos.timestamp(), absl::Base64Escape(source::AbslView(pos.msgid())));
    for (const auto& [key, value] : extras) {
      auto v = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
      if (!v.is_discarded()) entry[key] = std::move(v);
    }
    j[channel] = std::move(entry);
  }
  return j.dump();
}

Result<std::map<std::string, source::MsgPosition>> DecodeSourcePositions(const std::string& text) {
  std::map<std::string, source::MsgPosition> out;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return InvalidArgumentError("decode checkpoint positions: not a JSON object");
  for (const auto& [channel, entry] : j.items()) {
    if (!entry.is_object() || !entry.contains("DataPair") || !entry["DataPair"].is_object() ||
        !entry["DataPair"].contains("data") || !entry["DataPair"]["data"].is_string()) {
      return InvalidArgumentError("decode checkpoint position of channel " + channel +
                                  ": DataPair.data missing");
    }
    if (entry.value("Dropped", false)) continue;
    std::string msg_id;
    if (!absl::Base64Unescape(entry["DataPair"]["data"].get<std::string>(), &msg_id)) {
      return InvalidArgumentError("decode checkpoint position of channel " + channel +
                                  ": DataPair.data is not base64");
    }
    source::MsgPosition pos;
    pos.set_channel_name(channel);
    pos.set_msgid(msg_id);
    // Upstream checkpoints carry only Time (ms); resume after that millisecond, as upstream.
    pos.set_timestamp(entry.contains("TS") && entry["TS"].is_number_unsigned()
                          ? entry["TS"].get<uint64_t>()
                          : MsToHybrid(entry.value("Time", int64_t{0}) + 1) - 1);
    out[channel] = pos;
  }
  return out;
}

std::string DecodeExtra(const std::string& positions_json, const std::string& key,
                        const std::string& absent) {
  auto j = nlohmann::json::parse(positions_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absent;
  for (const auto& [_, entry] : j.items())
    if (entry.is_object() && entry.contains(key)) return entry[key].dump();
  return absent;
}

std::string EncodeTargetPositions(const std::map<std::string, TargetPosition>& positions) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [channel, pos] : positions) j[channel] = Entry(channel, pos.ts, pos.position);
  return j.dump();
}

}  // namespace cdc::replicate
