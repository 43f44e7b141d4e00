#include "source/packer.h"

#include <unordered_set>

namespace cdc::source {
namespace {
namespace common = milvus::proto::common;

bool IsDml(int type) { return type == common::Insert || type == common::Delete; }
}  // namespace

Packer::Packer(std::string channel, std::string group, std::optional<MsgPosition> resume_from,
               std::shared_ptr<const CollectionFilter> filter)
    : channel_(std::move(channel)), group_(std::move(group)), filter_(std::move(filter)) {
  start_pos_.set_channel_name(channel_);
  if (resume_from.has_value()) {
    start_pos_ = *resume_from;
    seeking_ = true;
    seek_ts_ = resume_from->timestamp();
    last_ts_ = seek_ts_;
  }
}

void Packer::AddError(std::string error) { errors_.push_back(std::move(error)); }

std::optional<Pack> Packer::Add(Message msg) {
  const bool tick = msg.header.type == common::TimeTick;
  const uint64_t ts = msg.header.timestamp;
  if (!tick && filter_ != nullptr && msg.header.collection_id != 0 &&
      filter_->Ignored(msg.header.collection_id)) {
    ++filtered_;
    return std::nullopt;
  }
  if (seeking_) {
    if (tick && ts >= seek_ts_) {
      seeking_ = false;  // the tick itself is consumed by the seek
    } else if (!tick && ts > seek_ts_) {
      buffer_.push_back(std::move(msg));
    } else {
      ++skipped_;
    }
    return std::nullopt;
  }
  if (!tick) {
    buffer_.push_back(std::move(msg));
    return std::nullopt;
  }
  if (ts <= last_ts_) {
    // A stale tick does not close a pack; it can still serve as the next end position.
    ++skipped_;
    return std::nullopt;
  }
  Pack pack;
  pack.channel = channel_;
  pack.begin_ts = last_ts_;
  pack.end_ts = ts;
  pack.start_position = start_pos_;
  pack.errors = std::move(errors_);
  errors_.clear();
  std::vector<Message> rest;
  std::unordered_set<int64_t> seen;
  for (auto& m : buffer_) {
    if (m.header.timestamp > ts) {
      rest.push_back(std::move(m));
      continue;
    }
    if (IsDml(m.header.type) && !seen.insert(m.header.msg_id).second) {
      ++duplicates_;
      continue;
    }
    pack.msgs.push_back(std::move(m));
  }
  buffer_ = std::move(rest);
  MsgPosition end = buffer_.empty() ? msg.position : buffer_.front().position;
  end.set_channel_name(channel_);
  end.set_timestamp(ts);
  end.set_msggroup(group_);
  pack.end_position = end;
  start_pos_ = end;
  last_ts_ = ts;
  return pack;
}

SingleMessagePacker::SingleMessagePacker(std::string channel,
                                         std::optional<MsgPosition> resume_from)
    : channel_(std::move(channel)) {
  if (resume_from.has_value()) skip_ts_ = resume_from->timestamp();
}

std::optional<Pack> SingleMessagePacker::Add(Message msg) {
  if (msg.header.timestamp <= skip_ts_) {
    ++skipped_;
    return std::nullopt;
  }
  Pack pack;
  pack.channel = channel_;
  pack.begin_ts = pack.end_ts = msg.header.timestamp;
  pack.start_position = pack.end_position = msg.position;
  pack.end_position.set_timestamp(msg.header.timestamp);
  pack.start_position.set_timestamp(msg.header.timestamp);
  pack.msgs.push_back(std::move(msg));
  return pack;
}

std::optional<Pack> SingleMessagePacker::AddError(std::string error) {
  Pack pack;
  pack.channel = channel_;
  pack.errors.push_back(std::move(error));
  return pack;
}

ChannelPacker::ChannelPacker(ChannelKind kind, std::string channel, std::string group,
                             std::optional<MsgPosition> resume_from,
                             std::shared_ptr<const CollectionFilter> filter) {
  if (kind == ChannelKind::kDml) {
    dml_ = std::make_unique<Packer>(std::move(channel), std::move(group), std::move(resume_from),
                                    std::move(filter));
  } else {
    single_ = std::make_unique<SingleMessagePacker>(std::move(channel), std::move(resume_from));
  }
}

std::optional<Pack> ChannelPacker::Add(Message msg) {
  return dml_ ? dml_->Add(std::move(msg)) : single_->Add(std::move(msg));
}

std::optional<Pack> ChannelPacker::AddError(std::string error) {
  if (!dml_) return single_->AddError(std::move(error));
  dml_->AddError(std::move(error));
  return std::nullopt;
}

uint64_t ChannelPacker::skipped() const { return dml_ ? dml_->skipped() : single_->skipped(); }

uint64_t ChannelPacker::filtered() const { return dml_ ? dml_->filtered() : 0; }

}  // namespace cdc::source
