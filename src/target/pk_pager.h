#pragma once
// target::PkPager: reads a collection (or a key range of it) in primary-key order, one page at
// a time, through a MilvusReader: each page is the next `page_size` rows with keys above the
// previous page's, in ascending order, as pymilvus' QueryIterator pages (a query with a limit
// answers the smallest matching keys first, target/milvus_reader.h). Each page is its own
// query, so pages may see different moments of a collection that is being written.
//
// Not thread-safe (one pager per reading thread); the reader is borrowed.
// Errors: the reader's; kInternal if Milvus answers keys out of order or outside the range
// (paging would then skip rows, so it stops).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "target/milvus_reader.h"
#include "target/primary_key.h"

namespace cdc::target {

struct PkPagerOptions {
  std::string db;
  std::string collection;
  std::string pk_field;
  // Fields of each row besides the key ("*" = all); empty = the keys only.
  std::vector<std::string> output_fields;
  std::vector<std::string> partition_names;  // empty = every partition
  int64_t page_size = kMaxQueryWindow;       // 1..kMaxQueryWindow
  std::optional<PrimaryKey> after;           // start after this key; none = from the smallest
  std::optional<PrimaryKey> upto;            // end with this key (inclusive); none = the largest
  ReadConsistency consistency;               // of every page's query
};

struct PkPage {
  QueryResult rows;              // rows.fields include the key column
  std::vector<PrimaryKey> keys;  // ascending, one per row
  bool last = false;             // no rows beyond this page (in the range)
};

class PkPager {
 public:
  PkPager(MilvusReader* reader, PkPagerOptions options);

  // The next page; once done(), an empty page with last = true.
  Result<PkPage> Next();
  bool done() const { return done_; }
  // The last key returned so far (resume a later pager after it).
  const std::optional<PrimaryKey>& cursor() const { return options_.after; }

 private:
  Status CheckOrder(const std::vector<PrimaryKey>& keys) const;

  MilvusReader* reader_;
  PkPagerOptions options_;
  bool done_ = false;
};

}  // namespace cdc::target
