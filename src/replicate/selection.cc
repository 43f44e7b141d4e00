#include "replicate/selection.h"

namespace cdc::replicate {

Selection::Selection(std::vector<std::string> include, std::vector<std::string> exclude)
    : include_(std::move(include)), exclude_(std::move(exclude)) {}

bool Selection::Match(const std::string& pattern, const std::string& db, const std::string& coll) {
  auto dot = pattern.find('.');
  std::string pdb = dot == std::string::npos ? "default" : pattern.substr(0, dot);
  std::string pcoll = dot == std::string::npos ? pattern : pattern.substr(dot + 1);
  return (pdb == "*" || pdb == db) && (pcoll == "*" || coll.empty() || pcoll == coll);
}

bool Selection::Selected(const std::string& db, const std::string& collection) const {
  for (const auto& e : exclude_)
    if (Match(e, db, collection) && !collection.empty()) return false;
  for (const auto& i : include_)
    if (Match(i, db, collection)) return true;
  return false;
}

bool Selection::DatabaseSelected(const std::string& db) const { return Selected(db, ""); }

}  // namespace cdc::replicate
