#include "verify/key_diff.h"

#include <algorithm>
#include <cstdint>

namespace cdc::verify {

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kEqual:
      return "equal";
    case Verdict::kDiffers:
      return "differs";
    case Verdict::kUnsettled:
      return "unsettled";
    case Verdict::kIncomplete:
      return "incomplete";
    case Verdict::kError:
      return "error";
  }
  return "error";
}

const char* KeyDiffKindName(KeyDiffKind k) {
  switch (k) {
    case KeyDiffKind::kMissingOnTarget:
      return "missing_on_target";
    case KeyDiffKind::kExtraOnTarget:
      return "extra_on_target";
    case KeyDiffKind::kValuesDiffer:
      return "values_differ";
  }
  return "values_differ";
}

namespace {

void AppendLittleEndian(uint64_t v, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

void AddKey(Sha256* digest, const target::PrimaryKey& key) {
  std::string bytes;
  if (const auto* i = std::get_if<int64_t>(&key)) {
    AppendLittleEndian(static_cast<uint64_t>(*i), 8, &bytes);
  } else {
    const auto& s = std::get<std::string>(key);
    AppendLittleEndian(s.size(), 4, &bytes);
    bytes += s;
  }
  digest->Update(bytes);
}

std::string KeyDigest(const std::vector<target::PrimaryKey>& keys) {
  Sha256 d;
  for (const auto& k : keys) AddKey(&d, k);
  return d.HexDigest();
}

std::vector<KeyDiff> DiffSortedKeys(const std::vector<target::PrimaryKey>& source,
                                    const std::vector<target::PrimaryKey>& target, size_t max) {
  std::vector<KeyDiff> out;
  size_t i = 0, j = 0;
  auto full = [&] { return max > 0 && out.size() >= max; };
  while ((i < source.size() || j < target.size()) && !full()) {
    if (j == target.size() || (i < source.size() && source[i] < target[j])) {
      out.push_back({source[i++], KeyDiffKind::kMissingOnTarget, "", ""});
    } else if (i == source.size() || target[j] < source[i]) {
      out.push_back({target[j++], KeyDiffKind::kExtraOnTarget, "", ""});
    } else {
      ++i;
      ++j;
    }
  }
  return out;
}

std::vector<KeyDiff> Persisting(const std::vector<KeyDiff>& before,
                                const std::vector<KeyDiff>& now) {
  std::vector<KeyDiff> out;
  for (const auto& d : now) {
    if (std::any_of(before.begin(), before.end(), [&d](const KeyDiff& b) { return b.SameAs(d); }))
      out.push_back(d);
  }
  return out;
}

}  // namespace cdc::verify
