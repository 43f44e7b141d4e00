#pragma once
// The exit codes of `milvus-cdc task ...` (docs/cli.md), for scripts:
//   0 the request succeeded (verify: every collection equal)
//   1 the server answered an error (its message is printed on stderr)
//   2 usage error: bad arguments, an unreadable --token-file / --from-json / --ca-file
//   3 the server could not be reached (connection, TLS or timeout; the URL is printed)
//   4 verify ran and not every collection is equal
#include "common/status.h"

namespace cdc::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitServerError = 1,
  kExitUsage = 2,
  kExitUnreachable = 3,
  kExitDiffers = 4,
};

// The exit code of a failed call: kUnavailable / kDeadlineExceeded (the ApiClient's "not
// reached") are 3, kInvalidArgument raised before any call (a local file, a flag) is mapped by
// the caller; every other code is an error the server answered (1).
inline int ExitCodeOf(const Status& s) {
  if (s.ok()) return kExitOk;
  if (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded) {
    return kExitUnreachable;
  }
  return kExitServerError;
}

}  // namespace cdc::cli
