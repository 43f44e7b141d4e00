#pragma once
// replicate::CollectionExtras: keeps what a replicated collection carries beside its schema and
// data as the source has it: its name (RenameCollection), its aliases (create, alter, drop) and
// its properties (AlterCollection, e.g. collection.ttl.seconds).
//
// A Milvus 2.3 source writes none of these to its channels; its catalog in etcd holds them all.
// The pipeline calls Apply for every mapped collection whenever its view of the catalog moved,
// after that view covered the round's watermark: so an alias dropped on the source before its
// collection was dropped is gone on the target before the drop arrives there, and a renamed
// collection carries its new name before requests that name it are applied.
//
// What was applied is remembered in the MappedCollection (from the source's side), so that an
// unchanged collection costs nothing; the first Apply of a collection (also after a restart)
// compares with the target's own DescribeCollection. The target ends with exactly the source's
// aliases for the collection (an alias made on the target by hand is dropped) and with the
// source's value for each source property (a 2.3 target cannot remove a property, so one that
// exists only on the target stays).
//
// Not thread-safe: used on the pipeline thread. Errors: retryable target errors are returned
// and nothing is recorded (the next call tries again); refusals are appended to `refused`, one
// line each, and not tried again until the source changes that collection again.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "replicate/collection_map.h"

namespace cdc::replicate {

class CollectionExtras {
 public:
  // A collection's properties as the source has them now (its proxy's DescribeCollection: a
  // 2.3.5 source does not write altered ones to its catalog); sorted.
  using PropertiesFn =
      std::function<std::vector<std::pair<std::string, std::string>>(const CollectionMeta&)>;

  // `source_properties` may be empty: the catalog's properties are used then.
  CollectionExtras(target::Client* target, PropertiesFn source_properties)
      : target_(target), source_properties_(std::move(source_properties)) {}

  // Brings the target copy of `c` to `meta` (the same collection as the source's catalog has it
  // now). A rename updates `c`'s source and target names. `ts`: the replicate timestamp.
  Status Apply(const CollectionMap& map, MappedCollection& c, const CollectionMeta& meta,
               uint64_t ts, std::vector<std::string>* refused);

 private:
  static AppliedExtras Of(const CollectionMeta& meta);
  Status Rename(const CollectionMap& map, MappedCollection& c, const CollectionMeta& meta,
                uint64_t ts, std::vector<std::string>* refused);
  Status Aliases(const MappedCollection& c, const std::vector<std::string>& have,
                 const std::vector<std::string>& want, uint64_t ts,
                 std::vector<std::string>* refused);
  Status Properties(const MappedCollection& c,
                    const std::vector<std::pair<std::string, std::string>>& have,
                    const std::vector<std::pair<std::string, std::string>>& want, uint64_t ts,
                    std::vector<std::string>* refused);

  target::Client* target_;
  PropertiesFn source_properties_;
};

}  // namespace cdc::replicate
