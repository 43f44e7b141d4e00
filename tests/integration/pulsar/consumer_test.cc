// Our Pulsar client (src/pulsar) against a real Pulsar standalone (CDC_TEST_PULSAR, from
// `scripts/e2e-env.sh up pulsar`): seek and the last message id. Every wait is bounded.
#include "pulsar/consumer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "mocks/pulsar_producer.h"

namespace cdc::pulsar {
namespace {
using namespace std::chrono_literals;

ClientOptions Client() {
  ClientOptions o;
  const char* u = std::getenv("CDC_TEST_PULSAR");
  o.service_url = u ? u : "";
  return o;
}

TEST(PulsarConsumer, SeekAndLastMessageId) {
  if (Client().service_url.empty()) GTEST_SKIP() << "CDC_TEST_PULSAR not set";
  const std::string topic =
      "persistent://public/default/cdc-it-" + std::to_string(getpid()) + "-seek";
  std::vector<std::string> payloads = {"first", "second", "third", "fourth", "fifth"};
  auto p = cdc::testing::PulsarProducer::Create(Client(), topic);
  ASSERT_TRUE(p.ok()) << p.status();
  for (const auto& x : payloads) ASSERT_TRUE((*p)->Send(x).ok());
  auto ids = (*p)->Flush();
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), payloads.size());
  ConsumerOptions co;
  co.topic = topic;
  co.subscription = "seek-test";
  co.start_earliest = true;
  auto c = Consumer::Subscribe(Client(), co);
  ASSERT_TRUE(c.ok()) << c.status();
  auto last = (*c)->GetLastMessageId();
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->entryid(), ids->back().entryid());
  // Seek back to the third message: it is the next one delivered (inclusive).
  ASSERT_TRUE((*c)->Seek((*ids)[2]).ok());
  std::optional<ReceivedMessage> m;
  for (int i = 0; i < 50 && !m; ++i) {
    auto r = (*c)->Receive(200ms);
    ASSERT_TRUE(r.ok()) << r.status();
    m = std::move(*r);
  }
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->payload, payloads[2]);
  EXPECT_TRUE((*c)->Close().ok());
}

}  // namespace
}  // namespace cdc::pulsar
