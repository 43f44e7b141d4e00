// milvus-cdc --config FILE: loads the config, starts the server, waits for SIGTERM/SIGINT and
// stops in reverse order. Exit codes: 0 clean stop, 1 bad config or a failed start.
// milvus-cdc task ...: the command-line client of a running server (src/cli, docs/cli.md).
#include <csignal>
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "cli/command_line.h"
#include "common/log.h"
#include "config/config.h"
#include "server/app.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "task") {
    return cdc::cli::RunTaskCommand(argc - 1, argv + 1);
  }
  CLI::App cli{"milvus-cdc: change data capture from a source Milvus to target Milvus clusters"};
  cli.footer("Client of a running server: milvus-cdc task --help (docs/cli.md)\n");
  std::string config_path = "configs/cdc.yaml";
  cli.add_option("-c,--config", config_path, "path of cdc.yaml (default configs/cdc.yaml)");
  // Fault injection for the end-to-end tests only (hidden): exit right after the target
  // acknowledged a round's data and before its checkpoint, the widest window for a re-send.
  bool crash_after_ack = false;
  cli.add_flag("--test-crash-after-ack", crash_after_ack)->group("");
  CLI11_PARSE(cli, argc, argv);

  // Block the stop signals in every thread; main waits for them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  (void)cdc::InitLogging("info");
  auto config = cdc::config::LoadFile(config_path);
  if (!config.ok()) {
    spdlog::critical("{}", std::string(config.status().message()));
    return 1;
  }
  for (const auto& w : config->warnings) spdlog::warn("config {}: {}", config_path, w);
  std::string level = config->log_level;
  if (level == "dpanic" || level == "panic" || level == "fatal") level = "error";
  (void)cdc::InitLogging(level);
  spdlog::info("milvus-cdc starting with config {} (address {}, meta store {})", config_path,
               config->address, config->meta_store.store_type);

  cdc::server::App app(std::move(*config));
  app.set_crash_after_ack_for_tests(crash_after_ack);
  if (auto st = app.Start(); !st.ok()) {
    spdlog::critical("start: {}", std::string(st.message()));
    return 1;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("received {}, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  app.Stop();
  spdlog::info("stopped");
  return 0;
}
