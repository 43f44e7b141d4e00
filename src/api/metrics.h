#pragma once
// api::Metrics: request counters and the Prometheus text exposition (format 0.0.4), written by
// hand. Thread-safe (one mutex around the counters).
//   milvus_cdc_task_num{task_state="Running"}                          gauge (upstream name)
//   milvus_cdc_request_total{request_type="create",request_status="success"}  counter
//     (upstream statuses: total, success, fail, invalid_method, unmarshal_error)
//   milvus_cdc_request_code_total{request_type="create",code="400"}   counter (ours)
//   milvus_cdc_channel_lag_messages{task_id,channel}   gauge (ours; unknown lags are left out)
//   milvus_cdc_channel_lag_ms{task_id,channel}         gauge (ours)
//   milvus_cdc_channel_checkpoint_time_ms{task_id,channel}  gauge (ours; unix ms)
//   milvus_cdc_api_connections                          gauge (ours; open HTTP connections)
//   milvus_cdc_api_rejected_total{reason}               counter (ours; connection_limit,
//     header_timeout, body_timeout, too_large, bad_request, busy, unauthorized, forbidden,
//     rate_limited)
//   milvus_cdc_verify_equal{task_id,collection}        gauge (ours): the last verify of the
//     collection, 1 equal, 0 differs, -1 not decided (unsettled, incomplete, error)
//   milvus_cdc_verify_time_ms{task_id,collection}      gauge (ours; unix ms that verify ended)
//   milvus_cdc_skipped_total{task_id,kind}             counter (ours): messages and requests not
//     applied, by kind (since the task's pipeline started)
//   milvus_cdc_collections_set_aside{task_id}          gauge (ours): collections set aside
//   milvus_cdc_initial_sync_rows_copied{task_id,collection}     gauge (ours)
//   milvus_cdc_initial_sync_rows_estimated{task_id,collection}  gauge (ours)
//   milvus_cdc_initial_sync_done{task_id,collection}   gauge (ours): 1 done, 0 in progress
//   milvus_cdc_replicated_messages_total{task_id}      counter (ours): Insert/Delete messages,
//   milvus_cdc_replicated_rows_total{task_id}          rows and serialized bytes the target
//   milvus_cdc_replicated_bytes_total{task_id}         acknowledged (since the pipeline started)
//   milvus_cdc_retries_total{task_id,code}             counter (ours): rounds retried after an
//     error, by status code (unavailable, deadline_exceeded, internal, ...)
//   milvus_cdc_task_state{task_id,state}               gauge (ours): 1 for the task's state
//   milvus_cdc_task_failed{task_id}                    gauge (ours): 1 Paused by a failure
//   milvus_cdc_task_reason_set{task_id}                gauge (ours): 1 Running with a reason
//   milvus_cdc_task_state_time_ms{task_id}             gauge (ours): unix ms of the last change
//   process_* (process_metrics.h): RSS, CPU seconds, start time, open files, threads
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "task/replicator.h"

namespace cdc::verify {
class Verifier;
}

namespace cdc::api {

class Metrics {
 public:
  // Records one /cdc answer: its request type ("unknown" if none) and envelope code.
  void CountRequest(const std::string& type, int code, const std::string& status);
  // Renders every metric; `tasks_by_state` comes from TaskManager::CountByState, `lags`
  // (task id -> its channels, TaskManager::Lag) from the tasks that have any.
  std::string Render(const std::map<std::string, int>& tasks_by_state,
                     const std::map<std::string, std::vector<task::ChannelLag>>& lags = {}) const;

  // Per task: skipped messages by kind, collections set aside, initial-sync progress.
  static std::string RenderHealth(const std::map<std::string, task::TaskHealth>& health);
  // Per task: its state, whether a failure paused it, whether it reports a reason.
  static std::string RenderTasks(const std::vector<task::TaskInfo>& tasks);
  // Records a client turned away by the HTTP layer, by reason (see the list above).
  void CountRejected(const std::string& reason);
  // The HTTP layer's metrics: open connections and the rejections so far.
  std::string RenderApi(size_t open_connections) const;
  // Where the verify gauges come from; borrowed, set before serving (none: not rendered).
  void set_verifier(const verify::Verifier* verifier) { verifier_ = verifier; }

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, long long> by_status_;
  std::map<std::pair<std::string, int>, long long> by_code_;
  std::map<std::string, long long> rejected_;
  const verify::Verifier* verifier_ = nullptr;

  void RenderVerify(std::ostream& out) const;
};

}  // namespace cdc::api
