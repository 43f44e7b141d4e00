#pragma once
// verify::CollectionVerifier: compares one collection of a running task on the source and on
// the target, at points both have passed, and says `equal` or what differs.
//
// Milvus 2.3 reads at the begin ts of each query (no time travel, target/milvus_reader.h), so
// the two sides are never read at one chosen ts. Each comparison therefore (1) takes a ts of
// the source's TSO (AllocTimestamp: the source's present), (2) waits until the task has
// applied the source up to it (TaskHealth::applied_ts; bounded by catch_up_timeout), then (3)
// reads both sides at the same moment (two threads), Strong: the source at its own begin ts,
// the target at its own begin ts, which a Strong read on a replication target serves only
// once the replicated time ticks passed it, i.e. once the task applied the source up to that
// moment. With the two clocks in step both reads see one point in time, give or take the
// milliseconds between the two requests (plus the skew of the clocks). A difference is thus a
// suspect only: its range is read again (both sides, same way) `rechecks` times, and only a
// key that differs the same way in every read is reported; a range that differs each time in
// other keys is `unsettled` (the source keeps writing there). docs/verify.md has the argument.
//
// Steps: metadata (CompareMeta; re-read until equal or settle_timeout), count(*), then per
// partition (the whole collection for a partition-key one) the keys in ranges: both sides'
// next page_size keys, compared up to the smaller last key of a full page (digest per range,
// the differing keys of suspect ranges, re-checks); the field values of a sample of rows
// (every n-th key, re-checked likewise); count(*) again if it differed (rows stored twice under
// one key show only there).
//
// Not thread-safe: one verifier per collection, run on one thread. Run() never throws; errors
// end in Verdict::kError with the reason.
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "target/milvus_reader.h"
#include "target/pk_pager.h"
#include "target/primary_key.h"
#include "task/name_map.h"
#include "verify/meta_diff.h"
#include "verify/result.h"

namespace cdc::verify {

struct VerifyOptions {
  int64_t page_size = 8192;  // source keys per range (1..16384)
  size_t sample_rows = 100;  // rows whose field values are compared (0 = none)
  size_t max_keys = 10;      // differing keys reported per collection
  int rechecks = 2;          // re-reads of a differing range before a key counts
  std::chrono::milliseconds recheck_delay{500};
  // How long the task may take to apply a source read before the verify gives up (it is
  // behind: lag).
  std::chrono::milliseconds catch_up_timeout{60000};
  // How long metadata (index, load state: applied beside the data) may take to settle.
  std::chrono::milliseconds settle_timeout{30000};
  size_t max_suspect_ranges = 64;  // differing ranges re-checked; more count as differing
};

struct VerifyProgress {
  std::string phase;  // "metadata", "keys", "recheck", "values", "count", "done"
  int64_t keys_compared = 0;
  int64_t rows_estimated = -1;  // the source's count(*) (-1 before it is known)
  int64_t ranges = 0;
  int64_t ranges_differing = 0;  // suspects so far (before their re-checks)
};

// What a verifier needs around it (the task and the two Milvus).
struct VerifyEnv {
  target::MilvusReader* source = nullptr;
  target::MilvusReader* target = nullptr;
  // The task's applied ts; an error when the task is not running.
  std::function<Result<uint64_t>()> applied_ts;
  // Waits `d`; false when the verify is cancelled (then the verifier stops).
  std::function<bool(std::chrono::milliseconds d)> sleep;
  // The local clock as a hybrid ts; used only when the source has no AllocTimestamp.
  std::function<uint64_t()> local_ts;
  std::function<void(const VerifyProgress&)> on_progress;  // optional
  // Read source and target at the same moment (two threads); false: the source first, then the
  // target (deterministic, for tests of one thread's fakes).
  bool concurrent_reads = true;
};

class CollectionVerifier {
 public:
  // `note` goes into the result as it is (e.g. why the task sets the collection aside).
  // `target` is the collection's name on the target (the task's name_mapping); empty parts
  // mean the source's names.
  CollectionVerifier(VerifyEnv env, VerifyOptions options, std::string db, std::string collection,
                     std::string note = "", task::FullName target = {});
  CollectionResult Run();

 private:
  // A key range (after, upto] of one partition ("" = the whole collection) and what its reads
  // found: confirmed holds the differences seen in every read so far.
  struct Range {
    std::string partition;
    std::optional<target::PrimaryKey> after, upto;
    std::vector<KeyDiff> confirmed;
    std::vector<KeyDiff> last;
    std::string source_digest, target_digest;
  };
  // The keys of a range as read from one side; truncated when it held more than fit.
  struct RangeRead {
    std::vector<target::PrimaryKey> keys;
    bool truncated = false;
  };

  Status RunSteps();
  Status CompareMetadata();
  Status CompareKeys();
  Status ScanPartition(const std::string& partition);
  // Digests and differences of one read of the range on both sides.
  void SetRange(Range* range, const std::vector<target::PrimaryKey>& source_keys,
                const std::vector<target::PrimaryKey>& target_keys);
  Status Recheck();
  Status RecheckRange(Range* range);
  Status CompareValues();
  Status CompareCount();
  Status Finish();

  Result<uint64_t> SourceTime();
  Status WaitApplied(uint64_t ts);
  // Waits until the task has applied the source up to its present (a ts of the source's TSO).
  Status CatchUp();
  Status Pause(std::chrono::milliseconds d);
  // The next page_size keys after `after` of one side (Strong).
  Result<target::PkPage> Page(target::MilvusReader& reader, const std::string& partition,
                              const std::optional<target::PrimaryKey>& after);
  // Every key of the range on one side (Strong), up to twice the query window.
  Result<RangeRead> ReadRange(target::MilvusReader& reader, const Range& range);
  // The source read here and the target read on a second thread at the same moment (one after
  // the other, source first, without env_.concurrent_reads).
  template <typename T, typename SourceRead, typename TargetRead>
  Status ReadBoth(SourceRead source_read, TargetRead target_read, T* source, T* target) {
    if (!env_.concurrent_reads) {
      ASSIGN_OR_RETURN(*source, source_read());
      ASSIGN_OR_RETURN(*target, target_read());
      return OkStatus();
    }
    auto pending = std::async(std::launch::async, target_read);
    Result<T> s = source_read();
    Result<T> t = pending.get();
    RETURN_IF_ERROR(s.status());
    RETURN_IF_ERROR(t.status());
    *source = std::move(*s);
    *target = std::move(*t);
    return OkStatus();
  }
  void TakeSample(const std::vector<target::PrimaryKey>& keys);
  void Report(const std::string& phase);
  std::vector<std::string> ScanPartitions() const;
  // The collection's names on the side `reader` reads.
  const task::FullName& NameOn(const target::MilvusReader& reader) const {
    return &reader == env_.target ? target_ : source_;
  }

  VerifyEnv env_;
  VerifyOptions options_;
  task::FullName source_, target_;  // the collection's names on each side
  CollectionResult result_;
  VerifyProgress progress_;
  CollectionMeta source_meta_, target_meta_;
  std::string pk_field_;
  struct Scan {
    std::vector<Range> ranges;
    std::vector<size_t> suspects;  // indexes into ranges
    int64_t suspects_dropped = 0;  // suspect ranges beyond max_suspect_ranges
  } scan_;
  struct Sample {  // every stride-th key seen, for the value comparison
    std::vector<target::PrimaryKey> keys;
    int64_t stride = 1;
    int64_t seen = 0;
  } sample_;
  bool alloc_ts_ = true;  // the source answers AllocTimestamp
  std::vector<KeyDiff> value_diffs_;
  bool values_unsettled_ = false;
  bool count_unsettled_ = false;
};

}  // namespace cdc::verify
