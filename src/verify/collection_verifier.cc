#include "verify/collection_verifier.h"

#include <algorithm>
#include <future>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/hybrid_time.h"
#include "target/pk_pager.h"
#include "verify/key_diff.h"
#include "verify/row_diff.h"
#include "verify/sha256.h"

namespace cdc::verify {
namespace {

namespace commonpb = target::commonpb;
using target::PrimaryKey;
using target::ReadConsistency;

// Differences kept per range read (the report shows the first max_keys).
constexpr size_t kMaxDiffsPerRange = 1000;
// Sampled keys per value query.
constexpr size_t kSampleChunk = 1000;
// A target range holding this many keys is not read further (the source range holds at most
// page_size <= kMaxQueryWindow).
constexpr size_t kMaxTargetRangeKeys = 2 * target::kMaxQueryWindow;
constexpr std::chrono::milliseconds kPollApplied{100};
constexpr std::chrono::milliseconds kMetaRetry{1000};

// Aspects replicated in the data stream (settled once the task applied the source read) as
// opposed to index and load requests, which the task applies beside it and which may follow.
bool InStream(const Difference& d) { return d.aspect != "indexes" && d.aspect != "load_state"; }

std::string TimeText(uint64_t ts) { return absl::StrCat(ts, " (", HybridToMs(ts), " ms)"); }

}  // namespace

CollectionVerifier::CollectionVerifier(VerifyEnv env, VerifyOptions options, std::string db,
                                       std::string collection, std::string note,
                                       task::FullName target)
    : env_(std::move(env)),
      options_(options),
      source_{std::move(db), std::move(collection)},
      target_(std::move(target)) {
  if (target_.db.empty()) target_.db = source_.db;
  if (target_.collection.empty()) target_.collection = source_.collection;
  options_.page_size = std::clamp<int64_t>(options_.page_size, 1, target::kMaxQueryWindow);
  options_.rechecks = std::max(options_.rechecks, 0);
  result_.name = source_.Text();
  if (!(target_ == source_)) result_.target_name = target_.Text();
  result_.note = std::move(note);
}

CollectionResult CollectionVerifier::Run() {
  Status s = RunSteps();
  if (!s.ok()) {
    result_.verdict = Verdict::kError;
    result_.message = std::string(s.message());
  }
  Report("done");
  return result_;
}

Status CollectionVerifier::RunSteps() {
  RETURN_IF_ERROR(CompareMetadata());
  if (!source_meta_.exists && !target_meta_.exists) {
    return NotFoundError(result_.name + " exists neither on the source nor on the target");
  }
  if (!source_meta_.exists || !target_meta_.exists) return Finish();
  const auto* pk = source_meta_.desc.PrimaryKey();
  if (pk == nullptr) return InternalError(result_.name + " has no primary key on the source");
  pk_field_ = pk->name();
  for (const auto* side : {&source_meta_, &target_meta_}) {
    if (side->load == commonpb::LoadStateLoaded) continue;
    result_.verdict = Verdict::kIncomplete;
    result_.message = absl::StrCat(
        "rows not compared: the collection is ", LoadStateName(side->load), " on the ",
        side == &source_meta_ ? "source" : "target",
        "; Milvus answers queries only on a loaded collection: load it to compare its rows");
    return Finish();
  }
  RETURN_IF_ERROR(CompareCount());
  RETURN_IF_ERROR(CompareKeys());
  RETURN_IF_ERROR(Recheck());
  RETURN_IF_ERROR(CompareValues());
  if (result_.target_rows != result_.source_rows) RETURN_IF_ERROR(CompareCount());
  return Finish();
}

Status CollectionVerifier::CompareMetadata() {
  Report("metadata");
  std::chrono::milliseconds waited{0};
  for (int reads = 1;; ++reads) {
    ASSIGN_OR_RETURN(source_meta_, ReadMeta(*env_.source, source_.db, source_.collection));
    ASSIGN_OR_RETURN(uint64_t ts, SourceTime());
    RETURN_IF_ERROR(WaitApplied(ts));
    ASSIGN_OR_RETURN(target_meta_, ReadMeta(*env_.target, target_.db, target_.collection));
    result_.read_ts = ts;
    result_.differences = CompareMeta(source_meta_, target_meta_);
    const bool settled = std::all_of(result_.differences.begin(), result_.differences.end(),
                                     [](const Difference& d) { return InStream(d); });
    if (result_.differences.empty() || (settled && reads > options_.rechecks) ||
        waited >= options_.settle_timeout) {
      return OkStatus();
    }
    const auto pause = settled ? options_.recheck_delay : kMetaRetry;
    RETURN_IF_ERROR(Pause(pause));
    waited += pause;
  }
}

std::vector<std::string> CollectionVerifier::ScanPartitions() const {
  const auto& fields = source_meta_.desc.schema.fields();
  if (std::any_of(fields.begin(), fields.end(),
                  [](const target::schemapb::FieldSchema& f) { return f.is_partition_key(); })) {
    return {""};  // Milvus refuses partition names on a partition-key collection
  }
  std::vector<std::string> common;
  std::set_intersection(source_meta_.partitions.begin(), source_meta_.partitions.end(),
                        target_meta_.partitions.begin(), target_meta_.partitions.end(),
                        std::back_inserter(common));
  return common;
}

Status CollectionVerifier::CompareKeys() {
  for (const auto& p : ScanPartitions()) {
    auto state = [&p](const CollectionMeta& m) {
      auto it = m.partition_load.find(p);
      return it == m.partition_load.end() ? commonpb::LoadStateLoaded : it->second;
    };
    if (state(source_meta_) != commonpb::LoadStateLoaded ||
        state(target_meta_) != commonpb::LoadStateLoaded) {
      result_.verdict = Verdict::kIncomplete;
      result_.message = absl::StrCat("rows of partition ", p,
                                     " not compared: it is not loaded on both sides; load it to "
                                     "compare its rows");
      continue;
    }
    RETURN_IF_ERROR(ScanPartition(p));
  }
  return OkStatus();
}

Status CollectionVerifier::ScanPartition(const std::string& partition) {
  std::optional<PrimaryKey> after;
  while (true) {
    RETURN_IF_ERROR(CatchUp());
    target::PkPage source, target;
    RETURN_IF_ERROR(ReadBoth<target::PkPage>([&] { return Page(*env_.source, partition, after); },
                                             [&] { return Page(*env_.target, partition, after); },
                                             &source, &target));
    // Each full page covers the keys up to its last one, a last page every key above: the
    // range both pages cover ends at the smaller last key of a full page.
    Range range;
    range.partition = partition;
    range.after = after;
    for (const auto* page : {&source, &target}) {
      if (!page->last && (!range.upto || page->keys.back() < *range.upto))
        range.upto = page->keys.back();
    }
    for (auto* page : {&source, &target}) {
      if (range.upto) {
        std::erase_if(page->keys, [&range](const PrimaryKey& k) { return *range.upto < k; });
      }
    }
    TakeSample(source.keys);
    result_.keys_compared += static_cast<int64_t>(source.keys.size());
    ++result_.ranges;
    SetRange(&range, source.keys, target.keys);
    if (!range.last.empty()) {
      if (scan_.suspects.size() < options_.max_suspect_ranges) {
        scan_.suspects.push_back(scan_.ranges.size());
      } else {
        ++scan_.suspects_dropped;
      }
    }
    const bool done = !range.upto;
    after = range.upto;
    scan_.ranges.push_back(std::move(range));
    progress_.keys_compared = result_.keys_compared;
    progress_.ranges = result_.ranges;
    progress_.ranges_differing =
        static_cast<int64_t>(scan_.suspects.size()) + scan_.suspects_dropped;
    Report("keys");
    if (done) return OkStatus();
  }
}

void CollectionVerifier::SetRange(Range* range, const std::vector<PrimaryKey>& source_keys,
                                  const std::vector<PrimaryKey>& target_keys) {
  range->source_digest = KeyDigest(source_keys);
  range->target_digest = KeyDigest(target_keys);
  range->last = DiffSortedKeys(source_keys, target_keys, kMaxDiffsPerRange);
  for (auto& d : range->last) d.partition = range->partition;
}

Status CollectionVerifier::Recheck() {
  if (!scan_.suspects.empty()) Report("recheck");
  for (size_t i : scan_.suspects) RETURN_IF_ERROR(RecheckRange(&scan_.ranges[i]));
  return OkStatus();
}

Status CollectionVerifier::RecheckRange(Range* range) {
  range->confirmed = range->last;
  for (int round = 0; round < options_.rechecks && !range->confirmed.empty(); ++round) {
    RETURN_IF_ERROR(Pause(options_.recheck_delay));
    RETURN_IF_ERROR(CatchUp());
    RangeRead source, target;
    RETURN_IF_ERROR(ReadBoth<RangeRead>([&] { return ReadRange(*env_.source, *range); },
                                        [&] { return ReadRange(*env_.target, *range); }, &source,
                                        &target));
    SetRange(range, source.keys, target.keys);
    range->confirmed = Persisting(range->confirmed, range->last);
  }
  return OkStatus();
}

Status CollectionVerifier::CompareValues() {
  if (sample_.keys.empty()) return OkStatus();
  Report("values");
  for (size_t start = 0; start < sample_.keys.size(); start += kSampleChunk) {
    std::vector<PrimaryKey> keys(
        sample_.keys.begin() + static_cast<std::ptrdiff_t>(start),
        sample_.keys.begin() +
            static_cast<std::ptrdiff_t>(std::min(sample_.keys.size(), start + kSampleChunk)));
    std::vector<KeyDiff> confirmed;
    for (int read = 0; read <= options_.rechecks; ++read) {
      if (read > 0) RETURN_IF_ERROR(Pause(options_.recheck_delay));
      target::QueryRequest q;
      q.db = source_.db;
      q.collection = source_.collection;
      q.expr = target::InExpr(pk_field_, keys);
      q.output_fields = {"*"};
      RETURN_IF_ERROR(CatchUp());
      target::QueryRequest tq = q;
      tq.db = target_.db;
      tq.collection = target_.collection;
      target::QueryResult source, target;
      RETURN_IF_ERROR(ReadBoth<target::QueryResult>([&] { return env_.source->Query(q); },
                                                    [&] { return env_.target->Query(tq); }, &source,
                                                    &target));
      ASSIGN_OR_RETURN(auto diffs, CompareRows(source, target, pk_field_, kMaxDiffsPerRange));
      // A sampled key on one side only is the key scan's to find (and re-check).
      std::erase_if(diffs, [](const KeyDiff& d) { return d.kind != KeyDiffKind::kValuesDiffer; });
      if (read == 0) result_.rows_sampled += source.num_rows;
      confirmed = read == 0 ? diffs : Persisting(confirmed, diffs);
      if (diffs.empty() || confirmed.empty()) {
        values_unsettled_ = values_unsettled_ || !diffs.empty();
        break;
      }
      keys.clear();  // re-read only the keys that still differ
      for (const auto& d : confirmed) keys.push_back(d.key);
    }
    value_diffs_.insert(value_diffs_.end(), confirmed.begin(), confirmed.end());
  }
  return OkStatus();
}

Status CollectionVerifier::CompareCount() {
  Report("count");
  const bool first = result_.source_rows < 0;
  std::vector<int64_t> gaps;
  for (int read = 0; read <= (first ? 0 : options_.rechecks); ++read) {
    if (!first) RETURN_IF_ERROR(Pause(options_.recheck_delay));
    RETURN_IF_ERROR(CatchUp());
    auto count = [this](target::MilvusReader& reader) {
      const auto& n = NameOn(reader);
      return reader.Count(n.db, n.collection, "", {}, ReadConsistency::Strong());
    };
    RETURN_IF_ERROR(ReadBoth<int64_t>([&] { return count(*env_.source); },
                                      [&] { return count(*env_.target); }, &result_.source_rows,
                                      &result_.target_rows));
    gaps.push_back(result_.target_rows - result_.source_rows);
    if (gaps.back() == 0) break;
  }
  if (first) {
    progress_.rows_estimated = result_.source_rows;
    if (options_.sample_rows > 0) {
      sample_.stride =
          std::max<int64_t>(1, result_.source_rows / static_cast<int64_t>(options_.sample_rows));
    }
    return OkStatus();
  }
  if (gaps.back() == 0) return OkStatus();
  if (std::adjacent_find(gaps.begin(), gaps.end(), std::not_equal_to<>()) != gaps.end()) {
    count_unsettled_ = true;  // the gap moved from read to read: rows are being written
    return OkStatus();
  }
  const bool keys_differ =
      std::any_of(scan_.suspects.begin(), scan_.suspects.end(),
                  [this](size_t i) { return !scan_.ranges[i].confirmed.empty(); });
  result_.differences.push_back(
      {"row_count", absl::StrCat(result_.source_rows, " on the source, ", result_.target_rows,
                                 " on the target, the same gap in ", gaps.size(), " reads",
                                 gaps.back() > 0 && !keys_differ
                                     ? " while the keys are equal: rows stored twice under one key"
                                     : "")});
  return OkStatus();
}

Status CollectionVerifier::Finish() {
  Sha256 source_digest, target_digest;
  std::vector<KeyDiff> keys;
  for (const auto& r : scan_.ranges) {
    source_digest.Update(r.source_digest);
    target_digest.Update(r.target_digest);
  }
  if (!scan_.ranges.empty()) {
    result_.source_digest = source_digest.HexDigest();
    result_.target_digest = target_digest.HexDigest();
  }
  for (size_t i : scan_.suspects) {
    const Range& r = scan_.ranges[i];
    if (!r.confirmed.empty()) {
      ++result_.ranges_differing;
      keys.insert(keys.end(), r.confirmed.begin(), r.confirmed.end());
    } else if (!r.last.empty()) {
      ++result_.ranges_unsettled;
    }
  }
  result_.ranges_unsettled += scan_.suspects_dropped;
  keys.insert(keys.end(), value_diffs_.begin(), value_diffs_.end());
  if (keys.size() > options_.max_keys) keys.resize(options_.max_keys);
  result_.keys = std::move(keys);

  if (!result_.differences.empty() || !result_.keys.empty() || result_.ranges_differing > 0) {
    result_.verdict = Verdict::kDiffers;
  } else if (result_.verdict == Verdict::kIncomplete) {
    // message set where the rows were skipped
  } else if (result_.ranges_unsettled > 0 || values_unsettled_ || count_unsettled_) {
    result_.verdict = Verdict::kUnsettled;
    std::vector<std::string> what;
    const int64_t rechecked = result_.ranges_unsettled - scan_.suspects_dropped;
    if (rechecked > 0)
      what.push_back(absl::StrCat(rechecked, rechecked == 1 ? " key range" : " key ranges"));
    if (values_unsettled_) what.push_back("sampled rows");
    if (count_unsettled_) what.push_back("count(*)");
    if (!what.empty()) {
      result_.message = absl::StrCat(
          "the source kept changing while it was read: ", absl::StrJoin(what, ", "),
          " differed in each of ", options_.rechecks + 1, " reads, never in the same keys; ");
    }
    if (scan_.suspects_dropped > 0) {
      absl::StrAppend(&result_.message, scan_.suspects_dropped,
                      " more differing key ranges were not re-checked (more than ",
                      options_.max_suspect_ranges, "); ");
    }
    absl::StrAppend(&result_.message, "verify again when writes pause");
  } else {
    result_.verdict = Verdict::kEqual;
  }
  return OkStatus();
}

Result<uint64_t> CollectionVerifier::SourceTime() {
  if (alloc_ts_) {
    auto ts = env_.source->AllocTimestamp();
    if (ts.ok()) return *ts;
    if (ts.status().code() != StatusCode::kUnimplemented) return ts.status();
    alloc_ts_ = false;  // an older source: the local clock (assumed in sync with the source's)
  }
  return env_.local_ts();
}

Status CollectionVerifier::CatchUp() {
  ASSIGN_OR_RETURN(uint64_t ts, SourceTime());
  RETURN_IF_ERROR(WaitApplied(ts));
  result_.read_ts = ts;
  return OkStatus();
}

Result<target::PkPage> CollectionVerifier::Page(target::MilvusReader& reader,
                                                const std::string& partition,
                                                const std::optional<PrimaryKey>& after) {
  target::PkPagerOptions o;
  o.db = NameOn(reader).db;
  o.collection = NameOn(reader).collection;
  o.pk_field = pk_field_;
  if (!partition.empty()) o.partition_names = {partition};
  o.page_size = options_.page_size;
  o.after = after;
  o.consistency = ReadConsistency::Strong();
  return target::PkPager(&reader, o).Next();
}

Status CollectionVerifier::WaitApplied(uint64_t ts) {
  std::chrono::milliseconds waited{0};
  while (true) {
    ASSIGN_OR_RETURN(uint64_t applied, env_.applied_ts());
    if (applied >= ts) return OkStatus();
    if (waited >= options_.catch_up_timeout) {
      return DeadlineExceededError(absl::StrCat(
          "the task applied the source only up to ts ", TimeText(applied), ", ",
          HybridToMs(ts) - HybridToMs(applied), " ms behind the source read at ", TimeText(ts),
          ", after waiting ", waited.count(),
          " ms; the task is behind (see lag_ms in get): verify again once it has caught up"));
    }
    RETURN_IF_ERROR(Pause(kPollApplied));
    waited += kPollApplied;
  }
}

Status CollectionVerifier::Pause(std::chrono::milliseconds d) {
  if (env_.sleep(d)) return OkStatus();
  return Status(StatusCode::kCancelled, "verify cancelled (server shutting down)");
}

Result<CollectionVerifier::RangeRead> CollectionVerifier::ReadRange(target::MilvusReader& reader,
                                                                    const Range& range) {
  target::PkPagerOptions o;
  o.db = NameOn(reader).db;
  o.collection = NameOn(reader).collection;
  o.pk_field = pk_field_;
  if (!range.partition.empty()) o.partition_names = {range.partition};
  o.after = range.after;
  o.upto = range.upto;
  o.consistency = ReadConsistency::Strong();
  target::PkPager pager(&reader, o);
  RangeRead out;
  while (!pager.done()) {
    if (out.keys.size() >= kMaxTargetRangeKeys) {
      out.truncated = true;
      break;
    }
    ASSIGN_OR_RETURN(target::PkPage page, pager.Next());
    out.keys.insert(out.keys.end(), page.keys.begin(), page.keys.end());
  }
  return out;
}

void CollectionVerifier::TakeSample(const std::vector<PrimaryKey>& keys) {
  for (const auto& k : keys) {
    if (sample_.keys.size() < options_.sample_rows && sample_.seen % sample_.stride == 0)
      sample_.keys.push_back(k);
    ++sample_.seen;
  }
}

void CollectionVerifier::Report(const std::string& phase) {
  progress_.phase = phase;
  if (env_.on_progress) env_.on_progress(progress_);
}

}  // namespace cdc::verify
