#pragma once
// MemoryChannelReader: a source::ChannelReader over payloads held in memory (offsets 0..n-1,
// positions as Kafka's), packed by the same ChannelPacker the broker readers use. For unit tests
// of code built on ChannelReader. Append() may be called while reading. Thread-safe.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

#include "source/channel_reader.h"
#include "source/packer.h"
#include "source/position.h"

namespace cdc::testing {

class MemoryChannelReader final : public source::ChannelReader {
 public:
  MemoryChannelReader(std::string channel, source::ChannelKind kind = source::ChannelKind::kDml);

  // Adds one record at the next offset.
  void Append(std::string payload);

  Status Start(const source::StartPosition& start) override;
  Result<std::optional<source::Pack>> Next(std::chrono::milliseconds timeout) override;
  source::ReaderStats stats() const override;
  void Close() override;
  const std::string& channel() const override { return channel_; }

 private:
  // Feeds records not yet fed to the packer; returns the first pack completed.
  std::optional<source::Pack> Pump();

  const std::string channel_;
  const source::ChannelKind kind_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<const std::string>> records_;
  size_t next_ = 0;
  bool started_ = false;
  bool closed_ = false;
  std::unique_ptr<source::ChannelPacker> packer_;
  std::deque<source::Pack> ready_;
  source::ReaderStats stats_;
};

}  // namespace cdc::testing
