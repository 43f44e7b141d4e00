#pragma once
// Catalog: the live view of a source Milvus's catalog in etcd (databases, collections in
// every database, partitions, fields), kept current by a watch, reporting creations and
// drops as events. Decoding and diffing is CatalogState's (catalog_state.h).
//
// Start(): lists {rootPath}/{metaSubPath}/root-coord/ at one revision, then watches the
// prefix from the next revision, so no change is missed or seen twice. Events of one etcd
// revision are applied together. If the watch reports the revision compacted (or another
// terminal error), a supervisor thread re-lists and re-watches; the re-list is diffed against
// what was known, so the events stay exact.
// Threads: the watcher thread applies changes and calls `on_events`; the supervisor thread
// (idle unless re-listing) may call it too, never concurrently. Queries are thread-safe and
// return copies. `on_events` must not call Stop().
// Errors: catalog keys that do not decode are counted and listed in status(); etcd trouble
// while re-listing is retried with backoff and shown in status().reason.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "common/shared_check.h"
#include "etcd/client.h"
#include "source/catalog_state.h"
#include "source/credentials.h"

namespace cdc::source {

struct CatalogOptions {
  std::string root_path = "by-dev";    // sourceConfig.etcd.rootPath
  std::string meta_sub_path = "meta";  // sourceConfig.etcd.metaSubPath
  std::string MetaPrefix() const { return root_path + "/" + meta_sub_path + "/"; }
};

struct CatalogStatus {
  uint64_t bad_keys = 0;
  std::vector<std::string> errors;  // recent undecodable keys
  std::string reason;               // etcd trouble, empty when healthy
  int64_t revision = 0;             // last applied etcd revision
  uint64_t relists = 0;
};

class Catalog {
 public:
  using EventsFn = std::function<void(const std::vector<CatalogEvent>&)>;

  // `client` must outlive the Catalog. The initial listing's events (everything that exists)
  // are delivered to `on_events` before Start returns. Unavailable if etcd cannot be listed.
  // After an etcd outage (the watch resumed, or a listing worked again) `on_events` is called
  // even with no events, so that a caller waiting it out retries at once.
  static Result<std::unique_ptr<Catalog>> Start(etcd::Client* client, CatalogOptions options,
                                                EventsFn on_events);
  ~Catalog();

  std::vector<DatabaseMeta> Databases() const;
  std::vector<CollectionMeta> Collections() const;
  std::optional<CollectionMeta> Collection(int64_t id) const;
  std::optional<CollectionMeta> FindCollection(const std::string& db,
                                               const std::string& name) const;
  std::optional<CollectionMeta> Dropped(int64_t id) const;
  std::optional<PartitionMeta> DroppedPartition(int64_t collection_id, int64_t partition_id) const;
  CatalogStatus status() const;

  // A collection's live indexes and its load state, read from etcd now (datacoord's and
  // querycoord's keys beside root-coord/; not watched). Unavailable when etcd cannot be read.
  Result<std::vector<IndexMeta>> Indexes(int64_t collection_id) const;
  Result<LoadMeta> LoadState(int64_t collection_id) const;
  // The load state of every collection querycoord keeps one of (two prefix reads): by
  // collection id, with `partitions` = every partition that has a load info, whatever the
  // load type (a partition released from a collection loaded whole loses its key).
  Result<std::map<int64_t, LoadMeta>> LoadStates() const;
  // Users (names only), roles, memberships and grants (source/credentials.h), read from etcd
  // now (one prefix read of root-coord/credential/). Unavailable when etcd cannot be read.
  Result<rbac::State> Credentials() const;
  // Rows of a collection as datacoord counts them (its segments that are not dropped; deletes
  // not subtracted, growing segments as last reported): an estimate, for progress.
  Result<int64_t> EstimatedRows(int64_t collection_id) const;

  // Returns once this view holds every change committed to the catalog in etcd before the
  // call (a linearizable read of the prefix at the current revision, compared with what the
  // watch has applied: keys modified since, and the key count for deletes; then waits for the
  // watch to catch up, re-listing if it does not). Concurrent calls share one check: a check
  // that started after a call began serves it. Unavailable when etcd cannot be read,
  // DeadlineExceeded when the view did not catch up within `timeout`.
  Status Sync(std::chrono::milliseconds timeout);

  void Stop();

 private:
  Catalog(etcd::Client* client, CatalogOptions options, EventsFn on_events);
  Status ListAndWatch();
  void OnWatch(const std::vector<etcd::Event>& events, int64_t revision);
  void Supervise();
  void Resumed();  // tells on_events_ (no events) that etcd answers again
  // One Sync check, looping until covered or `deadline`.
  Status CheckCovered(std::chrono::steady_clock::time_point deadline);

  etcd::Client* client_;
  CatalogOptions options_;
  EventsFn on_events_;
  std::string prefix_;

  mutable std::mutex mu_;
  std::condition_variable applied_cv_;  // status_.revision moved
  CatalogState state_;
  CatalogStatus status_;
  std::set<std::string> keys_;  // every key under the prefix, as the watch has applied them

  SharedCheck sync_;       // Sync's checks
  std::mutex deliver_mu_;  // one on_events at a time

  // What the supervisor thread waits for: a re-list, or the end.
  struct Supervision {
    std::mutex mu;
    std::condition_variable cv;
    bool relist = false;
    bool stop = false;
  } sup_;
  std::unique_ptr<etcd::Watcher> watcher_;  // owned by the supervisor after Start
  std::thread supervisor_;
};

}  // namespace cdc::source
