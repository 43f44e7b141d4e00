#include "source/credentials.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace cdc::source {
namespace {

struct GrantKey {
  rbac::Grant grant;  // without its privilege
  std::string id;
};

// "{db}.{name}" as Milvus combines them; without a dot, the default database's.
std::pair<std::string, std::string> SplitObjectName(const std::string& combined) {
  const auto dot = combined.find('.');
  if (dot == std::string::npos) return {"default", combined};
  return {combined.substr(0, dot), combined.substr(dot + 1)};
}

std::string PrivilegeForApi(const std::string& stored) {
  constexpr char kPrefix[] = "Privilege";
  constexpr size_t kLen = sizeof(kPrefix) - 1;
  if (absl::StartsWith(stored, kPrefix) && stored.size() > kLen) return stored.substr(kLen);
  return stored;
}

}  // namespace

rbac::State ParseCredentials(const std::string& prefix,
                             const std::vector<std::pair<std::string, std::string>>& kvs,
                             std::vector<std::string>* bad) {
  rbac::State out;
  std::vector<GrantKey> grant_keys;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> by_id;  // privilege,
                                                                                  // grantor
  for (const auto& [key, value] : kvs) {
    if (!absl::StartsWith(key, prefix)) continue;
    const std::vector<std::string> parts = absl::StrSplit(key.substr(prefix.size()), '/');
    const std::string& kind = parts[0];
    const bool empty_part =
        std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); });
    if (kind == "users" && parts.size() == 2 && !empty_part) {
      out.users.insert(parts[1]);  // the value (a password hash) is not read
    } else if (kind == "roles" && parts.size() == 2 && !empty_part) {
      out.roles.insert(parts[1]);
    } else if (kind == "user-role-mapping" && parts.size() == 3 && !empty_part) {
      out.members.emplace(parts[1], parts[2]);
    } else if (kind == "grantee-privileges" && parts.size() == 4 && !empty_part) {
      GrantKey g;
      g.grant.role = parts[1];
      g.grant.object_type = parts[2];
      std::tie(g.grant.db_name, g.grant.object_name) = SplitObjectName(parts[3]);
      g.id = value;
      grant_keys.push_back(std::move(g));
    } else if (kind == "grantee-id" && parts.size() == 3 && !empty_part) {
      by_id[parts[1]].emplace_back(PrivilegeForApi(parts[2]), value);
    } else if (bad != nullptr) {
      bad->push_back("credential key '" + key + "' has an unknown form");
    }
  }
  for (const auto& g : grant_keys) {
    auto it = by_id.find(g.id);
    if (it == by_id.end()) continue;  // a grant whose privileges were all revoked
    for (const auto& [privilege, grantor] : it->second) {
      rbac::Grant grant = g.grant;
      grant.privilege = privilege;
      out.grantors[grant] = grantor;
      out.grants.insert(std::move(grant));
    }
  }
  return out;
}

}  // namespace cdc::source
