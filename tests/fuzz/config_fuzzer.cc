// Fuzz target: the config loader (config::LoadString: YAML parsing, case-insensitive keys,
// typed getters, validation) and what the server reads from a loaded config.
//
// Input: the text of a cdc.yaml.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cdc::fuzz::DropLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  auto config = cdc::config::LoadString(yaml, "fuzz.yaml");
  if (!config.ok()) {
    FUZZ_CHECK(!config.status().message().empty(), "an error without a message");
    return 0;
  }
  const int port = config->ListenPort();
  FUZZ_CHECK(port >= 1 && port <= 65535, config->address);
  (void)config->ListenHost();
  (void)config->meta_store.EffectiveEtcd();
  (void)config->source.EffectiveEtcd();
  return 0;
}
