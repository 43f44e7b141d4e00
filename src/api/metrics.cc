#include "api/metrics.h"

#include <sstream>

#include "absl/strings/ascii.h"
#include "common/hybrid_time.h"
#include "verify/verifier.h"

namespace cdc::api {
namespace {

// Label values are our own request types and fixed words, but escape anyway.
std::string Esc(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

// Writes the HELP and TYPE lines of one metric.
void Header(std::ostream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

void RenderApplied(std::ostream& out, const std::map<std::string, task::TaskHealth>& health) {
  struct Counter {
    const char* name;
    const char* help;
    uint64_t (*value)(const task::AppliedData&);
  };
  const Counter counters[] = {
      {"milvus_cdc_replicated_messages_total",
       "Insert and Delete messages the target acknowledged (since the task's pipeline started).",
       [](const task::AppliedData& a) { return a.messages; }},
      {"milvus_cdc_replicated_rows_total",
       "Rows of the Insert and Delete messages the target acknowledged.",
       [](const task::AppliedData& a) { return a.rows; }},
      {"milvus_cdc_replicated_bytes_total",
       "Serialized bytes of the Insert and Delete messages the target acknowledged.",
       [](const task::AppliedData& a) { return a.bytes; }},
      {"milvus_cdc_coalesced_messages_total",
       "Source Insert and Delete messages merged with their neighbours into larger target "
       "messages (coalesce.enabled).",
       [](const task::AppliedData& a) { return a.coalesced; }},
      {"milvus_cdc_coalesce_fallbacks_total",
       "Source Insert and Delete messages sent as they were because their run could not be "
       "merged (the log says why).",
       [](const task::AppliedData& a) { return a.coalesce_fallbacks; }},
  };
  for (const auto& c : counters) {
    Header(out, c.name, "counter", c.help);
    for (const auto& [id, h] : health)
      out << c.name << "{task_id=\"" << Esc(id) << "\"} " << c.value(h.applied) << "\n";
  }
  Header(out, "milvus_cdc_retries_total", "counter",
         "Rounds a task's pipeline retried after an error, by status code.");
  for (const auto& [id, h] : health)
    for (const auto& [code, n] : h.retries)
      out << "milvus_cdc_retries_total{task_id=\"" << Esc(id) << "\",code=\""
          << Esc(absl::AsciiStrToLower(code)) << "\"} " << n << "\n";
}

}  // namespace

void Metrics::CountRequest(const std::string& type, int code, const std::string& status) {
  std::lock_guard lock(mu_);
  ++by_status_[{type, status}];
  if (status != "total") ++by_code_[{type, code}];
}

std::string Metrics::Render(
    const std::map<std::string, int>& tasks_by_state,
    const std::map<std::string, std::vector<task::ChannelLag>>& lags) const {
  std::ostringstream out;
  struct Gauge {
    const char* name;
    const char* help;
    int64_t (*value)(const task::ChannelLag&);
  };
  const Gauge gauges[] = {
      {"milvus_cdc_channel_lag_messages",
       "Messages of the source channel not yet applied to the target.",
       [](const task::ChannelLag& c) { return c.lag_messages; }},
      {"milvus_cdc_channel_lag_ms", "Milliseconds the target is behind on the source channel.",
       [](const task::ChannelLag& c) { return c.lag_ms; }},
      {"milvus_cdc_channel_checkpoint_time_ms", "Unix ms of the channel's stored checkpoint.",
       [](const task::ChannelLag& c) {
         return c.checkpoint_ts ? HybridToMs(c.checkpoint_ts) : int64_t{-1};
       }},
  };
  for (const auto& g : gauges) {
    out << "# HELP " << g.name << " " << g.help << "\n# TYPE " << g.name << " gauge\n";
    for (const auto& [task_id, channels] : lags) {
      for (const auto& c : channels) {
        int64_t v = g.value(c);
        if (v < 0) continue;  // unknown
        out << g.name << "{task_id=\"" << Esc(task_id) << "\",channel=\"" << Esc(c.channel)
            << "\"} " << v << "\n";
      }
    }
  }
  RenderVerify(out);
  out << "# HELP milvus_cdc_task_num Number of tasks by state.\n"
      << "# TYPE milvus_cdc_task_num gauge\n";
  for (const auto& [state, n] : tasks_by_state) {
    out << "milvus_cdc_task_num{task_state=\"" << Esc(state) << "\"} " << n << "\n";
  }
  std::lock_guard lock(mu_);
  out << "# HELP milvus_cdc_request_total Requests on /cdc by type and status.\n"
      << "# TYPE milvus_cdc_request_total counter\n";
  for (const auto& [k, n] : by_status_) {
    out << "milvus_cdc_request_total{request_type=\"" << Esc(k.first) << "\",request_status=\""
        << Esc(k.second) << "\"} " << n << "\n";
  }
  out << "# HELP milvus_cdc_request_code_total Answers on /cdc by type and envelope code.\n"
      << "# TYPE milvus_cdc_request_code_total counter\n";
  for (const auto& [k, n] : by_code_) {
    out << "milvus_cdc_request_code_total{request_type=\"" << Esc(k.first) << "\",code=\""
        << k.second << "\"} " << n << "\n";
  }
  return out.str();
}

std::string Metrics::RenderHealth(const std::map<std::string, task::TaskHealth>& health) {
  std::ostringstream out;
  out << "# HELP milvus_cdc_skipped_total Messages and requests a task did not apply, by kind.\n"
      << "# TYPE milvus_cdc_skipped_total counter\n";
  for (const auto& [id, h] : health)
    for (const auto& [kind, n] : h.skipped)
      out << "milvus_cdc_skipped_total{task_id=\"" << Esc(id) << "\",kind=\"" << Esc(kind) << "\"} "
          << n << "\n";
  out << "# HELP milvus_cdc_collections_set_aside Collections of a task set aside (see get).\n"
      << "# TYPE milvus_cdc_collections_set_aside gauge\n";
  for (const auto& [id, h] : health) {
    int n = 0;
    for (const auto& c : h.collections) n += c.state == "set_aside" ? 1 : 0;
    out << "milvus_cdc_collections_set_aside{task_id=\"" << Esc(id) << "\"} " << n << "\n";
  }
  RenderApplied(out, health);
  struct Gauge {
    const char* name;
    const char* help;
    int64_t (*value)(const task::CollectionSync&);
  };
  const Gauge gauges[] = {
      {"milvus_cdc_initial_sync_rows_copied", "Rows initial sync copied so far.",
       [](const task::CollectionSync& c) { return c.rows_copied; }},
      {"milvus_cdc_initial_sync_rows_estimated",
       "Rows the source held when initial sync began (datacoord's count).",
       [](const task::CollectionSync& c) { return c.rows_estimated; }},
      {"milvus_cdc_initial_sync_done", "1 once initial sync of the collection is done.",
       [](const task::CollectionSync& c) { return int64_t{c.phase == "done"}; }},
  };
  for (const auto& g : gauges) {
    out << "# HELP " << g.name << " " << g.help << "\n# TYPE " << g.name << " gauge\n";
    for (const auto& [id, h] : health)
      for (const auto& c : h.initial_sync)
        out << g.name << "{task_id=\"" << Esc(id) << "\",collection=\"" << Esc(c.name) << "\"} "
            << g.value(c) << "\n";
  }
  return out.str();
}

std::string Metrics::RenderTasks(const std::vector<task::TaskInfo>& tasks) {
  std::ostringstream out;
  Header(out, "milvus_cdc_task_state", "gauge", "1 for the state the task is in.");
  for (const auto& t : tasks)
    out << "milvus_cdc_task_state{task_id=\"" << Esc(t.task_id) << "\",state=\""
        << Esc(task::StateName(t.state)) << "\"} 1\n";
  struct Gauge {
    const char* name;
    const char* help;
    int64_t (*value)(const task::TaskInfo&);
  };
  const Gauge gauges[] = {
      {"milvus_cdc_task_failed",
       "1 when a failure paused the task (not a pause request or disable_auto_start).",
       [](const task::TaskInfo& t) { return int64_t{t.PausedByFailure()}; }},
      {"milvus_cdc_task_reason_set",
       "1 when a Running task reports a reason (it retries, waits or did not apply something).",
       [](const task::TaskInfo& t) {
         return int64_t{t.State() == task::TaskState::kRunning && !t.reason.empty()};
       }},
      {"milvus_cdc_task_state_time_ms", "Unix ms of the task's last state change.",
       [](const task::TaskInfo& t) { return t.state_time_ms; }},
  };
  for (const auto& g : gauges) {
    Header(out, g.name, "gauge", g.help);
    for (const auto& t : tasks)
      out << g.name << "{task_id=\"" << Esc(t.task_id) << "\"} " << g.value(t) << "\n";
  }
  return out.str();
}

void Metrics::CountRejected(const std::string& reason) {
  std::lock_guard lock(mu_);
  ++rejected_[reason];
}

std::string Metrics::RenderApi(size_t open_connections) const {
  std::ostringstream out;
  out << "# HELP milvus_cdc_api_connections Open connections to the HTTP API.\n"
      << "# TYPE milvus_cdc_api_connections gauge\n"
      << "milvus_cdc_api_connections " << open_connections << "\n"
      << "# HELP milvus_cdc_api_rejected_total Clients the HTTP API turned away, by reason.\n"
      << "# TYPE milvus_cdc_api_rejected_total counter\n";
  std::lock_guard lock(mu_);
  for (const auto& [reason, n] : rejected_) {
    out << "milvus_cdc_api_rejected_total{reason=\"" << Esc(reason) << "\"} " << n << "\n";
  }
  return out.str();
}

void Metrics::RenderVerify(std::ostream& out) const {
  if (verifier_ == nullptr) return;
  const auto gauges = verifier_->Gauges();
  out << "# HELP milvus_cdc_verify_equal Last verify of the collection: 1 equal, 0 differs, -1 "
         "not decided (unsettled, incomplete, error).\n"
      << "# TYPE milvus_cdc_verify_equal gauge\n";
  for (const auto& g : gauges) {
    const int v = g.verdict == verify::Verdict::kEqual     ? 1
                  : g.verdict == verify::Verdict::kDiffers ? 0
                                                           : -1;
    out << "milvus_cdc_verify_equal{task_id=\"" << Esc(g.task_id) << "\",collection=\""
        << Esc(g.collection) << "\"} " << v << "\n";
  }
  out << "# HELP milvus_cdc_verify_time_ms Unix ms when the collection's last verify ended.\n"
      << "# TYPE milvus_cdc_verify_time_ms gauge\n";
  for (const auto& g : gauges) {
    out << "milvus_cdc_verify_time_ms{task_id=\"" << Esc(g.task_id) << "\",collection=\""
        << Esc(g.collection) << "\"} " << g.finished_ms << "\n";
  }
}

}  // namespace cdc::api
