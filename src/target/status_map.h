#pragma once
// Turns Milvus and gRPC answers into cdc::Status with messages that name the Milvus and call.
// Pure functions, thread-safe.
#include <string>

#include "common/status.h"
#include "milvus/common.pb.h"
#include "target/connect_options.h"

namespace grpc {
class Status;
}

namespace cdc::target {

// Milvus error codes (pkg/util/merr, 2.3.x); the wire value may carry kMilvusRetryableFlag.
inline constexpr int kMilvusRetryableFlag = 1 << 16;
inline constexpr int kMilvusDenyReplicate = 1900;

// `where` is the context prefix, e.g. "milvus target 10.0.0.5:19530: CreateCollection db=d
// collection=c". Returns OK for a successful Milvus status. `names` words the hints (which
// settings to check). "not loaded" (101, 201) is kFailedPrecondition.
Status FromMilvusStatus(const std::string& where, const ::milvus::proto::common::Status& st,
                        const PeerNames& names = {});
Status FromGrpcStatus(const std::string& where, const grpc::Status& st,
                      const PeerNames& names = {});

// What a replayed DDL may find: a create of something that exists, a drop of something gone.
enum class Replay { kNone, kCreate, kDrop };
// OK for kAlreadyExists on kCreate and kNotFound on kDrop; `s` otherwise.
Status TreatReplayAsDone(Status s, Replay kind);

}  // namespace cdc::target
