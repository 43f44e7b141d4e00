#include <string>

#include "CLI/CLI.hpp"
#include "common/log.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  CLI::App app{"milvus-cdc: change data capture from a source Milvus to target Milvus clusters"};
  std::string config_path = "configs/cdc.yaml";
  app.add_option("-c,--config", config_path, "path of cdc.yaml");
  CLI11_PARSE(app, argc, argv);
  auto st = cdc::InitLogging("info");
  spdlog::info("milvus-cdc starting with config {}", config_path);
  return st.ok() ? 0 : 1;
}
