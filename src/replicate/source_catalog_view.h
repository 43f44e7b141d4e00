#pragma once
// SharedSourceCatalog: one source::Catalog (etcd list + watch) shared by every task of the
// server, started lazily on first use so that the server starts while etcd is down; until it
// is up, calls return kUnavailable naming etcd (the pipelines retry with backoff).
// SourceCatalogView: a task's CatalogView over it. Thread-safe. Listeners (OnChange) are told of
// every change the watch applied, so that a pipeline maps a new collection at once.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "etcd/client.h"
#include "replicate/catalog_view.h"
#include "source/catalog.h"

namespace cdc::replicate {

class SharedSourceCatalog {
 public:
  SharedSourceCatalog(etcd::ClientOptions etcd, source::CatalogOptions options);
  ~SharedSourceCatalog();
  // The running catalog, starting it if needed.
  Result<source::Catalog*> Get();
  // `fn` is called on the catalog's watch thread after every change it applied, until
  // Unsubscribe(id) (which waits for a call in flight); it must return quickly.
  int Subscribe(std::function<void()> fn);
  void Unsubscribe(int id);

 private:
  void Changed();

  etcd::ClientOptions etcd_;
  source::CatalogOptions options_;
  std::mutex mu_;
  std::unique_ptr<etcd::Client> client_;
  std::unique_ptr<source::Catalog> catalog_;
  std::mutex listeners_mu_;
  std::map<int, std::function<void()>> listeners_;
  int next_listener_ = 1;
};

class SourceCatalogView final : public CatalogView {
 public:
  explicit SourceCatalogView(SharedSourceCatalog* shared,
                             std::chrono::milliseconds sync_timeout = std::chrono::seconds(10))
      : shared_(shared), sync_timeout_(sync_timeout) {}
  ~SourceCatalogView() override { OnChange(nullptr); }
  SourceCatalogView(const SourceCatalogView&) = delete;
  SourceCatalogView& operator=(const SourceCatalogView&) = delete;
  Status Sync() override;
  int64_t Revision() override;
  void OnChange(const std::function<void()>& fn) override;
  Result<std::vector<CollectionMeta>> ListCollections() override;
  Result<std::optional<CollectionMeta>> GetCollection(int64_t id) override;
  Result<std::optional<PartitionMeta>> GetPartition(int64_t collection_id,
                                                    int64_t partition_id) override;
  Result<std::map<int64_t, LoadInfo>> LoadStates() override;
  Result<rbac::State> Rbac() override;

  // Conversion from the catalog's form (exposed for tests).
  static std::optional<CollectionMeta> Convert(const source::CollectionMeta& c);

 private:
  SharedSourceCatalog* shared_;
  std::chrono::milliseconds sync_timeout_;
  int listener_ = 0;  // Subscribe's id, 0 = none
};

}  // namespace cdc::replicate
