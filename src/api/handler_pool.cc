#include "api/handler_pool.h"

#include <exception>

#include "common/thread_name.h"
#include "spdlog/spdlog.h"

namespace cdc::api {

HandlerPool::HandlerPool(std::string name, int threads, size_t queue_limit)
    : name_(std::move(name)), queue_limit_(queue_limit) {
  threads_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      NameThread(name_);
      Run();
    });
  }
}

HandlerPool::~HandlerPool() { Shutdown(); }

bool HandlerPool::Submit(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || jobs_.size() >= queue_limit_) return false;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void HandlerPool::Shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

size_t HandlerPool::queued() const {
  std::lock_guard lock(mu_);
  return jobs_.size();
}

void HandlerPool::Run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping and drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      spdlog::error("{} pool: a request handler threw: {}", name_, e.what());
    } catch (...) {
      spdlog::error("{} pool: a request handler threw a non-standard exception", name_);
    }
  }
}

}  // namespace cdc::api
