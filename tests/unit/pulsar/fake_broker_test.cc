// Client behaviour against a scripted broker: every wait is bounded (a seek nobody answers,
// a CONNECT nobody answers), PINGs are answered, corrupt entries are reported with their id.
#include "fake_broker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pulsar/consumer.h"

namespace cdc::pulsar {
namespace {

using ::testing::HasSubstr;

ClientOptions Fast(const std::string& url) {
  ClientOptions o;
  o.service_url = url;
  o.connect_timeout = std::chrono::milliseconds(500);
  o.operation_timeout = std::chrono::milliseconds(400);
  return o;
}

ConsumerOptions Sub() {
  ConsumerOptions c;
  c.topic = "persistent://public/default/by-dev-rootcoord-dml_0";
  c.subscription = "unit";
  c.start_earliest = true;
  return c;
}

TEST(FakeBroker, SeekWithoutAnswerTimesOut) {
  testing::FakeBroker broker;
  broker.answer_seek = false;
  auto c = Consumer::Subscribe(Fast(broker.url()), Sub());
  ASSERT_TRUE(c.ok()) << c.status();
  proto::MessageIdData id;
  id.set_ledgerid(1);
  id.set_entryid(0);
  Status s = (*c)->Seek(id);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("seek topic persistent://public/default/"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("no answer within 400 ms"));
  EXPECT_EQ(broker.seeks_received.load(), 1);
  // After a timeout the consumer can be reconnected.
  broker.answer_seek = true;
  EXPECT_TRUE((*c)->Reconnect().ok());
  EXPECT_TRUE((*c)->Seek(id).ok());
}

TEST(FakeBroker, ConnectWithoutAnswerTimesOut) {
  testing::FakeBroker broker;
  broker.answer_connect = false;
  auto c = Consumer::Subscribe(Fast(broker.url()), Sub());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDeadlineExceeded) << c.status();
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("no CONNECTED answer"));
}

TEST(FakeBroker, NothingListeningIsUnavailable) {
  std::string url;
  {
    testing::FakeBroker gone;
    url = gone.url();
  }
  auto c = Consumer::Subscribe(Fast(url), Sub());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("127.0.0.1"));
}

TEST(FakeBroker, AnswersPingAndReportsCorruptEntries) {
  testing::FakeBroker broker;
  broker.ping_after_connect = true;
  broker.messages = {{"good-0", false}, {"bad-1", true}, {"good-2", false}};
  auto c = Consumer::Subscribe(Fast(broker.url()), Sub());
  ASSERT_TRUE(c.ok()) << c.status();
  std::vector<ReceivedMessage> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got.size() < 3 && std::chrono::steady_clock::now() < deadline) {
    auto r = (*c)->Receive(std::chrono::milliseconds(100));
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->has_value()) got.push_back(std::move(**r));
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].payload, "good-0");
  EXPECT_TRUE(got[0].error.empty());
  EXPECT_TRUE(got[1].payload.empty());
  EXPECT_THAT(got[1].error, HasSubstr("checksum mismatch"));
  EXPECT_THAT(got[1].error, HasSubstr("message 1:1"));
  EXPECT_EQ(got[2].payload, "good-2");
  EXPECT_EQ((*c)->checksum_errors(), 1u);
  EXPECT_GE(broker.pongs_received.load(), 1);
}

}  // namespace
}  // namespace cdc::pulsar
