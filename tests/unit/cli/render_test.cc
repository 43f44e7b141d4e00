#include <gtest/gtest.h>

#include "cli/format.h"
#include "cli/table.h"
#include "cli/task_render.h"
#include "cli/verify_render.h"
#include "cli/watcher.h"

namespace cdc::cli {
namespace {

using nlohmann::json;

// A task as the server's get/list show it (docs/openapi.yaml, Task).
json SampleTask() {
  return json::parse(R"({
    "task_id":"t1","state":"Running","reason":"target slow",
    "milvus_connect_param":{"uri":"http://target:19530","host":"","port":0},
    "kafka_connect_param":{"address":""},
    "collection_infos":null,"db_collections":{"db1":[{"name":"*"}]},
    "channels":[
      {"channel_name":"by-dev-rootcoord-dml_0","checkpoint":"x","checkpoint_ts":1,
       "checkpoint_time":1735787045000,"lag_ms":1500,"lag_messages":30},
      {"channel_name":"by-dev-rootcoord-dml_1","checkpoint":"","checkpoint_ts":0,
       "checkpoint_time":0,"lag_ms":-1,"lag_messages":-1}],
    "collections":[{"name":"db1.c2","state":"set_aside","reason":"schema refused","since":1735787045000}],
    "skipped":{"rbac":2},
    "initial_sync":[{"name":"db1.c1","phase":"copying","rows_copied":250,"rows_estimated":1000,"eta_s":30},
                    {"name":"db1.c3","phase":"done","rows_copied":5,"rows_estimated":0,"eta_s":-1}]})");
}

TEST(TableTest, AlignsColumnsAndLeavesTheLastUnpadded) {
  Table t({"ID", "STATE", "REASON"});
  t.AddRow({"a", "Running", ""});
  t.AddRow({"long-id", "Paused", "why"});
  EXPECT_EQ(t.Render(),
            "ID       STATE    REASON\n"
            "a        Running\n"
            "long-id  Paused   why\n");
}

TEST(FormatTest, DurationsCountsTimesAndBars) {
  EXPECT_EQ(FormatDurationMs(-1), "-");
  EXPECT_EQ(FormatDurationMs(850), "850ms");
  EXPECT_EQ(FormatDurationMs(12345), "12.3s");
  EXPECT_EQ(FormatDurationMs(245000), "4m05s");
  EXPECT_EQ(FormatDurationMs(7380000), "2h03m");
  EXPECT_EQ(FormatUnixMs(1735787045000), "2025-01-02 03:04:05");
  EXPECT_EQ(FormatUnixMs(0), "-");
  EXPECT_EQ(ProgressBar(1, 4, false, 8), "[##------]  25%");
  EXPECT_EQ(ProgressBar(0, 0, false, 4), "[????]    ?");
  EXPECT_EQ(ProgressBar(0, 0, true, 4), "[####] 100%");
  EXPECT_EQ(Shorten("abcdefgh", 6), "abc...");
}

TEST(TaskRenderTest, ListShowsOneRowPerTask) {
  const std::string text = RenderTaskList(json::array({SampleTask()}));
  EXPECT_EQ(text,
            "TASK ID  STATE    TARGET               COLLECTIONS  MAX LAG  REASON\n"
            "t1       Running  http://target:19530  db1.*        1.5s     target slow\n");
  EXPECT_EQ(RenderTaskList(json::array()), "no tasks\n");
}

TEST(TaskRenderTest, GetShowsStateChannelsSyncAndSetAsides) {
  const std::string text = RenderTask(SampleTask());
  for (const char* want :
       {"state         Running\n", "reason        target slow\n", "collections   db1.*\n",
        "skipped       rbac=2\n", "by-dev-rootcoord-dml_0  2025-01-02 03:04:05  1.5s  30\n",
        "by-dev-rootcoord-dml_1  -                    -     -\n",
        "db1.c1        copying  [######------------------]  25%  250/1000 rows  eta 30.0s\n",
        "db1.c3        done     [########################] 100%  5/? rows\n",
        "db1.c2      set_aside  2025-01-02 03:04:05  schema refused\n"}) {
    EXPECT_NE(text.find(want), std::string::npos) << "missing: " << want << "\nin:\n" << text;
  }
}

TEST(TaskRenderTest, SelectionAndTargetForms) {
  EXPECT_EQ(TaskSelection(json::parse(R"({"collection_infos":[{"name":"*"}]})")), "*");
  EXPECT_EQ(TaskSelection(json::parse(R"({"collection_infos":[{"name":"books"}]})")),
            "default.books");
  EXPECT_EQ(TaskTarget(json::parse(R"({"milvus_connect_param":{"uri":"","host":"h","port":1}})")),
            "h:1");
  EXPECT_EQ(TaskTarget(json::object()), "-");  // never throws on missing fields
}

TEST(TaskRenderTest, PositionShowsChannelsAndLists) {
  const json data = json::parse(R"({"channels":[],"positions":[{"collection_id":7,
      "channel_name":"dml_0_7v0","time":1735787045000,"tt":42,"msg_id":"AA=="}],
      "op_positions":null,"target_positions":null})");
  const std::string text = RenderPosition(data);
  EXPECT_NE(text.find("dml_0_7v0  7              2025-01-02 03:04:05  42"), std::string::npos)
      << text;
  EXPECT_NE(text.find("op_positions: none"), std::string::npos);
}

TEST(VerifyRenderTest, ShowsTheVerdictAndWhatDiffers) {
  const json v = json::parse(R"({"task_id":"t1","state":"done","equal":false,"results":[
      {"name":"default.a","result":"equal","source_rows":3,"target_rows":3},
      {"name":"db1.b","result":"differs","source_rows":3,"target_rows":4,
       "differences":[{"aspect":"row_count","detail":"3 on the source, 4 on the target"}]}]})");
  const std::string text = RenderVerify(v);
  EXPECT_NE(text.find("verify of task t1: NOT equal\n"), std::string::npos) << text;
  EXPECT_NE(text.find("db1.b       differs  3            4            row_count: 3 on the source"),
            std::string::npos)
      << text;
}

TEST(VerifyRenderTest, SaysWhenThereWasNothingToCompare) {
  const json v = json::parse(R"({"task_id":"t1","state":"done","equal":true,"results":[]})");
  EXPECT_EQ(RenderVerify(v), "verify of task t1: equal\nno collection to compare\n");
}

TEST(WatcherRenderTest, LineHasTheStateLagAndSyncProgress) {
  EXPECT_EQ(Watcher::Line(SampleTask(), 1735787045000),
            "2025-01-02 03:04:05 task=t1 state=Running max_lag=1.5s lag_messages=30 channels=2 "
            "initial_sync=25% not_normal=1 reason=\"target slow\"\n");
}

TEST(WatcherRenderTest, FrameShowsCatchUpAgainstTheLargestBacklogSeen) {
  std::map<std::string, int64_t> peak;
  json task = SampleTask();
  (void)Watcher::Frame(task, "http://x/cdc", 0, &peak);
  task["channels"][0]["lag_messages"] = 15;
  const std::string frame = Watcher::Frame(task, "http://x/cdc", 0, &peak);
  EXPECT_EQ(peak["by-dev-rootcoord-dml_0"], 30);
  EXPECT_NE(frame.find("CATCH-UP"), std::string::npos) << frame;
  EXPECT_NE(frame.find("[########--------]  50%"), std::string::npos) << frame;
  EXPECT_NE(frame.find("[########################] 100%"), std::string::npos) << frame;
}

}  // namespace
}  // namespace cdc::cli
