#include "replicate/flush_retrier.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cdc::replicate {

FlushRetrier::FlushRetrier(std::string task_id, target::Client* target, FlushRetrierOptions options)
    : task_id_(std::move(task_id)), target_(target), opts_(options) {}

FlushRetrier::~FlushRetrier() { Stop(); }

std::string FlushRetrier::Describe(const Request& r) {
  return absl::StrCat("Flush of ", r.db, ".", absl::StrJoin(r.req.collection_names(), ","),
                      " (source ts ", r.ts, ")");
}

void FlushRetrier::Add(std::string db, ::milvus::proto::milvus::FlushRequest req,
                       uint64_t replicate_ts) {
  Request r;
  r.db = std::move(db);
  r.req = std::move(req);
  r.ts = replicate_ts;
  r.since = std::chrono::steady_clock::now();
  std::lock_guard l(mu_);
  if (stop_) return;
  queue_.push_back(std::move(r));
  if (!worker_.joinable()) worker_ = std::thread([this] { Work(); });
  cv_.notify_all();
}

std::string FlushRetrier::Reason() const {
  std::lock_guard l(mu_);
  if (queue_.empty() || queue_.front().attempts == 0) return gave_up_;
  const Request& r = queue_.front();
  return absl::StrCat(
      Describe(r), " not taken by the target after ", r.attempts, " attempt(s): ", r.last_error,
      "; retried in the background",
      queue_.size() > 1 ? absl::StrCat(" (", queue_.size() - 1, " more queued)") : std::string());
}

void FlushRetrier::Work() {
  std::unique_lock l(mu_);
  auto backoff = opts_.init_backoff;
  while (!stop_) {
    if (queue_.empty()) {
      cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
      backoff = opts_.init_backoff;
      continue;
    }
    if (queue_.front().attempts > 0 && cv_.wait_for(l, backoff, [this] { return stop_; })) break;
    Request attempt = queue_.front();
    l.unlock();
    Status s = target_->Flush(attempt.db, attempt.req, attempt.ts);
    l.lock();
    if (stop_) break;
    Request& r = queue_.front();
    ++r.attempts;
    const auto waited = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::steady_clock::now() - r.since);
    if (s.ok()) {
      if (r.attempts > 1) {
        spdlog::info("task {}: {} taken by the target after {} attempts ({} s)", task_id_,
                     Describe(r), r.attempts, waited.count());
      }
      gave_up_.clear();
    } else {
      r.last_error = std::string(s.message());
      const bool expired = waited >= opts_.give_up_after;
      if (IsRetryable(s) && !expired) {
        if (r.attempts == 1) {
          spdlog::warn(
              "task {}: {} not taken by the target yet ({}); retrying it in the background "
              "while later changes go on",
              task_id_, Describe(r), r.last_error);
        }
        backoff = r.attempts == 1 ? opts_.init_backoff : std::min(backoff * 2, opts_.max_backoff);
        continue;
      }
      gave_up_ = absl::StrCat("gave up ", Describe(r), " after ", r.attempts, " attempts in ",
                              waited.count(), " s: ", r.last_error,
                              " (a Flush carries no data; the target seals the segments itself)");
      spdlog::error("task {}: {}", task_id_, gave_up_);
    }
    queue_.pop_front();
    backoff = opts_.init_backoff;
  }
}

void FlushRetrier::Stop() {
  std::thread worker;
  {
    std::lock_guard l(mu_);
    stop_ = true;
    for (const auto& r : queue_)
      spdlog::warn("task {}: stopping with {} still not taken by the target ({}); not sent",
                   task_id_, Describe(r), r.last_error);
    queue_.clear();
    cv_.notify_all();
    worker = std::move(worker_);
  }
  if (worker.joinable()) worker.join();
}

}  // namespace cdc::replicate
