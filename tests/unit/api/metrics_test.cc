#include "api/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
  h.collections.push_back({"db1.c", "set_aside", "refused", 1});
  h.collections.push_back({"db1.d", "requests_waiting", "index", 1});
  h.initial_sync.push_back({"db1.c", "copying", 120, 1000, 5});
  h.initial_sync.push_back({"db1.e", "done", 50, 40, 0});
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

}  // namespace
}  // namespace cdc::api
