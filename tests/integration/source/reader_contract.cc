// The reader contract (see reader_contract.h), compiled into each backend's test binary.
#include "integration/source/reader_contract.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "source/packer.h"
#include "source/vchannel.h"
#include "tools/sim/messages.h"
#include "unit/source/golden_data.h"

namespace cdc::source::testing {
namespace {
using namespace std::chrono_literals;
namespace common = milvus::proto::common;

}  // namespace

void ReaderContractTest::SetUp() {
  if (!GetParam().skip_reason.empty()) GTEST_SKIP() << GetParam().skip_reason;
  auto b = GetParam().broker();
  ASSERT_TRUE(b.ok()) << b.status();
  broker_ = std::move(*b);
}

std::string ReaderContractTest::Channel(const std::string& suffix) const {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = info->name();
  test = test.substr(0, test.find('/'));
  std::string name = "cdc-it-" + std::to_string(getpid()) + "-" + test;
  return suffix.empty() ? name : name + "-" + suffix;
}

std::vector<std::string> ReaderContractTest::Produce(const std::string& channel,
                                                     const std::vector<sim::Payload>& payloads) {
  auto ids = GetParam().produce(channel, payloads);
  EXPECT_TRUE(ids.ok()) << ids.status();
  if (!ids.ok()) return {};
  EXPECT_EQ(ids->size(), payloads.size());
  return *ids;
}

std::vector<std::string> ReaderContractTest::ProduceWhenBack(
    const std::string& channel, const std::vector<sim::Payload>& payloads,
    std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    auto ids = GetParam().produce(channel, payloads);
    if (ids.ok() || std::chrono::steady_clock::now() >= deadline) {
      EXPECT_TRUE(ids.ok()) << ids.status();
      return ids.ok() ? *ids : std::vector<std::string>{};
    }
    std::this_thread::sleep_for(2s);
  }
}

std::unique_ptr<ChannelReader> ReaderContractTest::Reader(
    const std::string& channel, ChannelKind kind, std::shared_ptr<const CollectionFilter> filter) {
  static std::atomic<int> counter{0};
  ReaderOptions o;
  o.channel = channel;
  o.kind = kind;
  o.owner = "it-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
  o.max_queued_packs = 4;
  o.filter = std::move(filter);
  auto r = broker_->OpenReader(o);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::move(*r) : nullptr;
}

std::vector<Pack> ReaderContractTest::ReadUntil(ChannelReader& r, uint64_t end_ts, size_t max_packs,
                                                std::chrono::seconds limit) {
  std::vector<Pack> out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline && out.size() < max_packs) {
    auto p = r.Next(200ms);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok() || !p->has_value()) continue;
    out.push_back(std::move(**p));
    if (out.back().end_ts >= end_ts) break;
  }
  return out;
}

std::vector<Pack> ReaderContractTest::ReadFor(ChannelReader& r, std::chrono::milliseconds d) {
  std::vector<Pack> out;
  const auto deadline = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < deadline) {
    auto p = r.Next(100ms);
    EXPECT_TRUE(p.ok()) << p.status();
    if (p.ok() && p->has_value()) out.push_back(std::move(**p));
  }
  return out;
}

std::vector<std::string> ReaderContractTest::Payloads(const std::vector<Pack>& packs) {
  std::vector<std::string> out;
  for (const auto& p : packs)
    for (const auto& m : p.msgs) out.emplace_back(m.payload);
  return out;
}

std::vector<std::string> ReaderContractTest::Ids(const std::vector<Pack>& packs) {
  std::vector<std::string> out;
  for (const auto& p : packs)
    for (const auto& m : p.msgs) out.push_back(m.position.msgid());
  return out;
}

std::vector<std::string> ReaderContractTest::NonTicks(const std::vector<sim::Payload>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps)
    if (p.type != common::TimeTick) out.push_back(p.bytes);
  return out;
}

std::vector<std::string> ReaderContractTest::NonTickIds(const std::vector<sim::Payload>& ps,
                                                        const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (size_t i = 0; i < ps.size() && i < ids.size(); ++i)
    if (ps[i].type != common::TimeTick) out.push_back(ids[i]);
  return out;
}

std::vector<std::string> ReaderContractTest::Errors(const std::vector<Pack>& packs) {
  std::vector<std::string> out;
  for (const auto& p : packs) out.insert(out.end(), p.errors.begin(), p.errors.end());
  return out;
}

sim::Scenario ReaderContractTest::Scenario(const std::string& channel, int inserts) {
  sim::Scenario s;
  s.pchannel = channel;
  s.collection.name = "c";
  s.collection.id = 100;
  s.collection.dim = 16;
  s.inserts = inserts;
  s.rows_per_insert = 10;
  s.inserts_per_tick = 2;
  s.delete_every = 3;
  return s;
}

sim::Scenario ReaderContractTest::Continue(const std::string& channel, uint64_t last,
                                           int64_t first_id, int inserts) {
  sim::Scenario s = Scenario(channel, inserts);
  s.create_collection = false;
  s.start_ms = (last >> 18) + 10;
  s.first_msg_id = first_id;
  s.first_pk = first_id * 100;
  return s;
}

std::vector<sim::Payload> ReaderContractTest::Requests(int n, uint64_t first_ts) {
  std::vector<sim::Payload> out;
  for (int i = 0; i < n; ++i) {
    common::MsgHeader h;
    h.mutable_base()->set_msg_type(common::CreateDatabase);
    h.mutable_base()->set_timestamp(first_ts + i);
    out.push_back({h.SerializeAsString(), common::CreateDatabase, first_ts + i});
  }
  return out;
}

TEST_P(ReaderContractTest, EarliestGivesEveryMessageSplitAtTicks) {
  const std::string ch = Channel();
  auto payloads = sim::BuildScenario(Scenario(ch));
  auto ids = Produce(ch, payloads);
  auto r = Reader(ch);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  auto packs = ReadUntil(*r, payloads.back().ts);
  ASSERT_FALSE(packs.empty());
  EXPECT_EQ(packs.back().end_ts, payloads.back().ts);
  // Every non-tick message appears exactly once, in order; each pack ends at a tick.
  EXPECT_EQ(Payloads(packs), NonTicks(payloads));
  EXPECT_EQ(Ids(packs), NonTickIds(payloads, ids));
  for (size_t i = 0; i < packs.size(); ++i) {
    for (const auto& m : packs[i].msgs) {
      EXPECT_GT(m.header.timestamp, packs[i].begin_ts);
      EXPECT_LE(m.header.timestamp, packs[i].end_ts);
      EXPECT_EQ(m.position.channel_name(), ch);
      EXPECT_EQ(m.position.timestamp(), m.header.timestamp);
    }
    if (i > 0) {
      EXPECT_EQ(packs[i].begin_ts, packs[i - 1].end_ts);
      EXPECT_EQ(packs[i].start_position.msgid(), packs[i - 1].end_position.msgid());
    }
    EXPECT_EQ(packs[i].end_position.channel_name(), ch);
    EXPECT_EQ(packs[i].end_position.timestamp(), packs[i].end_ts);
    GetParam().check_position(packs[i].end_position);
  }
  auto st = r->stats();
  EXPECT_EQ(st.messages, payloads.size());
  EXPECT_EQ(st.bad_messages, 0u);
  EXPECT_EQ(st.packs, packs.size());
  EXPECT_TRUE(st.reason.empty()) << st.reason;
  EXPECT_EQ(st.next_offset, GetParam().has_offsets ? static_cast<int64_t>(payloads.size()) : -1);
  r->Close();
}

void ReaderContractTest::ExpectResumeReproducesTheStream(
    const std::string& ch, const std::vector<sim::Payload>& payloads) {
  auto full = Reader(ch);
  ASSERT_TRUE(full->Start(StartPosition::Earliest()).ok());
  auto all = ReadUntil(*full, payloads.back().ts);
  full->Close();
  ASSERT_GE(all.size(), 4u);
  EXPECT_EQ(Payloads(all), NonTicks(payloads));

  auto first = Reader(ch);
  ASSERT_TRUE(first->Start(StartPosition::Earliest()).ok());
  auto head = ReadUntil(*first, UINT64_MAX, 3);
  ASSERT_EQ(head.size(), 3u);
  std::string saved = EncodePosition(head.back().end_position);  // as a checkpoint
  first->Close();

  auto pos = DecodePosition(saved);
  ASSERT_TRUE(pos.ok());
  auto second = Reader(ch);
  ASSERT_TRUE(second->Start(StartPosition::At(*pos)).ok());
  auto tail = ReadUntil(*second, payloads.back().ts);
  second->Close();
  std::vector<Pack> joined = head;
  for (auto& p : tail) joined.push_back(std::move(p));
  EXPECT_EQ(Ids(joined), Ids(all));
  EXPECT_EQ(Payloads(joined), Payloads(all));
  ASSERT_FALSE(tail.empty());
  EXPECT_EQ(tail.front().begin_ts, head.back().end_ts);
}

TEST_P(ReaderContractTest, RestartFromEndPositionLosesAndRepeatsNothing) {
  const std::string ch = Channel();
  auto payloads = sim::BuildScenario(Scenario(ch, 12));
  Produce(ch, payloads);
  ExpectResumeReproducesTheStream(ch, payloads);
}

TEST_P(ReaderContractTest, CollectionStartPositionCopiesEarlierData) {
  const std::string ch = Channel();
  // Unrelated traffic first, then the collection's CreateCollection.
  auto before = sim::BuildScenario(Scenario(ch, 2));
  Produce(ch, before);
  auto s = Scenario(ch, 4);
  s.collection.id = 300;
  s.start_ms = (before.back().ts >> 18) + 10;
  auto coll = sim::BuildScenario(s);
  auto ids = Produce(ch, coll);
  ASSERT_FALSE(ids.empty());
  // The catalog gives start_positions {pchannel: msgID of the create}; ts = create ts - 1 so
  // the create itself is included.
  MsgPosition start;
  start.set_channel_name(ch);
  start.set_msgid(ids.front());
  start.set_timestamp(coll.front().ts - 1);
  auto r = Reader(ch);
  ASSERT_TRUE(r->Start(StartPosition::At(start)).ok());
  auto packs = ReadUntil(*r, coll.back().ts);
  r->Close();
  std::vector<Pack> mine;
  for (const auto& p : packs) mine.push_back(FilterPack(p, {MakeVChannel(ch, 300, 0)}));
  EXPECT_EQ(Ids(mine), NonTickIds(coll, ids));
  EXPECT_EQ(Payloads(mine), NonTicks(coll));
}

TEST_P(ReaderContractTest, LatestSkipsHistory) {
  const std::string ch = Channel();
  auto old = sim::BuildScenario(Scenario(ch, 4));
  Produce(ch, old);
  auto r = Reader(ch);
  ASSERT_TRUE(r->Start(StartPosition::Latest()).ok());
  // Ticks until the reader is live (Kafka resolves "latest" asynchronously), then new data.
  uint64_t ms = (old.back().ts >> 18) + 100;
  bool live = false;
  for (int i = 0; i < 100 && !live; ++i) {
    const uint64_t ts = sim::ComposeTs(ms++);
    Produce(ch, {{sim::MakeTimeTick(ts).SerializeAsString(), common::TimeTick, ts}});
    auto p = r->Next(300ms);
    ASSERT_TRUE(p.ok());
    live = p->has_value();
  }
  ASSERT_TRUE(live);
  auto fresh = sim::BuildScenario(Continue(ch, sim::ComposeTs(ms), 5000, 2));
  Produce(ch, fresh);
  auto packs = ReadUntil(*r, fresh.back().ts);
  r->Close();
  size_t n = 0;
  for (const auto& p : packs)
    for (const auto& m : p.msgs) {
      EXPECT_GE(m.header.msg_id, 5000) << "history leaked";
      ++n;
    }
  EXPECT_EQ(n, NonTicks(fresh).size());
  EXPECT_EQ(n, fresh.size() - 1);  // all but the final tick
}

TEST_P(ReaderContractTest, BadMessageIsCountedAndReportedNotDropped) {
  const std::string ch = Channel();
  auto payloads = sim::BuildScenario(Scenario(ch, 2));
  payloads.insert(payloads.begin() + 3, {std::string("\xff\x01garbage", 9), 0, 0});
  auto ids = Produce(ch, payloads);
  ASSERT_EQ(ids.size(), payloads.size());
  auto r = Reader(ch);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  auto packs = ReadUntil(*r, payloads.back().ts);
  r->Close();
  auto errors = Errors(packs);
  const std::string where = GetParam().where(ch, ids[3]);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find(where), std::string::npos) << errors[0] << " vs " << where;
  auto st = r->stats();
  EXPECT_EQ(st.bad_messages, 1u);
  EXPECT_NE(st.reason.find(where), std::string::npos) << st.reason;
  size_t data = 0;
  for (const auto& p : payloads) data += (p.type != 0 && p.type != common::TimeTick);
  EXPECT_EQ(Ids(packs).size(), data);  // all data, nothing dropped around the bad one
}

TEST_P(ReaderContractTest, FilterDropsIgnoredCollectionsBeforePacking) {
  const std::string ch = Channel();
  auto keep = Scenario(ch, 4);
  auto drop = Scenario(ch, 4);
  drop.collection.id = 200;
  drop.first_msg_id = 9000;
  // The two collections' messages interleaved, with the same timestamps; the ticks of one.
  auto a = sim::BuildScenario(keep);
  auto b = sim::BuildScenario(drop);
  std::vector<sim::Payload> both;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (i < a.size()) both.push_back(a[i]);
    if (i < b.size() && b[i].type != common::TimeTick) both.push_back(b[i]);
  }
  Produce(ch, both);
  auto filter = std::make_shared<CollectionFilter>();
  filter->Ignore(200);
  auto r = Reader(ch, ChannelKind::kDml, filter);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  auto packs = ReadUntil(*r, a.back().ts);
  r->Close();
  EXPECT_EQ(Payloads(packs), NonTicks(a));
  EXPECT_EQ(r->stats().filtered, NonTicks(b).size());
  EXPECT_EQ(r->stats().bad_messages, 0u);
}

TEST_P(ReaderContractTest, BrokerOutageIsReportedAndReadingResumes) {
  if (!GetParam().stop_broker) GTEST_SKIP() << GetParam().outage_skip;
  const std::string ch = Channel();
  auto first = sim::BuildScenario(Scenario(ch, 6));
  auto ids = Produce(ch, first);
  auto r = Reader(ch);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  auto packs = ReadUntil(*r, first.back().ts);
  ASSERT_FALSE(packs.empty());
  ASSERT_EQ(packs.back().end_ts, first.back().ts);

  struct Restart {
    const Backend& b;
    bool pending = true;
    void Now() {
      if (!pending) return;
      pending = false;
      Status s = b.start_broker();
      EXPECT_TRUE(s.ok()) << s;
    }
    ~Restart() { Now(); }
  } restart{GetParam()};
  Status stopped = GetParam().stop_broker();
  ASSERT_TRUE(stopped.ok()) << stopped;
  std::string reason;
  for (int i = 0; i < 150 && reason.empty(); ++i) {
    auto p = r->Next(200ms);
    ASSERT_TRUE(p.ok());
    reason = r->stats().reason;
  }
  restart.Now();
  EXPECT_NE(reason.find(GetParam().outage_reason(ch)), std::string::npos) << reason;

  auto second = sim::BuildScenario(Continue(ch, first.back().ts, 9000));
  auto more_ids = ProduceWhenBack(ch, second, 180s);
  auto more = ReadUntil(*r, second.back().ts, 1000, 180s);
  r->Close();
  for (auto& p : more) packs.push_back(std::move(p));
  std::vector<sim::Payload> all = first;
  all.insert(all.end(), second.begin(), second.end());
  ids.insert(ids.end(), more_ids.begin(), more_ids.end());
  // Nothing lost or repeated across the outage.
  EXPECT_EQ(Payloads(packs), NonTicks(all));
  EXPECT_EQ(Ids(packs), NonTickIds(all, ids));
  EXPECT_TRUE(r->stats().reason.empty()) << r->stats().reason;
}

// The exact records a real Milvus wrote (tests/data/golden), replayed through a real broker:
// every non-tick record comes out once, in order, and the packs match the in-memory Packer.
TEST_P(ReaderContractTest, GoldenRecordsReplayed) {
  const std::string ch = Channel();
  const auto doc = cdc::testdata::LoadGolden("kafka-dml.json");
  std::vector<sim::Payload> records;
  for (const auto& r : doc) records.push_back({cdc::testdata::Unbase64(r["value"]), 0, 0});
  auto ids = Produce(ch, records);
  ASSERT_EQ(ids.size(), records.size());
  Packer expected(ch, "g", std::nullopt);
  std::vector<Pack> want;
  uint64_t last_end = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    Message m;
    m.payload = records[i].bytes;
    m.header = *DecodeHeader(m.payload);
    m.position.set_channel_name(ch);
    m.position.set_msgid(ids[i]);
    m.position.set_timestamp(m.header.timestamp);
    if (auto p = expected.Add(std::move(m))) {
      last_end = p->end_ts;
      want.push_back(std::move(*p));
    }
  }
  auto r = Reader(ch);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  auto got = ReadUntil(*r, last_end);
  r->Close();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].begin_ts, want[i].begin_ts);
    EXPECT_EQ(got[i].end_ts, want[i].end_ts);
    EXPECT_EQ(got[i].end_position.msgid(), want[i].end_position.msgid());
  }
  EXPECT_EQ(Ids(got), Ids(want));
  EXPECT_EQ(Payloads(got), Payloads(want));
  EXPECT_EQ(r->stats().bad_messages, 0u);
}

TEST_P(ReaderContractTest, ReplicateChannelOneRequestPerPackAndResume) {
  const std::string ch = Channel();
  auto reqs = Requests(3, 100);
  auto ids = Produce(ch, reqs);
  ASSERT_EQ(ids.size(), 3u);
  auto r = Reader(ch, ChannelKind::kReplicate);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  auto packs = ReadUntil(*r, 102);
  r->Close();
  ASSERT_EQ(packs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(packs[i].msgs.size(), 1u);
    EXPECT_EQ(packs[i].begin_ts, 100 + i);
    EXPECT_EQ(packs[i].end_ts, 100 + i);
    EXPECT_EQ(packs[i].end_position.msgid(), ids[i]);
  }
  auto again = Reader(ch, ChannelKind::kReplicate);
  ASSERT_TRUE(again->Start(StartPosition::At(packs[1].end_position)).ok());
  auto rest = ReadUntil(*again, 102);
  again->Close();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].msgs[0].payload, reqs[2].bytes);
  EXPECT_EQ(rest[0].msgs[0].position.msgid(), ids[2]);
}

TEST_P(ReaderContractTest, PositionOfAnotherChannelIsRefused) {
  const std::string ch = Channel();
  auto ids = Produce(ch, Requests(1, 100));
  ASSERT_EQ(ids.size(), 1u);
  MsgPosition elsewhere;
  elsewhere.set_channel_name(ch + "-other");
  elsewhere.set_msgid(ids[0]);
  auto r = Reader(ch);
  Status s = r->Start(StartPosition::At(elsewhere));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find(ch + "-other"), std::string::npos) << s;
  // A refused start leaves the reader unstarted: a good one still works.
  EXPECT_TRUE(r->Start(StartPosition::Earliest()).ok());
  EXPECT_EQ(r->Start(StartPosition::Earliest()).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_P(ReaderContractTest, LagCountsWhatFollowsAPosition) {
  if (!GetParam().counts_lag) GTEST_SKIP() << GetParam().name << ": no lag counting configured";
  const std::string ch = Channel();
  auto payloads = sim::BuildScenario(Scenario(ch, 4));
  auto ids = Produce(ch, payloads);
  ASSERT_EQ(ids.size(), payloads.size());
  const int64_t n = static_cast<int64_t>(ids.size());
  for (int64_t k : {int64_t{0}, n / 2, n - 1}) {
    MsgPosition p;
    p.set_channel_name(ch);
    p.set_msgid(ids[static_cast<size_t>(k)]);
    // The broker caches its answer for a second: ask until it is current (bounded).
    int64_t got = -2;
    for (int i = 0; i < 30 && got != n - k - 1; ++i) {
      got = broker_->MessagesAfter(p, 2s);
      if (got != n - k - 1) std::this_thread::sleep_for(200ms);
    }
    EXPECT_EQ(got, n - k - 1) << "after message " << k;
  }
  // A running reader answers from its own view (refreshed about once a second).
  auto r = Reader(ch);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  auto packs = ReadUntil(*r, payloads.back().ts);
  ASSERT_FALSE(packs.empty());
  int64_t live = -2;
  for (int i = 0; i < 50 && live != 0; ++i) {
    live = r->MessagesAfter(packs.back().end_position);
    if (live != 0) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(live, 0);
  MsgPosition other = packs.back().end_position;
  other.set_channel_name(ch + "-other");
  EXPECT_EQ(r->MessagesAfter(other), -1);
  r->Close();
}

void ReaderContractTest::ExpectReadsExactly(const std::string& ch, ChannelKind kind,
                                            const MsgPosition& from,
                                            const std::vector<sim::Payload>& after,
                                            const std::vector<std::string>& ids) {
  auto r = Reader(ch, kind);
  ASSERT_TRUE(r->Start(StartPosition::At(from)).ok());
  uint64_t last_ts = 0;
  for (const auto& p : after) last_ts = std::max(last_ts, p.ts);
  std::vector<Pack> packs;
  if (kind == ChannelKind::kReplicate) {
    packs = ReadUntil(*r, UINT64_MAX, after.size());
  } else {
    packs = ReadUntil(*r, last_ts);
  }
  // Nothing more comes (a message before `from` would have come first).
  for (auto& p : ReadFor(*r, 500ms)) packs.push_back(std::move(p));
  r->Close();
  EXPECT_EQ(Payloads(packs), NonTicks(after));
  EXPECT_EQ(Ids(packs), NonTickIds(after, ids));
  EXPECT_TRUE(Errors(packs).empty());
  EXPECT_EQ(r->stats().bad_messages, 0u);
}

std::vector<MsgPosition> ReaderContractTest::Latest(const std::vector<std::string>& channels) {
  auto latest = broker_->LatestPositions(channels, 60s);
  EXPECT_TRUE(latest.ok()) << latest.status();
  if (!latest.ok()) return {};
  EXPECT_EQ(latest->size(), channels.size());
  for (size_t i = 0; i < latest->size() && i < channels.size(); ++i) {
    EXPECT_EQ((*latest)[i].channel_name(), channels[i]);
    // What a checkpoint keeps survives the round trip.
    auto back = DecodePosition(EncodePosition((*latest)[i]));
    EXPECT_TRUE(back.ok() && back->SerializeAsString() == (*latest)[i].SerializeAsString());
  }
  return *latest;
}

// A DML channel whose last message is a time tick: the position carries that tick's ts (every
// later message is newer, so the skip rule drops nothing after it).
TEST_P(ReaderContractTest, LatestPositionsReadExactlyWhatFollowsATick) {
  const std::string ch = Channel();
  auto before = sim::BuildScenario(Scenario(ch, 6));
  ASSERT_EQ(before.back().type, common::TimeTick);
  Produce(ch, before);
  auto latest = Latest({ch});
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_FALSE(latest[0].msgid().empty());
  EXPECT_EQ(latest[0].timestamp(), before.back().ts);
  auto after = sim::BuildScenario(Continue(ch, before.back().ts, 7000));
  auto ids = Produce(ch, after);
  ExpectReadsExactly(ch, ChannelKind::kDml, latest[0], after, ids);
}

// The last message is an insert and a message written after the call carries an older ts (two
// proxies, or a proxy and the root coordinator, write the same channel): it is still read, so
// the position cannot skip by the insert's ts; it carries ts 0.
TEST_P(ReaderContractTest, LatestPositionsAfterAnInsertKeepALateOlderMessage) {
  const std::string ch = Channel();
  auto s = Scenario(ch, 3);
  s.delete_every = 0;  // 3 inserts, a tick after the second: the last one after the last tick
  auto before = sim::BuildScenario(s);
  before.pop_back();  // the closing tick
  ASSERT_EQ(before.back().type, common::Insert);
  Produce(ch, before);
  auto latest = Latest({ch});
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].timestamp(), 0u);
  auto late = Continue(ch, before.back().ts, 8000, 1);
  late.start_ms = (before.back().ts >> 18) - 1;  // older than the last insert
  auto after = sim::BuildScenario(late);
  auto more = sim::BuildScenario(Continue(ch, after.back().ts, 8100, 4));
  after.insert(after.end(), more.begin(), more.end());
  auto ids = Produce(ch, after);
  ExpectReadsExactly(ch, ChannelKind::kDml, latest[0], after, ids);
}

// The replicate channel: requests, never ticks; a request written after the call may carry an
// older ts than the last one before it (Milvus's proxy queues run in parallel).
TEST_P(ReaderContractTest, LatestPositionsOfTheReplicateChannel) {
  const std::string ch = Channel();
  Produce(ch, Requests(3, 1000));
  auto latest = Latest({ch});
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].timestamp(), 0u);
  auto after = Requests(1, 999);  // older than the last request before the call
  auto newer = Requests(2, 1003);
  after.insert(after.end(), newer.begin(), newer.end());
  auto ids = Produce(ch, after);
  ExpectReadsExactly(ch, ChannelKind::kReplicate, latest[0], after, ids);
}

// A channel nobody wrote to yet (Kafka: no topic; Pulsar: a topic without messages): its
// beginning, msgID empty and ts 0.
TEST_P(ReaderContractTest, LatestPositionsOfAnEmptyChannelIsItsBeginning) {
  const std::string missing = Channel("missing");
  const std::string empty = Channel("empty");
  Produce(empty, {});  // Pulsar: creates the topic; Kafka: nothing
  auto latest = Latest({missing, empty});
  ASSERT_EQ(latest.size(), 2u);
  for (const auto& p : latest) {
    EXPECT_TRUE(p.msgid().empty()) << DescribePosition(p);
    EXPECT_EQ(p.timestamp(), 0u);
  }
  for (size_t i = 0; i < 2; ++i) {
    const std::string& ch = i == 0 ? missing : empty;
    SCOPED_TRACE(ch);
    auto after = sim::BuildScenario(Scenario(ch, 4));
    auto ids = Produce(ch, after);
    ExpectReadsExactly(ch, ChannelKind::kDml, latest[i], after, ids);
  }
}

// A task's start: 16 DML channels and the replicate channel in one call, as `create` asks.
TEST_P(ReaderContractTest, LatestPositionsOfManyChannelsAtOnce) {
  std::vector<std::string> channels;
  std::vector<std::vector<sim::Payload>> before;
  for (int i = 0; i < 16; ++i) {
    channels.push_back(Channel("dml_" + std::to_string(i)));
    auto s = Scenario(channels.back(), 2);
    s.start_ms += static_cast<uint64_t>(i) * 1000;
    before.push_back(sim::BuildScenario(s));
  }
  channels.push_back(Channel("replicate-msg"));
  before.push_back(Requests(2, 100));
  {
    std::vector<std::thread> writers;  // new topics take a moment each: write them together
    for (size_t i = 0; i < channels.size(); ++i) {
      writers.emplace_back(
          [&, i] { EXPECT_TRUE(GetParam().produce(channels[i], before[i]).ok()); });
    }
    for (auto& w : writers) w.join();
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto latest = Latest(channels);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  ASSERT_EQ(latest.size(), channels.size());
  std::printf("[ timing   ] %s LatestPositions of %zu channels: %lld ms\n", GetParam().name.c_str(),
              channels.size(), static_cast<long long>(ms.count()));
  EXPECT_LT(ms, 20s);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(latest[i].timestamp(), before[i].back().ts);
  EXPECT_EQ(latest[16].timestamp(), 0u);
  // Two of them, read from there, give exactly what follows.
  auto after = sim::BuildScenario(Continue(channels[5], before[5].back().ts, 6000));
  ExpectReadsExactly(channels[5], ChannelKind::kDml, latest[5], after, Produce(channels[5], after));
  auto reqs = Requests(2, 200);
  ExpectReadsExactly(channels[16], ChannelKind::kReplicate, latest[16], reqs,
                     Produce(channels[16], reqs));
}

}  // namespace cdc::source::testing
