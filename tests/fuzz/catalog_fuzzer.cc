// Fuzz target: source::CatalogState applying arbitrary etcd keys and values under (and beside)
// the catalog prefix, in revisions and snapshots, and the views callers take of the result.
//
// Input: changes of [flags: u8][key: record][value: record] (fuzz_util.h). The key is relative
// to "by-dev/meta/" unless flags bit 1 is set (then it is the whole key). Flags bit 0: a
// delete. Bit 2: this change ends a revision (Apply). Bit 3: the revision is a snapshot
// (Reset). Whatever is left at the end is applied as one last revision.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_util.h"
#include "source/catalog_state.h"

namespace {

using cdc::source::CatalogEvent;
using cdc::source::CatalogState;

constexpr char kPrefix[] = "by-dev/meta/";

// The views the catalog's users take, and what they promise each other.
void CheckViews(const CatalogState& state, const std::vector<CatalogEvent>& events) {
  for (const CatalogEvent& e : events) FUZZ_CHECK(!cdc::source::DescribeEvent(e).empty(), "");
  std::set<int64_t> dbs;
  for (const auto& d : state.Databases()) dbs.insert(d.id);
  for (const auto& c : state.Collections()) {
    FUZZ_CHECK(dbs.count(c.db_id), absl::StrCat("collection ", c.id(), " in a dropped database"));
    auto by_id = state.Collection(c.id());
    FUZZ_CHECK(by_id.has_value(), absl::StrCat("collection ", c.id(), " not found by id"));
    auto by_name = state.FindCollection(c.db_name, c.name());
    FUZZ_CHECK(by_name.has_value() && by_name->name() == c.name(), "not found by name");
    (void)c.StartPositions(c.info.create_time());
    for (const auto& [id, p] : c.partitions) {
      FUZZ_CHECK(c.FindPartition(p.name) != nullptr, "partition not found by name");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cdc::fuzz::DropLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cdc::fuzz::RecordReader in(data, size);
  CatalogState state(kPrefix);
  std::vector<cdc::source::KvChange> batch;
  int64_t revision = 0;
  bool snapshot = false;
  auto apply = [&] {
    const uint64_t bad_before = state.bad_keys();
    auto events = snapshot ? state.Reset(batch) : state.Apply(batch);
    FUZZ_CHECK(state.errors().size() <= 20, "errors() keeps the last 20");
    FUZZ_CHECK(state.bad_keys() == bad_before || !state.errors().empty(), "a bad key unexplained");
    CheckViews(state, events);
    batch.clear();
    snapshot = false;
  };
  while (auto flags = in.Byte()) {
    auto key = in.Record();
    auto value = in.Record();
    if (!key || !value) break;
    cdc::source::KvChange c;
    c.key = (*flags & 2) ? std::string(*key) : kPrefix + std::string(*key);
    c.value = std::string(*value);
    c.deleted = (*flags & 1) != 0;
    c.revision = ++revision;
    batch.push_back(std::move(c));
    snapshot = snapshot || (*flags & 8) != 0;
    if (*flags & 4) apply();
  }
  apply();
  return 0;
}
