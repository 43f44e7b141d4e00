// KafkaChannelReader against a real Kafka broker (CDC_TEST_KAFKA, from scripts/e2e-env.sh),
// fed by the source simulator. Every wait is bounded.
#include "source/kafka/kafka_reader.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "source/vchannel.h"
#include "tools/sim/kafka_producer.h"
#include "tools/sim/scenario.h"
#include "unit/source/golden_data.h"

namespace cdc::source {
namespace {
using namespace std::chrono_literals;
namespace common = milvus::proto::common;

std::string Brokers() {
  const char* b = std::getenv("CDC_TEST_KAFKA");
  return b ? b : "";
}

std::string Topic(const std::string& name) {
  return "cdc-it-" + std::to_string(getpid()) + "-" + name;
}

class KafkaReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Brokers().empty()) GTEST_SKIP() << "CDC_TEST_KAFKA not set (scripts/e2e-env.sh up kafka)";
    auto p = sim::KafkaProducer::Create(Brokers());
    ASSERT_TRUE(p.ok()) << p.status();
    producer_.emplace(std::move(*p));
  }

  void Produce(const std::string& topic, const std::vector<sim::Payload>& ps) {
    for (const auto& p : ps) ASSERT_TRUE(producer_->Produce(topic, p.bytes).ok());
    ASSERT_TRUE(producer_->Flush().ok());
  }

  std::unique_ptr<KafkaChannelReader> Reader(const std::string& topic,
                                             ChannelKind kind = ChannelKind::kDml) {
    KafkaReaderOptions o;
    o.brokers = Brokers();
    o.reader.channel = topic;
    o.reader.kind = kind;
    o.reader.owner = "it";
    o.reader.max_queued_packs = 4;
    if (const char* d = std::getenv("CDC_KAFKA_DEBUG")) o.config["debug"] = d;
    return std::make_unique<KafkaChannelReader>(o);
  }

  // Reads packs until one ends at or after `end_ts` (or 30 s pass).
  static std::vector<Pack> ReadUntil(ChannelReader& r, uint64_t end_ts, size_t max_packs = 1000) {
    std::vector<Pack> out;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline && out.size() < max_packs) {
      auto p = r.Next(200ms);
      EXPECT_TRUE(p.ok()) << p.status();
      if (!p.ok() || !p->has_value()) continue;
      out.push_back(std::move(**p));
      if (out.back().end_ts >= end_ts) break;
    }
    return out;
  }

  static std::vector<int64_t> Offsets(const std::vector<Pack>& packs) {
    std::vector<int64_t> out;
    for (const auto& p : packs)
      for (const auto& m : p.msgs) out.push_back(m.offset);
    return out;
  }

  static std::vector<Pack> FilterPackAll(const std::vector<Pack>& packs, const std::string& vc) {
    std::vector<Pack> out;
    for (const auto& p : packs) out.push_back(FilterPack(p, {vc}));
    return out;
  }

  static sim::Scenario Scenario(int inserts = 8, const std::string& pchannel = "") {
    sim::Scenario s;
    if (!pchannel.empty()) s.pchannel = pchannel;
    s.collection.name = "c";
    s.collection.id = 100;
    s.collection.dim = 16;
    s.inserts = inserts;
    s.rows_per_insert = 10;
    s.inserts_per_tick = 2;
    s.delete_every = 3;
    return s;
  }

  std::optional<sim::KafkaProducer> producer_;
};

TEST_F(KafkaReaderTest, EarliestGivesEveryMessageSplitAtTicks) {
  std::string topic = Topic("earliest");
  auto payloads = sim::BuildScenario(Scenario());
  Produce(topic, payloads);
  auto r = Reader(topic);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  auto packs = ReadUntil(*r, payloads.back().ts);
  ASSERT_FALSE(packs.empty());
  EXPECT_EQ(packs.back().end_ts, payloads.back().ts);
  // Every non-tick message appears exactly once, in offset order; each pack ends at a tick.
  std::vector<int64_t> want;
  for (size_t i = 0; i < payloads.size(); ++i)
    if (payloads[i].type != common::TimeTick) want.push_back(static_cast<int64_t>(i));
  EXPECT_EQ(Offsets(packs), want);
  for (size_t i = 0; i < packs.size(); ++i) {
    for (const auto& m : packs[i].msgs) {
      EXPECT_GT(m.header.timestamp, packs[i].begin_ts);
      EXPECT_LE(m.header.timestamp, packs[i].end_ts);
    }
    if (i > 0) {
      EXPECT_EQ(packs[i].begin_ts, packs[i - 1].end_ts);
    }
    EXPECT_EQ(packs[i].end_position.channel_name(), topic);
    EXPECT_EQ(packs[i].end_position.timestamp(), packs[i].end_ts);
  }
  auto st = r->stats();
  EXPECT_EQ(st.messages, payloads.size());
  EXPECT_EQ(st.bad_messages, 0u);
  EXPECT_EQ(st.next_offset, static_cast<int64_t>(payloads.size()));
  r->Close();
}

TEST_F(KafkaReaderTest, RestartFromEndPositionLosesAndRepeatsNothing) {
  std::string topic = Topic("restart");
  auto payloads = sim::BuildScenario(Scenario(12));
  Produce(topic, payloads);
  auto full = Reader(topic);
  ASSERT_TRUE(full->Start(StartPosition::Earliest()).ok());
  auto all = ReadUntil(*full, payloads.back().ts);
  full->Close();
  ASSERT_GE(all.size(), 4u);

  auto first = Reader(topic);
  ASSERT_TRUE(first->Start(StartPosition::Earliest()).ok());
  auto head = ReadUntil(*first, UINT64_MAX, 3);
  ASSERT_EQ(head.size(), 3u);
  std::string saved = EncodePosition(head.back().end_position);  // as a checkpoint
  first->Close();

  auto pos = DecodePosition(saved);
  ASSERT_TRUE(pos.ok());
  auto second = Reader(topic);
  ASSERT_TRUE(second->Start(StartPosition::At(*pos)).ok());
  auto tail = ReadUntil(*second, payloads.back().ts);
  second->Close();
  std::vector<Pack> joined = head;
  for (auto& p : tail) joined.push_back(std::move(p));
  EXPECT_EQ(Offsets(joined), Offsets(all));
  ASSERT_FALSE(tail.empty());
  EXPECT_EQ(tail.front().begin_ts, head.back().end_ts);
}

TEST_F(KafkaReaderTest, CollectionStartPositionCopiesEarlierData) {
  std::string topic = Topic("collstart");
  // Unrelated traffic first, then the collection's CreateCollection at offset `at`.
  auto before = sim::BuildScenario(Scenario(2, topic));
  Produce(topic, before);
  auto s = Scenario(4, topic);
  s.collection.id = 300;
  s.start_ms = before.back().ts / (1 << 18) + 10;
  auto coll = sim::BuildScenario(s);
  Produce(topic, coll);
  int64_t at = static_cast<int64_t>(before.size());
  // The catalog gives start_positions {pchannel: msgID of the create}; ts = create ts - 1 so
  // the create itself is included.
  MsgPosition start = KafkaPosition(topic, at, coll.front().ts - 1);
  auto r = Reader(topic);
  ASSERT_TRUE(r->Start(StartPosition::At(start)).ok());
  auto packs = ReadUntil(*r, coll.back().ts);
  r->Close();
  auto got = Offsets(FilterPackAll(packs, MakeVChannel(topic, 300, 0)));
  std::vector<int64_t> want;
  for (size_t i = 0; i < coll.size(); ++i)
    if (coll[i].type != common::TimeTick) want.push_back(at + static_cast<int64_t>(i));
  EXPECT_EQ(got, want);
}

TEST_F(KafkaReaderTest, LatestSkipsHistory) {
  std::string topic = Topic("latest");
  auto old = sim::BuildScenario(Scenario(4));
  Produce(topic, old);
  auto r = Reader(topic);
  ASSERT_TRUE(r->Start(StartPosition::Latest()).ok());
  // Ticks until the reader is live (latest resolves asynchronously), then new data.
  uint64_t ms = old.back().ts / (1 << 18) + 100;
  bool live = false;
  for (int i = 0; i < 100 && !live; ++i) {
    Produce(topic,
            {{sim::MakeTimeTick(sim::ComposeTs(ms++)).SerializeAsString(), common::TimeTick, 0}});
    auto p = r->Next(300ms);
    ASSERT_TRUE(p.ok());
    live = p->has_value();
  }
  ASSERT_TRUE(live);
  auto s = Scenario(2);
  s.create_collection = false;
  s.start_ms = ms + 10;
  s.first_msg_id = 5000;
  auto fresh = sim::BuildScenario(s);
  Produce(topic, fresh);
  auto packs = ReadUntil(*r, fresh.back().ts);
  r->Close();
  size_t n = 0;
  for (const auto& p : packs)
    for (const auto& m : p.msgs) {
      EXPECT_GE(m.header.msg_id, 5000) << "history leaked at offset " << m.offset;
      ++n;
    }
  EXPECT_EQ(n, fresh.size() - 1);  // all but the final tick
}

TEST_F(KafkaReaderTest, BadMessageIsCountedAndReportedNotDropped) {
  std::string topic = Topic("bad");
  auto payloads = sim::BuildScenario(Scenario(2));
  payloads.insert(payloads.begin() + 3, {std::string("\xff\x01garbage", 9), 0, 0});
  Produce(topic, payloads);
  auto r = Reader(topic);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  auto packs = ReadUntil(*r, payloads.back().ts);
  r->Close();
  std::vector<std::string> errors;
  for (const auto& p : packs) errors.insert(errors.end(), p.errors.begin(), p.errors.end());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("topic " + topic + " offset 3"), std::string::npos) << errors[0];
  auto st = r->stats();
  EXPECT_EQ(st.bad_messages, 1u);
  EXPECT_NE(st.reason.find("offset 3"), std::string::npos);
  size_t data = 0;
  for (const auto& p : payloads) data += (p.type != 0 && p.type != common::TimeTick);
  EXPECT_EQ(Offsets(packs).size(), data);  // all data, nothing dropped around the bad one
}

TEST_F(KafkaReaderTest, MissingTopicIsRetriedAndReadOnceItExists) {
  std::string topic = Topic("late-topic");
  auto r = Reader(topic);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  std::string reason;
  for (int i = 0; i < 50 && reason.empty(); ++i) {
    auto p = r->Next(200ms);
    ASSERT_TRUE(p.ok());
    reason = r->stats().reason;
  }
  EXPECT_NE(reason.find(topic), std::string::npos) << reason;
  auto payloads = sim::BuildScenario(Scenario(2));
  Produce(topic, payloads);
  auto packs = ReadUntil(*r, payloads.back().ts);
  r->Close();
  ASSERT_FALSE(packs.empty());
  EXPECT_EQ(packs.back().end_ts, payloads.back().ts);
  EXPECT_TRUE(r->stats().reason.empty()) << r->stats().reason;
}

// Opt-in fault test: CDC_TEST_KAFKA_PAUSE_PID = pid of a broker this run started (e.g.
// $(cat .cache/env/pids/kafka.pid)). The broker is frozen with SIGSTOP for a few seconds
// mid-stream and resumed with SIGCONT (always, even on failure).
TEST_F(KafkaReaderTest, BrokerOutageIsReportedAndReadingResumes) {
  const char* pid_text = std::getenv("CDC_TEST_KAFKA_PAUSE_PID");
  if (!pid_text) GTEST_SKIP() << "set CDC_TEST_KAFKA_PAUSE_PID to the test broker's pid";
  pid_t pid = static_cast<pid_t>(std::atoll(pid_text));
  ASSERT_GT(pid, 1);
  std::string topic = Topic("outage");
  auto s = Scenario(6, topic);
  auto first = sim::BuildScenario(s);
  Produce(topic, first);
  auto r = Reader(topic);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  auto packs = ReadUntil(*r, first.back().ts);
  ASSERT_FALSE(packs.empty());
  ASSERT_EQ(packs.back().end_ts, first.back().ts);

  struct Resume {
    pid_t pid;
    ~Resume() { kill(pid, SIGCONT); }
  } resume{pid};
  ASSERT_EQ(kill(pid, SIGSTOP), 0);
  std::string reason;
  for (int i = 0; i < 60 && reason.empty(); ++i) {
    auto p = r->Next(250ms);
    ASSERT_TRUE(p.ok());
    reason = r->stats().reason;
  }
  kill(pid, SIGCONT);
  EXPECT_NE(reason.find("read kafka topic " + topic), std::string::npos) << reason;

  auto s2 = Scenario(6, topic);
  s2.create_collection = false;
  s2.start_ms = first.back().ts / (1 << 18) + 10;
  s2.first_msg_id = 9000;
  s2.first_pk = 100000;
  auto second = sim::BuildScenario(s2);
  Produce(topic, second);
  auto more = ReadUntil(*r, second.back().ts);
  r->Close();
  for (auto& p : more) packs.push_back(std::move(p));
  std::vector<int64_t> want;
  for (size_t i = 0; i < first.size() + second.size(); ++i) {
    int type = i < first.size() ? first[i].type : second[i - first.size()].type;
    if (type != common::TimeTick) want.push_back(static_cast<int64_t>(i));
  }
  EXPECT_EQ(Offsets(packs), want);  // nothing lost or repeated across the outage
  EXPECT_TRUE(r->stats().reason.empty()) << r->stats().reason;
}

// The exact records a real Milvus wrote (tests/data/golden), replayed through a real broker:
// every non-tick record comes out once, in order, and the packs match the in-memory Packer.
TEST_F(KafkaReaderTest, GoldenRecordsReplayed) {
  std::string topic = Topic("golden");
  const auto doc = testdata::LoadGolden("kafka-dml.json");
  std::vector<sim::Payload> records;
  for (const auto& r : doc) records.push_back({testdata::Unbase64(r["value"]), 0, 0});
  Produce(topic, records);
  Packer expected(topic, "g", std::nullopt);
  std::vector<Pack> want;
  uint64_t last_end = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    Message m;
    m.payload = records[i].bytes;
    m.offset = static_cast<int64_t>(i);
    m.header = *DecodeHeader(m.payload);
    m.position = KafkaPosition(topic, m.offset, m.header.timestamp);
    if (auto p = expected.Add(std::move(m))) {
      last_end = p->end_ts;
      want.push_back(std::move(*p));
    }
  }
  auto r = Reader(topic);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  auto got = ReadUntil(*r, last_end);
  r->Close();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].begin_ts, want[i].begin_ts);
    EXPECT_EQ(got[i].end_ts, want[i].end_ts);
    EXPECT_EQ(got[i].end_position.msgid(), want[i].end_position.msgid());
  }
  EXPECT_EQ(Offsets(got), Offsets(want));
  EXPECT_EQ(r->stats().bad_messages, 0u);
}

TEST_F(KafkaReaderTest, ReplicateChannelOneRequestPerPackAndResume) {
  std::string topic = Topic("replicate-msg");
  std::vector<sim::Payload> reqs;
  for (int i = 0; i < 3; ++i) {
    common::MsgHeader h;
    h.mutable_base()->set_msg_type(common::CreateDatabase);
    h.mutable_base()->set_timestamp(100 + i);
    reqs.push_back({h.SerializeAsString(), common::CreateDatabase, 100u + i});
  }
  Produce(topic, reqs);
  auto r = Reader(topic, ChannelKind::kReplicate);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  auto packs = ReadUntil(*r, 102);
  r->Close();
  ASSERT_EQ(packs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(packs[i].msgs.size(), 1u);
    EXPECT_EQ(packs[i].begin_ts, 100 + i);
    EXPECT_EQ(packs[i].end_ts, 100 + i);
  }
  auto again = Reader(topic, ChannelKind::kReplicate);
  ASSERT_TRUE(again->Start(StartPosition::At(packs[1].end_position)).ok());
  auto rest = ReadUntil(*again, 102);
  again->Close();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].msgs[0].offset, 2);
}

}  // namespace
}  // namespace cdc::source
