// Fuzz target: a task document as read back from the meta store (task::FromStoredJson, used by
// TaskManager::Recover on every start), and the round trip through ToStoredJson.
//
// Input: the stored JSON text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.h"
#include "task/task_json.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cdc::fuzz::DropLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto task = cdc::task::FromStoredJson(text);
  if (!task.ok()) {
    FUZZ_CHECK(!task.status().message().empty(), "an error without a message");
    return 0;
  }
  const nlohmann::json stored = cdc::task::ToStoredJson(*task);
  auto again = cdc::task::FromStoredJson(stored.dump());
  FUZZ_CHECK(again.ok(), again.status().ToString());
  FUZZ_CHECK(*again == *task, stored.dump());
  (void)cdc::task::ToApiJson(*task).dump();
  return 0;
}
