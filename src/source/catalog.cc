#include "source/catalog.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace cdc::source {

Catalog::Catalog(etcd::Client* client, CatalogOptions options, EventsFn on_events)
    : client_(client),
      options_(std::move(options)),
      on_events_(std::move(on_events)),
      prefix_(options_.MetaPrefix() + "root-coord/"),
      state_(options_.MetaPrefix()) {}

Result<std::unique_ptr<Catalog>> Catalog::Start(etcd::Client* client, CatalogOptions options,
                                                EventsFn on_events) {
  std::unique_ptr<Catalog> c(new Catalog(client, std::move(options), std::move(on_events)));
  RETURN_IF_ERROR(c->ListAndWatch());
  c->supervisor_ = std::thread([p = c.get()] { p->Supervise(); });
  return c;
}

Catalog::~Catalog() { Stop(); }

void Catalog::Stop() {
  {
    std::lock_guard<std::mutex> l(sup_mu_);
    stop_ = true;
  }
  sup_cv_.notify_all();
  if (supervisor_.joinable()) supervisor_.join();
  watcher_.reset();
}

Status Catalog::ListAndWatch() {
  etcd::RangeOptions ro;
  ro.prefix = true;
  auto listing = client_->Range(prefix_, ro);
  if (!listing.ok()) {
    return Annotate(listing.status(), absl::StrCat("list source catalog under '", prefix_,
                                                   "'; check sourceConfig.etcd"));
  }
  std::vector<KvChange> snapshot;
  snapshot.reserve(listing->kvs.size());
  for (auto& kv : listing->kvs) {
    snapshot.push_back({std::move(kv.key), std::move(kv.value), false, kv.mod_revision});
  }
  std::vector<CatalogEvent> events;
  {
    std::lock_guard<std::mutex> l(mu_);
    events = state_.Reset(snapshot);
    for (auto& e : events) e.revision = listing->revision;
    status_.revision = listing->revision;
    status_.bad_keys = state_.bad_keys();
    status_.errors = state_.errors();
  }
  if (!events.empty() && on_events_) {
    std::lock_guard<std::mutex> d(deliver_mu_);
    on_events_(events);
  }
  etcd::WatchOptions wo;
  wo.prefix = true;
  wo.start_revision = listing->revision + 1;
  auto w = client_->Watch(
      prefix_, wo, [this](const std::vector<etcd::Event>& ev, int64_t rev) { OnWatch(ev, rev); },
      [this](const Status& s) {
        spdlog::warn("source catalog watch on '{}' ended: {}; re-listing", prefix_,
                     std::string(s.message()));
        {
          std::lock_guard<std::mutex> l(mu_);
          status_.reason = absl::StrCat("watch source catalog: ", s.message(), "; re-listing");
        }
        std::lock_guard<std::mutex> l(sup_mu_);
        relist_ = true;
        sup_cv_.notify_all();
      });
  if (!w.ok()) {
    return Annotate(w.status(), absl::StrCat("watch source catalog under '", prefix_, "'"));
  }
  std::unique_ptr<etcd::Watcher> old;
  {
    std::lock_guard<std::mutex> l(sup_mu_);
    old = std::move(watcher_);
    watcher_ = std::move(*w);
  }
  return OkStatus();
}

void Catalog::OnWatch(const std::vector<etcd::Event>& events, int64_t revision) {
  // Group by revision: one etcd transaction = one Apply, so a collection and its fields
  // arrive together.
  std::vector<CatalogEvent> out;
  size_t i = 0;
  while (i < events.size()) {
    std::vector<KvChange> batch;
    int64_t rev = events[i].kv.mod_revision;
    for (; i < events.size() && events[i].kv.mod_revision == rev; ++i) {
      const auto& e = events[i];
      batch.push_back({e.kv.key, e.kv.value, e.type == etcd::Event::Type::kDelete, rev});
    }
    std::lock_guard<std::mutex> l(mu_);
    auto ev = state_.Apply(batch);
    out.insert(out.end(), ev.begin(), ev.end());
    status_.revision = std::max(status_.revision, rev);
    status_.bad_keys = state_.bad_keys();
    status_.errors = state_.errors();
  }
  if (!out.empty() && on_events_) {
    std::lock_guard<std::mutex> d(deliver_mu_);
    for (const auto& e : out) spdlog::info("source catalog: {}", DescribeEvent(e));
    on_events_(out);
  }
}

void Catalog::Supervise() {
  auto backoff = std::chrono::milliseconds(200);
  std::unique_lock<std::mutex> l(sup_mu_);
  while (true) {
    sup_cv_.wait(l, [&] { return stop_ || relist_; });
    if (stop_) return;
    relist_ = false;
    l.unlock();
    Status s = ListAndWatch();
    l.lock();
    if (s.ok()) {
      std::lock_guard<std::mutex> m(mu_);
      ++status_.relists;
      status_.reason.clear();
      backoff = std::chrono::milliseconds(200);
      continue;
    }
    {
      std::lock_guard<std::mutex> m(mu_);
      status_.reason = absl::StrCat(s.message(), "; retrying in ", backoff.count(), " ms");
    }
    relist_ = true;
    sup_cv_.wait_for(l, backoff, [&] { return stop_; });
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
  }
}

std::vector<DatabaseMeta> Catalog::Databases() const {
  std::lock_guard<std::mutex> l(mu_);
  return state_.Databases();
}
std::vector<CollectionMeta> Catalog::Collections() const {
  std::lock_guard<std::mutex> l(mu_);
  return state_.Collections();
}
std::optional<CollectionMeta> Catalog::Collection(int64_t id) const {
  std::lock_guard<std::mutex> l(mu_);
  return state_.Collection(id);
}
std::optional<CollectionMeta> Catalog::FindCollection(const std::string& db,
                                                      const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  return state_.FindCollection(db, name);
}
CatalogStatus Catalog::status() const {
  std::lock_guard<std::mutex> l(mu_);
  return status_;
}

}  // namespace cdc::source
