#include "etcd/watcher.h"

#include "absl/strings/str_cat.h"
#include "common/thread_name.h"
#include "etcd/convert.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"
#include "spdlog/spdlog.h"

namespace cdc::etcd {

Watcher::Watcher(std::shared_ptr<Connection> conn, std::string key, WatchOptions opts,
                 EventsFn on_events, ErrorFn on_error)
    : conn_(std::move(conn)),
      key_(std::move(key)),
      opts_(std::move(opts)),
      on_events_(std::move(on_events)),
      on_error_(std::move(on_error)),
      next_revision_(opts_.start_revision) {}

Watcher::~Watcher() { Stop(); }

std::string Watcher::Describe(size_t endpoint) const {
  return absl::StrCat("watch ", opts_.prefix ? "prefix " : "", "'", key_, "'");
}

Status Watcher::Start() {
  thread_ = std::thread([this] { Run(); });
  std::unique_lock lock(mu_);
  bool ready =
      cv_.wait_for(lock, conn_->options().dial_timeout, [this] { return created_ || done_; });
  if (created_) return OkStatus();
  Status err = done_ ? status_ : last_error_;
  lock.unlock();
  Stop();
  if (err.ok() || !ready) {
    if (err.ok()) {
      err = DeadlineExceededError(absl::StrCat("etcd ", conn_->endpoint(conn_->current()), ": ",
                                               Describe(0), ": not confirmed within ",
                                               conn_->options().dial_timeout.count(), "ms"));
    }
  }
  return err;
}

void Watcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (ctx_ != nullptr) ctx_->TryCancel();
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

Status Watcher::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

int64_t Watcher::last_revision() const {
  std::lock_guard lock(mu_);
  return next_revision_ - 1;
}

void Watcher::SleepBackoff(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopping_; });
}

void Watcher::Finish(const Status& terminal) {
  {
    std::lock_guard lock(mu_);
    status_ = terminal;
    done_ = true;
  }
  cv_.notify_all();
  if (on_error_) on_error_(terminal);
}

void Watcher::Run() {
  NameThread("etcd-watch");
  auto backoff = std::chrono::milliseconds(100);
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    size_t endpoint = conn_->current();
    bool confirmed = false;
    Status s = RunStream(endpoint, &confirmed);
    if (!s.ok()) {
      Finish(s);
      return;
    }
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      if (confirmed) backoff = std::chrono::milliseconds(100);  // it worked for a while
    }
    reconnects_.fetch_add(1);
    SleepBackoff(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

Status Watcher::RunStream(size_t endpoint, bool* confirmed) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  Status prep = conn_->PrepareStreamContext(endpoint, ctx.get());
  if (!prep.ok()) {
    if (prep.code() != StatusCode::kUnavailable && prep.code() != StatusCode::kDeadlineExceeded) {
      return prep;  // bad credentials: retrying will not help
    }
    std::lock_guard lock(mu_);
    last_error_ = prep;
    conn_->Failover(endpoint);
    return OkStatus();
  }
  int64_t start;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return OkStatus();
    ctx_ = ctx.get();
    start = next_revision_;
  }
  auto stub = etcdserverpb::Watch::NewStub(conn_->channel(endpoint));
  auto stream = stub->Watch(ctx.get());
  etcdserverpb::WatchRequest req;
  auto* create = req.mutable_create_request();
  create->set_key(key_);
  if (opts_.prefix) create->set_range_end(PrefixEnd(key_));
  create->set_start_revision(start);
  create->set_prev_kv(opts_.prev_kv);
  create->set_progress_notify(true);
  stream->Write(req);

  Status terminal;
  bool reauth = false;
  etcdserverpb::WatchResponse resp;
  while (stream->Read(&resp)) {
    if (resp.canceled()) {
      if (resp.compact_revision() > 0) {
        terminal = OutOfRangeError(absl::StrCat(
            "etcd ", conn_->endpoint(endpoint), ": ", Describe(endpoint), ": revision ", start,
            " was compacted (oldest available ", resp.compact_revision(),
            "); re-list and watch again from the listed revision"));
      } else if (Connection::IsTokenError(resp.cancel_reason())) {
        reauth = true;
      } else {
        terminal = absl::PermissionDeniedError(
            absl::StrCat("etcd ", conn_->endpoint(endpoint), ": ", Describe(endpoint),
                         ": canceled by etcd: ", resp.cancel_reason()));
      }
      ctx->TryCancel();
      break;
    }
    if (resp.created()) {
      *confirmed = true;
      conn_->MarkHealthy(endpoint);
      {
        std::lock_guard lock(mu_);
        if (next_revision_ == 0) next_revision_ = resp.header().revision() + 1;
        created_ = true;
        last_error_ = OkStatus();
      }
      cv_.notify_all();
      if (reconnects_.load() > 0 && opts_.on_resumed) opts_.on_resumed();
    }
    if (resp.events_size() > 0) {
      std::vector<Event> events;
      events.reserve(resp.events_size());
      for (const auto& ev : resp.events()) events.push_back(internal::FromProto(ev));
      int64_t rev = events.back().kv.mod_revision;
      {
        std::lock_guard lock(mu_);
        next_revision_ = rev + 1;
      }
      if (on_events_) on_events_(events, rev);
    } else if (!resp.created() && resp.header().revision() > 0) {
      // Progress notification: every event up to header.revision was delivered.
      std::lock_guard lock(mu_);
      next_revision_ = std::max(next_revision_, resp.header().revision() + 1);
    }
  }
  grpc::Status fin = stream->Finish();
  bool stopping;
  {
    std::lock_guard lock(mu_);
    ctx_ = nullptr;
    stopping = stopping_;
  }
  if (!terminal.ok()) return terminal;
  if (stopping) return OkStatus();
  if (reauth || Connection::IsTokenError(fin)) {
    conn_->InvalidateToken();
    return OkStatus();
  }
  if (fin.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    return conn_->MapError(fin, endpoint, Describe(endpoint));
  }
  Status err =
      conn_->MapError(fin.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream ended") : fin,
                      endpoint, Describe(endpoint));
  // Loud once per outage, quiet while it lasts.
  if (*confirmed || reconnects_.load() == 0) {
    spdlog::warn("{}; re-establishing from revision {}", std::string(err.message()),
                 last_revision() + 1);
  } else {
    spdlog::debug("{}; still re-establishing", std::string(err.message()));
  }
  {
    std::lock_guard lock(mu_);
    last_error_ = err;
  }
  if (fin.error_code() == grpc::StatusCode::UNAVAILABLE || fin.ok()) conn_->Failover(endpoint);
  return OkStatus();
}

}  // namespace cdc::etcd
