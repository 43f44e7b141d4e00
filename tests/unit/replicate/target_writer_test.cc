// TargetWriter's timestamps on the target: a message that would land at or below a tick the
// writer already sent on its channel goes out stamped above it (Milvus skips such a message
// when it seeks to a position after that tick), order and equal timestamps kept.
#include "replicate/target_writer.h"

#include <gtest/gtest.h>

#include "milvus/msg.pb.h"
#include "target/grpc_client.h"
#include "unit/target/fake_milvus.h"

namespace cdc::replicate {
namespace {

namespace msgpb = ::milvus::proto::msg;
namespace cpb = ::milvus::proto::common;

std::string Insert(uint64_t ts, int64_t msg_id) {
  msgpb::InsertRequest r;
  r.mutable_base()->set_msg_type(cpb::Insert);
  r.mutable_base()->set_msgid(msg_id);
  r.mutable_base()->set_timestamp(ts);
  r.set_shardname("t_v0");
  r.set_num_rows(2);
  r.add_timestamps(ts);
  r.add_timestamps(ts);
  return r.SerializeAsString();
}

std::string Delete(uint64_t ts, int64_t msg_id) {
  msgpb::DeleteRequest r;
  r.mutable_base()->set_msg_type(cpb::Delete);
  r.mutable_base()->set_msgid(msg_id);
  r.mutable_base()->set_timestamp(ts);
  r.set_shardname("t_v0");
  r.set_num_rows(1);
  r.add_timestamps(ts);
  return r.SerializeAsString();
}

source::Message Src(int type, uint64_t ts, int64_t offset) {
  source::Message m;
  m.header.type = type;
  m.header.timestamp = ts;
  m.position = source::KafkaPosition("src", offset, ts);
  return m;
}

class TargetWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    target::ConnectOptions c;
    c.uri = fake_.Start();
    c.replicate_channel = cdc::testing::FakeMilvus::kReplicateChannel;
    c.max_attempts = 1;
    auto client = target::ConnectGrpcClient(c);
    ASSERT_TRUE(client.ok()) << client.status().message();
    client_ = std::move(*client);
    writer_ = std::make_unique<TargetWriter>(client_.get(), 1 << 20);
    writer_->SetClock([this] { return now_; });
  }

  // The timestamps of the data messages the target got, in order (each message's rows all
  // carry its base timestamp).
  std::vector<uint64_t> SentTimestamps() {
    std::vector<uint64_t> out;
    for (const auto& req : fake_.Replicated()) {
      for (const auto& bytes : req.msgs()) {
        msgpb::InsertRequest ins;  // Insert and Delete share base (1) and timestamps (10)
        if (!ins.ParseFromString(bytes) || ins.base().msg_type() == cpb::TimeTick) continue;
        for (uint64_t ts : ins.timestamps()) EXPECT_EQ(ts, ins.base().timestamp());
        out.push_back(ins.base().timestamp());
      }
    }
    return out;
  }

  void SendRound(uint64_t w, const std::vector<std::pair<int, uint64_t>>& msgs) {
    cdc::replicate::Round round;
    round.Begin(w, true, {});
    std::map<int64_t, Status> refused;
    int64_t offset = 0;
    for (const auto& [type, ts] : msgs) {
      ++offset;
      const std::string bytes =
          type == source::MsgType::Insert ? Insert(ts, offset) : Delete(ts, offset);
      ASSERT_TRUE(writer_->Add("t", bytes, Src(type, ts, offset), 1, &round, &refused).ok());
    }
    ASSERT_TRUE(writer_->FlushAll(&round, &refused).ok());
    ASSERT_TRUE(writer_->SendTicks(w, {"t"}, true, round, std::chrono::milliseconds(1000)).ok());
  }

  cdc::testing::FakeMilvus fake_;
  std::unique_ptr<target::Client> client_;
  std::unique_ptr<TargetWriter> writer_;
  uint64_t now_ = 10'000;
};

TEST_F(TargetWriterTest, InOrderMessagesKeepTheirSourceTimestamps) {
  SendRound(200, {{source::MsgType::Insert, 100}, {source::MsgType::Delete, 150}});
  SendRound(400, {{source::MsgType::Insert, 300}});
  EXPECT_EQ(SentTimestamps(), (std::vector<uint64_t>{100, 150, 300}));
  EXPECT_EQ(writer_->restamped(), 0u);
}

TEST_F(TargetWriterTest, MessagesBelowASentTickGoOutAboveItInOrderEqualsKept) {
  SendRound(200, {{source::MsgType::Insert, 100}});
  // A collection resumed after being set aside: its messages are older than tick 200. An
  // upsert (Delete and Insert at 120) stays one timestamp; 130 comes after it.
  SendRound(260, {{source::MsgType::Delete, 120},
                  {source::MsgType::Insert, 120},
                  {source::MsgType::Insert, 130},
                  {source::MsgType::Insert, 250}});
  const auto sent = SentTimestamps();
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[0], 100u);
  EXPECT_EQ(sent[1], 201u);  // just above the tick
  EXPECT_EQ(sent[2], sent[1]);
  EXPECT_EQ(sent[3], 202u);  // above the previous one
  EXPECT_EQ(sent[4], 250u);  // above everything before it already: as it is
  EXPECT_EQ(writer_->restamped(), 3u);
  // The source timestamps are what the checkpoint records.
  EXPECT_EQ(writer_->acked().at(1), 250u);
}

TEST_F(TargetWriterTest, FreshPagesGoAboveEverythingSentBefore) {
  SendRound(200, {{source::MsgType::Insert, 100}});
  now_ = 150;  // a clock behind the channel: the page still goes above tick 200
  auto first = writer_->SendFresh("t", {Delete(5, 1), Insert(5, 2)}, 5);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 201u);
  auto second = writer_->SendFresh("t", {Insert(6, 3)}, 6);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 202u);
  EXPECT_EQ(SentTimestamps(), (std::vector<uint64_t>{100, 201, 201, 202}));
  // A stream message after the pages, older than them, goes after them too.
  SendRound(300, {{source::MsgType::Insert, 180}});
  EXPECT_EQ(SentTimestamps().back(), 203u);
}

TEST_F(TargetWriterTest, AnotherTasksTicksOnTheSameTargetCount) {
  auto floors = std::make_shared<TickFloors>();
  TargetWriter ahead(client_.get(), 1 << 20, floors);
  TargetWriter behind(client_.get(), 1 << 20, floors);
  behind.SetClock([this] { return now_; });
  cdc::replicate::Round round;
  round.Begin(500, true, {});
  ASSERT_TRUE(ahead.SendTicks(500, {"t"}, true, round, std::chrono::milliseconds(1000)).ok());
  // A task behind (paused, catching up) sends data older than the other task's tick.
  std::map<int64_t, Status> refused;
  cdc::replicate::Round late;
  late.Begin(310, true, {});
  ASSERT_TRUE(
      behind.Add("t", Insert(300, 1), Src(source::MsgType::Insert, 300, 1), 7, &late, &refused)
          .ok());
  ASSERT_TRUE(behind.FlushAll(&late, &refused).ok());
  EXPECT_EQ(SentTimestamps(), (std::vector<uint64_t>{501}));
  EXPECT_EQ(behind.acked().at(7), 300u);
  // Another target's channel of the same name is not held back by it.
  EXPECT_EQ(floors->Get("elsewhere/t"), 0u);
}

}  // namespace
}  // namespace cdc::replicate
