#include "cli/watcher.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include "cli/exit_code.h"
#include "cli/format.h"
#include "cli/json_fields.h"
#include "cli/task_render.h"

namespace cdc::cli {
namespace {

using nlohmann::json;

std::atomic<bool> g_stop{false};

void OnSigint(int /*sig*/) { g_stop.store(true); }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Initial sync over all collections: "done", "45%" or "" when the task has none.
std::string SyncSummary(const json& task) {
  const json& sync = Field(task, "initial_sync");
  if (!sync.is_array() || sync.empty()) return "";
  int64_t copied = 0, estimated = 0;
  bool all_done = true;
  for (const auto& c : sync) {
    copied += std::max<int64_t>(0, Int(c, "rows_copied"));
    estimated += std::max<int64_t>(0, Int(c, "rows_estimated"));
    all_done = all_done && Str(c, "phase") == "done";
  }
  if (all_done) return "done";
  if (estimated <= 0) return "?";
  return std::to_string(std::min<int64_t>(100, copied * 100 / estimated)) + "%";
}

int64_t SumLagMessages(const json& task) {
  int64_t sum = -1;
  const json& channels = Field(task, "channels");
  if (!channels.is_array()) return sum;
  for (const auto& c : channels) {
    if (Int(c, "lag_messages") >= 0) sum = std::max<int64_t>(sum, 0) + Int(c, "lag_messages");
  }
  return sum;
}

// RAII: SIGINT sets g_stop while a watch runs; the previous handler comes back after.
class SigintScope {
 public:
  SigintScope() {
    g_stop.store(false);
    struct sigaction sa {};
    sa.sa_handler = OnSigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_);
  }
  ~SigintScope() { sigaction(SIGINT, &old_, nullptr); }
  SigintScope(const SigintScope&) = delete;
  SigintScope& operator=(const SigintScope&) = delete;

 private:
  struct sigaction old_ {};
};

}  // namespace

void Watcher::RequestStop() { g_stop.store(true); }

std::string Watcher::Frame(const json& task, const std::string& server, int64_t now_ms,
                           std::map<std::string, int64_t>* peak) {
  const json& channels = Field(task, "channels");
  if (channels.is_array()) {
    for (const auto& c : channels) {
      int64_t& p = (*peak)[Str(c, "channel_name")];
      p = std::max(p, Int(c, "lag_messages"));
    }
  }
  std::string out = "task " + Str(task, "task_id") + " on " + server + "  (" +
                    FormatUnixMs(now_ms) + " UTC; Ctrl-C stops)\n\n";
  out += "state         " + Str(task, "state") + "\n";
  out += "reason        " + (Str(task, "reason").empty() ? "-" : Str(task, "reason")) + "\n";
  out += "collections   " + TaskSelection(task) + " -> " + TaskTarget(task) + "\n\n";
  out += RenderChannels(channels, peak);
  out += RenderInitialSync(task);
  out += RenderHealth(task);
  return out;
}

std::string Watcher::Line(const json& task, int64_t now_ms) {
  std::string line = FormatUnixMs(now_ms) + " task=" + Str(task, "task_id") +
                     " state=" + Str(task, "state") +
                     " max_lag=" + FormatDurationMs(MaxLagMs(task)) +
                     " lag_messages=" + FormatCount(SumLagMessages(task));
  const json& channels = Field(task, "channels");
  line += " channels=" + std::to_string(channels.is_array() ? channels.size() : 0);
  if (const std::string sync = SyncSummary(task); !sync.empty()) line += " initial_sync=" + sync;
  const json& aside = Field(task, "collections");
  if (aside.is_array() && !aside.empty()) line += " not_normal=" + std::to_string(aside.size());
  if (!Str(task, "reason").empty()) line += " reason=\"" + Str(task, "reason") + "\"";
  return line + "\n";
}

bool Watcher::SleepInterval() const {
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(options_.interval_s * 1000));
  while (std::chrono::steady_clock::now() < until) {
    if (g_stop.load()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return !g_stop.load();
}

int Watcher::Run(const std::string& task_id) {
  SigintScope sigint;
  for (int n = 1;; ++n) {
    auto answer = client_.Call("get", {{"task_id", task_id}});
    if (!answer.ok()) {
      if (options_.tty) out_ << "\n";
      err_ << "watch " << task_id << ": " << answer.status().message() << "\n";
      return ExitCodeOf(answer.status());
    }
    const json& task = Field(Field(*answer, "data"), "task");
    if (options_.tty) {
      out_ << "\x1b[H\x1b[2J" << Frame(task, client_.server().display(), NowMs(), &peak_);
    } else {
      out_ << Line(task, NowMs());
    }
    out_.flush();
    if (options_.count > 0 && n >= options_.count) return kExitOk;
    if (!SleepInterval()) return kExitOk;
  }
}

}  // namespace cdc::cli
