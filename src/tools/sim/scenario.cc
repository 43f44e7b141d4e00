#include "tools/sim/scenario.h"

#include <algorithm>

#include "source/vchannel.h"

namespace cdc::sim {
namespace common = milvus::proto::common;

std::vector<Payload> BuildScenario(const Scenario& s) {
  std::vector<Payload> out;
  const std::string vchannel = source::MakeVChannel(s.pchannel, s.collection.id, 0);
  const int64_t part = s.partition_id ? s.partition_id : s.collection.id + 1;
  uint64_t ms = s.start_ms;
  int64_t msg_id = s.first_msg_id;
  int64_t pk = s.first_pk;
  auto tick = [&] {
    out.push_back(
        {MakeTimeTick(ComposeTs(ms)).SerializeAsString(), common::TimeTick, ComposeTs(ms)});
    ++ms;
  };
  if (s.create_collection) {
    out.push_back({MakeCreateCollection(s.collection, {vchannel}, {s.pchannel}, part, ComposeTs(ms))
                       .SerializeAsString(),
                   common::CreateCollection, ComposeTs(ms)});
    ++ms;
    tick();
  }
  for (int i = 0; i < s.inserts; ++i) {
    uint64_t ts = ComposeTs(ms++);
    InsertSpec is;
    is.partition_id = part;
    is.vchannel = vchannel;
    is.ts = ts;
    is.msg_id = msg_id++;
    is.first_pk = pk;
    is.rows = s.rows_per_insert;
    out.push_back({MakeInsert(s.collection, is).SerializeAsString(), common::Insert, ts});
    if (s.delete_every > 0 && (i + 1) % s.delete_every == 0) {
      uint64_t dts = ComposeTs(ms++);
      out.push_back({MakeDelete(s.collection, vchannel, dts, msg_id++, {pk}).SerializeAsString(),
                     common::Delete, dts});
    }
    pk += s.rows_per_insert;
    if ((i + 1) % std::max(1, s.inserts_per_tick) == 0) tick();
  }
  if (s.inserts % std::max(1, s.inserts_per_tick) != 0) tick();
  return out;
}

}  // namespace cdc::sim
