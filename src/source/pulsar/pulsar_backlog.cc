#include "source/pulsar/pulsar_backlog.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "source/pulsar_id.h"

namespace cdc::source {

Result<PulsarLedgerView> ParsePulsarInternalStats(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("ledgers") || !j["ledgers"].is_array())
    return InvalidArgumentError("pulsar internalStats: no ledgers list");
  PulsarLedgerView out;
  for (const auto& l : j["ledgers"]) {
    if (!l.is_object() || !l.value("ledgerId", nlohmann::json()).is_number_integer())
      return InvalidArgumentError("pulsar internalStats: a ledger without ledgerId");
    out.emplace_back(l["ledgerId"].get<int64_t>(), l.value("entries", int64_t{0}));
  }
  if (!out.empty()) {
    const auto current = j.value("currentLedgerEntries", nlohmann::json());
    if (current.is_number_integer()) out.back().second = current.get<int64_t>();
  }
  return out;
}

int64_t PulsarEntriesAfter(const PulsarLedgerView& view, int64_t ledger, int64_t entry) {
  int64_t n = 0;
  for (const auto& [id, entries] : view) {
    if (id > ledger) n += entries;
    if (id == ledger) n += std::max<int64_t>(0, entries - (entry + 1));
  }
  return n;
}

std::string PulsarAdminUrl(const std::string& web_address, int web_port) {
  if (web_address.empty()) return "";
  std::string url = web_address.find("://") == std::string::npos
                        ? absl::StrCat("http://", web_address)
                        : web_address;
  while (!url.empty() && url.back() == '/') url.pop_back();
  const auto host = url.find("://") + 3;
  const bool has_port = url.find(':', host) != std::string::npos && url.back() != ']';
  if (!has_port && web_port > 0) absl::StrAppend(&url, ":", web_port);
  return url;
}

void PulsarBacklog::Refresh(const std::string& channel, std::chrono::milliseconds timeout) {
  std::lock_guard l(mu_);
  RefreshLocked(channel, timeout);
}

void PulsarBacklog::RefreshLocked(const std::string& channel, std::chrono::milliseconds timeout) {
  if (settings_.web_url.empty()) return;
  View& v = views_[channel];
  const auto now = std::chrono::steady_clock::now();
  const bool first = v.at == std::chrono::steady_clock::time_point{};
  const auto max_age = v.ok ? std::chrono::seconds(1) : std::chrono::seconds(5);
  if (!first && now - v.at < max_age) return;
  v.at = now;
  httplib::Client cli(settings_.web_url);
  const auto secs = timeout.count() / 1000, usecs = (timeout.count() % 1000) * 1000;
  cli.set_connection_timeout(secs, usecs);
  cli.set_read_timeout(secs, usecs);
  httplib::Headers headers;
  if (!settings_.token.empty()) headers.emplace("Authorization", "Bearer " + settings_.token);
  const std::string path = absl::StrCat("/admin/v2/persistent/", settings_.tenant, "/",
                                        settings_.name_space, "/", channel, "/internalStats");
  auto res = cli.Get(path, headers);
  const bool was_ok = v.ok;
  v.ok = false;
  std::string error;
  if (!res) {
    error = httplib::to_string(res.error());
  } else if (res->status != 200) {
    error = absl::StrCat("HTTP ", res->status);
  } else if (auto parsed = ParsePulsarInternalStats(res->body); !parsed.ok()) {
    error = std::string(parsed.status().message());
  } else {
    v.ledgers = std::move(*parsed);
    v.ok = true;
  }
  if (!v.ok && (was_ok || first)) {
    spdlog::warn(
        "pulsar admin {}{}: {}; lag in messages is unknown until it answers (check "
        "sourceConfig.pulsar.webAddress and webPort)",
        settings_.web_url, path, error);
  }
}

int64_t PulsarBacklog::CountLocked(const MsgPosition& position) const {
  auto id = DecodePulsarMsgId(position.msgid());
  if (!id.ok()) return -1;
  auto it = views_.find(position.channel_name());
  if (it == views_.end() || !it->second.ok) return -1;
  return PulsarEntriesAfter(it->second.ledgers, id->ledger, id->entry);
}

int64_t PulsarBacklog::MessagesAfter(const MsgPosition& position,
                                     std::chrono::milliseconds timeout) {
  if (position.channel_name().empty()) return -1;
  std::lock_guard l(mu_);
  RefreshLocked(position.channel_name(), timeout);
  return CountLocked(position);
}

int64_t PulsarBacklog::CachedMessagesAfter(const MsgPosition& position) const {
  std::lock_guard l(mu_);
  return CountLocked(position);
}

}  // namespace cdc::source
