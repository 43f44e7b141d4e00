#include "source/catalog.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/thread_name.h"
#include "milvus/data_meta.pb.h"
#include "milvus/index_meta.pb.h"
#include "milvus/query_meta.pb.h"

namespace cdc::source {
namespace {
// An etcd that is down is asked again at least this often: a refused connection costs nothing,
// and a longer wait would keep the task's reason naming etcd for as long after it is back.
constexpr std::chrono::milliseconds kMaxRelistBackoff{2000};
}  // namespace

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
    std::lock_guard<std::mutex> l(sup_.mu);
    sup_.stop = true;
  }
  sup_.cv.notify_all();
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
    keys_.clear();
    for (const auto& kv : snapshot) keys_.insert(kv.key);
    events = state_.Reset(snapshot);
    for (auto& e : events) e.revision = listing->revision;
    status_.revision = listing->revision;
    applied_cv_.notify_all();
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
  wo.on_resumed = [this] { Resumed(); };
  auto w = client_->Watch(
      prefix_, wo, [this](const std::vector<etcd::Event>& ev, int64_t rev) { OnWatch(ev, rev); },
      [this](const Status& s) {
        spdlog::warn("source catalog watch on '{}' ended: {}; re-listing", prefix_,
                     std::string(s.message()));
        {
          std::lock_guard<std::mutex> l(mu_);
          status_.reason = absl::StrCat("watch source catalog: ", s.message(), "; re-listing");
        }
        std::lock_guard<std::mutex> l(sup_.mu);
        sup_.relist = true;
        sup_.cv.notify_all();
      });
  if (!w.ok()) {
    return Annotate(w.status(), absl::StrCat("watch source catalog under '", prefix_, "'"));
  }
  std::unique_ptr<etcd::Watcher> old;
  {
    std::lock_guard<std::mutex> l(sup_.mu);
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
    for (const auto& c : batch) {
      if (c.deleted) {
        keys_.erase(c.key);
      } else {
        keys_.insert(c.key);
      }
    }
    auto ev = state_.Apply(batch);
    out.insert(out.end(), ev.begin(), ev.end());
    status_.revision = std::max(status_.revision, rev);
    applied_cv_.notify_all();
    status_.bad_keys = state_.bad_keys();
    status_.errors = state_.errors();
  }
  if (!out.empty() && on_events_) {
    std::lock_guard<std::mutex> d(deliver_mu_);
    for (const auto& e : out) spdlog::info("source catalog: {}", DescribeEvent(e));
    on_events_(out);
  }
}

void Catalog::Resumed() {
  // No event, but whoever waits out an etcd outage can retry now rather than at the end of its
  // own backoff.
  spdlog::info("source catalog under '{}': etcd answers again", prefix_);
  if (!on_events_) return;
  std::lock_guard<std::mutex> d(deliver_mu_);
  on_events_({});
}

void Catalog::Supervise() {
  NameThread("catalog");
  auto backoff = std::chrono::milliseconds(200);
  std::unique_lock<std::mutex> l(sup_.mu);
  while (true) {
    sup_.cv.wait(l, [&] { return sup_.stop || sup_.relist; });
    if (sup_.stop) return;
    sup_.relist = false;
    l.unlock();
    Status s = ListAndWatch();
    l.lock();
    if (s.ok()) {
      bool recovered = false;
      {
        std::lock_guard<std::mutex> m(mu_);
        ++status_.relists;
        recovered = !status_.reason.empty();
        status_.reason.clear();
        applied_cv_.notify_all();
      }
      backoff = std::chrono::milliseconds(200);
      if (recovered) {
        l.unlock();
        Resumed();
        l.lock();
      }
      continue;
    }
    {
      std::lock_guard<std::mutex> m(mu_);
      status_.reason = absl::StrCat(s.message(), "; retrying in ", backoff.count(), " ms");
    }
    sup_.relist = true;
    sup_.cv.wait_for(l, backoff, [&] { return sup_.stop; });
    backoff = std::min(backoff * 2, kMaxRelistBackoff);
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
std::optional<CollectionMeta> Catalog::Dropped(int64_t id) const {
  std::lock_guard<std::mutex> l(mu_);
  return state_.Dropped(id);
}
std::optional<PartitionMeta> Catalog::DroppedPartition(int64_t collection_id,
                                                       int64_t partition_id) const {
  std::lock_guard<std::mutex> l(mu_);
  return state_.DroppedPartition(collection_id, partition_id);
}

Status Catalog::Sync(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  return sync_.Run([&] { return CheckCovered(deadline); }, deadline,
                   absl::StrCat("sync the source catalog under '", prefix_,
                                "': another check did not finish in time"));
}

Status Catalog::CheckCovered(std::chrono::steady_clock::time_point deadline) {
  bool relisted = false;
  while (true) {
    int64_t applied = 0;
    size_t known = 0;
    {
      std::lock_guard<std::mutex> l(mu_);
      applied = status_.revision;
      known = keys_.size();
    }
    etcd::RangeOptions ro;
    ro.prefix = true;
    ro.keys_only = true;
    ro.min_mod_revision = applied + 1;
    auto r = client_->Range(prefix_, ro);
    if (!r.ok()) {
      return Annotate(r.status(), absl::StrCat("sync the source catalog under '", prefix_,
                                               "'; check sourceConfig.etcd"));
    }
    if (r->kvs.empty() && static_cast<size_t>(r->count) == known) return OkStatus();
    int64_t wanted = applied + 1;  // deletes only: any progress of the watch
    for (const auto& kv : r->kvs) wanted = std::max(wanted, kv.mod_revision);
    std::unique_lock<std::mutex> l(mu_);
    const auto give_up = std::min(deadline, std::chrono::steady_clock::now() +
                                                std::chrono::milliseconds(relisted ? 5000 : 1000));
    if (applied_cv_.wait_until(l, give_up, [&] { return status_.revision >= wanted; })) continue;
    l.unlock();
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceededError(absl::StrCat("the source catalog watch under '", prefix_,
                                                "' is behind etcd (applied revision ", applied,
                                                ", etcd has changes up to ", wanted, " and ",
                                                r->count, " keys, the view ", known, ")"));
    }
    // The watch made no progress although etcd has changes it has not delivered: read the
    // whole catalog again (as after a compaction) and check once more.
    spdlog::warn(
        "source catalog under '{}': the watch is behind etcd (applied revision {}, "
        "wanted {}); re-listing",
        prefix_, applied, wanted);
    uint64_t relists = 0;
    {
      std::lock_guard<std::mutex> m(mu_);
      relists = status_.relists;
    }
    {
      std::lock_guard<std::mutex> sl(sup_.mu);
      sup_.relist = true;
    }
    sup_.cv.notify_all();
    l.lock();
    if (!applied_cv_.wait_until(l, deadline, [&] { return status_.relists > relists; })) {
      return DeadlineExceededError(
          absl::StrCat("re-list the source catalog under '", prefix_, "': ", status_.reason));
    }
    l.unlock();
    relisted = true;
  }
}

Result<std::vector<IndexMeta>> Catalog::Indexes(int64_t collection_id) const {
  const std::string prefix =
      absl::StrCat(options_.MetaPrefix(), "field-index/", collection_id, "/");
  etcd::RangeOptions ro;
  ro.prefix = true;
  auto r = client_->Range(prefix, ro);
  if (!r.ok()) return Annotate(r.status(), "read the source's indexes under '" + prefix + "'");
  std::vector<IndexMeta> out;
  for (const auto& kv : r->kvs) {
    milvus::proto::index::FieldIndex fi;
    if (!fi.ParseFromString(kv.value)) {
      return InternalError(absl::StrCat("source index key '", kv.key, "' is not a FieldIndex"));
    }
    if (fi.deleted()) continue;
    IndexMeta m;
    m.field_id = fi.index_info().fieldid();
    m.name = fi.index_info().index_name();
    const auto& params = fi.index_info().user_index_params().empty()
                             ? fi.index_info().index_params()
                             : fi.index_info().user_index_params();
    for (const auto& p : params) m.params.emplace_back(p.key(), p.value());
    out.push_back(std::move(m));
  }
  return out;
}

Result<LoadMeta> Catalog::LoadState(int64_t collection_id) const {
  namespace qpb = milvus::proto::query;
  const std::string key =
      absl::StrCat(options_.MetaPrefix(), "querycoord-collection-loadinfo/", collection_id);
  auto r = client_->Range(key);
  if (!r.ok()) return Annotate(r.status(), "read the source's load state '" + key + "'");
  LoadMeta out;
  if (r->kvs.empty()) return out;
  qpb::CollectionLoadInfo info;
  if (!info.ParseFromString(r->kvs[0].value)) {
    return InternalError("source load state '" + key + "' is not a CollectionLoadInfo");
  }
  out.loaded = info.status() == qpb::Loaded || info.status() == qpb::Loading;
  out.by_partition = info.load_type() == qpb::LoadPartition;
  if (info.replica_number() > 0) out.replicas = info.replica_number();
  if (!out.by_partition) return out;
  const std::string prefix =
      absl::StrCat(options_.MetaPrefix(), "querycoord-partition-loadinfo/", collection_id, "/");
  etcd::RangeOptions ro;
  ro.prefix = true;
  auto parts = client_->Range(prefix, ro);
  if (!parts.ok()) return Annotate(parts.status(), "read the source's load state '" + prefix + "'");
  for (const auto& kv : parts->kvs) {
    qpb::PartitionLoadInfo p;
    if (p.ParseFromString(kv.value)) out.partitions.push_back(p.partitionid());
  }
  return out;
}

Result<std::map<int64_t, LoadMeta>> Catalog::LoadStates() const {
  namespace qpb = milvus::proto::query;
  etcd::RangeOptions ro;
  ro.prefix = true;
  const std::string collections = options_.MetaPrefix() + "querycoord-collection-loadinfo/";
  auto r = client_->Range(collections, ro);
  if (!r.ok()) return Annotate(r.status(), "read the source's load state '" + collections + "'");
  std::map<int64_t, LoadMeta> out;
  for (const auto& kv : r->kvs) {
    qpb::CollectionLoadInfo info;
    if (!info.ParseFromString(kv.value)) continue;
    LoadMeta& m = out[info.collectionid()];
    m.loaded = info.status() == qpb::Loaded || info.status() == qpb::Loading;
    m.by_partition = info.load_type() == qpb::LoadPartition;
    if (info.replica_number() > 0) m.replicas = info.replica_number();
  }
  const std::string partitions = options_.MetaPrefix() + "querycoord-partition-loadinfo/";
  auto parts = client_->Range(partitions, ro);
  if (!parts.ok()) {
    return Annotate(parts.status(), "read the source's load state '" + partitions + "'");
  }
  for (const auto& kv : parts->kvs) {
    qpb::PartitionLoadInfo p;
    if (!p.ParseFromString(kv.value)) continue;
    auto it = out.find(p.collectionid());
    if (it != out.end()) it->second.partitions.push_back(p.partitionid());
  }
  return out;
}

Result<rbac::State> Catalog::Credentials() const {
  const std::string prefix = prefix_ + "credential/";
  etcd::RangeOptions ro;
  ro.prefix = true;
  auto r = client_->Range(prefix, ro);
  if (!r.ok())
    return Annotate(r.status(), "read the source's users and roles under '" + prefix + "'");
  std::vector<std::pair<std::string, std::string>> kvs;
  kvs.reserve(r->kvs.size());
  for (auto& kv : r->kvs) kvs.emplace_back(std::move(kv.key), std::move(kv.value));
  std::vector<std::string> bad;
  rbac::State state = ParseCredentials(prefix, kvs, &bad);
  for (const auto& b : bad) spdlog::warn("source catalog: {}", b);
  return state;
}

Result<int64_t> Catalog::EstimatedRows(int64_t collection_id) const {
  const std::string prefix =
      absl::StrCat(options_.MetaPrefix(), "datacoord-meta/s/", collection_id, "/");
  etcd::RangeOptions ro;
  ro.prefix = true;
  auto r = client_->Range(prefix, ro);
  if (!r.ok()) return Annotate(r.status(), "read the source's segments under '" + prefix + "'");
  constexpr int kDropped = 6;  // common.SegmentState
  int64_t rows = 0;
  for (const auto& kv : r->kvs) {
    milvus::proto::data::SegmentInfo seg;
    if (seg.ParseFromString(kv.value) && seg.state() != kDropped) rows += seg.num_of_rows();
  }
  return rows;
}

CatalogStatus Catalog::status() const {
  std::lock_guard<std::mutex> l(mu_);
  return status_;
}

}  // namespace cdc::source
