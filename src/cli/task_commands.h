#pragma once
// TaskCommands: what each `milvus-cdc task` subcommand sends and prints. Human text by default,
// with `json` the server's whole answer unchanged (pretty). Errors go to `err` as one line
// naming the request and the server's message or why the server was not reached; every method
// answers the exit code (exit_code.h). Not thread-safe.
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "nlohmann/json.hpp"

namespace cdc::cli {

struct VerifyFlags {
  std::vector<std::string> collections;  // db.collection (comma lists too); empty = all
  int sample_rows = -1;                  // -1 = the server's default
  bool no_wait = false;                  // start it and print the state at once
  bool status = false;                   // show the running or last verify, start none
  int max_wait_s = 600;                  // how long to follow a running verify
};

class TaskCommands {
 public:
  TaskCommands(const ApiClient& client, bool json, std::ostream& out, std::ostream& err)
      : client_(client), json_(json), out_(out), err_(err) {}

  int Create(const nlohmann::json& request_data);  // prints the new task id
  int List();
  int Get(const std::string& id);
  int Position(const std::string& id);
  int Pause(const std::string& id);
  int Resume(const std::string& id);
  int Delete(const std::string& id, bool ignore_not_found);
  // 0 when the verify ended with every collection equal, 4 otherwise (docs/cli.md).
  int Verify(const std::string& id, const VerifyFlags& flags);

 private:
  // The answer's envelope, or the exit code after printing why it failed.
  bool Call(const std::string& type, const nlohmann::json& data, nlohmann::json* answer, int* code);
  // Calls and prints the answer (--json) or render(its data).
  using Render = std::function<std::string(const nlohmann::json& data)>;
  int Show(const std::string& type, const nlohmann::json& data, const Render& render);
  int Simple(const std::string& type, const nlohmann::json& data, const std::string& done);
  int PrintVerify(const nlohmann::json& answer, bool no_wait);

  const ApiClient& client_;
  bool json_;
  std::ostream& out_;
  std::ostream& err_;
};

}  // namespace cdc::cli
