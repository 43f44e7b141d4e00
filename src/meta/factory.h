#pragma once
// meta::CreateStore: picks and opens the meta store named in the config
// (metaStoreConfig.storeType). See README.md "Meta stores".
//
// Errors (kInvalidArgument for config mistakes, kUnavailable for unreachable servers) name the
// config key to check, e.g.
//   "metaStoreConfig.storeType 'redis' is unknown; use one of sqlite, etcd, mysql, memory"
//   "open etcd meta store: etcd 10.0.0.5:2379: connect: connection refused; check
//    metaStoreConfig.etcd.address"
// Passwords are never part of a message.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "etcd/types.h"
#include "meta/fence.h"
#include "meta/store.h"

namespace cdc::meta {

struct StoreOptions {
  std::string type = "sqlite";  // sqlite | etcd | mysql | memory
  std::string root_path = "cdc-by-dev";
  // sqlite
  std::string sqlite_path = "data/cdc-meta.db";
  // etcd (endpoints, auth, TLS, timeouts)
  etcd::ClientOptions etcd;
  // etcd: guards on task and checkpoint writes when several servers share the store (src/ha);
  // borrowed, outlives the store. Null: unguarded writes.
  Fence* etcd_fence = nullptr;
  // mysql: Go DSN, user:password@tcp(host:port)/database?charset=utf8
  std::string mysql_dsn;
};

Result<std::unique_ptr<Store>> CreateStore(const StoreOptions& options);

}  // namespace cdc::meta
