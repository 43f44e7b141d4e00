#pragma once
// MemoryChannelReader: a ChannelReader over payloads held in memory (offsets 0..n-1), packed
// exactly like the Kafka reader packs them. For tests of code built on ChannelReader and for
// benchmarks without a broker. Append() may be called while reading. Thread-safe.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

#include "source/channel_reader.h"
#include "source/packer.h"

namespace cdc::source {

class MemoryChannelReader final : public ChannelReader {
 public:
  MemoryChannelReader(std::string channel, ChannelKind kind = ChannelKind::kDml);

  // Adds one record at the next offset.
  void Append(std::string payload);

  Status Start(const StartPosition& start) override;
  Result<std::optional<Pack>> Next(std::chrono::milliseconds timeout) override;
  ReaderStats stats() const override;
  void Close() override;
  const std::string& channel() const override { return channel_; }

 private:
  // Feeds records not yet fed to the packer; returns the first pack completed.
  std::optional<Pack> Pump();

  const std::string channel_;
  const ChannelKind kind_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<const std::string>> records_;
  size_t next_ = 0;
  bool started_ = false;
  bool closed_ = false;
  std::unique_ptr<Packer> packer_;
  std::unique_ptr<SingleMessagePacker> single_;
  std::deque<Pack> ready_;
  ReaderStats stats_;
};

}  // namespace cdc::source
