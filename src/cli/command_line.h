#pragma once
// CommandLine: `milvus-cdc task SUBCOMMAND ...`, the command-line client of a running server
// (docs/cli.md). Parses the arguments with CLI11, builds the ApiClient from the global flags
// (--server / MILVUS_CDC_SERVER, --token / --token-file / MILVUS_CDC_TOKEN, --ca-file,
// --timeout, --json) and runs one subcommand through TaskCommands or Watcher.
// Exit codes: exit_code.h (usage errors, CLI11's included, are 2; --help is 0).
// One Run per object; not thread-safe.
#include <memory>
#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "cli/create_flags.h"
#include "cli/task_commands.h"
#include "cli/watcher.h"
#include "common/status.h"

namespace cdc::cli {

struct CliIo {
  std::ostream& out;
  std::ostream& err;
  bool tty = false;  // stdout is a terminal (watch redraws)
};

class CommandLine {
 public:
  explicit CommandLine(CliIo io);

  // argv[0] is the command's own name ("task"); the rest are its arguments.
  int Run(int argc, const char* const* argv);

 private:
  struct Global {
    std::string server = "http://127.0.0.1:8444";
    std::string token;
    std::string token_file;
    std::string ca_file;
    int timeout_s = 30;
    bool json = false;
  };

  void AddGlobalFlags();
  void AddCreate();
  void AddIdCommand(const char* name, const char* help);
  void AddVerify();
  void AddWatch();
  Result<ClientSettings> Settings() const;
  int Dispatch(const ApiClient& client);
  int Usage(const Status& s);

  CliIo io_;
  CLI::App app_;
  Global global_;
  CreateFlags create_;
  VerifyFlags verify_;
  WatchOptions watch_;
  std::string task_id_;
  bool ignore_not_found_ = false;
};

// `milvus-cdc task ...` with the process's stdout/stderr (tty when stdout is a terminal).
int RunTaskCommand(int argc, const char* const* argv);

}  // namespace cdc::cli
