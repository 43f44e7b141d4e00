#pragma once
// verify::CollectionVerifier: compares one collection of a running task on the source and on
// the target, at points both have passed, and says `equal` or what differs.
//
// Milvus 2.3 reads at the begin ts of each query (no time travel, target/milvus_reader.h), so
// the two sides can never be read at one ts. Every comparison therefore reads the source first
// (Strong), takes a ts of the source's TSO right after it (AllocTimestamp: newer than the
// source read), waits until the task has applied the source up to that ts (its applied ts,
// TaskHealth::applied_ts) and then reads the target with that ts as its guarantee ts. The
// target then holds everything the source read held, plus what the source wrote in between
// (milliseconds). A difference is thus only a suspect: its range is read again (both sides,
// same order) `rechecks` times, and only a key that differs the same way in every read is
// reported; a range that differs each time in other keys is `unsettled` (the source keeps
// writing there). docs/verify.md has the whole argument.
//
// Steps: metadata (CompareMeta; re-read until equal or settle_timeout), then per partition
// (the whole collection for a partition-key one) the keys in ranges of page_size source keys:
// a digest per range on each side, the differing keys of suspect ranges, re-checks; the field
// values of a sample of rows (every n-th key, re-checked likewise); count(*) on both sides
// (rows stored twice under one key show only there).
//
// Not thread-safe: one verifier per collection, run on one thread. Run() never throws; errors
// end in Verdict::kError with the reason.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "target/milvus_reader.h"
#include "target/primary_key.h"
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
};

class CollectionVerifier {
 public:
  // `note` goes into the result as it is (e.g. why the task sets the collection aside).
  CollectionVerifier(VerifyEnv env, VerifyOptions options, std::string db, std::string collection,
                     std::string note = "");
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
  Status CompareRange(Range* range, const std::vector<target::PrimaryKey>& source_keys);
  Status Recheck();
  Status RecheckRange(Range* range);
  Status CompareValues();
  Status CompareCount();
  Status Finish();

  Result<uint64_t> SourceTime();
  Status WaitApplied(uint64_t ts);
  Status Pause(std::chrono::milliseconds d);
  Result<RangeRead> ReadRange(target::MilvusReader& reader, const Range& range,
                              target::ReadConsistency consistency);
  void TakeSample(const std::vector<target::PrimaryKey>& keys);
  void Report(const std::string& phase);
  std::vector<std::string> ScanPartitions() const;

  VerifyEnv env_;
  VerifyOptions options_;
  std::string db_, collection_;
  CollectionResult result_;
  VerifyProgress progress_;
  CollectionMeta source_meta_, target_meta_;
  std::string pk_field_;
  std::vector<Range> ranges_;
  std::vector<size_t> suspects_;  // indexes into ranges_
  int64_t suspects_dropped_ = 0;  // suspect ranges beyond max_suspect_ranges
  std::vector<target::PrimaryKey> sample_;
  int64_t sample_stride_ = 1;
  int64_t seen_keys_ = 0;
  bool alloc_ts_ = true;  // the source answers AllocTimestamp
  std::vector<KeyDiff> value_diffs_;
  bool values_unsettled_ = false;
  bool count_unsettled_ = false;
};

}  // namespace cdc::verify
