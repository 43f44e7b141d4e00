// The meta::Store contract (unit/meta/store_contract.h) over the server backends, against the
// servers of `scripts/e2e-env.sh up etcd mariadb` (CDC_TEST_ETCD, CDC_TEST_MYSQL).
#include <cstdlib>

#include "integration/etcd/local_etcd.h"
#include "meta/etcd/etcd_store.h"
#include "meta/factory.h"
#include "meta/mysql/mysql_store.h"
#include "unit/meta/store_contract.h"

namespace cdc::meta::testing {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string ClosedPort() { return "127.0.0.1:" + std::to_string(cdc::testing::FreePort()); }

Backend Etcd() {
  Backend b;
  b.name = "etcd";
  if (Env("CDC_TEST_ETCD").empty()) {
    b.skip_reason = "CDC_TEST_ETCD is not set; run `scripts/e2e-env.sh up etcd`";
  }
  b.open = [](const std::string& root) -> Result<std::unique_ptr<Store>> {
    StoreOptions o;
    o.type = "etcd";
    o.etcd.endpoints = {Env("CDC_TEST_ETCD")};
    o.root_path = root;
    return CreateStore(o);
  };
  static const std::string closed = ClosedPort();
  b.open_unreachable = [] {
    StoreOptions o;
    o.type = "etcd";
    o.etcd.endpoints = {closed};
    o.etcd.dial_timeout = std::chrono::seconds(2);
    return CreateStore(o).status();
  };
  b.unreachable_substr = "etcd " + closed;
  return b;
}

Backend Mysql() {
  Backend b;
  b.name = "mysql";
  if (Env("CDC_TEST_MYSQL").empty()) {
    b.skip_reason = "CDC_TEST_MYSQL is not set; run `scripts/e2e-env.sh up mariadb`";
  }
  b.open = [](const std::string& root) -> Result<std::unique_ptr<Store>> {
    StoreOptions o;
    o.type = "mysql";
    o.mysql_dsn = Env("CDC_TEST_MYSQL");
    o.root_path = root;
    return CreateStore(o);
  };
  static const std::string closed = ClosedPort();
  b.open_unreachable = [] {
    StoreOptions o;
    o.type = "mysql";
    o.mysql_dsn = "root:secret@tcp(" + closed + ")/cdc?charset=utf8&timeout=2s";
    return CreateStore(o).status();
  };
  b.unreachable_substr = "mysql " + closed + "/cdc";
  return b;
}

INSTANTIATE_TEST_SUITE_P(Servers, StoreContractTest, ::testing::Values(Etcd(), Mysql()),
                         BackendName);

}  // namespace
}  // namespace cdc::meta::testing
