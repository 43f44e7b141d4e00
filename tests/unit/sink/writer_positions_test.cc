// The seam between the pipeline and the sink: TargetWriter gives a client that asks for them
// (target::Client::PositionPerMessage) each message's source position, also when a batch holds
// several messages; the sink turns them into the envelopes' positions.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "milvus/msg.pb.h"
#include "replicate/round.h"
#include "replicate/target_writer.h"
#include "sink/kafka_sink.h"
#include "unit/sink/fake_producer.h"

namespace cdc::sink {
namespace {

namespace msgpb = ::milvus::proto::msg;
namespace commonpb = ::milvus::proto::common;
using json = nlohmann::json;

source::Message DeleteAt(const std::string& msg_id, uint64_t ts, int64_t pk) {
  msgpb::DeleteRequest del;
  del.mutable_base()->set_msg_type(commonpb::Delete);
  del.mutable_base()->set_timestamp(ts);
  del.set_collection_name("c");
  del.set_num_rows(1);
  del.add_timestamps(ts);
  del.mutable_primary_keys()->mutable_int_id()->add_data(pk);
  auto bytes = std::make_shared<std::string>(del.SerializeAsString());
  source::Message m;
  m.owner = bytes;
  m.payload = *bytes;
  m.position.set_channel_name("by-dev-rootcoord-dml_0");
  m.position.set_msgid(msg_id);
  m.header.type = commonpb::Delete;
  m.header.timestamp = ts;
  return m;
}

TEST(WriterPositionsTest, EachMessageOfABatchKeepsItsSourcePosition) {
  auto p = std::make_unique<FakeProducer>();
  FakeProducer* producer = p.get();
  KafkaSink sink(std::move(p));
  replicate::TargetWriter writer(&sink, size_t{1} << 20);
  replicate::Round round;
  round.Begin(100, true, {});
  std::map<int64_t, Status> refused;
  for (int i = 0; i < 3; ++i) {
    const source::Message m = DeleteAt(std::string(1, static_cast<char>('a' + i)), 10 + i, i);
    ASSERT_TRUE(writer.Add("ch", std::string(m.payload), m, 7, &round, &refused).ok());
  }
  ASSERT_TRUE(writer.FlushAll(&round, &refused).ok());
  EXPECT_TRUE(refused.empty());
  EXPECT_EQ(producer->calls, 1);  // one pack, one wait for the acks
  ASSERT_EQ(producer->produced.size(), 3U);
  const char* ids[] = {"YQ==", "Yg==", "Yw=="};  // "a", "b", "c"
  for (size_t i = 0; i < 3; ++i) {
    const json e = json::parse(producer->produced[i].value);
    EXPECT_EQ(e["position"]["channel"], "by-dev-rootcoord-dml_0");
    EXPECT_EQ(e["position"]["msg_id"], ids[i]);
    EXPECT_EQ(e["primary_keys"], json({static_cast<int64_t>(i)}));
  }
}

}  // namespace
}  // namespace cdc::sink
