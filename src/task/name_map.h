#pragma once
// task::NameMap: what a task's source databases and collections are called on the target
// (create's `name_mapping`, docs/name-mapping.md). Built from the task's entries; pure and
// immutable, so safe to share between threads.
//
// Rules (empty database names mean "default"):
// - A collection with an entry in `collection_mapping` lands under `target_db`.<its target name>.
// - Any other collection of a mapped `source_db` lands in `target_db` under its own name
//   (upstream leaves it in the source database, which the target then lacks: see the doc).
// - A database create/drop of a mapped `source_db` creates/drops `target_db`.
// - Everything else keeps its names.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "task/task_info.h"

namespace cdc::task {

struct FullName {
  std::string db;
  std::string collection;
  bool operator==(const FullName&) const = default;
  auto operator<=>(const FullName&) const = default;  // NOLINT(modernize-use-nullptr)
  std::string Text() const { return db + "." + collection; }
};

class NameMap {
 public:
  NameMap() = default;
  // Entries are assumed checked (Check); of conflicting entries the first wins.
  explicit NameMap(const std::vector<NameMapping>& entries);

  // InvalidArgument naming the entry to fix: an empty name, a source_db mapped to two target
  // databases, two source databases onto one target_db, two source collections onto one
  // target name.
  static Status Check(const std::vector<NameMapping>& entries);

  bool empty() const { return databases_.empty(); }
  std::string Database(const std::string& source_db) const;
  FullName Collection(const std::string& source_db, const std::string& collection) const;
  // The target-side form of a selection pattern "db.collection" ("*" wildcards stay).
  std::string Pattern(const std::string& full) const;
  // The source collection that lands on target `db`.`collection` under these rules, if any
  // (nullopt when that target name is not where any source name lands).
  std::optional<FullName> Source(const std::string& db, const std::string& collection) const;

 private:
  std::map<std::string, std::string> databases_;  // source db -> target db
  std::map<FullName, FullName> collections_;      // explicit entries, source -> target
};

}  // namespace cdc::task
