#include "cli/command_line.h"

#include <unistd.h>

#include <fstream>
#include <iostream>

#include "cli/create_request.h"
#include "cli/exit_code.h"
#include "cli/flag_values.h"

namespace cdc::cli {

CommandLine::CommandLine(CliIo io)
    : io_(io), app_("milvus-cdc task: manage the tasks of a running milvus-cdc server", "task") {
  app_.require_subcommand(1);
  app_.footer(
      "Exit codes: 0 ok, 1 the server answered an error, 2 usage error, 3 the server could not "
      "be reached, 4 verify did not find every collection equal. See docs/cli.md.\n");
  AddGlobalFlags();
  AddCreate();
  app_.add_subcommand("list", "list every task: state, target, collections, lag, reason");
  AddIdCommand("get", "show one task: state, reason, lag per channel, initial sync, set-asides");
  AddIdCommand("position", "show a task's checkpoint per channel (and the upstream positions)");
  AddIdCommand("pause", "pause a task (it keeps its position)");
  AddIdCommand("resume", "resume a paused task");
  AddIdCommand("delete", "delete a task and its checkpoints");
  app_.get_subcommand("delete")->add_flag("--ignore-not-found", ignore_not_found_,
                                          "exit 0 when no such task exists");
  AddVerify();
  AddWatch();
}

void CommandLine::AddGlobalFlags() {
  app_.fallthrough();  // global flags may follow the subcommand too
  app_.add_option("--server", global_.server, "the server's URL, http(s)://host:port")
      ->envname("MILVUS_CDC_SERVER")
      ->capture_default_str();
  auto* token = app_.add_option("--token", global_.token, "API bearer token (docs/security.md)")
                    ->envname("MILVUS_CDC_TOKEN");
  app_.add_option("--token-file", global_.token_file, "read the API bearer token from this file")
      ->excludes(token);
  app_.add_option("--ca-file", global_.ca_file, "PEM CA bundle to trust for an https --server");
  app_.add_option("--timeout", global_.timeout_s, "seconds to connect and to wait for an answer")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app_.add_flag("--json", global_.json, "print the server's JSON answer unchanged (pretty)");
}

void CommandLine::AddCreate() {
  auto* c = app_.add_subcommand("create", "create a task; prints its id");
  c->add_option("--target-uri", create_.target_uri, "target Milvus, e.g. http://target:19530");
  c->add_option("--target-token-file", create_.target_token_file,
                "file holding the target's token (user:password or API key)");
  c->add_option("--collections", create_.collections,
                "what to replicate: '*', 'db.*', 'db.coll' or 'coll' (repeat or comma list)")
      ->delimiter(',');
  c->add_option("--database", create_.database, "database of names given without one")
      ->capture_default_str();
  c->add_option("--name-map", create_.name_map,
                "rename on the target: SRCDB=DSTDB or SRCDB.COLL=DSTDB.COLL (repeat)");
  c->add_flag("--initial-sync", create_.initial_sync,
              "first copy what the collections already hold (docs/initial-sync.md)");
  c->add_flag("--paused", create_.paused, "create it Paused (disable_auto_start)");
  c->add_option("--task-id", create_.task_id, "your own task id (1-64 of A-Z a-z 0-9 _ -)");
  c->add_option("--connect-timeout", create_.connect_timeout_s,
                "seconds the server waits for the target (server default 5)")
      ->check(CLI::Range(1, 3600));
  c->add_option("--target-server-name", create_.server_name, "dial_config.server_name");
  c->add_option("--target-server-pem", create_.server_pem,
                "dial_config.server_pem_path (a path on the server)");
  c->add_option("--target-ca-pem", create_.ca_pem, "dial_config.ca_pem_path (on the server)");
  c->add_option("--target-client-pem", create_.client_pem,
                "dial_config.client_pem_path (on the server)");
  c->add_option("--target-client-key", create_.client_key,
                "dial_config.client_key_path (on the server)");
  c->add_option("--rpc-channel", create_.rpc_channel,
                "rpc_channel_info.name (the source's replicate channel)");
  c->add_option("--from-json", create_.from_json,
                "file with the request_data (or a whole create body); flags override it");
}

void CommandLine::AddIdCommand(const char* name, const char* help) {
  app_.add_subcommand(name, help)->add_option("ID", task_id_, "the task id")->required();
}

void CommandLine::AddVerify() {
  auto* v = app_.add_subcommand("verify", "compare a task's collections on source and target");
  v->add_option("ID", task_id_, "the task id")->required();
  v->add_option("--collections", verify_.collections, "db.collection to compare (default all)")
      ->delimiter(',');
  v->add_option("--sample-rows", verify_.sample_rows, "rows compared by value per collection")
      ->check(CLI::Range(0, 10000));
  v->add_flag("--no-wait", verify_.no_wait, "start it and return at once");
  v->add_flag("--status", verify_.status, "show the running or last verify, start none");
  v->add_option("--max-wait", verify_.max_wait_s, "seconds to follow a running verify")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
}

void CommandLine::AddWatch() {
  auto* w = app_.add_subcommand("watch", "show a task live until Ctrl-C");
  w->add_option("ID", task_id_, "the task id")->required();
  w->add_option("--interval", watch_.interval_s, "seconds between refreshes")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  w->add_option("--count", watch_.count, "stop after this many refreshes (0: until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
}

Result<ClientSettings> CommandLine::Settings() const {
  ClientSettings s;
  ASSIGN_OR_RETURN(s.server, ServerUrl::Parse(global_.server));
  s.token = global_.token;
  if (!global_.token_file.empty()) {
    ASSIGN_OR_RETURN(s.token, ReadSecretFile("--token-file", global_.token_file));
  }
  if (!global_.ca_file.empty()) {
    if (!std::ifstream(global_.ca_file)) {
      return InvalidArgumentError("--ca-file " + global_.ca_file + ": cannot open the file");
    }
    if (!s.server.https()) {
      return InvalidArgumentError("--ca-file is for an https:// --server, got " + global_.server);
    }
    s.ca_file = global_.ca_file;
  }
  s.timeout_s = global_.timeout_s;
  return s;
}

int CommandLine::Usage(const Status& s) {
  io_.err << "milvus-cdc task: " << s.message() << "\n";
  return kExitUsage;
}

int CommandLine::Dispatch(const ApiClient& client) {
  TaskCommands commands(client, global_.json, io_.out, io_.err);
  const std::string name = app_.get_subcommands().front()->get_name();
  if (name == "create") {
    auto request = BuildCreateRequest(create_);
    if (!request.ok()) return Usage(request.status());
    return commands.Create(*request);
  }
  if (name == "list") return commands.List();
  if (name == "get") return commands.Get(task_id_);
  if (name == "position") return commands.Position(task_id_);
  if (name == "pause") return commands.Pause(task_id_);
  if (name == "resume") return commands.Resume(task_id_);
  if (name == "delete") return commands.Delete(task_id_, ignore_not_found_);
  if (name == "verify") return commands.Verify(task_id_, verify_);
  if (global_.json) return Usage(InvalidArgumentError("watch has no --json; use get --json"));
  watch_.tty = io_.tty;
  return Watcher(client, watch_, io_.out, io_.err).Run(task_id_);
}

int CommandLine::Run(int argc, const char* const* argv) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app_.exit(e, io_.out, io_.err);
    return code == 0 ? kExitOk : kExitUsage;
  }
  auto settings = Settings();
  if (!settings.ok()) return Usage(settings.status());
  ApiClient client(std::move(*settings));
  return Dispatch(client);
}

int RunTaskCommand(int argc, const char* const* argv) {
  CommandLine cli({std::cout, std::cerr, isatty(STDOUT_FILENO) == 1});
  return cli.Run(argc, argv);
}

}  // namespace cdc::cli
