#pragma once
// replicate::Selection: which source collections a task replicates. Entries are
// "db.collection" with "*" as a wildcard for either part (e.g. "*.*" = everything, including
// databases created later; "default.c1"). Excludes win over includes. Pure, thread-safe.
#include <string>
#include <vector>

namespace cdc::replicate {

class Selection {
 public:
  Selection() = default;
  Selection(std::vector<std::string> include, std::vector<std::string> exclude);
  bool Selected(const std::string& db, const std::string& collection) const;
  // True if some collection of `db` may be selected (databases are created for those).
  bool DatabaseSelected(const std::string& db) const;

 private:
  static bool Match(const std::string& pattern, const std::string& db, const std::string& coll);
  std::vector<std::string> include_;
  std::vector<std::string> exclude_;
};

}  // namespace cdc::replicate
