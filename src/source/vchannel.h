#pragma once
// Virtual channels and per-collection filtering of packs.
// A vchannel is "{pchannel}_{collectionID}v{shard}", e.g. by-dev-rootcoord-dml_3_4471v0.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "common/status.h"
#include "source/pack.h"

namespace cdc::source {

struct VChannel {
  std::string pchannel;
  int64_t collection_id = 0;
  int shard = 0;
};

// InvalidArgument if `name` does not have the vchannel form.
Result<VChannel> ParseVChannel(std::string_view name);
std::string MakeVChannel(std::string_view pchannel, int64_t collection_id, int shard);

// Keeps what a reader of `vchannels` should see: Insert/Delete whose shardName is one of
// them; collection/partition DDL whose collectionID owns one of them; anything else (unknown
// types) is kept so that it can be reported. Positions, timestamps and errors carry over.
Pack FilterPack(const Pack& pack, const std::set<std::string>& vchannels);

}  // namespace cdc::source
