#include "replicate/target_writer.h"

#include <algorithm>

#include "common/hybrid_time.h"
#include "milvus/milvus.pb.h"
#include "replicate/wire_rewrite.h"

namespace cdc::replicate {

namespace mpb = ::milvus::proto::milvus;

Status TargetWriter::Add(const std::string& channel, std::string bytes, const source::Message& src,
                         int64_t collection_id, Round* round, std::map<int64_t, Status>* refused) {
  if (auto it = batches_.find(channel); it != batches_.end() && !it->second.msgs.empty() &&
                                        it->second.bytes + bytes.size() > max_batch_bytes_) {
    RETURN_IF_ERROR(FlushChannel(it->first, round, refused));
  }
  Batch& b = batches_[channel];
  if (b.msgs.empty()) b.first_msg_id = src.position.msgid();
  b.last_msg_id = src.position.msgid();
  b.bytes += bytes.size();
  b.collections.push_back(collection_id);
  b.ts.push_back(src.header.timestamp);
  b.positions.push_back(src.position);
  b.positions.back().set_timestamp(src.header.timestamp);
  const int rows_field =
      src.header.type == source::MsgType::Insert ? kInsertNumRows : kDeleteNumRows;
  b.rows.push_back(static_cast<uint64_t>(ReadVarintField(bytes, rows_field).value_or(0)));
  b.msgs.push_back(std::move(bytes));
  return OkStatus();
}

Status TargetWriter::FlushAll(Round* round, std::map<int64_t, Status>* refused) {
  while (!batches_.empty()) RETURN_IF_ERROR(FlushChannel(batches_.begin()->first, round, refused));
  return OkStatus();
}

Status TargetWriter::FlushChannel(const std::string& channel, Round* round,
                                  std::map<int64_t, Status>* refused) {
  auto it = batches_.find(channel);
  if (it == batches_.end()) return OkStatus();
  if (!it->second.msgs.empty()) {
    Status s = SendBatch(channel, it->second, round->w);
    if (!s.ok() && IsRetryable(s)) return s;  // the batch stays for the retry
    if (!s.ok()) RETURN_IF_ERROR(Split(channel, it->second, round->w, refused));
    round->changed = true;
    round->data_channels.insert(channel);
  }
  batches_.erase(it);
  return OkStatus();
}

uint64_t TickFloors::Get(const std::string& key) const {
  std::lock_guard l(mu_);
  auto it = floors_.find(key);
  return it == floors_.end() ? 0 : it->second;
}

void TickFloors::Raise(const std::string& key, uint64_t ts) {
  std::lock_guard l(mu_);
  uint64_t& f = floors_[key];
  f = std::max(f, ts);
}

std::mutex& TickFloors::Lock(const std::string& key) {
  std::lock_guard l(mu_);
  auto& m = locks_[key];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

std::unique_lock<std::mutex> TargetWriter::LockChannel(const std::string& channel) {
  if (!shared_) return {};
  return std::unique_lock<std::mutex>(shared_->Lock(shared_prefix_ + channel));
}

TargetWriter::TargetWriter(target::Client* target, size_t max_batch_bytes,
                           std::shared_ptr<TickFloors> shared)
    : target_(target), max_batch_bytes_(max_batch_bytes), shared_(std::move(shared)) {
  if (shared_) shared_prefix_ = target_->Describe() + "/";
}

uint64_t TargetWriter::OthersFloor(const std::string& channel) const {
  return shared_ ? shared_->Get(shared_prefix_ + channel) : 0;
}

uint64_t TargetWriter::Now() const { return now_ ? now_() : MsToHybrid(NowMs()); }

uint64_t TargetWriter::Stamp(const std::string& channel, uint64_t src, uint64_t others) {
  // A sink that records each message with its source position (the Kafka sink) gets the
  // source's timestamps as they are: no Milvus reads its channels.
  if (target_->PositionPerMessage()) return src;
  ChannelClock& c = clocks_[channel];
  const uint64_t floor = std::max(c.floor, others);
  uint64_t out = src;
  if (c.last_src != 0 && src == c.last_src && c.last_out > others) {
    out = c.last_out;  // the same source time goes out as the same time
  } else if (src <= floor) {
    // Just above: the next tick on the channel (this task's or another's) shows it, and the
    // messages after it leave the floor as soon as their own time passes it.
    out = floor + 1;
  }
  if (out != src) ++restamped_;
  c.floor = std::max(c.floor, out);
  c.last_src = src;
  c.last_out = out;
  return out;
}

Result<std::vector<std::string>> TargetWriter::Stamped(
    const std::string& channel, const std::vector<std::string>& msgs,
    const std::vector<uint64_t>& src_ts, bool dml, std::vector<uint64_t>* out_ts,
    std::vector<source::MsgPosition>* positions) {
  std::vector<std::string> out;
  out.reserve(msgs.size());
  const uint64_t others = OthersFloor(channel);
  for (size_t i = 0; i < msgs.size(); ++i) {
    const uint64_t ts = Stamp(channel, src_ts[i], others);
    out_ts->push_back(ts);
    if (ts == src_ts[i]) {
      out.push_back(msgs[i]);
      continue;
    }
    ASSIGN_OR_RETURN(auto restamped, Restamp(msgs[i], ts, dml));
    out.push_back(std::move(restamped));
    if (i < positions->size()) (*positions)[i].set_timestamp(ts);
  }
  return out;
}

Status TargetWriter::SendBatch(const std::string& channel, const Batch& b, uint64_t round_w) {
  std::vector<uint64_t> sent_ts;
  std::vector<source::MsgPosition> positions = b.positions;
  auto lock = LockChannel(channel);
  ASSIGN_OR_RETURN(auto msgs, Stamped(channel, b.msgs, b.ts, /*dml=*/true, &sent_ts, &positions));
  const uint64_t max_ts = *std::max_element(sent_ts.begin(), sent_ts.end());
  const uint64_t min_ts = *std::min_element(sent_ts.begin(), sent_ts.end());
  RETURN_IF_ERROR(Send(channel, std::move(msgs), std::min(last_tick_[channel], min_ts),
                       std::max(round_w, max_ts), b.first_msg_id, b.last_msg_id, positions));
  Acked(b);
  return OkStatus();
}

Result<uint64_t> TargetWriter::SendFresh(const std::string& channel, std::vector<std::string> msgs,
                                         uint64_t planned_ts) {
  if (target_->PositionPerMessage()) {  // a sink: as planned (see Stamp)
    RETURN_IF_ERROR(Send(channel, std::move(msgs), planned_ts, planned_ts, "", ""));
    return planned_ts;
  }
  auto lock = LockChannel(channel);
  ChannelClock& c = clocks_[channel];
  const uint64_t ts = std::max(std::max(c.floor, OthersFloor(channel)) + 1, Now());
  c.floor = ts;
  c.last_src = 0;
  c.last_out = ts;
  for (auto& m : msgs) {
    ASSIGN_OR_RETURN(m, Restamp(m, ts, /*dml=*/true));
  }
  restamped_ += msgs.size();
  RETURN_IF_ERROR(Send(channel, std::move(msgs), ts, ts, "", ""));
  return ts;
}

// The batch was refused for good: send each collection's messages alone and report the
// collections the target refuses. A retryable error on the way is returned as it is.
Status TargetWriter::Split(const std::string& channel, const Batch& b, uint64_t round_w,
                           std::map<int64_t, Status>* refused) {
  std::set<int64_t> ids(b.collections.begin(), b.collections.end());
  for (int64_t id : ids) {
    if (refused->count(id)) continue;
    Batch one;
    for (size_t i = 0; i < b.msgs.size(); ++i) {
      if (b.collections[i] != id) continue;
      one.msgs.push_back(b.msgs[i]);
      one.collections.push_back(id);
      one.ts.push_back(b.ts[i]);
      one.rows.push_back(b.rows[i]);
      one.positions.push_back(b.positions[i]);
    }
    one.first_msg_id = b.first_msg_id;
    one.last_msg_id = b.last_msg_id;
    Status s = SendBatch(channel, one, round_w);
    if (s.ok()) continue;
    if (IsRetryable(s)) return s;
    (*refused)[id] = s;
  }
  return OkStatus();
}

Status TargetWriter::SendToEach(const std::set<std::string>& channels, const std::string& bytes,
                                const source::Message& src, Round* round) {
  for (const auto& t : channels) {
    std::vector<uint64_t> sent_ts;
    std::vector<source::MsgPosition> positions = {src.position};
    auto lock = LockChannel(t);
    ASSIGN_OR_RETURN(auto msgs, Stamped(t, {bytes}, {src.header.timestamp}, /*dml=*/false, &sent_ts,
                                        &positions));
    RETURN_IF_ERROR(Send(t, std::move(msgs), std::min(last_tick_[t], sent_ts[0]), sent_ts[0],
                         src.position.msgid(), src.position.msgid(), positions));
    round->data_channels.insert(t);
  }
  round->changed = true;
  return OkStatus();
}

Status TargetWriter::SendTicks(uint64_t w, const std::set<std::string>& in_use, bool force,
                               const Round& round, std::chrono::milliseconds idle_tick) {
  const std::string tick = MakeTimeTick(w);
  std::set<std::string> channels = in_use;
  for (const auto& [t, _] : last_tick_) channels.insert(t);
  for (const auto& t : channels) {
    uint64_t& last = last_tick_[t];
    if (w <= last) continue;
    const bool due = force || round.data_channels.count(t) || last == 0 ||
                     HybridToMs(w) - HybridToMs(last) >= idle_tick.count();
    if (!due) continue;
    auto lock = LockChannel(t);
    RETURN_IF_ERROR(Send(t, {tick}, last, w, "", ""));
    last = w;
    ChannelClock& c = clocks_[t];
    c.floor = std::max(c.floor, w);
    c.last_src = 0;  // a message after the tick is never stamped at or below it
    if (shared_) shared_->Raise(shared_prefix_ + t, w);
  }
  return OkStatus();
}

Status TargetWriter::Send(const std::string& channel, std::vector<std::string> msgs,
                          uint64_t begin_ts, uint64_t end_ts, const std::string& first_id,
                          const std::string& last_id,
                          const std::vector<source::MsgPosition>& positions) {
  mpb::ReplicateMessageRequest req;
  req.mutable_base()->mutable_replicateinfo()->set_isreplicate(true);
  req.set_channel_name(channel);
  // A collection set aside and resumed later sends messages older than the channel's last
  // tick: the range still starts at its smallest ts.
  req.set_begints(std::min(begin_ts, end_ts));
  req.set_endts(end_ts);
  const bool per_message = target_->PositionPerMessage() && positions.size() == msgs.size();
  for (auto& m : msgs) req.add_msgs(std::move(m));
  if (per_message) {
    for (const auto& p : positions) *req.add_startpositions() = p;
  } else {
    auto* sp = req.add_startpositions();
    sp->set_channel_name(channel);
    sp->set_msgid(first_id);
    sp->set_timestamp(req.begints());
  }
  auto* ep = req.add_endpositions();
  ep->set_channel_name(channel);
  ep->set_msgid(last_id);
  ep->set_timestamp(end_ts);
  ASSIGN_OR_RETURN(std::string pos, target_->ReplicateMessage(req));
  positions_[channel] = {pos, end_ts};
  return OkStatus();
}

void TargetWriter::Acked(const Batch& b) {
  for (size_t i = 0; i < b.collections.size(); ++i) {
    uint64_t& a = acked_[b.collections[i]];
    a = std::max(a, b.ts[i]);
    applied_.rows += b.rows[i];
    applied_.bytes += b.msgs[i].size();
  }
  applied_.messages += b.msgs.size();
}

}  // namespace cdc::replicate
