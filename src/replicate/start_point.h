#pragma once
// replicate::FixStart: fixes where a new task starts reading, before `create` answers.
//
// A task replicates what the source writes after `create` answered, whenever its readers get
// to run (they may start a second later, or only after a restart). So create records, per
// source DML channel and for the replicate-msg channel, the position of the channel's last
// message at that moment (source::Broker::LatestPositions semantics: a reader started there
// reads exactly what comes after), and stores them as the task's checkpoint: the start row
// (kStartRow) and the replicate channel's row. The pipeline then starts every channel there
// (replicate/checkpointer.h), also after a restart that came before it ever ran.
// Thread-safe (no state); bounded by the timeout given to `latest`.
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "meta/store.h"
#include "replicate/catalog_view.h"
#include "replicate/ddl_applier.h"
#include "replicate/given_start.h"
#include "source/position.h"

namespace cdc::replicate {

// Positions of the channels' last messages now (see source::Broker::LatestPositions).
using LatestPositionsFn = std::function<Result<std::map<std::string, source::MsgPosition>>(
    const std::vector<std::string>& channels, std::chrono::milliseconds timeout)>;

// Whether the source's queue still holds each position (see source::Broker::Holds).
using HoldsFn = std::function<Result<std::vector<bool>>(
    const std::vector<source::MsgPosition>& positions, std::chrono::milliseconds timeout)>;

// The DML channels of a source: `{cluster}-rootcoord-dml_{i}` for i < channel_num (the
// cluster prefix taken from the replicate channel, `{cluster}-replicate-msg`), plus every
// pchannel a collection in `collections` names (a source may name them otherwise).
std::vector<std::string> SourceDmlChannels(const std::string& replicate_channel, int channel_num,
                                           const std::vector<CollectionMeta>& collections);

// A collection initial sync copies (replicate/initial_sync.h), as the source had it at create.
struct SeedCollection {
  CollectionMeta meta;
  std::vector<DdlRequest> requests;  // its indexes and load state (SeedRequests)
  bool replay = false;               // the queue holds its history: read it from its create message
  int64_t rows_estimated = 0;
  // The task's start as a hybrid ts (its create), at least: the replay is history up to it.
  uint64_t start_ts = 0;
};

// Writes the task's start: the start row with `dml_channels`, the replicate channel's row
// (with the seeds' requests pending) and, for initial sync, a row per seed collection (from
// its create message when it is replayed, else from the start, with its copy state).
// With positions given at create (`given`, replicate/given_start.h), their channels start
// there instead, after they were checked against the queue (`holds`, may be null in tests).
// Errors name the broker's or the store's trouble, or the position to fix; nothing is written
// then.
Status FixStart(meta::Store* store, const std::string& task_id,
                const std::string& replicate_channel, const std::vector<std::string>& dml_channels,
                const LatestPositionsFn& latest, std::chrono::milliseconds timeout,
                const std::vector<SeedCollection>& seeds = {}, const GivenStart& given = {},
                const HoldsFn& holds = nullptr);

}  // namespace cdc::replicate
