#pragma once
// Initial sync (create with "initial_sync": true; docs/initial-sync.md): every selected
// collection that exists when the task starts is copied as it is then, and the stream goes on
// from the task's fixed start, with nothing lost and nothing twice.
//
// Per collection, one of two ways, decided at create (replicate/start_point.h):
//  - kReplay: the source's queue still holds the collection from its first message on every
//    channel: its checkpoint row starts at its create message and the pipeline replays its
//    whole history (exact, and cheap: no query on the source);
//  - kCopy: otherwise its rows are read from the source by primary-key ranges and sent as
//    replicated inserts, interleaved with its stream so that no row is doubled.
// Its indexes and load state as of the start are queued as requests at create (SeedRequests),
// applied once the collection exists on the target, before the requests that follow.
// A collection is "copying" until it has applied the task's start ts (CopyState.start_ts).
// The state lives in the collection's checkpoint row (key "InitialSync"), so a restart resumes
// where it stopped. Pure functions, thread-safe.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "replicate/catalog_view.h"
#include "replicate/ddl_applier.h"
#include "source/catalog_types.h"
#include "task/name_map.h"

namespace cdc::replicate {

inline constexpr char kInitialSyncKey[] = "InitialSync";

struct CopyState {
  enum class Way { kReplay, kCopy };
  Way way = Way::kReplay;
  uint64_t start_ts = 0;       // the task's fixed start on this collection's channels
  bool done = false;           // has all it held at the start
  int64_t rows_copied = 0;     // rows sent so far (replayed inserts, or copied)
  int64_t rows_estimated = 0;  // what the source held at the start (datacoord's count)
  int64_t started_ms = 0;      // wall clock when it began, for the ETA
  // kCopy (replicate/copy_step.cc): rows are read page by page, per partition, in primary-key
  // order, and sent stamped `copy_ts_base + emissions` (below every change the stream brings
  // after the start); then the stream is replayed from the start with every Insert at or
  // below `upsert_until` preceded by a Delete of its keys, so a row copied and also streamed
  // is never doubled.
  std::string last_pk;        // the last primary key copied in `partition`, as JSON
  std::string partition;      // the partition being copied ("" before the first)
  bool rows_done = false;     // every partition copied; the stream replays with upserts
  uint64_t upsert_until = 0;  // the source's ts once the last page was read
  uint64_t copy_ts_base = 0;  // the copies' timestamps start above this
  int64_t emissions = 0;      // pages sent so far (each one its own timestamp)
};

std::string EncodeCopyState(const CopyState& s);
Result<CopyState> DecodeCopyState(const std::string& json);

// How far one collection's initial sync is, for `get` and /metrics.
struct SyncProgress {
  int64_t id = 0;
  std::string phase;  // "replaying" (its history from the queue), "copying", "done"
  int64_t rows_copied = 0;
  int64_t rows_estimated = 0;
  int64_t eta_s = -1;  // -1 unknown
};

// The pipeline's view of the collections initial sync copies (owned by the pipeline thread).
class SyncTracker {
 public:
  // Takes the states of the checkpoint's rows (`states`: collection id -> state JSON).
  Status Load(const std::map<int64_t, std::string>& states);
  const CopyState* Find(int64_t id) const;
  // Not done yet (its history, or its rows, are still being copied).
  bool Copying(int64_t id) const;
  // A replayed Insert of `rows` rows at `ts`: counted while it is history (ts <= start_ts).
  void Replayed(int64_t id, int64_t rows, uint64_t ts);
  // After a round at `w`: replays (and copies whose rows are all sent) of collections that
  // are `healthy` and reached their start (and the end of their upserts) are done. Returns the
  // collections whose state changed.
  std::vector<int64_t> Advance(uint64_t w, const std::function<bool(int64_t)>& healthy);
  void Forget(int64_t id) { states_.erase(id); }
  // The state of `id` to change (a copy's progress); nullptr if it has none.
  CopyState* Mutable(int64_t id);
  // A copied collection's Insert at `ts` must first delete its keys (see CopyState).
  bool UpsertsAt(int64_t id, uint64_t ts) const;
  std::string Encode(int64_t id) const;
  std::vector<int64_t> ids() const;
  std::vector<SyncProgress> View() const;

 private:
  std::map<int64_t, CopyState> states_;
};

// The requests that give the target `meta`'s indexes and load state as the source has them:
// CreateIndex per index (the user's params), then LoadCollection, or LoadPartitions of the
// loaded partitions, with `ts` as their replicate timestamp, addressed to `to` (the
// collection's target name; empty parts = the source's).
std::vector<DdlRequest> SeedRequests(const CollectionMeta& meta,
                                     const std::vector<source::IndexMeta>& indexes,
                                     const source::LoadMeta& load, uint64_t ts,
                                     const task::FullName& to = {});

}  // namespace cdc::replicate
