#pragma once
// A trivial gRPC server on 127.0.0.1 (a free port) that answers the HTTP/2 handshake and
// nothing else: enough for milvus-cdc's "does the target answer" check in tests. The real
// Milvus target is proven by the end-to-end suite. Starts in the constructor, stops in the
// destructor; not copyable.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>

namespace cdc::testing {

class GrpcTarget {
 public:
  GrpcTarget() : GrpcTarget(grpc::InsecureServerCredentials()) {}
  // With TLS (or mutual TLS) credentials, e.g. grpc::SslServerCredentials(...).
  explicit GrpcTarget(std::shared_ptr<grpc::ServerCredentials> creds) {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", creds, &port_);
    b.RegisterAsyncGenericService(&service_);  // a server needs at least one service
    cq_ = b.AddCompletionQueue();
    server_ = b.BuildAndStart();
    // An async server makes progress (accepts, HTTP/2 handshakes) only while some thread polls
    // its completion queue.
    poller_ = std::thread([this] {
      void* tag;
      bool ok;
      while (cq_->Next(&tag, &ok)) {
      }
    });
  }
  ~GrpcTarget() {
    if (server_) server_->Shutdown();
    cq_->Shutdown();
    poller_.join();
  }
  GrpcTarget(const GrpcTarget&) = delete;
  GrpcTarget& operator=(const GrpcTarget&) = delete;

  bool ok() const { return server_ != nullptr && port_ > 0; }
  int port() const { return port_; }
  std::string uri() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int port_ = 0;
  grpc::AsyncGenericService service_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::thread poller_;
};

}  // namespace cdc::testing
