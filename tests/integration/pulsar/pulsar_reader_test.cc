// PulsarChannelReader and our Pulsar client against a real Pulsar standalone (CDC_TEST_PULSAR,
// from `scripts/e2e-env.sh up pulsar`), fed by our own producer with source-simulator and
// golden Milvus payloads. Every wait is bounded.
#include "source/pulsar/pulsar_reader.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "mocks/pulsar_producer.h"
#include "source/pulsar/pulsar_config.h"
#include "source/pulsar_id.h"
#include "tools/sim/scenario.h"
#include "unit/source/golden_data.h"

namespace cdc::source {
namespace {
using namespace std::chrono_literals;
namespace common = milvus::proto::common;
namespace pp = ::pulsar::proto;

std::string ServiceUrl() {
  const char* u = std::getenv("CDC_TEST_PULSAR");
  return u ? u : "";
}

std::string Channel(const std::string& name) {
  return "cdc-it-" + std::to_string(getpid()) + "-" + name;
}

pulsar::ClientOptions Client() {
  pulsar::ClientOptions o;
  o.service_url = ServiceUrl();
  return o;
}

// Restarts the test broker in place (same command line, ports and data) from the pid file of
// scripts/e2e-env.sh: SIGTERM, wait for the exit, start the same command again, record the new
// pid. Returns false (with a reason) if anything is missing. Bounded waits.
bool RestartBroker(std::string* why) {
  const char* env_dir = std::getenv("CDC_ENV_DIR");
  std::string pid_file = std::string(env_dir ? env_dir : ".cache/env") + "/pids/pulsar.pid";
  std::ifstream pf(pid_file);
  pid_t pid = 0;
  if (!(pf >> pid) || pid <= 1) {
    *why = "no pid in " + pid_file;
    return false;
  }
  std::ifstream cf("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(cf)), std::istreambuf_iterator<char>());
  char cwd[4096];
  ssize_t n = readlink(("/proc/" + std::to_string(pid) + "/cwd").c_str(), cwd, sizeof cwd - 1);
  if (raw.empty() || n <= 0) {
    *why = "cannot read the broker's command line";
    return false;
  }
  cwd[n] = '\0';
  std::vector<std::string> args;
  for (size_t at = 0; at < raw.size();) {
    size_t end = raw.find('\0', at);
    if (end == std::string::npos) end = raw.size();
    args.push_back(raw.substr(at, end - at));
    at = end + 1;
  }
  std::string log = std::string(env_dir ? env_dir : ".cache/env") + "/logs/pulsar.log";
  kill(pid, SIGTERM);
  for (int i = 0; i < 600 && kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(100ms);
  if (kill(pid, 0) == 0) kill(pid, SIGKILL);
  for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(100ms);
  pid_t child = fork();
  if (child == 0) {
    setsid();
    if (chdir(cwd) != 0) _exit(127);
    FILE* out = freopen(log.c_str(), "a", stdout);
    FILE* err = freopen(log.c_str(), "a", stderr);
    (void)out;
    (void)err;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  std::ofstream(pid_file) << child << "\n";
  return child > 0;
}

class PulsarReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ServiceUrl().empty()) {
      GTEST_SKIP() << "CDC_TEST_PULSAR not set (scripts/e2e-env.sh up pulsar)";
    }
  }

  static std::string TopicOf(const std::string& channel) {
    return PulsarTopic("public", "default", channel);
  }

  // Writes payloads, one entry each or in batches of `batch`, compressed with `c`.
  static void Produce(const std::string& channel, const std::vector<sim::Payload>& ps,
                      size_t batch = 1, pp::CompressionType c = pp::NONE) {
    auto p = testing::PulsarProducer::Create(Client(), TopicOf(channel));
    ASSERT_TRUE(p.ok()) << p.status();
    for (size_t i = 0; i < ps.size(); i += batch) {
      if (batch == 1) {
        ASSERT_TRUE((*p)->Send(ps[i].bytes).ok());
        continue;
      }
      std::vector<std::string_view> views;
      for (size_t j = i; j < std::min(ps.size(), i + batch); ++j) views.push_back(ps[j].bytes);
      ASSERT_TRUE((*p)->SendBatch(views, c).ok());
    }
    ASSERT_TRUE((*p)->Close().ok());
  }

  static std::unique_ptr<PulsarChannelReader> Reader(const std::string& channel,
                                                     ChannelKind kind = ChannelKind::kDml) {
    PulsarReaderOptions o;
    o.client = Client();
    o.reader.channel = channel;
    o.reader.kind = kind;
    o.reader.owner = "it-" + std::to_string(++counter_);
    o.reader.max_queued_packs = 4;
    o.receiver_queue = 20;
    return std::make_unique<PulsarChannelReader>(o);
  }

  static std::vector<Pack> ReadUntil(ChannelReader& r, uint64_t end_ts, size_t max_packs = 1000,
                                     std::chrono::seconds limit = 30s) {
    std::vector<Pack> out;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline && out.size() < max_packs) {
      auto p = r.Next(200ms);
      EXPECT_TRUE(p.ok()) << p.status();
      if (!p.ok() || !p->has_value()) continue;
      out.push_back(std::move(**p));
      if (out.back().end_ts >= end_ts) break;
    }
    return out;
  }

  // The payload bytes of every message in the packs, in order.
  static std::vector<std::string> Payloads(const std::vector<Pack>& packs) {
    std::vector<std::string> out;
    for (const auto& p : packs)
      for (const auto& m : p.msgs) out.emplace_back(m.payload);
    return out;
  }

  static std::vector<std::string> NonTicks(const std::vector<sim::Payload>& ps) {
    std::vector<std::string> out;
    for (const auto& p : ps)
      if (p.type != common::TimeTick) out.push_back(p.bytes);
    return out;
  }

  static sim::Scenario Scenario(int inserts = 8) {
    sim::Scenario s;
    s.collection.name = "c";
    s.collection.id = 100;
    s.collection.dim = 16;
    s.inserts = inserts;
    s.rows_per_insert = 10;
    s.inserts_per_tick = 2;
    s.delete_every = 3;
    return s;
  }

  static inline int counter_ = 0;
};

TEST_F(PulsarReaderTest, EarliestGivesEveryMessageSplitAtTicks) {
  std::string ch = Channel("earliest");
  auto payloads = sim::BuildScenario(Scenario());
  Produce(ch, payloads);
  auto r = Reader(ch);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  auto packs = ReadUntil(*r, payloads.back().ts);
  ASSERT_FALSE(packs.empty());
  EXPECT_EQ(packs.back().end_ts, payloads.back().ts);
  EXPECT_EQ(Payloads(packs), NonTicks(payloads));
  for (size_t i = 0; i < packs.size(); ++i) {
    if (i > 0) {
      EXPECT_EQ(packs[i].begin_ts, packs[i - 1].end_ts);
    }
    EXPECT_EQ(packs[i].end_position.channel_name(), ch);
    EXPECT_EQ(packs[i].end_position.timestamp(), packs[i].end_ts);
    auto id = DecodePulsarMsgId(packs[i].end_position.msgid());
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_EQ(id->partition, 0);  // as pulsar-client-go writes it for a non-partitioned topic
  }
  auto st = r->stats();
  EXPECT_EQ(st.messages, payloads.size());
  EXPECT_EQ(st.bad_messages, 0u);
  EXPECT_TRUE(st.reason.empty()) << st.reason;
  r->Close();
}

TEST_F(PulsarReaderTest, RestartFromSavedPositionLosesAndRepeatsNothing) {
  for (size_t batch : {size_t{1}, size_t{3}}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    std::string ch = Channel("restart-" + std::to_string(batch));
    auto payloads = sim::BuildScenario(Scenario(12));
    Produce(ch, payloads, batch, batch > 1 ? pp::ZSTD : pp::NONE);
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
    EXPECT_EQ(Payloads(joined), Payloads(all));
    ASSERT_FALSE(tail.empty());
    EXPECT_EQ(tail.front().begin_ts, head.back().end_ts);
  }
}

TEST_F(PulsarReaderTest, BatchedCompressedEntriesAreUnpacked) {
  for (auto c : {pp::NONE, pp::LZ4, pp::ZLIB, pp::ZSTD}) {
    SCOPED_TRACE(pp::CompressionType_Name(c));
    std::string ch = Channel("batch-" + pp::CompressionType_Name(c));
    auto payloads = sim::BuildScenario(Scenario(6));
    Produce(ch, payloads, 4, c);
    auto r = Reader(ch);
    ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
    auto packs = ReadUntil(*r, payloads.back().ts);
    r->Close();
    EXPECT_EQ(Payloads(packs), NonTicks(payloads));
    EXPECT_EQ(r->stats().bad_messages, 0u);
  }
}

TEST_F(PulsarReaderTest, LatestSkipsHistory) {
  std::string ch = Channel("latest");
  auto old = sim::BuildScenario(Scenario(4));
  Produce(ch, old);
  auto r = Reader(ch);
  ASSERT_TRUE(r->Start(StartPosition::Latest()).ok());
  auto s = Scenario(2);
  s.create_collection = false;
  s.start_ms = old.back().ts / (1 << 18) + 100;
  s.first_msg_id = 5000;
  auto fresh = sim::BuildScenario(s);
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
}

TEST_F(PulsarReaderTest, GoldenRecordsReplayed) {
  std::string ch = Channel("golden");
  const auto doc = testdata::LoadGolden("kafka-dml.json");
  std::vector<sim::Payload> records;
  for (const auto& r : doc) records.push_back({testdata::Unbase64(r["value"]), 0, 0});
  Produce(ch, records);
  Packer expected(ch, "g", std::nullopt);
  std::vector<Pack> want;
  uint64_t last_end = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    Message m;
    m.payload = records[i].bytes;
    m.header = *DecodeHeader(m.payload);
    m.position = KafkaPosition(ch, static_cast<int64_t>(i), m.header.timestamp);
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
  }
  EXPECT_EQ(Payloads(got), Payloads(want));
  EXPECT_EQ(r->stats().bad_messages, 0u);
}

TEST_F(PulsarReaderTest, ReplicateChannelOneRequestPerPackAndResume) {
  std::string ch = Channel("replicate-msg");
  std::vector<sim::Payload> reqs;
  for (int i = 0; i < 3; ++i) {
    common::MsgHeader h;
    h.mutable_base()->set_msg_type(common::CreateDatabase);
    h.mutable_base()->set_timestamp(100 + i);
    reqs.push_back({h.SerializeAsString(), common::CreateDatabase, 100u + i});
  }
  Produce(ch, reqs);
  auto r = Reader(ch, ChannelKind::kReplicate);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  auto packs = ReadUntil(*r, 102);
  r->Close();
  ASSERT_EQ(packs.size(), 3u);
  auto again = Reader(ch, ChannelKind::kReplicate);
  ASSERT_TRUE(again->Start(StartPosition::At(packs[1].end_position)).ok());
  auto rest = ReadUntil(*again, 102);
  again->Close();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].msgs[0].payload, reqs[2].bytes);
}

TEST_F(PulsarReaderTest, ClientSeekGetLastIdAndBadPosition) {
  std::string ch = Channel("seek");
  auto payloads = sim::BuildScenario(Scenario(3));
  auto p = testing::PulsarProducer::Create(Client(), TopicOf(ch));
  ASSERT_TRUE(p.ok()) << p.status();
  for (const auto& x : payloads) ASSERT_TRUE((*p)->Send(x.bytes).ok());
  auto ids = (*p)->Flush();
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), payloads.size());
  pulsar::ConsumerOptions co;
  co.topic = TopicOf(ch);
  co.subscription = "seek-test";
  co.start_earliest = true;
  auto c = pulsar::Consumer::Subscribe(Client(), co);
  ASSERT_TRUE(c.ok()) << c.status();
  auto last = (*c)->GetLastMessageId();
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->entryid(), ids->back().entryid());
  // Seek back to the third message: it is the next one delivered (inclusive).
  ASSERT_TRUE((*c)->Seek((*ids)[2]).ok());
  std::optional<pulsar::ReceivedMessage> m;
  for (int i = 0; i < 50 && !m; ++i) {
    auto r = (*c)->Receive(200ms);
    ASSERT_TRUE(r.ok()) << r.status();
    m = std::move(*r);
  }
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->payload, payloads[2].bytes);
  EXPECT_TRUE((*c)->Close().ok());

  // A Kafka position handed to a Pulsar reader is refused with a hint.
  auto r = Reader(ch);
  Status s = r->Start(StartPosition::At(KafkaPosition(ch, 46, 1)));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("Kafka"), std::string::npos) << s;
}

// Opt-in fault test (CDC_TEST_PULSAR_RESTART=1; restarts the broker of this worktree's
// scripts/e2e-env.sh, ~15-60 s): the broker stops mid-stream and comes back with the same data;
// the reader reports the outage and resumes with nothing lost or repeated.
TEST_F(PulsarReaderTest, BrokerRestartMidStreamLosesAndRepeatsNothing) {
  if (std::getenv("CDC_TEST_PULSAR_RESTART") == nullptr) {
    GTEST_SKIP() << "set CDC_TEST_PULSAR_RESTART=1 to restart the test broker";
  }
  std::string ch = Channel("broker-restart");
  auto s = Scenario(6);
  auto first = sim::BuildScenario(s);
  Produce(ch, first, 1);
  auto r = Reader(ch);
  ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
  auto packs = ReadUntil(*r, first.back().ts);
  ASSERT_FALSE(packs.empty());
  ASSERT_EQ(packs.back().end_ts, first.back().ts);

  std::string why;
  ASSERT_TRUE(RestartBroker(&why)) << why;
  std::string reason;
  for (int i = 0; i < 150 && reason.empty(); ++i) {
    auto p = r->Next(200ms);
    ASSERT_TRUE(p.ok());
    reason = r->stats().reason;
  }
  EXPECT_NE(reason.find("read pulsar topic"), std::string::npos) << reason;

  auto s2 = Scenario(6);
  s2.create_collection = false;
  s2.start_ms = first.back().ts / (1 << 18) + 10;
  s2.first_msg_id = 9000;
  s2.first_pk = 100000;
  auto second = sim::BuildScenario(s2);
  // The broker may still be starting: retry creating the producer for up to 3 minutes.
  std::unique_ptr<testing::PulsarProducer> producer;
  for (int i = 0; i < 90 && producer == nullptr; ++i) {
    auto p = testing::PulsarProducer::Create(Client(), TopicOf(ch));
    if (p.ok()) {
      producer = std::move(*p);
    } else {
      std::this_thread::sleep_for(2s);
    }
  }
  ASSERT_NE(producer, nullptr);
  for (const auto& x : second) ASSERT_TRUE(producer->Send(x.bytes).ok());
  ASSERT_TRUE(producer->Close().ok());
  auto more = ReadUntil(*r, second.back().ts, 1000, 180s);
  r->Close();
  for (auto& p : more) packs.push_back(std::move(p));
  std::vector<sim::Payload> both = first;
  both.insert(both.end(), second.begin(), second.end());
  EXPECT_EQ(Payloads(packs), NonTicks(both));  // nothing lost or repeated across the restart
  EXPECT_TRUE(r->stats().reason.empty()) << r->stats().reason;
}

}  // namespace
}  // namespace cdc::source
