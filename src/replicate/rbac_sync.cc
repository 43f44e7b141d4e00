#include "replicate/rbac_sync.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace cdc::replicate {
namespace {

// Elements of `a` that `b` lacks.
template <typename T>
std::vector<T> Minus(const std::set<T>& a, const std::set<T>& b) {
  std::vector<T> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

bool Retryable(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded ||
         s.code() == StatusCode::kResourceExhausted;
}

}  // namespace

RbacPlan PlanRbac(const rbac::State& source, const rbac::State& seen, const rbac::State& target) {
  RbacPlan p;
  const auto role_known = [&](const std::string& role) {
    return source.roles.count(role) > 0 || rbac::IsBuiltinRole(role);
  };
  for (const auto& role : Minus(seen.roles, source.roles))
    if (target.roles.count(role) && !rbac::IsBuiltinRole(role)) p.drop_roles.push_back(role);
  const std::set<std::string> dropped(p.drop_roles.begin(), p.drop_roles.end());
  // A 2.3.5 DropRole refuses a role that has privileges: revokes go first, dropped roles too.
  for (const auto& g : Minus(seen.grants, source.grants))
    if (target.grants.count(g)) p.revoke.push_back(g);
  for (const auto& m : Minus(seen.members, source.members))
    if (target.members.count(m) && !dropped.count(m.second)) p.remove.push_back(m);
  for (const auto& role : Minus(source.roles, target.roles))
    if (!rbac::IsBuiltinRole(role)) p.create_roles.push_back(role);
  for (const auto& g : Minus(source.grants, target.grants))
    if (role_known(g.role)) p.grant.push_back(g);
  for (const auto& m : Minus(source.members, target.members)) {
    if (!role_known(m.second)) continue;
    if (target.users.count(m.first)) {
      p.add.push_back(m);
    } else {
      p.user_missing.push_back(m);
    }
  }
  return p;
}

bool RbacSync::Due(const rbac::State& source, std::chrono::steady_clock::time_point now,
                   std::chrono::milliseconds recheck) const {
  if (!applied_once_ || !seen_ || !(*seen_ == source)) return true;
  return waiting_ && now - last_apply_ >= recheck;
}

Result<RbacOutcome> RbacSync::Apply(target::Client* target, const rbac::State& source,
                                    std::chrono::steady_clock::time_point now) {
  std::set<std::string> dbs;  // where grants are added or revoked
  for (const auto& g : source.grants) dbs.insert(g.db_name);
  if (seen_)
    for (const auto& g : seen_->grants) dbs.insert(g.db_name);
  ASSIGN_OR_RETURN(rbac::State have, target->SelectRbac(dbs));
  const RbacPlan plan = PlanRbac(source, seen_ ? *seen_ : source, have);
  RbacOutcome out;
  // One change: counted when done, kept in `refused` when the target will not take it.
  auto run = [&](const std::string& what, const Status& s) -> Status {
    if (s.ok()) {
      ++out.applied;
      return OkStatus();
    }
    if (Retryable(s)) return s;
    out.refused.push_back(what + ": " + std::string(s.message()));
    return OkStatus();
  };
  const auto grantor = [&](const rbac::Grant& g) {
    auto it = source.grantors.find(g);
    return it != source.grantors.end() && !it->second.empty() ? it->second : "root";
  };
  for (const auto& g : plan.revoke)
    RETURN_IF_ERROR(run("revoke " + g.Describe(), target->OperatePrivilege(g, false, "root")));
  for (const auto& [user, role] : plan.remove) {
    RETURN_IF_ERROR(run(absl::StrCat("remove user ", user, " from role ", role),
                        target->OperateUserRole(user, role, false)));
  }
  for (const auto& role : plan.drop_roles)
    RETURN_IF_ERROR(run("drop role " + role, target->DropRole(role)));
  for (const auto& role : plan.create_roles)
    RETURN_IF_ERROR(run("create role " + role, target->CreateRole(role)));
  for (const auto& g : plan.grant)
    RETURN_IF_ERROR(run("grant " + g.Describe(), target->OperatePrivilege(g, true, grantor(g))));
  for (const auto& [user, role] : plan.add) {
    RETURN_IF_ERROR(run(absl::StrCat("add user ", user, " to role ", role),
                        target->OperateUserRole(user, role, true)));
  }
  out.user_missing = plan.user_missing;
  seen_ = source;
  applied_once_ = true;
  waiting_ = !plan.user_missing.empty();
  last_apply_ = now;
  return out;
}

std::string RbacSync::Json() const {
  if (!seen_) return "{}";
  nlohmann::json grants = nlohmann::json::array();
  for (const auto& g : seen_->grants)
    grants.push_back({g.role, g.object_type, g.object_name, g.db_name, g.privilege});
  nlohmann::json members = nlohmann::json::array();
  for (const auto& [user, role] : seen_->members) members.push_back({user, role});
  nlohmann::json j = {{"roles", seen_->roles}, {"members", members}, {"grants", grants}};
  return j.dump();
}

Status RbacSync::Restore(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto bad = [](const std::string& what) {
    return InvalidArgumentError("decode the roles and grants of the checkpoint: " + what);
  };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  seen_.reset();
  applied_once_ = false;
  if (j.empty()) return OkStatus();
  rbac::State s;
  try {
    for (const auto& r : j.at("roles")) s.roles.insert(r.get<std::string>());
    for (const auto& m : j.at("members"))
      s.members.emplace(m.at(0).get<std::string>(), m.at(1).get<std::string>());
    for (const auto& g : j.at("grants")) {
      s.grants.insert(rbac::Grant{g.at(0).get<std::string>(), g.at(1).get<std::string>(),
                                  g.at(2).get<std::string>(), g.at(3).get<std::string>(),
                                  g.at(4).get<std::string>()});
    }
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
  seen_ = std::move(s);
  return OkStatus();
}

}  // namespace cdc::replicate
