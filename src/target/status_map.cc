#include "target/status_map.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace cdc::target {
namespace {

constexpr char kTtMsgHint[] =
    "; the target is a normal instance (common.ttMsgEnabled is true): set "
    "common.ttMsgEnabled: false in the target Milvus configuration (milvus.yaml or its etcd "
    "config) and retry";

// "channel not found" (Milvus code 500): the datanode does not watch a collection's channel yet
// (it waits for time ticks there); a state to wait out, never an object that is gone.
bool ChannelNotWatched(const std::string& lower) {
  return absl::StrContains(lower, "channel not found");
}

bool MentionsNotFound(const std::string& lower) {
  return absl::StrContains(lower, "not found") || absl::StrContains(lower, "not exist") ||
         absl::StrContains(lower, "doesn't exist") || absl::StrContains(lower, "does not exist");
}

StatusCode CodeFor(int code, bool retriable, const std::string& reason) {
  const std::string lower = absl::AsciiStrToLower(reason);
  if (absl::StrContains(lower, "already exist")) return StatusCode::kAlreadyExists;
  if (ChannelNotWatched(lower)) return StatusCode::kUnavailable;
  switch (code) {
    case 100:   // collection not found
    case 200:   // partition not found
    case 700:   // index not found
    case 800:   // database not found
    case 1600:  // alias not found
    case 1700:  // field not found
      return StatusCode::kNotFound;
    case kMilvusDenyReplicate:
    case 101:  // collection not loaded
    case 201:  // partition not loaded
      return StatusCode::kFailedPrecondition;
    case 1400:
      return StatusCode::kUnauthenticated;
    case 1401:
      return StatusCode::kPermissionDenied;
    case 1100:  // invalid parameter
    case 1901:  // invalid replicate msg bytes
      return StatusCode::kInvalidArgument;
    case 3:  // memory limit
    case 7:  // disk limit
      return StatusCode::kResourceExhausted;
    default:
      break;
  }
  if (retriable || code == 1 || code == 2 || code == 4 || code == 8 || code == 1902)
    return StatusCode::kUnavailable;
  if (MentionsNotFound(lower)) return StatusCode::kNotFound;
  return StatusCode::kInternal;
}

// Deprecated common.ErrorCode values still set by 2.3 servers next to `code`.
StatusCode LegacyCodeFor(int error_code, const std::string& reason) {
  const std::string lower = absl::AsciiStrToLower(reason);
  if (absl::StrContains(lower, "already exist")) return StatusCode::kAlreadyExists;
  if (ChannelNotWatched(lower)) return StatusCode::kUnavailable;
  switch (error_code) {
    case 4:   // CollectionNotExists
    case 25:  // IndexNotExist
    case 28:  // CollectionNameNotFound
      return StatusCode::kNotFound;
    case 3:  // PermissionDenied
      return StatusCode::kPermissionDenied;
    case 5:  // IllegalArgument
      return StatusCode::kInvalidArgument;
    case 2:  // ConnectFailed
      return StatusCode::kUnavailable;
    default:
      break;
  }
  if (MentionsNotFound(lower)) return StatusCode::kNotFound;
  return StatusCode::kInternal;
}

}  // namespace

Status FromMilvusStatus(const std::string& where, const ::milvus::proto::common::Status& st,
                        const PeerNames& names) {
  if (st.code() == 0 && st.error_code() == 0) return OkStatus();
  const int base = st.code() & (kMilvusRetryableFlag - 1);
  const bool retriable = st.retriable() || (st.code() & kMilvusRetryableFlag) != 0;
  StatusCode code = base != 0 ? CodeFor(base, retriable, st.reason())
                              : LegacyCodeFor(st.error_code(), st.reason());
  std::string msg = absl::StrCat(where, ": ", st.reason().empty() ? "error" : st.reason(),
                                 " (milvus code ", base != 0 ? base : st.error_code(), ")");
  if (base == kMilvusDenyReplicate) absl::StrAppend(&msg, kTtMsgHint);
  if (code == StatusCode::kUnauthenticated || code == StatusCode::kPermissionDenied)
    absl::StrAppend(&msg, "; check the token in ", names.settings);
  return Status(code, msg);
}

Status FromGrpcStatus(const std::string& where, const grpc::Status& st, const PeerNames& names) {
  if (st.ok()) return OkStatus();
  const auto code = static_cast<StatusCode>(st.error_code());
  std::string msg = absl::StrCat(where, ": ", st.error_message());
  switch (code) {
    case StatusCode::kUnavailable:
      absl::StrAppend(&msg, "; check that the ", names.role, " Milvus runs and ", names.settings,
                      ".uri");
      break;
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      absl::StrAppend(&msg, "; check the token in ", names.settings);
      break;
    case StatusCode::kUnimplemented:
      absl::StrAppend(&msg, "; the ", names.role, " must be Milvus 2.3.2 or later");
      break;
    default:
      break;
  }
  return Status(code, msg);
}

Status TreatReplayAsDone(Status s, Replay kind) {
  if (kind == Replay::kCreate && s.code() == StatusCode::kAlreadyExists) return OkStatus();
  if (kind == Replay::kDrop && s.code() == StatusCode::kNotFound) return OkStatus();
  return s;
}

}  // namespace cdc::target
