#pragma once
// PulsarBacklog: how far a Pulsar channel reaches past a saved position, from the broker's admin
// REST API (sourceConfig.pulsar.webAddress / webPort): GET .../{topic}/internalStats lists the
// topic's ledgers and their entry counts, so the entries after (ledger, entry) can be summed even
// across ledgers. Pulsar ids carry no message count: an entry is one message or one batch, so on
// Pulsar "messages" are entries (Milvus's producer batches, one message per entry at low rates).
//
// Answers are cached per channel for a second (five after a failure); HTTP waits are bounded by
// the caller's timeout. Thread-safe: one mutex; queries are serialised.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "source/position.h"

namespace cdc::source {

// A topic's ledgers in order: (ledger id, entries written to it).
using PulsarLedgerView = std::vector<std::pair<int64_t, int64_t>>;

// Parses the JSON of internalStats; the open (last) ledger counts currentLedgerEntries.
Result<PulsarLedgerView> ParsePulsarInternalStats(std::string_view json);
// Entries after entry `entry` of ledger `ledger` (a position's entry counts as consumed).
int64_t PulsarEntriesAfter(const PulsarLedgerView& view, int64_t ledger, int64_t entry);

struct PulsarAdminSettings {
  std::string web_url;  // http(s)://host:port of the broker's admin API; empty = unknown
  std::string token;    // token auth (secret), sent as a bearer token
  std::string tenant = "public";
  std::string name_space = "default";
};

// http://host:port from sourceConfig.pulsar.webAddress / webPort (a URL or host[:port] in
// webAddress; webPort when it carries no port); empty when webAddress is unset.
std::string PulsarAdminUrl(const std::string& web_address, int web_port);

class PulsarBacklog {
 public:
  explicit PulsarBacklog(PulsarAdminSettings settings) : settings_(std::move(settings)) {}

  // Entries of the position's channel after it, refreshing the view when stale; -1 when the
  // position is not a Pulsar one, no admin URL is set or the broker does not answer in time.
  int64_t MessagesAfter(const MsgPosition& position, std::chrono::milliseconds timeout);
  // The same from the cached view only (no I/O); -1 before the first successful refresh.
  int64_t CachedMessagesAfter(const MsgPosition& position) const;
  // Refreshes the view of `channel` if it is stale.
  void Refresh(const std::string& channel, std::chrono::milliseconds timeout);

 private:
  struct View {
    PulsarLedgerView ledgers;
    bool ok = false;
    std::chrono::steady_clock::time_point at;
  };
  void RefreshLocked(const std::string& channel, std::chrono::milliseconds timeout);
  int64_t CountLocked(const MsgPosition& position) const;

  const PulsarAdminSettings settings_;
  mutable std::mutex mu_;
  std::map<std::string, View> views_;
};

}  // namespace cdc::source
