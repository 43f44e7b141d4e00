#include "cli/task_render.h"

#include <algorithm>

#include "cli/format.h"
#include "cli/json_fields.h"
#include "cli/table.h"

namespace cdc::cli {
namespace {

using nlohmann::json;

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

std::string Line(const std::string& label, const std::string& value) {
  std::string pad = label.size() < 14 ? std::string(14 - label.size(), ' ') : " ";
  return label + pad + value + "\n";
}

// The catch-up bar of one channel: how much of the largest backlog seen is replicated.
std::string CatchUp(const json& ch, const std::map<std::string, int64_t>& peak) {
  auto it = peak.find(Str(ch, "channel_name"));
  const int64_t now = Int(ch, "lag_messages");
  if (it == peak.end() || it->second <= 0 || now < 0) return "-";
  return ProgressBar(it->second - now, it->second, now == 0, 16);
}

std::string SyncRow(const json& c) {
  const bool done = Str(c, "phase") == "done";
  const int64_t eta = Int(c, "eta_s");
  std::string rows = FormatCount(Int(c, "rows_copied")) + "/" +
                     (Int(c, "rows_estimated") > 0 ? FormatCount(Int(c, "rows_estimated")) : "?");
  std::string tail = done || eta < 0 ? "" : "  eta " + FormatDurationMs(eta * 1000);
  return ProgressBar(Int(c, "rows_copied"), Int(c, "rows_estimated"), done) + "  " + rows +
         " rows" + tail;
}

std::string RenderSkipped(const json& skipped) {
  if (!skipped.is_object() || skipped.empty()) return "";
  std::vector<std::string> parts;
  for (const auto& [kind, n] : skipped.items()) {
    parts.push_back(kind + "=" + (n.is_number_integer() ? std::to_string(n.get<int64_t>()) : "?"));
  }
  return Line("skipped", Join(parts, ", "));
}

std::string RenderCollections(const json& collections) {
  if (!collections.is_array() || collections.empty()) return "";
  Table t({"COLLECTION", "STATE", "SINCE (UTC)", "REASON"});
  for (const auto& c : collections) {
    t.AddRow({Str(c, "name"), Str(c, "state"), FormatUnixMs(Int(c, "since", 0)), Str(c, "reason")});
  }
  return "\nnot replicating normally:\n" + t.Render(2);
}

std::string RenderLastVerify(const json& v) {
  if (!v.is_object()) return "";
  std::string verdict = Str(v, "state") == "running" ? "running"
                        : Bool(v, "equal")           ? "equal"
                                                     : "NOT equal";
  std::string out =
      "\nlast verify: " + verdict + " (started " + FormatUnixMs(Int(v, "started", 0)) + " UTC)\n";
  if (!Str(v, "error").empty()) out += "  error: " + Str(v, "error") + "\n";
  const json& results = Field(v, "results");
  if (results.is_object()) {
    for (const auto& [name, r] : results.items()) {
      out += "  " + name + ": " + (r.is_string() ? r.get<std::string>() : "?") + "\n";
    }
  }
  return out;
}

std::string RenderPositionList(const char* title, const json& list) {
  if (!list.is_array() || list.empty()) return std::string("\n") + title + ": none\n";
  Table t({"CHANNEL", "COLLECTION ID", "TIME (UTC)", "TS"});
  for (const auto& p : list) {
    t.AddRow({Str(p, "channel_name"), FormatCount(Int(p, "collection_id")),
              FormatUnixMs(Int(p, "time", 0)), FormatCount(Int(p, "tt"))});
  }
  return std::string("\n") + title + ":\n" + t.Render(2);
}

}  // namespace

std::string TaskSelection(const json& task) {
  std::vector<std::string> names;
  const json& infos = Field(task, "collection_infos");
  if (infos.is_array()) {
    for (const auto& c : infos) {
      const std::string n = Str(c, "name");
      names.push_back(n == "*" ? "*" : "default." + n);
    }
  }
  const json& dbs = Field(task, "db_collections");
  if (dbs.is_object()) {
    for (const auto& [db, list] : dbs.items()) {
      if (!list.is_array()) continue;
      for (const auto& c : list) names.push_back(db + "." + Str(c, "name"));
    }
  }
  return names.empty() ? "-" : Join(names, ",");
}

std::string TaskTarget(const json& task) {
  const json& m = Field(task, "milvus_connect_param");
  if (!Str(m, "uri").empty()) return Str(m, "uri");
  if (!Str(m, "host").empty()) return Str(m, "host") + ":" + FormatCount(Int(m, "port"));
  const json& k = Field(task, "kafka_connect_param");
  if (!Str(k, "address").empty()) return "kafka " + Str(k, "address") + "/" + Str(k, "topic");
  return "-";
}

int64_t MaxLagMs(const json& task) {
  int64_t lag = -1;
  const json& channels = Field(task, "channels");
  if (!channels.is_array()) return lag;
  for (const auto& c : channels) lag = std::max(lag, Int(c, "lag_ms"));
  return lag;
}

std::string RenderTaskList(const json& tasks) {
  if (!tasks.is_array() || tasks.empty()) return "no tasks\n";
  Table t({"TASK ID", "STATE", "TARGET", "COLLECTIONS", "MAX LAG", "REASON"});
  for (const auto& task : tasks) {
    t.AddRow({Str(task, "task_id"), Str(task, "state"), TaskTarget(task), TaskSelection(task),
              FormatDurationMs(MaxLagMs(task)), Shorten(Str(task, "reason"), 100)});
  }
  return t.Render();
}

std::string RenderTask(const json& task) {
  std::string out = Line("task", Str(task, "task_id")) + Line("state", Str(task, "state")) +
                    Line("reason", OrDash(Str(task, "reason"))) + Line("target", TaskTarget(task)) +
                    Line("collections", TaskSelection(task));
  if (Field(task, "initial_sync").is_boolean() || Field(task, "initial_sync").is_array()) {
    out += Line("initial sync", "yes");
  }
  out += RenderSkipped(Field(task, "skipped"));
  out += "\n" + RenderChannels(Field(task, "channels"));
  out += RenderInitialSync(task);
  out += RenderHealth(task);
  return out;
}

std::string RenderChannels(const json& channels, const std::map<std::string, int64_t>* peak) {
  if (!channels.is_array() || channels.empty()) return "channels: none yet\n";
  std::vector<std::string> header = {"CHANNEL", "CHECKPOINT (UTC)", "LAG", "LAG MSGS"};
  if (peak != nullptr) header.emplace_back("CATCH-UP");
  Table t(header);
  for (const auto& c : channels) {
    std::vector<std::string> row = {
        Str(c, "channel_name"), FormatUnixMs(Int(c, "checkpoint_time", 0)),
        FormatDurationMs(Int(c, "lag_ms")), FormatCount(Int(c, "lag_messages"))};
    if (peak != nullptr) row.push_back(CatchUp(c, *peak));
    t.AddRow(std::move(row));
  }
  return t.Render();
}

std::string RenderInitialSync(const json& task) {
  const json& sync = Field(task, "initial_sync");
  if (!sync.is_array() || sync.empty()) return "";
  Table t({"INITIAL SYNC", "PHASE", "PROGRESS"});
  for (const auto& c : sync) t.AddRow({Str(c, "name"), Str(c, "phase"), SyncRow(c)});
  return "\n" + t.Render();
}

std::string RenderHealth(const json& task) {
  return RenderCollections(Field(task, "collections")) + RenderLastVerify(Field(task, "verify"));
}

std::string RenderPosition(const json& data) {
  return RenderChannels(Field(data, "channels")) +
         RenderPositionList("positions", Field(data, "positions")) +
         RenderPositionList("op_positions", Field(data, "op_positions")) +
         RenderPositionList("target_positions", Field(data, "target_positions"));
}

}  // namespace cdc::cli
