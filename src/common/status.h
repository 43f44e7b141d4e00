#pragma once
// Errors as values across every seam. Status codes are the gRPC codes (absl::StatusCode), so
// etcd and Milvus answers map one to one:
//   kUnavailable        the peer is down or unreachable: retry with backoff.
//   kDeadlineExceeded   the peer did not answer in time: retry with backoff.
//   kAborted            a conditional write lost a race: re-read and retry.
//   kInvalidArgument    the caller's input is wrong: fix it, never retried.
//   kFailedPrecondition the system is not in a state for this: fix first.
//   kNotFound / kAlreadyExists  as named.
// Messages say what was done, to what, where, why, and what to check, for example
//   "put checkpoint task=t1 to etcd 10.0.0.5:2379: deadline exceeded after 5s; check ..."
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cdc {

using Status = absl::Status;
using StatusCode = absl::StatusCode;
template <typename T>
using Result = absl::StatusOr<T>;

using absl::AbortedError;
using absl::AlreadyExistsError;
using absl::DeadlineExceededError;
using absl::FailedPreconditionError;
using absl::InternalError;
using absl::InvalidArgumentError;
using absl::NotFoundError;
using absl::OkStatus;
using absl::OutOfRangeError;
using absl::ResourceExhaustedError;
using absl::UnavailableError;
using absl::UnimplementedError;

// Returns a copy of `s` whose message is prefixed by `context: `.
inline Status Annotate(const Status& s, std::string_view context) {
  if (s.ok()) return s;
  return Status(s.code(), std::string(context) + ": " + std::string(s.message()));
}

// True for errors that a retry with backoff can cure (peer down, slow, or a lost race).
inline bool IsRetryable(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded ||
         s.code() == StatusCode::kAborted || s.code() == StatusCode::kResourceExhausted;
}

// True for a refused token or credentials: they concern every call, not one object.
inline bool IsAuthError(const Status& s) {
  return s.code() == StatusCode::kUnauthenticated || s.code() == StatusCode::kPermissionDenied;
}

}  // namespace cdc

#define CDC_CONCAT_INNER_(a, b) a##b
#define CDC_CONCAT_(a, b) CDC_CONCAT_INNER_(a, b)

// RETURN_IF_ERROR(expr): returns the Status of `expr` from the enclosing function if not ok.
#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::cdc::Status cdc_status_ = (expr);        \
    if (!cdc_status_.ok()) return cdc_status_; \
  } while (false)

// ASSIGN_OR_RETURN(lhs, expr): evaluates a Result<T>; returns its Status if not ok, else
// assigns the value to `lhs` (which may be a declaration, e.g. `auto x`).
// `tmp` and `lhs` are a name and a declaration, which parentheses would break.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(CDC_CONCAT_(cdc_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
