#include "source/vchannel.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cdc::source {
namespace {
namespace common = milvus::proto::common;
}

Result<VChannel> ParseVChannel(std::string_view name) {
  auto bad = [&] {
    return InvalidArgumentError(absl::StrCat("parse vchannel '", AbslView(name),
                                             "': expected {pchannel}_{collectionID}v{shard}"));
  };
  size_t v = name.rfind('v');
  size_t us = name.rfind('_', v == std::string_view::npos ? std::string_view::npos : v);
  if (v == std::string_view::npos || us == std::string_view::npos || us + 1 >= v) return bad();
  VChannel out;
  if (!absl::SimpleAtoi(AbslView(name.substr(us + 1, v - us - 1)), &out.collection_id) ||
      !absl::SimpleAtoi(AbslView(name.substr(v + 1)), &out.shard)) {
    return bad();
  }
  out.pchannel = std::string(name.substr(0, us));
  if (out.pchannel.empty()) return bad();
  return out;
}

std::string MakeVChannel(std::string_view pchannel, int64_t collection_id, int shard) {
  return absl::StrCat(AbslView(pchannel), "_", collection_id, "v", shard);
}

Pack FilterPack(const Pack& pack, const std::set<std::string>& vchannels) {
  std::set<int64_t> collections;
  for (const auto& vc : vchannels) {
    if (auto p = ParseVChannel(vc); p.ok()) collections.insert(p->collection_id);
  }
  Pack out;
  out.channel = pack.channel;
  out.begin_ts = pack.begin_ts;
  out.end_ts = pack.end_ts;
  out.start_position = pack.start_position;
  out.end_position = pack.end_position;
  out.errors = pack.errors;
  for (const auto& m : pack.msgs) {
    const Header& h = m.header;
    switch (h.type) {
      case common::Insert:
      case common::Delete:
        if (vchannels.count(h.shard_name)) out.msgs.push_back(m);
        break;
      case common::CreateCollection:
      case common::DropCollection:
      case common::CreatePartition:
      case common::DropPartition:
        if (collections.count(h.collection_id)) out.msgs.push_back(m);
        break;
      default:
        out.msgs.push_back(m);
    }
  }
  return out;
}

}  // namespace cdc::source
