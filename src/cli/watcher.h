#pragma once
// Watcher: `milvus-cdc task watch ID`. Asks the server for the task (`get`) every interval and
// shows it: on a terminal it redraws one screen (state, reason, lag and a catch-up bar per
// channel, initial-sync progress bars, collections set aside); otherwise it prints one line
// per refresh. Runs until Ctrl-C (SIGINT, which Run catches while it runs), `count` refreshes,
// or an error (answered with ExitCodeOf's code; the message goes to `err`).
// One Run at a time per process (the SIGINT flag is process-wide); not thread-safe.
#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include "cli/api_client.h"
#include "nlohmann/json.hpp"

namespace cdc::cli {

struct WatchOptions {
  double interval_s = 2.0;
  int count = 0;     // refreshes before it stops, 0 = until Ctrl-C
  bool tty = false;  // redraw a screen (true) or print a line per refresh
};

class Watcher {
 public:
  Watcher(const ApiClient& client, WatchOptions options, std::ostream& out, std::ostream& err)
      : client_(client), options_(options), out_(out), err_(err) {}

  // The exit code: 0 after `count` refreshes or Ctrl-C.
  int Run(const std::string& task_id);

  // One refresh's text, without the screen-clearing prefix; `peak` is updated with each
  // channel's largest lag_messages so far. Exposed for tests.
  static std::string Frame(const nlohmann::json& task, const std::string& server, int64_t now_ms,
                           std::map<std::string, int64_t>* peak);
  static std::string Line(const nlohmann::json& task, int64_t now_ms);

  // Makes a running Run return after its current refresh (what SIGINT does).
  static void RequestStop();

 private:
  bool SleepInterval() const;  // false when a stop was requested meanwhile

  const ApiClient& client_;
  WatchOptions options_;
  std::ostream& out_;
  std::ostream& err_;
  std::map<std::string, int64_t> peak_;
};

}  // namespace cdc::cli
