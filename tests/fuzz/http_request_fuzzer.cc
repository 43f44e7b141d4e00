// Fuzz target: the body of POST /cdc through api::CdcHandler (request envelope, request_type
// dispatch, the create-request decoder of task/task_json.cc, validation, the other request
// types and maintenance operations) against a TaskManager over an in-memory store, a recording
// replicator and a target probe that always answers OK.
//
// Input: request bodies separated by NUL bytes (never valid inside JSON text), handled in order
// against one fresh manager, so a create can be followed by get/pause/resume/position/delete of
// the same task. Each answer is serialised as the server does (api/server.cc).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/cdc_handler.h"
#include "common/log.h"
#include "fuzz/fuzz_util.h"
#include "meta/memory/memory_store.h"
#include "unit/task/task_fakes.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cdc::fuzz::DropLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nlohmann::json;
  // A maintenance request may have changed the level: every input starts at debug, so the
  // request logging runs too.
  spdlog::set_level(spdlog::level::debug);
  cdc::meta::MemoryStore store;
  cdc::task::RecordingReplicator replicator;
  cdc::task::FakeProbe probe;
  cdc::task::ManagerOptions options;
  options.max_task_num = 4;
  options.limits = {64, "by-dev-replicate-msg"};
  cdc::task::TaskManager tasks(&store, &replicator, &probe, options);
  cdc::api::CdcHandler handler(&tasks);

  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (true) {
    const size_t end = rest.find('\0');
    const std::string body(rest.substr(0, end));
    cdc::api::CdcHandler::Reply reply = handler.Handle("POST", body);
    const int code = reply.envelope.value("code", 0);
    FUZZ_CHECK(code == 200 || code == 400 || code == 500, reply.envelope.dump());
    FUZZ_CHECK(code == 200 || reply.envelope.contains("message"), reply.envelope.dump());
    (void)reply.envelope.dump();  // the server's answer; throws on text that is not UTF-8
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  tasks.StopAll();
  return 0;
}
