#include "cli/verify_render.h"

#include "cli/format.h"
#include "cli/json_fields.h"
#include "cli/table.h"

namespace cdc::cli {
namespace {

using nlohmann::json;

// What differs in one collection: its differences, else its message or note.
std::string Detail(const json& r) {
  std::string out;
  const json& diffs = Field(r, "differences");
  if (diffs.is_array()) {
    for (const auto& d : diffs) {
      out += (out.empty() ? "" : "; ") + Str(d, "aspect") + ": " + Str(d, "detail");
    }
  }
  if (out.empty()) out = Str(r, "message");
  if (out.empty()) out = Str(r, "note");
  return out;
}

std::string Verdict(const json& v) {
  if (Str(v, "state") == "running") {
    return "running (" + FormatCount(Int(v, "collections_done")) + "/" +
           FormatCount(Int(v, "collections_total")) + " collections done)";
  }
  return Bool(v, "equal") ? "equal" : "NOT equal";
}

}  // namespace

std::string RenderVerify(const json& v) {
  std::string out = "verify of task " + Str(v, "task_id") + ": " + Verdict(v) + "\n";
  if (!Str(v, "error").empty()) out += "error: " + Str(v, "error") + "\n";
  const json& current = Field(v, "current");
  if (current.is_object()) {
    out += "now: " + Str(current, "name") + " " + Str(current, "phase") + " " +
           ProgressBar(Int(current, "keys_compared"), Int(current, "rows_estimated"), false, 16) +
           "\n";
  }
  const json& results = Field(v, "results");
  if (!results.is_array() || results.empty()) {
    return Str(v, "state") == "done" ? out + "no collection to compare\n" : out;
  }
  Table t({"COLLECTION", "RESULT", "SOURCE ROWS", "TARGET ROWS", "DETAIL"});
  for (const auto& r : results) {
    t.AddRow({Str(r, "name"), Str(r, "result"), FormatCount(Int(r, "source_rows")),
              FormatCount(Int(r, "target_rows")), Shorten(Detail(r), 160)});
  }
  return out + "\n" + t.Render();
}

}  // namespace cdc::cli
