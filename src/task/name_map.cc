#include "task/name_map.h"

#include "absl/strings/str_cat.h"

namespace cdc::task {
namespace {

std::string DbOrDefault(const std::string& db) { return db.empty() ? "default" : db; }

std::string Where(size_t i) { return "name_mapping[" + std::to_string(i) + "]"; }

}  // namespace

NameMap::NameMap(const std::vector<NameMapping>& entries) {
  for (const auto& e : entries) {
    const std::string from = DbOrDefault(e.source_db), to = DbOrDefault(e.target_db);
    databases_.emplace(from, to);
    for (const auto& [s, t] : e.collection_mapping)
      collections_.emplace(FullName{from, s}, FullName{to, t});
  }
}

Status NameMap::Check(const std::vector<NameMapping>& entries) {
  std::map<std::string, std::string> dbs;      // source -> target
  std::map<std::string, std::string> db_from;  // target -> source
  std::map<FullName, FullName> targets;        // target -> source
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const std::string from = DbOrDefault(e.source_db), to = DbOrDefault(e.target_db);
    if (from == "*" || to == "*") {
      return InvalidArgumentError(Where(i) +
                                  ": source_db and target_db must name a database, not `*`");
    }
    if (auto it = dbs.find(from); it != dbs.end() && it->second != to) {
      return InvalidArgumentError(absl::StrCat(Where(i), ": source_db ", from,
                                               " is mapped to two target databases, ", it->second,
                                               " and ", to, "; use one entry per source_db"));
    }
    if (auto it = db_from.find(to); it != db_from.end() && it->second != from) {
      return InvalidArgumentError(absl::StrCat(Where(i), ": two source databases, ", it->second,
                                               " and ", from, ", are mapped to target_db ", to,
                                               "; their database creates and drops would collide"));
    }
    dbs[from] = to;
    db_from[to] = from;
    for (const auto& [s, t] : e.collection_mapping) {
      if (s.empty() || t.empty() || s == "*" || t == "*") {
        return InvalidArgumentError(
            absl::StrCat(Where(i), ".collection_mapping: '", s, "': '", t,
                         "': both names must name a collection (not empty, not `*`)"));
      }
      FullName target{to, t}, source{from, s};
      if (auto it = targets.find(target); it != targets.end() && it->second != source) {
        return InvalidArgumentError("name_mapping: two source collections, " + it->second.Text() +
                                    " and " + source.Text() +
                                    ", are mapped to one target collection " + target.Text());
      }
      targets[target] = source;
    }
  }
  return OkStatus();
}

std::string NameMap::Database(const std::string& source_db) const {
  const std::string db = DbOrDefault(source_db);
  auto it = databases_.find(db);
  return it == databases_.end() ? db : it->second;
}

FullName NameMap::Collection(const std::string& source_db, const std::string& collection) const {
  FullName from{DbOrDefault(source_db), collection};
  if (auto it = collections_.find(from); it != collections_.end()) return it->second;
  return {Database(from.db), collection};
}

std::string NameMap::Pattern(const std::string& full) const {
  const auto dot = full.find('.');
  const std::string db = dot == std::string::npos ? "default" : full.substr(0, dot);
  const std::string coll = dot == std::string::npos ? full : full.substr(dot + 1);
  if (db == "*") return full;
  if (coll == "*") return Database(db) + ".*";
  return Collection(db, coll).Text();
}

std::optional<FullName> NameMap::Source(const std::string& db,
                                        const std::string& collection) const {
  FullName to{DbOrDefault(db), collection};
  for (const auto& [s, t] : collections_)
    if (t == to) return s;
  // Not an explicit target: the source whose own name would land here, unless it is mapped
  // elsewhere by an explicit entry.
  std::optional<FullName> candidate;
  for (const auto& [s, t] : databases_)
    if (t == to.db) candidate = FullName{s, collection};
  if (!candidate && !databases_.count(to.db)) candidate = to;
  if (candidate && collections_.count(*candidate)) return std::nullopt;
  return candidate;
}

}  // namespace cdc::task
