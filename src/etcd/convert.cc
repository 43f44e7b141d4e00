#include "etcd/convert.h"

namespace cdc::etcd {

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(end.back());
    if (c < 0xff) {
      ++c;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

Compare Compare::Value(std::string key, Op op, std::string value) {
  return {std::move(key), Target::kValue, op, std::move(value), 0};
}
Compare Compare::Version(std::string key, Op op, int64_t version) {
  return {std::move(key), Target::kVersion, op, "", version};
}
Compare Compare::ModRevision(std::string key, Op op, int64_t revision) {
  return {std::move(key), Target::kModRevision, op, "", revision};
}
Compare Compare::CreateRevision(std::string key, Op op, int64_t revision) {
  return {std::move(key), Target::kCreateRevision, op, "", revision};
}

TxnOp TxnOp::Get(std::string key, bool prefix) {
  return {Kind::kGet, std::move(key), "", 0, prefix};
}
TxnOp TxnOp::Put(std::string key, std::string value, int64_t lease) {
  return {Kind::kPut, std::move(key), std::move(value), lease, false};
}
TxnOp TxnOp::Delete(std::string key, bool prefix) {
  return {Kind::kDelete, std::move(key), "", 0, prefix};
}

namespace internal {

KeyValue FromProto(const mvccpb::KeyValue& kv) {
  return {kv.key(), kv.value(), kv.create_revision(), kv.mod_revision(), kv.version(), kv.lease()};
}

Event FromProto(const mvccpb::Event& ev) {
  Event out;
  out.type = ev.type() == mvccpb::Event::DELETE ? Event::Type::kDelete : Event::Type::kPut;
  out.kv = FromProto(ev.kv());
  if (ev.has_prev_kv()) out.prev_kv = FromProto(ev.prev_kv());
  return out;
}

RangeResult FromProto(const etcdserverpb::RangeResponse& resp) {
  RangeResult out;
  out.kvs.reserve(resp.kvs_size());
  for (const auto& kv : resp.kvs()) out.kvs.push_back(FromProto(kv));
  out.more = resp.more();
  out.count = resp.count();
  out.revision = resp.header().revision();
  return out;
}

etcdserverpb::RangeRequest ToRangeRequest(const std::string& key, const RangeOptions& opts) {
  etcdserverpb::RangeRequest req;
  req.set_key(key);
  if (opts.prefix) {
    req.set_range_end(PrefixEnd(key));
  } else if (!opts.range_end.empty()) {
    req.set_range_end(opts.range_end);
  }
  req.set_limit(opts.limit);
  req.set_revision(opts.revision);
  req.set_keys_only(opts.keys_only);
  req.set_count_only(opts.count_only);
  req.set_min_mod_revision(opts.min_mod_revision);
  return req;
}

etcdserverpb::Compare ToProto(const Compare& c) {
  etcdserverpb::Compare out;
  out.set_key(c.key);
  switch (c.op) {
    case Compare::Op::kEqual:
      out.set_result(etcdserverpb::Compare::EQUAL);
      break;
    case Compare::Op::kGreater:
      out.set_result(etcdserverpb::Compare::GREATER);
      break;
    case Compare::Op::kLess:
      out.set_result(etcdserverpb::Compare::LESS);
      break;
    case Compare::Op::kNotEqual:
      out.set_result(etcdserverpb::Compare::NOT_EQUAL);
      break;
  }
  switch (c.target) {
    case Compare::Target::kValue:
      out.set_target(etcdserverpb::Compare::VALUE);
      out.set_value(c.value);
      break;
    case Compare::Target::kVersion:
      out.set_target(etcdserverpb::Compare::VERSION);
      out.set_version(c.number);
      break;
    case Compare::Target::kModRevision:
      out.set_target(etcdserverpb::Compare::MOD);
      out.set_mod_revision(c.number);
      break;
    case Compare::Target::kCreateRevision:
      out.set_target(etcdserverpb::Compare::CREATE);
      out.set_create_revision(c.number);
      break;
  }
  return out;
}

etcdserverpb::RequestOp ToProto(const TxnOp& op) {
  etcdserverpb::RequestOp out;
  switch (op.kind) {
    case TxnOp::Kind::kGet: {
      RangeOptions ro;
      ro.prefix = op.prefix;
      *out.mutable_request_range() = ToRangeRequest(op.key, ro);
      break;
    }
    case TxnOp::Kind::kPut: {
      auto* put = out.mutable_request_put();
      put->set_key(op.key);
      put->set_value(op.value);
      put->set_lease(op.lease);
      break;
    }
    case TxnOp::Kind::kDelete: {
      auto* del = out.mutable_request_delete_range();
      del->set_key(op.key);
      if (op.prefix) del->set_range_end(PrefixEnd(op.key));
      break;
    }
  }
  return out;
}

}  // namespace internal
}  // namespace cdc::etcd
