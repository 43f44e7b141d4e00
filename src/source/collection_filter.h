#pragma once
// CollectionFilter: collection ids whose messages a task never needs (not selected, or
// dropped). Readers drop such messages before they are packed and queued, so a task buffers
// only its own collections' traffic even when it shares channels with many others.
//
// The set only grows: an id, once ignored, stays ignored (Milvus never reuses collection ids
// and a task's selection is fixed), so a reader thread may consult it while the pipeline thread
// adds to it. Thread-safe.
#include <cstdint>
#include <mutex>
#include <unordered_set>

namespace cdc::source {

class CollectionFilter {
 public:
  void Ignore(int64_t collection_id) {
    std::lock_guard<std::mutex> l(mu_);
    ids_.insert(collection_id);
  }
  bool Ignored(int64_t collection_id) const {
    std::lock_guard<std::mutex> l(mu_);
    return ids_.count(collection_id) > 0;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_set<int64_t> ids_;
};

}  // namespace cdc::source
