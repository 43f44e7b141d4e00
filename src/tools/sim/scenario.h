#pragma once
// A scripted stream for one physical channel: optional CreateCollection, then inserts (and
// deletes) with a time tick after every `inserts_per_tick` DML messages, the way a real
// Milvus interleaves proxy DML and rootcoord ticks. Pure; used by the tool, tests and bench.
#include <cstdint>
#include <string>
#include <vector>

#include "tools/sim/messages.h"

namespace cdc::sim {

struct Scenario {
  CollectionSpec collection;
  std::string pchannel = "by-dev-rootcoord-dml_0";
  int64_t partition_id = 0;  // 0 = collection.id + 1
  bool create_collection = true;
  int inserts = 10;
  int rows_per_insert = 100;
  int inserts_per_tick = 1;
  int delete_every = 0;  // a delete of the last insert's first pk after every N inserts
  uint64_t start_ms = 1700000000000;  // physical time of the first message
  int64_t first_msg_id = 1000;
  int64_t first_pk = 1;
};

struct Payload {
  std::string bytes;
  int type = 0;
  uint64_t ts = 0;
};

std::vector<Payload> BuildScenario(const Scenario& s);

}  // namespace cdc::sim
