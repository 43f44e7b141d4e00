// Pipeline::Impl: roles, memberships and grants followed from the source's etcd
// (replicate/rbac_sync.h), with extra_info.enable_user_role. They are applied to the target
// directly, not through the stream's rounds: a 2.3 source keeps them in etcd only, with no
// position in any channel to order them by.
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "replicate/pipeline_impl.h"

namespace cdc::replicate {

Status Pipeline::Impl::FollowRbac() {
  if (!opts_.enable_user_role) return OkStatus();
  const auto now = std::chrono::steady_clock::now();
  if (now - loop_.last_rbac_poll < std::chrono::seconds(1)) return OkStatus();
  loop_.last_rbac_poll = now;
  auto source = deps_.catalog->Rbac();
  if (!source.ok()) {
    // As for the load state: not the step's error (the data goes on while the source's etcd
    // cannot be read), named in the reason, read again a second later.
    loop_.rbac_error =
        std::string(Annotate(source.status(), "follow the source's roles and grants").message());
    return OkStatus();
  }
  loop_.rbac_error.clear();
  if (!rbac_.Due(*source, now)) return OkStatus();
  auto outcome = rbac_.Apply(target_.get(), *source, now);
  RETURN_IF_ERROR(Annotate(outcome.status(), "replicate the source's roles and grants"));
  if (outcome->applied > 0) {
    spdlog::info("task {}: {} change(s) of roles, memberships or grants applied to the target",
                 opts_.task_id, outcome->applied);
  }
  for (const auto& [user, role] : outcome->user_missing) {
    if (!loop_.rbac_reported.insert(absl::StrCat("member ", user, "/", role)).second) continue;
    Skip("user_missing_on_target",
         absl::StrCat("membership of user ", user, " in role ", role, ": user ", user,
                      " does not exist on the target (users are not replicated: a Milvus 2.3 "
                      "source keeps only a hash of the password; create the user on the target, "
                      "the membership follows)"));
  }
  for (const auto& refused : outcome->refused) {
    if (loop_.rbac_reported.insert(refused).second) Skip("rbac_refused_by_target", refused);
  }
  return OkStatus();
}

}  // namespace cdc::replicate
