#pragma once
// A scripted Pulsar broker on 127.0.0.1 for unit tests of the client's behaviour where a real
// broker cannot be made to misbehave: requests that are never answered, corrupt frames, PINGs.
// It speaks just enough of the protocol (CONNECT, LOOKUP, PARTITIONED_METADATA, SUBSCRIBE,
// FLOW, SEEK, GET_LAST_MESSAGE_ID, CLOSE_CONSUMER, PING/PONG). One thread serves one
// connection at a time; the destructor stops it.
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pulsar/frame.h"

namespace cdc::pulsar::testing {

struct FakeMessage {
  std::string payload;
  bool corrupt_checksum = false;
};

class FakeBroker {
 public:
  FakeBroker();
  ~FakeBroker();

  std::string url() const { return "pulsar://127.0.0.1:" + std::to_string(port_); }

  // Behaviour switches (set before the client connects).
  std::atomic<bool> answer_seek{true};
  std::atomic<bool> answer_connect{true};
  std::atomic<bool> ping_after_connect{false};
  std::vector<FakeMessage> messages;  // delivered after the first FLOW, entries 0..n-1

  std::atomic<int> pongs_received{0};
  std::atomic<int> seeks_received{0};

 private:
  void Serve();
  void Handle(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace cdc::pulsar::testing
