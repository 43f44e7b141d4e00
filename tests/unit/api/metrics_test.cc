#include "api/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/process_metrics.h"

namespace cdc::api {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, RendersPrometheusText) {
  Metrics m;
  m.CountRequest("create", 200, "total");
  m.CountRequest("create", 200, "success");
  m.CountRequest("get", 400, "total");
  m.CountRequest("get", 400, "fail");
  std::string text = m.Render({{"Running", 2}, {"Paused", 1}});
  EXPECT_THAT(text, HasSubstr("# TYPE milvus_cdc_task_num gauge\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_task_num{task_state=\"Running\"} 2\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "milvus_cdc_request_total{request_type=\"create\",request_status=\"success\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("milvus_cdc_request_code_total{request_type=\"get\",code=\"400\"} 1\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("code=\"200\"} 2")));
}

TEST(MetricsTest, RendersLagPerTaskAndChannelLeavingOutUnknown) {
  Metrics m;
  std::map<std::string, std::vector<task::ChannelLag>> lags = {
      {"t1",
       {{"dml_0", "dml_0@3", uint64_t{1700000000000} << 18, 250, 4}, {"dml_1", "", 0, -1, -1}}}};
  std::string text = m.Render({{"Running", 1}}, lags);
  EXPECT_THAT(text, HasSubstr("# TYPE milvus_cdc_channel_lag_messages gauge\n"));
  EXPECT_THAT(text,
              HasSubstr("milvus_cdc_channel_lag_messages{task_id=\"t1\",channel=\"dml_0\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_channel_lag_ms{task_id=\"t1\",channel=\"dml_0\"} 250\n"));
  EXPECT_THAT(text,
              HasSubstr("milvus_cdc_channel_checkpoint_time_ms{task_id=\"t1\",channel=\"dml_0\"} "
                        "1700000000000\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("channel=\"dml_1\"")));
}

TEST(MetricsTest, RendersApiConnectionsAndRejections) {
  Metrics m;
  m.CountRejected("connection_limit");
  m.CountRejected("connection_limit");
  m.CountRejected("unauthorized");
  std::string text = m.RenderApi(7);
  EXPECT_THAT(text,
              HasSubstr("# TYPE milvus_cdc_api_connections gauge\nmilvus_cdc_api_connections 7\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE milvus_cdc_api_rejected_total counter\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_api_rejected_total{reason=\"connection_limit\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_api_rejected_total{reason=\"unauthorized\"} 1\n"));
}

TEST(MetricsTest, RendersSkipsSetAsideAndInitialSyncPerTask) {
  task::TaskHealth h;
  h.skipped["unknown_shard"] = 3;
  h.collections.push_back({"db1.c", "set_aside", "refused", 1, ""});
  h.collections.push_back({"db1.d", "requests_waiting", "index", 1, ""});
  h.initial_sync.push_back({"db1.c", "copying", 120, 1000, 5, ""});
  h.initial_sync.push_back({"db1.e", "done", 50, 40, 0, ""});
  const std::string text = Metrics::RenderHealth({{"t1", h}});
  EXPECT_THAT(text, HasSubstr("milvus_cdc_skipped_total{task_id=\"t1\",kind=\"unknown_shard\"} 3"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_collections_set_aside{task_id=\"t1\"} 1"));
  EXPECT_THAT(
      text,
      HasSubstr("milvus_cdc_initial_sync_rows_copied{task_id=\"t1\",collection=\"db1.c\"} 120"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "milvus_cdc_initial_sync_rows_estimated{task_id=\"t1\",collection=\"db1.c\"} 1000"));
  EXPECT_THAT(text,
              HasSubstr("milvus_cdc_initial_sync_done{task_id=\"t1\",collection=\"db1.e\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("milvus_cdc_initial_sync_done{task_id=\"t1\",collection=\"db1.c\"} 0"));
}

TEST(MetricsTest, RendersReplicatedDataAndRetriesPerTask) {
  task::TaskHealth h;
  h.applied = {4, 1000, 65536};
  h.retries["UNAVAILABLE"] = 2;
  const std::string text = Metrics::RenderHealth({{"t1", h}});
  EXPECT_THAT(text, HasSubstr("# TYPE milvus_cdc_replicated_rows_total counter\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_replicated_messages_total{task_id=\"t1\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_replicated_rows_total{task_id=\"t1\"} 1000\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_replicated_bytes_total{task_id=\"t1\"} 65536\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_retries_total{task_id=\"t1\",code=\"unavailable\"} 2\n"));
}

TEST(MetricsTest, RendersTaskStateFailureAndReason) {
  task::TaskInfo running;
  running.task_id = "r";
  running.state = static_cast<int>(task::TaskState::kRunning);
  running.reason = "source etcd unreachable, retrying";
  running.state_time_ms = 1700000000000;
  task::TaskInfo paused = running;
  paused.task_id = "p";
  paused.state = static_cast<int>(task::TaskState::kPaused);
  paused.reason = task::kManualPauseReason;
  task::TaskInfo failed = paused;
  failed.task_id = "f";
  failed.reason = "replication stopped: the target refuses replicated writes";
  const std::string text = Metrics::RenderTasks({running, paused, failed});
  EXPECT_THAT(text, HasSubstr("milvus_cdc_task_state{task_id=\"r\",state=\"Running\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_task_state{task_id=\"p\",state=\"Paused\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_task_failed{task_id=\"p\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_task_failed{task_id=\"f\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_task_failed{task_id=\"r\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_task_reason_set{task_id=\"r\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_task_reason_set{task_id=\"f\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("milvus_cdc_task_state_time_ms{task_id=\"r\"} 1700000000000\n"));
}

TEST(MetricsTest, RendersProcessMetricsFromProc) {
  const std::string text = RenderProcessMetrics();
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter\n"));
  for (const char* name : {"process_resident_memory_bytes ", "process_start_time_seconds ",
                           "process_open_fds ", "process_threads "}) {
    const auto at = text.find(std::string("\n") + name);
    ASSERT_NE(at, std::string::npos) << name << " missing in\n" << text;
    EXPECT_GT(std::stod(text.substr(at + 1 + std::string(name).size())), 0) << name;
  }
}

}  // namespace
}  // namespace cdc::api
