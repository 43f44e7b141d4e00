#pragma once
// What a verify finds for one collection of a task. Plain values, copyable.
#include <cstdint>
#include <string>
#include <vector>

#include "target/primary_key.h"

namespace cdc::verify {

// The answer for a collection.
enum class Verdict {
  kEqual,       // every check passed
  kDiffers,     // a difference that held in every re-check (see CollectionResult)
  kUnsettled,   // ranges kept differing in other keys each time: the source keeps changing there
  kIncomplete,  // rows not compared (e.g. not loaded on the source); what was compared is equal
  kError,       // could not compare (a Milvus unreachable, the task stopped or fell behind)
};
const char* VerdictName(Verdict v);  // "equal", "differs", "unsettled", "incomplete", "error"

// One difference outside the rows: aspect is "collection", "schema", "partitions", "indexes",
// "load_state" or "row_count".
struct Difference {
  std::string aspect;
  std::string detail;  // e.g. "field 2 (n): data_type Int64 on the source, Int32 on the target"
};

// One key that differs.
enum class KeyDiffKind { kMissingOnTarget, kExtraOnTarget, kValuesDiffer };
const char* KeyDiffKindName(KeyDiffKind k);  // "missing_on_target", "extra_on_target", ...

struct KeyDiff {
  target::PrimaryKey key;
  KeyDiffKind kind = KeyDiffKind::kMissingOnTarget;
  std::string partition;  // "" when the collection was compared as a whole
  std::string detail;     // kValuesDiffer: the fields, e.g. "fields n, $meta"

  bool SameAs(const KeyDiff& o) const {
    return key == o.key && kind == o.kind && partition == o.partition;
  }
};

struct CollectionResult {
  std::string name;         // db.collection (on the source)
  std::string target_name;  // db.collection on the target when name_mapping renames it, else ""
  Verdict verdict = Verdict::kEqual;
  std::vector<Difference> differences;
  std::vector<KeyDiff> keys;  // the first differing keys, in key order per range
  std::string message;        // kError / kIncomplete / kUnsettled: why, and what to do
  std::string note;           // e.g. the task sets the collection aside: its reason

  int64_t source_rows = -1;  // count(*) on each side (-1: not counted)
  int64_t target_rows = -1;
  int64_t keys_compared = 0;     // source keys compared with the target's
  int64_t ranges = 0;            // key ranges compared
  int64_t ranges_differing = 0;  // ranges still differing after the re-checks
  int64_t ranges_unsettled = 0;
  int64_t rows_sampled = 0;  // rows whose field values were compared
  // SHA-256 over the key digests of the ranges, as last read on each side: equal when the key
  // sets read were equal.
  std::string source_digest;
  std::string target_digest;
  // The last source ts read (hybrid): the target was read after the task had applied it.
  uint64_t read_ts = 0;
};

}  // namespace cdc::verify
