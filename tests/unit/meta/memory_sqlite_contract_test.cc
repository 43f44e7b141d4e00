// The meta::Store contract (store_contract.h) over the in-process backends.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "meta/memory/memory_store.h"
#include "meta/sqlite/sqlite_store.h"
#include "unit/meta/store_contract.h"

namespace cdc::meta::testing {
namespace {

// One database file per test binary run, shared by every store the tests open.
std::string SqlitePath() {
  static const std::string path = [] {
    auto dir =
        std::filesystem::temp_directory_path() / ("cdc-meta-contract-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    static const std::filesystem::path to_remove = dir;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(to_remove, ec);
    });
    return (dir / "meta.db").string();
  }();
  return path;
}

Backend Memory() {
  Backend b;
  b.name = "memory";
  b.open = [](const std::string&) -> Result<std::unique_ptr<Store>> {
    return std::unique_ptr<Store>(new MemoryStore());
  };
  b.persistent = false;
  b.has_root_path = false;
  return b;
}

Backend Sqlite() {
  Backend b;
  b.name = "sqlite";
  b.open = [](const std::string& root) -> Result<std::unique_ptr<Store>> {
    ASSIGN_OR_RETURN(auto s, SqliteStore::Open(SqlitePath(), root));
    return std::unique_ptr<Store>(std::move(s));
  };
  b.open_unreachable = [] {
    return SqliteStore::Open("/proc/cdc-no-such-dir/meta.db", "r").status();
  };
  b.unreachable_substr = "/proc/cdc-no-such-dir";
  return b;
}

INSTANTIATE_TEST_SUITE_P(Local, StoreContractTest, ::testing::Values(Memory(), Sqlite()),
                         BackendName);

}  // namespace
}  // namespace cdc::meta::testing
