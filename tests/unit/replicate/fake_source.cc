#include "unit/replicate/fake_source.h"

#include <algorithm>

#include "source/position.h"

namespace cdc::testing {

int64_t FakeBroker::Append(const std::string& channel, std::string payload) {
  std::lock_guard l(mu_);
  auto& log = logs_[channel];
  log.push_back(std::make_shared<const std::string>(std::move(payload)));
  return static_cast<int64_t>(log.size()) - 1;
}

std::optional<source::Message> FakeBroker::Read(const std::string& channel, int64_t offset) const {
  std::lock_guard l(mu_);
  auto it = logs_.find(channel);
  if (it == logs_.end() || offset >= static_cast<int64_t>(it->second.size())) return std::nullopt;
  const auto& bytes = it->second[offset];
  source::Message m;
  m.owner = bytes;
  m.payload = *bytes;
  m.offset = offset;
  auto header = source::DecodeHeader(m.payload);
  if (header.ok()) m.header = *header;
  m.position = source::KafkaPosition(channel, offset, m.header.timestamp);
  return m;
}

int64_t FakeBroker::End(const std::string& channel) const {
  std::lock_guard l(mu_);
  auto it = logs_.find(channel);
  return it == logs_.end() ? 0 : static_cast<int64_t>(it->second.size());
}

int64_t FakeReader::MessagesAfter(const source::MsgPosition& position) const {
  auto off = source::DecodeKafkaMsgId(position.msgid());
  if (!off.ok()) return -1;
  return std::max<int64_t>(0, broker_->End(channel_) - (*off + 1));
}

Status FakeReader::Start(const source::StartPosition& start) {
  std::optional<source::MsgPosition> resume;
  switch (start.kind) {
    case source::StartPosition::Kind::kEarliest:
      cursor_ = 0;
      break;
    case source::StartPosition::Kind::kLatest:
      cursor_ = broker_->End(channel_);
      break;
    case source::StartPosition::Kind::kPosition: {
      auto off = source::DecodeKafkaMsgId(start.position.msgid());
      if (!off.ok()) return off.status();
      cursor_ = *off;
      resume = start.position;
      break;
    }
  }
  if (kind_ == source::ChannelKind::kDml) {
    packer_ = std::make_unique<source::Packer>(channel_, "fake", resume, filter_);
  } else {
    single_ = std::make_unique<source::SingleMessagePacker>(channel_, resume);
  }
  return OkStatus();
}

Result<std::optional<source::Pack>> FakeReader::Next(std::chrono::milliseconds) {
  while (auto m = broker_->Read(channel_, cursor_)) {
    ++cursor_;
    auto pack = packer_ ? packer_->Add(std::move(*m)) : single_->Add(std::move(*m));
    if (packer_) filtered_ = packer_->filtered();
    if (pack) {
      ++packs_;
      return pack;
    }
  }
  return std::optional<source::Pack>();
}

void FakeCatalog::Put(replicate::CollectionMeta c) {
  std::lock_guard l(mu_);
  colls_[c.id] = std::move(c);
}

void FakeCatalog::Remove(int64_t id) {
  std::lock_guard l(mu_);
  colls_.erase(id);
}

void FakeCatalog::set_unavailable(bool v) {
  std::lock_guard l(mu_);
  unavailable_ = v;
}

Result<std::vector<replicate::CollectionMeta>> FakeCatalog::ListCollections() {
  std::lock_guard l(mu_);
  if (unavailable_) return UnavailableError("source etcd 127.0.0.1:1: unreachable (fake)");
  std::vector<replicate::CollectionMeta> out;
  for (const auto& [_, c] : colls_) out.push_back(c);
  return out;
}

Result<std::optional<replicate::CollectionMeta>> FakeCatalog::GetCollection(int64_t id) {
  std::lock_guard l(mu_);
  if (unavailable_) return UnavailableError("source etcd 127.0.0.1:1: unreachable (fake)");
  auto it = colls_.find(id);
  if (it == colls_.end()) return std::optional<replicate::CollectionMeta>();
  return std::optional<replicate::CollectionMeta>(it->second);
}

}  // namespace cdc::testing
