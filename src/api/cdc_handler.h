#pragma once
// api::CdcHandler: everything behind POST /cdc, independent of the HTTP library so it can be
// unit-tested: body in, envelope out. One method per request family lives in cdc_handler.cc.
// Thread-safe (the TaskManager serialises lifecycle changes); never waits on replication, only
// on the store and, for create, on the target probe (bounded by connect_timeout).
#include <string>
#include <variant>

#include "nlohmann/json.hpp"
#include "task/task_manager.h"

namespace cdc::verify {
class Verifier;
}

namespace cdc::api {

class CdcHandler {
 public:
  // `tasks` is borrowed and must outlive the handler.
  explicit CdcHandler(task::TaskManager* tasks) : tasks_(tasks) {}

  struct Reply {
    nlohmann::json envelope;   // {"code":..., "message"/"data":...}
    std::string request_type;  // for metrics; "unknown" if the body had none we know
  };
  // `method` is the HTTP method; anything but POST answers 405. Same as Execute(Parse(...)).
  Reply Handle(const std::string& method, const std::string& body);

  // A parsed body: its request_type ("" if none) and request_data (null if none).
  struct Request {
    std::string type;
    nlohmann::json data;
  };
  // Checks the method and parses the body (cheap, never waits); an error is the Reply to send.
  std::variant<Request, Reply> Parse(const std::string& method, const std::string& body) const;
  // Runs the request (may wait on the store or, for create, the target probe).
  Reply Execute(const Request& req);

  // get, list, position, verify: allowed to a read-only token.
  static bool IsReadOnly(const std::string& type);
  // create, delete, pause, resume, verify: may wait (store writes, the target probe,
  // replicator start/stop, a verify job's answer); run apart from the quick ones.
  static bool IsSlow(const std::string& type);

  // The request types in the order upstream's message lists them (then ours: verify).
  static const char* const kTypes[];

  // Serves `verify` (and the `verify` summary in `get`); borrowed, set before serving. Without
  // it, verify answers that this server cannot verify.
  void set_verifier(verify::Verifier* verifier) { verifier_ = verifier; }

 private:
  Result<nlohmann::json> Create(const nlohmann::json& data);
  Result<nlohmann::json> Delete(const nlohmann::json& data);
  Result<nlohmann::json> Pause(const nlohmann::json& data);
  Result<nlohmann::json> Resume(const nlohmann::json& data);
  Result<nlohmann::json> Get(const nlohmann::json& data);
  Result<nlohmann::json> List(const nlohmann::json& data);
  Result<nlohmann::json> Position(const nlohmann::json& data);
  Result<nlohmann::json> Maintenance(const nlohmann::json& data);
  Result<nlohmann::json> Verify(const nlohmann::json& data);

  task::TaskManager* tasks_;
  verify::Verifier* verifier_ = nullptr;
};

}  // namespace cdc::api
