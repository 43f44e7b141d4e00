#pragma once
// Field values of rows read from the source and from the target, compared by primary key.
// Pure functions, thread-safe.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "target/milvus_reader.h"
#include "verify/result.h"

namespace cdc::verify {

// True when row `i` of column `a` holds the same value as row `j` of column `b`: scalars and
// vectors bit for bit (floats by their bits, so NaN equals NaN and 0.0 differs from -0.0,
// since replication copies bytes), JSON (including a dynamic `$meta`) by its parsed value.
bool SameValue(const target::schemapb::FieldData& a, int64_t i,
               const target::schemapb::FieldData& b, int64_t j);

// Compares the rows of two query answers (both with the key column `pk_field` and the same
// fields) by key: a key in only one answer is kMissingOnTarget / kExtraOnTarget, a key in both
// whose fields differ is kValuesDiffer with detail "fields a, b". Fields the target answer lacks
// count as differing. At most `max` entries (0 = all), in key order.
Result<std::vector<KeyDiff>> CompareRows(const target::QueryResult& source,
                                         const target::QueryResult& target,
                                         const std::string& pk_field, size_t max);

}  // namespace cdc::verify
