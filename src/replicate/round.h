#pragma once
// replicate::Round: the round in progress (a value owned by the pipeline thread): everything
// released at the watermark `w`, in ts order, and how far its handling got. A round that
// fails part-way is retried from `next` with the same items, so what the target already took
// is not sent again out of its order.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "replicate/merger.h"

namespace cdc::replicate {

struct RoundItem {
  bool replicate = false;  // a request from the replicate-msg channel
  MergedMessage m;
};

struct Round {
  bool active = false;
  uint64_t w = 0;
  bool has_dml_channels = false;  // the round comes from the DML merge (it ticks the target)
  std::vector<RoundItem> items;
  size_t next = 0;                      // items[0, next) are handled
  bool changed = false;                 // the target changed (the checkpoint is due at once)
  bool checkpointed = false;            // the checkpoint of this round is written
  std::set<std::string> data_channels;  // target pchannels that got data in this round

  void Begin(uint64_t watermark, bool dml, std::vector<RoundItem> released) {
    *this = Round();
    active = true;
    w = watermark;
    has_dml_channels = dml;
    items = std::move(released);
  }
  void Finish() { *this = Round(); }
};

}  // namespace cdc::replicate
