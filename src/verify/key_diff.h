#pragma once
// Key digests and the difference of two sorted key lists. Pure functions, thread-safe.
#include <cstddef>
#include <string>
#include <vector>

#include "target/primary_key.h"
#include "verify/result.h"
#include "verify/sha256.h"

namespace cdc::verify {

// Adds one key to a digest: an Int64 as 8 bytes little endian, a VarChar as its length (4
// bytes little endian) and its bytes, so that no two key lists digest alike by accident.
void AddKey(Sha256* digest, const target::PrimaryKey& key);

// SHA-256 (hex) of a key list in its order.
std::string KeyDigest(const std::vector<target::PrimaryKey>& keys);

// The keys of `source` not in `target` (kMissingOnTarget) and of `target` not in `source`
// (kExtraOnTarget), in key order, at most `max` (0 = all). Both lists ascending.
std::vector<KeyDiff> DiffSortedKeys(const std::vector<target::PrimaryKey>& source,
                                    const std::vector<target::PrimaryKey>& target, size_t max);

// The entries of `now` that are also in `before` (same key, kind and partition): a difference
// seen in two reads of the same range.
std::vector<KeyDiff> Persisting(const std::vector<KeyDiff>& before,
                                const std::vector<KeyDiff>& now);

}  // namespace cdc::verify
