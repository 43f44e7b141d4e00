#pragma once
// replicate::RbacSync: brings a target's roles, user-role memberships and privilege grants to
// what the source has (task option extra_info.enable_user_role). A Milvus 2.3 source writes
// none of them to its channels; its root-coord keeps them in etcd (source/credentials.h),
// which the pipeline reads about once a second (CatalogView::Rbac) and hands to Apply. They are
// not ordered with the data stream: a change reaches the target within about that poll
// interval, eventually-consistently.
//
// Rules (PlanRbac), from the source now, the source as last applied (`seen`) and the target:
//  - roles, memberships and grants the source has and the target lacks are created, granted,
//    added (built-in roles admin and public are never created or dropped; grants to them are
//    replicated);
//  - what the source had (`seen`) and no longer has is dropped, revoked, removed on the target
//    if it is there. What the target has and the source never had is left alone (it may be the
//    target's own), so the first sync of a task only adds;
//  - users are not created: a 2.3 source keeps only a bcrypt hash of a user's password and a
//    2.3 target's CreateCredential takes the password itself. A membership of a user the target
//    does not have is reported (user_missing) and applied once the user exists there.
// Apply: reads the target (SelectRbac), applies the plan (revokes, removals and drops first),
// and remembers the source state as seen. Errors the target may recover from (unavailable,
// deadline) are returned and the next Apply starts again; a refusal of one change is reported
// in `refused` and the others go on. Json()/Restore() keep `seen` in the checkpoint, so that a
// drop made while the task was down is replayed after a restart. Never holds a password or a
// hash. Not thread-safe (the pipeline thread).
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/rbac.h"
#include "common/status.h"
#include "target/client.h"

namespace cdc::replicate {

using Membership = std::pair<std::string, std::string>;  // (user, role)

struct RbacPlan {
  std::vector<rbac::Grant> revoke;
  std::vector<Membership> remove;
  std::vector<std::string> drop_roles;
  std::vector<std::string> create_roles;
  std::vector<rbac::Grant> grant;
  std::vector<Membership> add;
  std::vector<Membership> user_missing;  // not added: the target has no such user
  size_t size() const {
    return revoke.size() + remove.size() + drop_roles.size() + create_roles.size() + grant.size() +
           add.size();
  }
};

RbacPlan PlanRbac(const rbac::State& source, const rbac::State& seen, const rbac::State& target);

struct RbacOutcome {
  size_t applied = 0;                    // changes made on the target
  std::vector<Membership> user_missing;  // memberships not applied (user not on the target)
  std::vector<std::string> refused;      // "<change>: <target's answer>"
};

class RbacSync {
 public:
  // True when Apply has work: the first time, when the source changed since it was applied,
  // or while memberships wait for their user on the target (every `recheck`).
  bool Due(const rbac::State& source, std::chrono::steady_clock::time_point now,
           std::chrono::milliseconds recheck = std::chrono::seconds(10)) const;
  Result<RbacOutcome> Apply(target::Client* target, const rbac::State& source,
                            std::chrono::steady_clock::time_point now);

  std::string Json() const;  // `seen`, "{}" before the first Apply
  Status Restore(const std::string& json);

 private:
  std::optional<rbac::State> seen_;  // the source as last applied
  bool applied_once_ = false;        // in this process
  bool waiting_ = false;             // memberships wait for their user
  std::chrono::steady_clock::time_point last_apply_{};
};

}  // namespace cdc::replicate
