#pragma once
// ParseCredentials: a Milvus 2.3 source's users, roles, memberships and grants from its
// root-coord's keys under "{rootPath}/{metaSubPath}/root-coord/credential/" (checked on
// 2.3.5; a 2.3 source writes nothing of them to its channels):
//   users/{user}                           {"encrypted_password": <bcrypt hash>} (not read)
//   roles/{role}                           ""
//   user-role-mapping/{user}/{role}        ""
//   grantee-privileges/{role}/{object type}/{db}.{object name}   grant id
//     (a grant of a pre-database Milvus has no "{db}.": database "default")
//   grantee-id/{grant id}/{privilege}      the grantor's user name; the privilege as stored
//     ("PrivilegeInsert", or "*"), given in its API form ("Insert")
// A password hash is never read into the result. Keys that do not fit are described in *bad.
// Pure, no I/O.
#include <string>
#include <utility>
#include <vector>

#include "common/rbac.h"

namespace cdc::source {

// `prefix`: the credential prefix with its trailing '/'; `kvs`: (full key, value) under it.
rbac::State ParseCredentials(const std::string& prefix,
                             const std::vector<std::pair<std::string, std::string>>& kvs,
                             std::vector<std::string>* bad);

}  // namespace cdc::source
