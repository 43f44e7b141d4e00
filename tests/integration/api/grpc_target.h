#pragma once
// A trivial gRPC server on 127.0.0.1 (a free port) standing in for a replication-ready target
// (ttMsgEnabled false) in API tests: MilvusService/GetVersion answers a version and
// ReplicateMessage success with a position (what create's readiness probe asks); every other
// method answers UNIMPLEMENTED. The real Milvus target is proven by the
// end-to-end suite. Starts in the constructor, stops in the
// destructor; not copyable.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
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
    poller_ = std::thread([this] { Serve(); });
  }
  ~GrpcTarget() {
    {
      std::lock_guard lock(mu_);
      shutting_down_ = true;
    }
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
  struct Call {
    grpc::GenericServerContext ctx;
    grpc::GenericServerAsyncReaderWriter stream{&ctx};
    grpc::ByteBuffer request;
    int stage = 0;  // 0 accepted, 1 read, 2 finished
  };
  // A response whose field 2 is `text` and whose status is omitted (= ok):
  // ReplicateMessageResponse.position or GetVersionResponse.version.
  static grpc::ByteBuffer Field2Answer(const std::string& text) {
    std::string bytes = std::string("\x12") + static_cast<char>(text.size()) + text;
    grpc::Slice slice(bytes);
    return grpc::ByteBuffer(&slice, 1);
  }
  // Asks for the next call unless the server is shutting down (then `c` is dropped).
  void Next(Call* c) {
    std::lock_guard lock(mu_);
    if (shutting_down_) {
      delete c;
      return;
    }
    service_.RequestCall(&c->ctx, &c->stream, cq_.get(), cq_.get(), c);
  }
  void Serve() {
    if (!server_) return;
    Next(new Call);
    void* tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
      auto* c = static_cast<Call*>(tag);
      if (!ok) {  // shutting down, or the client went away
        delete c;
        continue;
      }
      if (c->stage == 0) {
        Next(new Call);
        c->stage = 1;
        c->stream.Read(&c->request, c);
      } else if (c->stage == 1) {
        c->stage = 2;
        const std::string& m = c->ctx.method();
        if (m == "/milvus.proto.milvus.MilvusService/ReplicateMessage") {
          // base64 of an 8-byte msg id
          c->stream.WriteAndFinish(Field2Answer("AQAAAAAAAAA="), grpc::WriteOptions(),
                                   grpc::Status::OK, c);
        } else if (m == "/milvus.proto.milvus.MilvusService/GetVersion") {
          c->stream.WriteAndFinish(Field2Answer("v2.3.5-fake"), grpc::WriteOptions(),
                                   grpc::Status::OK, c);
        } else {
          c->stream.Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "fake target"), c);
        }
      } else {
        delete c;
      }
    }
  }

  std::mutex mu_;
  bool shutting_down_ = false;  // guarded by mu_
  int port_ = 0;
  grpc::AsyncGenericService service_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::thread poller_;
};

}  // namespace cdc::testing
