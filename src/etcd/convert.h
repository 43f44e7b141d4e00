#pragma once
// Conversions between the etcd protobuf messages and the plain types of etcd/types.h.
// Internal to src/etcd.
#include "etcd/etcdserverpb/rpc.pb.h"
#include "etcd/mvccpb/kv.pb.h"
#include "etcd/types.h"

namespace cdc::etcd::internal {

KeyValue FromProto(const mvccpb::KeyValue& kv);
Event FromProto(const mvccpb::Event& ev);
RangeResult FromProto(const etcdserverpb::RangeResponse& resp);
etcdserverpb::RangeRequest ToRangeRequest(const std::string& key, const RangeOptions& opts);
etcdserverpb::Compare ToProto(const Compare& c);
etcdserverpb::RequestOp ToProto(const TxnOp& op);

}  // namespace cdc::etcd::internal
