#include "target/pk_pager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace cdc::target {

PkPager::PkPager(MilvusReader* reader, PkPagerOptions options)
    : reader_(reader), options_(std::move(options)) {
  options_.page_size = std::clamp<int64_t>(options_.page_size, 1, kMaxQueryWindow);
}

Status PkPager::CheckOrder(const std::vector<PrimaryKey>& keys) const {
  for (size_t i = 0; i < keys.size(); ++i) {
    const bool after_prev =
        i > 0 ? keys[i - 1] < keys[i] : !options_.after || *options_.after < keys[i];
    const bool in_range = !options_.upto || !(*options_.upto < keys[i]);
    if (after_prev && in_range) continue;
    return InternalError(absl::StrCat(
        reader_->Describe(), ": query of ", options_.db, ".", options_.collection,
        " with a limit answered key ", KeyText(keys[i]), " out of ascending order or outside ",
        RangeExpr(options_.pk_field, options_.after, options_.upto),
        "; paging by primary key needs the smallest keys first (Milvus 2.3+)"));
  }
  return OkStatus();
}

Result<PkPage> PkPager::Next() {
  PkPage page;
  if (done_) {
    page.last = true;
    return page;
  }
  QueryRequest q;
  q.db = options_.db;
  q.collection = options_.collection;
  q.expr = RangeExpr(options_.pk_field, options_.after, options_.upto);
  q.output_fields = options_.output_fields;
  if (!q.output_fields.empty() &&
      std::find(q.output_fields.begin(), q.output_fields.end(), "*") == q.output_fields.end() &&
      std::find(q.output_fields.begin(), q.output_fields.end(), options_.pk_field) ==
          q.output_fields.end()) {
    q.output_fields.push_back(options_.pk_field);
  }
  q.partition_names = options_.partition_names;
  q.limit = options_.page_size;
  q.consistency = options_.consistency;
  ASSIGN_OR_RETURN(page.rows, reader_->Query(q));
  if (page.rows.num_rows > 0) {
    const auto* column = page.rows.Field(options_.pk_field);
    if (column == nullptr) {
      return InternalError(absl::StrCat(reader_->Describe(), ": query of ", options_.db, ".",
                                        options_.collection, " answered no column ",
                                        options_.pk_field));
    }
    ASSIGN_OR_RETURN(page.keys, KeysOf(*column));
  }
  RETURN_IF_ERROR(CheckOrder(page.keys));
  if (!page.keys.empty()) options_.after = page.keys.back();
  page.last = static_cast<int64_t>(page.keys.size()) < options_.page_size;
  done_ = page.last;
  return page;
}

}  // namespace cdc::target
