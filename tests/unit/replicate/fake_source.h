#pragma once
// In-memory source for pipeline tests: FakeBroker holds one append-only log per channel
// (offsets like a Kafka partition 0); FakeReader reads it through the real source::Packer,
// so packs, positions and the resume rule are the production ones. FakeCatalog is an
// in-memory CatalogView. Thread-safe (the broker is shared by the test and reader threads).
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "replicate/catalog_view.h"
#include "source/channel_reader.h"
#include "source/packer.h"

namespace cdc::testing {

class FakeBroker {
 public:
  // Appends a serialized message; returns its offset.
  int64_t Append(const std::string& channel, std::string payload);
  // Message at `offset`, or nullopt past the end.
  std::optional<source::Message> Read(const std::string& channel, int64_t offset) const;
  int64_t End(const std::string& channel) const;
  // As source::Broker::LatestPositions: each channel's last message (offset and its own ts),
  // or offset 0 with ts 0 for an empty channel.
  Result<std::map<std::string, source::MsgPosition>> LatestPositions(
      const std::vector<std::string>& channels) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::vector<std::shared_ptr<const std::string>>> logs_;
};

class FakeReader final : public source::ChannelReader {
 public:
  FakeReader(FakeBroker* broker, std::string channel, source::ChannelKind kind)
      : broker_(broker), channel_(std::move(channel)), kind_(kind) {}
  Status Start(const source::StartPosition& start) override;
  Result<std::optional<source::Pack>> Next(std::chrono::milliseconds timeout) override;
  // packs handed out, messages dropped by the filter and the reason set (any thread).
  source::ReaderStats stats() const override {
    source::ReaderStats s;
    s.packs = packs_.load();
    s.filtered = filtered_.load();
    std::lock_guard l(reason_mu_);
    s.reason = reason_;
    return s;
  }
  // What a real reader reports while its broker is down ("" = healthy).
  void set_reason(std::string reason) {
    std::lock_guard l(reason_mu_);
    reason_ = std::move(reason);
  }
  int64_t MessagesAfter(const source::MsgPosition& position) const override;
  void Close() override {}
  const std::string& channel() const override { return channel_; }

 private:
  FakeBroker* broker_;
  std::string channel_;
  source::ChannelKind kind_;
  int64_t cursor_ = 0;
  std::unique_ptr<source::Packer> packer_;
  std::unique_ptr<source::SingleMessagePacker> single_;
  std::atomic<uint64_t> packs_{0};
  std::atomic<uint64_t> filtered_{0};
  mutable std::mutex reason_mu_;
  std::string reason_;
};

// In-memory CatalogView. With set_lagging(true) it behaves like a watch that is behind etcd:
// what Put/Remove change becomes visible only at the next Sync(), which is what the pipeline
// must call before it decides about a message (the catalog watermark).
class FakeCatalog final : public replicate::CatalogView {
 public:
  void Put(replicate::CollectionMeta c);
  // Dropped on the source: GetCollection still answers it with `dropped` set.
  void Remove(int64_t id);
  // While unavailable, every read fails as an unreachable etcd would; making it available again
  // tells the OnChange listener, as the real catalog does after an outage.
  void set_unavailable(bool v);
  void set_lagging(bool v);
  int syncs() const;

  Status Sync() override;
  int64_t Revision() override;
  Result<std::vector<replicate::CollectionMeta>> ListCollections() override;
  Result<std::optional<replicate::CollectionMeta>> GetCollection(int64_t id) override;
  Result<std::optional<replicate::PartitionMeta>> GetPartition(int64_t collection_id,
                                                               int64_t partition_id) override;
  // The source's load state (absent: not loaded) and clock, as etcd would answer them.
  void SetLoad(int64_t id, std::optional<replicate::LoadInfo> load);
  void set_clock(uint64_t ts);
  Result<std::map<int64_t, replicate::LoadInfo>> LoadStates() override;
  uint64_t SourceNow() override;  // set_clock's, else the wall clock
  void OnChange(const std::function<void()>& fn) override;

 private:
  void ApplyLocked(const replicate::CollectionMeta& c, bool remove);
  mutable std::mutex mu_;
  bool unavailable_ = false;
  bool lagging_ = false;
  int syncs_ = 0;
  int64_t revision_ = 1;
  std::vector<std::pair<replicate::CollectionMeta, bool>> pending_;  // (meta, removed)
  std::map<int64_t, replicate::CollectionMeta> colls_;
  std::map<int64_t, replicate::CollectionMeta> dropped_;
  std::map<int64_t, replicate::LoadInfo> loads_;
  uint64_t clock_ = 0;
  std::function<void()> on_change_;
};

}  // namespace cdc::testing
