// The reader contract (reader_contract.h) and Kafka-only behaviour against a real Kafka broker
// (CDC_TEST_KAFKA, from `scripts/e2e-env.sh up kafka`), fed by the source simulator.
// Opt-in outage: CDC_TEST_KAFKA_PAUSE_PID = pid of a broker this run started (e.g.
// $(cat .cache/env/pids/kafka.pid)); it is frozen with SIGSTOP for a few seconds mid-stream and
// resumed with SIGCONT (always, even on failure).
#include "source/kafka/kafka_reader.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "integration/source/reader_contract.h"
#include "source/kafka/kafka_broker.h"
#include "tools/sim/kafka_producer.h"

namespace cdc::source::testing {
namespace {
using namespace std::chrono_literals;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

KafkaBrokerOptions Options() {
  KafkaBrokerOptions o;
  o.brokers = Env("CDC_TEST_KAFKA");
  if (!Env("CDC_KAFKA_DEBUG").empty()) o.config["debug"] = Env("CDC_KAFKA_DEBUG");
  return o;
}

// Offsets are contiguous from 0 in a fresh topic: the ids of what this process wrote. Thread-safe
// for different topics.
Result<std::vector<std::string>> Produce(const std::string& topic,
                                         const std::vector<sim::Payload>& payloads) {
  static std::mutex mu;
  static std::map<std::string, int64_t> written;
  ASSIGN_OR_RETURN(auto producer, sim::KafkaProducer::Create(Options().brokers));
  for (const auto& p : payloads) RETURN_IF_ERROR(producer.Produce(topic, p.bytes));
  RETURN_IF_ERROR(producer.Flush());
  std::lock_guard l(mu);
  std::vector<std::string> ids;
  for (size_t i = 0; i < payloads.size(); ++i) ids.push_back(EncodeKafkaMsgId(written[topic]++));
  return ids;
}

Backend KafkaBackend() {
  Backend b;
  b.name = "Kafka";
  if (Options().brokers.empty())
    b.skip_reason = "CDC_TEST_KAFKA not set (scripts/e2e-env.sh up kafka)";
  b.broker = []() -> Result<std::unique_ptr<Broker>> {
    return std::unique_ptr<Broker>(std::make_unique<KafkaBroker>(Options()));
  };
  b.produce = Produce;
  b.where = [](const std::string& topic, const std::string& id) {
    return "topic " + topic + " offset " + std::to_string(*DecodeKafkaMsgId(id));
  };
  b.check_position = [](const MsgPosition& p) {
    EXPECT_TRUE(DecodeKafkaMsgId(p.msgid()).ok()) << DescribePosition(p);
  };
  b.outage_reason = [](const std::string& topic) { return "read kafka topic " + topic; };
  const pid_t pid = static_cast<pid_t>(std::atoll(Env("CDC_TEST_KAFKA_PAUSE_PID").c_str()));
  if (pid > 1) {
    b.stop_broker = [pid] {
      return kill(pid, SIGSTOP) == 0 ? OkStatus() : InternalError("SIGSTOP the test broker");
    };
    b.start_broker = [pid] {
      return kill(pid, SIGCONT) == 0 ? OkStatus() : InternalError("SIGCONT the test broker");
    };
  }
  b.outage_skip = "set CDC_TEST_KAFKA_PAUSE_PID to the test broker's pid";
  b.has_offsets = true;
  b.counts_lag = true;
  return b;
}

INSTANTIATE_TEST_SUITE_P(Kafka, ReaderContractTest, ::testing::Values(KafkaBackend()), BackendName);

// Kafka only: a reader of a topic that does not exist yet says so and reads it once Milvus
// creates it (Pulsar creates a topic when it is subscribed to).
TEST(KafkaReader, MissingTopicIsRetriedAndReadOnceItExists) {
  if (Options().brokers.empty()) GTEST_SKIP() << "CDC_TEST_KAFKA not set";
  const std::string topic = "cdc-it-" + std::to_string(getpid()) + "-late-topic";
  KafkaReaderOptions o;
  o.reader.channel = topic;
  o.reader.owner = "it";
  o.brokers = Options().brokers;
  KafkaChannelReader r(o);
  ASSERT_TRUE(r.Start(StartPosition::Earliest()).ok());
  std::string reason;
  for (int i = 0; i < 50 && reason.empty(); ++i) {
    auto p = r.Next(200ms);
    ASSERT_TRUE(p.ok());
    reason = r.stats().reason;
  }
  EXPECT_NE(reason.find(topic), std::string::npos) << reason;
  sim::Scenario s;
  s.pchannel = topic;
  s.collection.id = 100;
  s.collection.dim = 4;
  s.inserts = 2;
  auto payloads = sim::BuildScenario(s);
  ASSERT_TRUE(Produce(topic, payloads).ok());
  std::vector<Pack> packs;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline &&
         (packs.empty() || packs.back().end_ts < payloads.back().ts)) {
    auto p = r.Next(200ms);
    ASSERT_TRUE(p.ok());
    if (p->has_value()) packs.push_back(std::move(**p));
  }
  r.Close();
  ASSERT_FALSE(packs.empty());
  EXPECT_EQ(packs.back().end_ts, payloads.back().ts);
  EXPECT_TRUE(r.stats().reason.empty()) << r.stats().reason;
}

// Kafka only: a consumer that takes nothing for a while (e.g. its target is down) makes the
// reader pause fetching, so that librdkafka drops its prefetch; once the consumer takes packs
// again, reading resumes at the next unread offset: every message once, in order.
TEST(KafkaReader, AWaitingConsumerPausesFetchingAndResumesWithoutLossOrRepeat) {
  if (Options().brokers.empty()) GTEST_SKIP() << "CDC_TEST_KAFKA not set";
  const std::string topic = "cdc-it-" + std::to_string(getpid()) + "-paused";
  sim::Scenario s;
  s.pchannel = topic;
  s.collection.id = 100;
  s.collection.dim = 4;
  s.inserts = 300;
  s.rows_per_insert = 10;
  auto payloads = sim::BuildScenario(s);
  ASSERT_TRUE(Produce(topic, payloads).ok());
  size_t want = 0;
  for (const auto& p : payloads) want += p.type != ::milvus::proto::common::TimeTick ? 1 : 0;
  KafkaReaderOptions o;
  o.reader.channel = topic;
  o.reader.owner = "it";
  o.reader.max_queued_packs = 1;
  o.brokers = Options().brokers;
  KafkaChannelReader r(o);
  ASSERT_TRUE(r.Start(StartPosition::Earliest()).ok());
  std::this_thread::sleep_for(8s);  // the reader waits on a full queue, about a second a call
  EXPECT_GE(r.stats().pauses, 1u);
  std::vector<int64_t> offsets;
  uint64_t end_ts = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline && end_ts < payloads.back().ts) {
    auto p = r.Next(200ms);
    ASSERT_TRUE(p.ok());
    if (!p->has_value()) continue;
    end_ts = (*p)->end_ts;
    for (const auto& m : (*p)->msgs) offsets.push_back(m.offset);
  }
  r.Close();
  EXPECT_EQ(end_ts, payloads.back().ts);
  EXPECT_EQ(offsets.size(), want);
  EXPECT_TRUE(std::is_sorted(offsets.begin(), offsets.end()));
  EXPECT_EQ(std::adjacent_find(offsets.begin(), offsets.end()), offsets.end()) << "a repeat";
}

}  // namespace
}  // namespace cdc::source::testing
