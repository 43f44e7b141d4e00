#include "meta/factory.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "meta/etcd/etcd_store.h"
#include "meta/memory/memory_store.h"
#include "meta/mysql/mysql_store.h"
#include "meta/sqlite/sqlite_store.h"

namespace cdc::meta {
namespace {

template <typename T>
Result<std::unique_ptr<Store>> Upcast(Result<std::unique_ptr<T>> r, const std::string& what,
                                      const std::string& hint) {
  if (!r.ok()) {
    std::string msg = absl::StrCat("open ", what, " meta store: ", r.status().message());
    if (msg.find(hint) == std::string::npos) absl::StrAppend(&msg, "; check ", hint);
    return Status(r.status().code(), msg);
  }
  return std::unique_ptr<Store>(std::move(*r));
}

}  // namespace

Result<std::unique_ptr<Store>> CreateStore(const StoreOptions& options) {
  std::string type = absl::AsciiStrToLower(options.type);
  if (type == "sqlite") {
    return Upcast(SqliteStore::Open(options.sqlite_path, options.root_path), "sqlite",
                  "metaStoreConfig.sqlite.path");
  }
  if (type == "etcd") {
    if (options.etcd.endpoints.empty()) {
      return InvalidArgumentError(
          "metaStoreConfig.etcd.address is empty; give at least one host:port for storeType etcd");
    }
    return Upcast(EtcdStore::Open(options.etcd, options.root_path, options.etcd_fence), "etcd",
                  "metaStoreConfig.etcd.address");
  }
  if (type == "mysql") {
    if (options.mysql_dsn.empty()) {
      return InvalidArgumentError(
          "metaStoreConfig.mysqlSourceUrl is empty; give user:password@tcp(host:port)/database "
          "for storeType mysql");
    }
    return Upcast(MysqlStore::Open(options.mysql_dsn, options.root_path), "mysql",
                  "metaStoreConfig.mysqlSourceUrl");
  }
  if (type == "memory") return std::unique_ptr<Store>(new MemoryStore());
  return InvalidArgumentError(absl::StrCat("metaStoreConfig.storeType '", options.type,
                                           "' is unknown; use one of sqlite, etcd, mysql, memory"));
}

}  // namespace cdc::meta
