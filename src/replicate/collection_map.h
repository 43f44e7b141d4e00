#pragma once
// replicate::CollectionMap: the task's view of which source collections it replicates and
// what they are called on the target: the target names (the task's name mapping, applied here
// for every operation), target collection id, partition ids, and the pairing of source
// vchannels to target vchannels (both sorted, paired by index, as upstream CDC does).
//
// Mapping a collection makes sure it exists on the target first (its database, the
// collection with the source's schema, shards, consistency level and properties at its create
// ts, then its partitions): creates reach the target before any data.
// Not thread-safe: owned by the pipeline thread. Errors from the catalog or the target are
// returned as they are (the pipeline retries the retryable ones).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "replicate/catalog_view.h"
#include "replicate/selection.h"
#include "source/collection_filter.h"
#include "target/client.h"
#include "task/name_map.h"

namespace cdc::replicate {

struct Route {
  std::string target_vchannel;
  std::string target_pchannel;
};

// What CollectionExtras last brought the target copy to, as the source had it.
struct AppliedExtras {
  std::string name;
  std::vector<std::string> aliases;                             // sorted
  std::vector<std::pair<std::string, std::string>> properties;  // sorted, as the catalog has them
  int64_t revision = 0;                                         // of the catalog key
  bool operator==(const AppliedExtras&) const = default;
};

struct MappedCollection {
  CollectionMeta source;
  target::CollectionInfo target;
  std::map<std::string, Route> routes;               // source vchannel -> target
  std::map<int64_t, std::string> source_partitions;  // source partition id -> name
  std::map<std::string, int64_t> target_partitions;  // name -> target partition id
  std::optional<AppliedExtras> extras;               // unset until first compared
};

// The CreateCollection a target needs to hold `meta` as the source has it: the schema with
// its fields in the source's order (so the target gives them the same field ids), the
// dynamic field as enable_dynamic_field (a target refuses the hidden `$meta` field itself),
// partition-key partitions as num_partitions, shards, consistency level and properties. The
// collection is named `name` (its target name; empty = the source's).
target::milvuspb::CreateCollectionRequest CreateRequestFor(const CollectionMeta& meta,
                                                           const std::string& name = "");

class CollectionMap {
 public:
  // `ignored` collects the collections known to be skipped; it may outlive this map (it only
  // grows, so a map built again can reuse it).
  CollectionMap(Selection selection, CatalogView* catalog, target::Client* target,
                std::shared_ptr<source::CollectionFilter> ignored, task::NameMap names = {});

  const Selection& selection() const { return selection_; }
  // Target names of source names (the task's name_mapping).
  const task::NameMap& names() const { return names_; }
  task::FullName TargetName(const std::string& db, const std::string& collection) const {
    return names_.Collection(db, collection);
  }
  std::string TargetDatabase(const std::string& db) const { return names_.Database(db); }

  // Maps `meta` (if selected), creating what is missing on the target. nullptr if not selected.
  // A target collection that exists with other shards, or whose target name another mapped
  // source collection already holds, is FailedPrecondition (a refusal that concerns this
  // collection only); target errors are returned as they are.
  Result<MappedCollection*> Ensure(const CollectionMeta& meta);
  // Forgets a mapping (not the selection): the next Ensure looks the target up again.
  void Forget(int64_t source_id) { mapped_.erase(source_id); }
  // Called by Ensure right before it creates a collection on the target; an error stops the
  // create (Ensure returns it).
  void SetBeforeCreate(std::function<Status(const CollectionMeta&)> f) {
    before_create_ = std::move(f);
  }

  // The target partition id for a source partition, creating it on the target if needed.
  Result<int64_t> TargetPartition(MappedCollection& c, int64_t source_partition_id);
  // Creates a partition by name on the target (a replayed create is fine) and records it.
  Status AddPartition(MappedCollection& c, int64_t source_partition_id, const std::string& name,
                      uint64_t ts);
  void RemovePartition(MappedCollection& c, const std::string& name);

  // Forgets a dropped collection; its later messages are ignored.
  void Drop(int64_t source_id);
  // A database dropped on the target: it is created again before its next collection.
  void ForgetDatabase(const std::string& db) { databases_.erase(db); }
  MappedCollection* Find(int64_t source_id);
  // Mapped, or known to be skipped (not selected or dropped).
  bool Known(int64_t source_id) const {
    return mapped_.count(source_id) || ignored_->Ignored(source_id);
  }
  MappedCollection* FindByName(const std::string& db, const std::string& name);

  const std::map<int64_t, MappedCollection>& collections() const { return mapped_; }
  std::set<std::string> SourcePChannels() const;
  std::set<std::string> TargetPChannels() const;

 private:
  Status EnsureDatabase(const std::string& db, uint64_t ts);
  Status RefreshTargetPartitions(MappedCollection& c);

  Selection selection_;
  task::NameMap names_;
  CatalogView* catalog_;
  target::Client* target_;
  std::map<int64_t, MappedCollection> mapped_;
  // Not selected or dropped; shared with the reader threads (only grows).
  std::shared_ptr<source::CollectionFilter> ignored_;
  std::set<std::string> databases_;  // known to exist on the target
  std::function<Status(const CollectionMeta&)> before_create_;
};

}  // namespace cdc::replicate
