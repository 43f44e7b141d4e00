#include "replicate/collection_extras.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace cdc::replicate {

namespace {

// A refusal is noted and the step goes on; anything a retry can help is returned.
bool Refused(const Status& s, const std::string& what, std::vector<std::string>* refused) {
  if (s.ok() || IsRetryable(s)) return false;
  refused->push_back(absl::StrCat(what, ": ", s.message()));
  return true;
}

}  // namespace

AppliedExtras CollectionExtras::Of(const CollectionMeta& meta) {
  AppliedExtras w{meta.name, meta.aliases, meta.properties, meta.revision};
  std::sort(w.aliases.begin(), w.aliases.end());
  std::sort(w.properties.begin(), w.properties.end());
  return w;
}

Status CollectionExtras::Apply(const CollectionMap& map, MappedCollection& c,
                               const CollectionMeta& meta, uint64_t ts,
                               std::vector<std::string>* refused) {
  AppliedExtras want = Of(meta);
  if (c.extras == want) return OkStatus();
  if (meta.name != c.source.name) RETURN_IF_ERROR(Rename(map, c, meta, ts, refused));
  auto have = target_->DescribeCollection(c.target.db_name, c.target.name);
  if (!have.ok()) {
    // E.g. dropped on the target by hand: counted once, the data path reports the rest.
    if (!Refused(have.status(), "aliases and properties of " + c.target.name, refused))
      return have.status();
    c.extras = std::move(want);
    return OkStatus();
  }
  RETURN_IF_ERROR(Aliases(c, have->aliases, want.aliases, ts, refused));
  RETURN_IF_ERROR(Properties(c, have->properties,
                             source_properties_ ? source_properties_(meta) : want.properties, ts,
                             refused));
  c.extras = std::move(want);
  return OkStatus();
}

Status CollectionExtras::Rename(const CollectionMap& map, MappedCollection& c,
                                const CollectionMeta& meta, uint64_t ts,
                                std::vector<std::string>* refused) {
  const task::FullName to = map.TargetName(meta.db_name, meta.name);
  const std::string what = absl::StrCat("rename of ", c.source.db_name, ".", c.source.name, " to ",
                                        meta.db_name, ".", meta.name);
  if (to.db != c.target.db_name) {
    refused->push_back(absl::StrCat(what, ": its target name ", to.Text(),
                                    " is in another database than its copy ", c.target.db_name, ".",
                                    c.target.name));
    return OkStatus();
  }
  if (to.collection != c.target.name) {
    Status s = target_->RenameCollection(c.target.db_name, c.target.name, to.collection, ts);
    if (!s.ok() && !Refused(s, what, refused)) return s;
    if (!s.ok()) return OkStatus();
    spdlog::info("renamed collection {}.{} to {} on the target", c.target.db_name, c.target.name,
                 to.Text());
    c.target.name = to.collection;
  }
  c.source.name = meta.name;
  return OkStatus();
}

Status CollectionExtras::Aliases(const MappedCollection& c, const std::vector<std::string>& have,
                                 const std::vector<std::string>& want, uint64_t ts,
                                 std::vector<std::string>* refused) {
  const std::string& db = c.target.db_name;
  const std::set<std::string> had(have.begin(), have.end()), wanted(want.begin(), want.end());
  for (const auto& alias : have) {
    if (wanted.count(alias)) continue;
    Status s = target_->DropAlias(db, alias, ts);
    if (!s.ok() && !Refused(s, absl::StrCat("drop of alias ", db, ".", alias), refused)) return s;
  }
  for (const auto& alias : want) {
    if (had.count(alias)) continue;
    Status s = target_->CreateAlias(db, c.target.name, alias, ts);
    // It names another collection on the target (moved on the source): move it here.
    if (s.code() == StatusCode::kAlreadyExists)
      s = target_->AlterAlias(db, c.target.name, alias, ts);
    if (!s.ok() &&
        !Refused(s, absl::StrCat("alias ", db, ".", alias, " of ", c.target.name), refused)) {
      return s;
    }
  }
  return OkStatus();
}

Status CollectionExtras::Properties(const MappedCollection& c,
                                    const std::vector<std::pair<std::string, std::string>>& have,
                                    const std::vector<std::pair<std::string, std::string>>& want,
                                    uint64_t ts, std::vector<std::string>* refused) {
  const std::map<std::string, std::string> had(have.begin(), have.end());
  std::vector<std::pair<std::string, std::string>> changed;
  for (const auto& [k, v] : want) {
    auto it = had.find(k);
    if (it == had.end() || it->second != v) changed.emplace_back(k, v);
  }
  if (changed.empty()) return OkStatus();
  Status s = target_->AlterCollection(c.target.db_name, c.target.name, changed, ts);
  if (!s.ok() &&
      !Refused(s, absl::StrCat("properties of ", c.target.db_name, ".", c.target.name), refused)) {
    return s;
  }
  return OkStatus();
}

}  // namespace cdc::replicate
