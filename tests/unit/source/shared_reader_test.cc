#include "source/shared_reader.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "mocks/memory_channel_reader.h"
#include "source/vchannel.h"
#include "tools/sim/messages.h"

namespace cdc::source {
namespace {
using cdc::testing::MemoryChannelReader;
using namespace std::chrono_literals;
const char* kChan = "by-dev-rootcoord-dml_0";

std::string Ins(int64_t coll, uint64_t ts, int64_t msg_id) {
  sim::CollectionSpec c;
  c.id = coll;
  c.dim = 2;
  return sim::MakeInsert(c, {.partition_id = coll + 1,
                             .vchannel = MakeVChannel(kChan, coll, 0),
                             .ts = ts,
                             .msg_id = msg_id})
      .SerializeAsString();
}
std::string Tick(uint64_t ts) { return sim::MakeTimeTick(ts).SerializeAsString(); }

std::unique_ptr<MemoryChannelReader> Stream(int ticks) {
  auto r = std::make_unique<MemoryChannelReader>(kChan);
  uint64_t ts = 10;
  for (int i = 0; i < ticks; ++i) {
    r->Append(Ins(100, ts++, 2 * i));
    r->Append(Ins(200, ts++, 2 * i + 1));
    r->Append(Tick(ts++));
  }
  return r;
}

TEST(MemoryReader, StartKinds) {
  auto r = Stream(3);
  ASSERT_TRUE(r->Start(StartPosition::At(KafkaPosition(kChan, 3, 12))).ok());
  // As Milvus's seek: skip until the first tick at or after ts 12 (offset 5, ts 15), which
  // the seek consumes; the messages kept on the way join the next window (ends at 18).
  auto p = r->Next(10ms);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->begin_ts, 12u);
  EXPECT_EQ((*p)->end_ts, 18u);
  ASSERT_EQ((*p)->msgs.size(), 4u);
  EXPECT_EQ((*p)->msgs[0].offset, 3);
  auto latest = Stream(3);
  ASSERT_TRUE(latest->Start(StartPosition::Latest()).ok());
  auto none = latest->Next(10ms);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  latest->Append(Tick(100));
  auto one = latest->Next(10ms);
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->end_ts, 100u);
  EXPECT_FALSE(Stream(1)->Next(1ms).ok());  // not started
}

// One in-memory channel that every reader opened on it reads (as the topic of a broker).
class Log {
 public:
  void Append(std::string payload) {
    std::lock_guard<std::mutex> l(mu_);
    records_.push_back(payload);
    for (auto* r : live_) r->Append(payload);
  }
  // Ticks with inserts of collections 100 and 200 between them (msg ids from next_id_).
  void AppendTicks(int ticks) {
    for (int i = 0; i < ticks; ++i) {
      Append(Ins(100, ts_++, next_id_++));
      Append(Ins(200, ts_++, next_id_++));
      Append(Tick(ts_++));
    }
  }
  int64_t ids() const { return next_id_; }
  int64_t records() {
    std::lock_guard<std::mutex> l(mu_);
    return static_cast<int64_t>(records_.size());
  }
  size_t live() {
    std::lock_guard<std::mutex> l(mu_);
    return live_.size();
  }
  int opened() const { return opened_; }

  SharedReaders::Opener Opener() {
    return [this](const ReaderOptions& o) -> Result<std::unique_ptr<ChannelReader>> {
      ++opened_;
      return std::unique_ptr<ChannelReader>(std::make_unique<Reader>(this, o.channel, o.kind));
    };
  }

 private:
  // A MemoryChannelReader holding every record so far and what is appended while it lives.
  class Reader final : public ChannelReader {
   public:
    Reader(Log* log, const std::string& channel, ChannelKind kind) : log_(log), r_(channel, kind) {
      std::lock_guard<std::mutex> l(log_->mu_);
      for (const auto& p : log_->records_) r_.Append(p);
      log_->live_.insert(&r_);
    }
    ~Reader() override {
      std::lock_guard<std::mutex> l(log_->mu_);
      log_->live_.erase(&r_);
    }
    Status Start(const StartPosition& start) override {
      r_.SetFilter(filter_);
      return r_.Start(start);
    }
    Result<std::optional<Pack>> Next(std::chrono::milliseconds timeout) override {
      return r_.Next(timeout);
    }
    ReaderStats stats() const override { return r_.stats(); }
    void Close() override { r_.Close(); }
    const std::string& channel() const override { return r_.channel(); }

   private:
    Log* log_;
    MemoryChannelReader r_;
  };

  std::mutex mu_;
  std::vector<std::string> records_;
  std::set<MemoryChannelReader*> live_;
  uint64_t ts_ = 10;
  int64_t next_id_ = 0;
  std::atomic<int> opened_{0};
};

// Reads `member` until no pack comes for `quiet`; checks that each pack starts where the one
// before ended and records the msg ids seen (each must come once).
void ReadAll(ChannelReader& member, std::vector<int64_t>* ids, std::optional<MsgPosition>* last,
             std::chrono::milliseconds quiet = 300ms) {
  while (true) {
    auto p = member.Next(quiet);
    ASSERT_TRUE(p.ok()) << p.status().message();
    if (!p->has_value()) return;
    const Pack& pack = **p;
    if (last->has_value()) {
      EXPECT_EQ(pack.start_position.msgid(), (*last)->msgid());
      EXPECT_EQ(pack.start_position.timestamp(), (*last)->timestamp());
    }
    *last = pack.end_position;
    for (const auto& m : pack.msgs) ids->push_back(m.header.msg_id);
  }
}

std::vector<int64_t> Range(int64_t from, int64_t to, int step = 1) {
  std::vector<int64_t> v;
  for (int64_t i = from; i < to; i += step) v.push_back(i);
  return v;
}

SharedReadersOptions Small() {
  SharedReadersOptions o;
  o.owner = "server-1";
  o.reopen_delay = 10ms;
  return o;
}

// A channel (log), the server's shared readers over it, and a task reader's options.
class SharedReadersTest : public ::testing::Test {
 protected:
  SharedReadersTest() { o.channel = kChan; }
  Log log;
  SharedReaders shared{log.Opener(), Small()};
  ReaderOptions o;
};

TEST_F(SharedReadersTest, AMemberReadsAloneFromItsStartThenJoinsWithoutLossOrRepeat) {
  log.AppendTicks(5);
  auto a = shared.Open(o);
  ASSERT_TRUE(a->Start(StartPosition::Earliest()).ok());  // behind: the shared reader is at the end
  std::vector<int64_t> ids;
  std::optional<MsgPosition> last;
  for (int round = 0; round < 20 && shared.stats().joined == 0; ++round) {
    log.AppendTicks(1);
    ReadAll(*a, &ids, &last, 50ms);
  }
  EXPECT_EQ(shared.stats().joined, 1u);
  EXPECT_EQ(shared.stats().shared, 1u);
  log.AppendTicks(3);
  ReadAll(*a, &ids, &last);
  EXPECT_EQ(ids, Range(0, log.ids()));
  EXPECT_EQ(log.live(), 1u);  // its own reader closed; the shared one reads
  EXPECT_EQ(a->stats().packs, static_cast<uint64_t>(log.ids() / 2));
  a->Close();
  EXPECT_EQ(shared.stats().shared, 0u);
  EXPECT_EQ(log.live(), 0u);
}

TEST_F(SharedReadersTest, ManyMembersShareOneReaderEachWithItsOwnFilter) {
  std::vector<std::unique_ptr<ChannelReader>> members;
  auto only100 = std::make_shared<CollectionFilter>();
  only100->Ignore(200);
  for (int i = 0; i < 3; ++i) {
    members.push_back(shared.Open(o));
    if (i == 0) members.back()->SetFilter(only100);
    ASSERT_TRUE(members.back()->Start(StartPosition::Latest()).ok());
  }
  std::vector<std::vector<int64_t>> ids(3);
  std::vector<std::optional<MsgPosition>> last(3);
  for (int round = 0; round < 40 && shared.stats().joined < 3; ++round) {
    log.AppendTicks(1);
    for (int i = 0; i < 3; ++i) ReadAll(*members[i], &ids[i], &last[i], 20ms);
  }
  ASSERT_EQ(shared.stats().joined, 3u);
  EXPECT_EQ(log.live(), 1u);
  log.AppendTicks(5);
  for (int i = 0; i < 3; ++i) ReadAll(*members[i], &ids[i], &last[i]);
  // Each saw an unbroken run up to the end: the first only collection 100 (even ids).
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE(ids[i].empty()) << i;
    const int64_t first = ids[i].front();
    EXPECT_EQ(ids[i], Range(first, log.ids(), i == 0 ? 2 : 1)) << i;
  }
  EXPECT_GT(members[0]->stats().filtered, 0u);
  for (auto& m : members) m->Close();
  EXPECT_EQ(log.live(), 0u);
}

TEST_F(SharedReadersTest, AMemberWhoseQueueFillsLeavesAndComesBackWithoutLossOrRepeat) {
  o.max_queued_packs = 2;  // packs with data
  auto slow = shared.Open(o);
  auto fast = shared.Open(o);
  ASSERT_TRUE(slow->Start(StartPosition::Latest()).ok());
  ASSERT_TRUE(fast->Start(StartPosition::Latest()).ok());
  std::vector<int64_t> slow_ids, fast_ids;
  std::optional<MsgPosition> slow_last, fast_last;
  for (int round = 0; round < 40 && shared.stats().joined < 2; ++round) {
    log.AppendTicks(1);
    ReadAll(*slow, &slow_ids, &slow_last, 20ms);
    ReadAll(*fast, &fast_ids, &fast_last, 20ms);
  }
  ASSERT_EQ(shared.stats().joined, 2u);
  // The slow one stops taking packs: it leaves, and the fast one is never held up.
  for (int i = 0; i < 10; ++i) {
    log.AppendTicks(1);
    ReadAll(*fast, &fast_ids, &fast_last, 50ms);
  }
  EXPECT_EQ(fast_ids.back(), log.ids() - 1);
  EXPECT_EQ(shared.stats().leaves, 1u);
  EXPECT_EQ(shared.stats().joined, 1u);
  // It reads the rest on its own, then joins again.
  for (int round = 0; round < 40 && shared.stats().joined < 2; ++round) {
    log.AppendTicks(1);
    ReadAll(*slow, &slow_ids, &slow_last, 20ms);
    ReadAll(*fast, &fast_ids, &fast_last, 20ms);
  }
  EXPECT_EQ(shared.stats().joined, 2u);
  log.AppendTicks(2);
  ReadAll(*slow, &slow_ids, &slow_last);
  ReadAll(*fast, &fast_ids, &fast_last);
  ASSERT_FALSE(slow_ids.empty());
  EXPECT_EQ(slow_ids, Range(slow_ids.front(), log.ids()));
  EXPECT_EQ(fast_ids, Range(fast_ids.front(), log.ids()));
  EXPECT_GE(shared.stats().joins, 3u);
}

TEST_F(SharedReadersTest, AMemberStartedAtARecentPackEndJoinsAtOnce) {
  auto first = shared.Open(o);
  ASSERT_TRUE(first->Start(StartPosition::Latest()).ok());
  std::vector<int64_t> ids;
  std::optional<MsgPosition> last;
  for (int round = 0; round < 40 && shared.stats().joined < 1; ++round) {
    log.AppendTicks(1);
    ReadAll(*first, &ids, &last, 20ms);
  }
  ASSERT_EQ(shared.stats().joined, 1u);
  log.AppendTicks(3);
  // A second task resumes from a checkpoint two packs back: it takes the packs after it from
  // the shared reader's history, with no reader of its own for long.
  std::vector<Pack> packs;
  while (true) {
    auto p = first->Next(100ms);
    ASSERT_TRUE(p.ok());
    if (!p->has_value()) break;
    packs.push_back(std::move(**p));
  }
  ASSERT_EQ(packs.size(), 3u);
  auto second = shared.Open(o);
  ASSERT_TRUE(second->Start(StartPosition::At(packs[0].end_position)).ok());
  auto p = second->Next(1s);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->end_ts, packs[1].end_ts);
  EXPECT_EQ(shared.stats().joined, 2u);
  EXPECT_EQ(log.live(), 1u);
}

TEST_F(SharedReadersTest, AWakeUpNeverWaitsOnAConsumerThatReadsStatsUnderItsOwnLock) {
  // As the pipeline: its on-pack callback takes the lock under which it also reads stats().
  auto a = shared.Open(o);
  std::mutex consumer_mu;
  std::atomic<int> wakes{0};
  a->SetOnPack([&](bool) {
    std::lock_guard<std::mutex> l(consumer_mu);
    ++wakes;
  });
  ASSERT_TRUE(a->Start(StartPosition::Latest()).ok());
  std::atomic<bool> done{false};
  std::thread reporter([&] {
    while (!done) {
      std::lock_guard<std::mutex> l(consumer_mu);
      (void)a->stats();
    }
  });
  std::vector<int64_t> ids;
  std::optional<MsgPosition> last;
  for (int round = 0; round < 40 && (shared.stats().joined < 1 || wakes < 10); ++round) {
    log.AppendTicks(1);
    ReadAll(*a, &ids, &last, 20ms);
  }
  done = true;
  reporter.join();
  EXPECT_EQ(shared.stats().joined, 1u);
  EXPECT_GE(wakes.load(), 10);
  a->Close();
}

// A joined member's wake-up says whether its own (filtered) pack holds more than its tick: a
// task with nothing waiting may take a tick-only pack later (the pipeline's idle sleep).
TEST_F(SharedReadersTest, AWakeUpSaysWhetherTheMembersPackHoldsMoreThanItsTick) {
  auto ignore_all = std::make_shared<CollectionFilter>();
  ignore_all->Ignore(100);
  ignore_all->Ignore(200);
  auto quiet = shared.Open(o);
  auto busy = shared.Open(o);
  quiet->SetFilter(ignore_all);
  std::mutex mu;
  std::vector<bool> quiet_wakes, busy_wakes;
  quiet->SetOnPack([&](bool content) {
    std::lock_guard<std::mutex> l(mu);
    quiet_wakes.push_back(content);
  });
  busy->SetOnPack([&](bool content) {
    std::lock_guard<std::mutex> l(mu);
    busy_wakes.push_back(content);
  });
  ASSERT_TRUE(quiet->Start(StartPosition::Latest()).ok());
  ASSERT_TRUE(busy->Start(StartPosition::Latest()).ok());
  std::vector<int64_t> quiet_ids, busy_ids;
  std::optional<MsgPosition> quiet_last, busy_last;
  for (int round = 0; round < 40 && shared.stats().joined < 2; ++round) {
    log.AppendTicks(1);
    ReadAll(*quiet, &quiet_ids, &quiet_last, 20ms);
    ReadAll(*busy, &busy_ids, &busy_last, 20ms);
  }
  ASSERT_EQ(shared.stats().joined, 2u);
  {
    std::lock_guard<std::mutex> l(mu);
    quiet_wakes.clear();
    busy_wakes.clear();
  }
  log.AppendTicks(3);  // each pack: an insert of 100 and of 200, then the tick
  for (int i = 0; i < 200; ++i) {
    ReadAll(*quiet, &quiet_ids, &quiet_last, 5ms);
    ReadAll(*busy, &busy_ids, &busy_last, 5ms);
    std::lock_guard<std::mutex> l(mu);
    if (quiet_wakes.size() >= 3 && busy_wakes.size() >= 3) break;
  }
  quiet->Close();  // no wake-up after this (the callbacks use the locals above)
  busy->Close();
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(quiet_wakes, std::vector<bool>(3, false));
  EXPECT_EQ(busy_wakes, std::vector<bool>(3, true));
  EXPECT_TRUE(quiet_ids.empty());
}

TEST_F(SharedReadersTest, TasksStartingTogetherOnTheReplicateChannelShareItFromTheStart) {
  // The replicate channel carries no ticks: tasks fixed at the same point (created together)
  // read it through one reader at once, not each alone until its first request.
  for (int i = 0; i < 3; ++i) log.Append(Ins(100, 10 + i, i));
  o.kind = ChannelKind::kReplicate;
  const MsgPosition fixed = KafkaPosition(kChan, log.records(), 0);  // the next message
  std::vector<std::unique_ptr<ChannelReader>> members;
  for (int i = 0; i < 3; ++i) {
    members.push_back(shared.Open(o));
    ASSERT_TRUE(members.back()->Start(StartPosition::At(fixed)).ok());
  }
  for (int round = 0; round < 20 && shared.stats().joined < 3; ++round) {
    for (auto& m : members) ASSERT_TRUE(m->Next(10ms).ok());
  }
  EXPECT_EQ(shared.stats().joined, 3u);
  EXPECT_EQ(log.live(), 1u);
  log.Append(Ins(100, 20, 7));
  for (auto& m : members) {
    auto p = m->Next(1s);
    ASSERT_TRUE(p.ok() && p->has_value());
    ASSERT_EQ((*p)->msgs.size(), 1u);
    EXPECT_EQ((*p)->msgs[0].header.msg_id, 7);
  }
}

}  // namespace
}  // namespace cdc::source
