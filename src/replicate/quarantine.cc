#include "replicate/quarantine.h"

#include <algorithm>

#include "common/hybrid_time.h"

namespace cdc::replicate {

void Quarantine::Put(int64_t id, const std::string& name, const std::string& reason) {
  auto [it, fresh] = entries_.try_emplace(id);
  Entry& e = it->second;
  if (fresh) {
    e.info.id = id;
    e.info.since_ms = NowMs();
    e.backoff = init_backoff_;
  } else {
    e.backoff = std::min(e.backoff * 2, max_backoff_);
  }
  e.info.name = name;
  e.info.reason = reason;
  ++e.info.attempts;
  e.next_try = Clock::now() + e.backoff;
}

std::vector<int64_t> Quarantine::Due() const {
  std::vector<int64_t> out;
  const auto now = Clock::now();
  for (const auto& [id, e] : entries_)
    if (e.next_try <= now) out.push_back(id);
  return out;
}

std::vector<QuarantinedCollection> Quarantine::View() const {
  std::vector<QuarantinedCollection> out;
  for (const auto& [_, e] : entries_) out.push_back(e.info);
  return out;
}

}  // namespace cdc::replicate
