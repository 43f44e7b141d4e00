#pragma once
// rbac: users, roles, memberships and privilege grants of a Milvus instance, as plain values
// (read from a source's etcd by source/credentials.h, from a target with
// target::Client::SelectRbac, replicated by replicate/rbac_sync.h). Never holds a password or
// a password hash: users are names only.
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>

namespace cdc::rbac {

// One privilege granted to a role on an object, as Milvus's SelectGrant answers it: privilege
// in its API form ("Insert", "*"), db_name "default" for grants without a database.
struct Grant {
  std::string role;
  std::string object_type;  // "Global", "Collection", "User"
  std::string object_name;  // "*" or a name
  std::string db_name;      // "default", "*" or a database
  std::string privilege;
  auto Tie() const { return std::tie(role, object_type, object_name, db_name, privilege); }
  bool operator==(const Grant& o) const { return Tie() == o.Tie(); }
  bool operator<(const Grant& o) const { return Tie() < o.Tie(); }
  std::string Describe() const {
    return privilege + " on " + object_type + " " + db_name + "." + object_name + " to role " +
           role;
  }
};

struct State {
  std::set<std::string> users;
  std::set<std::string> roles;
  std::set<std::pair<std::string, std::string>> members;  // (user, role)
  std::set<Grant> grants;
  std::map<Grant, std::string> grantors;  // who granted (not part of equality)
  bool operator==(const State& o) const {
    return users == o.users && roles == o.roles && members == o.members && grants == o.grants;
  }
};

// Roles every Milvus has from its start (never created or dropped by replication).
inline bool IsBuiltinRole(const std::string& role) { return role == "admin" || role == "public"; }
// The user every Milvus has from its start.
inline bool IsBuiltinUser(const std::string& user) { return user == "root"; }

}  // namespace cdc::rbac
