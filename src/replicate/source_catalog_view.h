#pragma once
// SharedSourceCatalog: one source::Catalog (etcd list + watch) shared by every task of the
// server, started lazily on first use so that the server starts while etcd is down; until it
// is up, calls return kUnavailable naming etcd (the pipelines retry with backoff).
// SourceCatalogView: a task's CatalogView over it. Thread-safe.
#include <chrono>
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

 private:
  etcd::ClientOptions etcd_;
  source::CatalogOptions options_;
  std::mutex mu_;
  std::unique_ptr<etcd::Client> client_;
  std::unique_ptr<source::Catalog> catalog_;
};

class SourceCatalogView final : public CatalogView {
 public:
  explicit SourceCatalogView(SharedSourceCatalog* shared,
                             std::chrono::milliseconds sync_timeout = std::chrono::seconds(10))
      : shared_(shared), sync_timeout_(sync_timeout) {}
  Status Sync() override;
  int64_t Revision() override;
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
};

}  // namespace cdc::replicate
