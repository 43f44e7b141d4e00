#include "etcd/lease_keeper.h"

#include "absl/strings/str_cat.h"
#include "common/thread_name.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"
#include "spdlog/spdlog.h"

namespace cdc::etcd {

Result<int64_t> KeepAliveOnce(Connection& conn, int64_t id) {
  etcdserverpb::LeaseKeepAliveResponse resp;
  Status s = conn.Call(absl::StrCat("keep lease ", id, " alive"),
                       [&](const std::shared_ptr<grpc::Channel>& ch, grpc::ClientContext& ctx) {
                         auto stub = etcdserverpb::Lease::NewStub(ch);
                         auto stream = stub->LeaseKeepAlive(&ctx);
                         etcdserverpb::LeaseKeepAliveRequest req;
                         req.set_id(id);
                         stream->Write(req);
                         stream->WritesDone();
                         bool got = stream->Read(&resp);
                         grpc::Status fin = stream->Finish();
                         if (fin.ok() && !got) {
                           return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no answer");
                         }
                         return fin;
                       });
  RETURN_IF_ERROR(s);
  return resp.ttl();
}

LeaseKeeper::LeaseKeeper(std::shared_ptr<Connection> conn, int64_t id, int64_t ttl_seconds,
                         LostFn on_lost)
    : conn_(std::move(conn)),
      id_(id),
      interval_(std::max<int64_t>(ttl_seconds * 1000 / 3, 200)),
      on_lost_(std::move(on_lost)) {
  thread_ = std::thread([this] { Run(); });
}

LeaseKeeper::~LeaseKeeper() { Stop(); }

void LeaseKeeper::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

Status LeaseKeeper::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void LeaseKeeper::Run() {
  NameThread("etcd-lease");
  auto wait = std::chrono::milliseconds(0);
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, wait, [this] { return stopping_; })) return;
    }
    Result<int64_t> ttl = KeepAliveOnce(*conn_, id_);
    if (!ttl.ok()) {
      spdlog::warn("{}; retrying", std::string(ttl.status().message()));
      wait = std::min(interval_, std::chrono::milliseconds(1000));
      continue;
    }
    if (*ttl <= 0) {
      Status lost = NotFoundError(absl::StrCat("etcd lease ", id_, " expired or was revoked"));
      {
        std::lock_guard lock(mu_);
        status_ = lost;
      }
      if (on_lost_) on_lost_(lost);
      return;
    }
    wait = interval_;
  }
}

}  // namespace cdc::etcd
