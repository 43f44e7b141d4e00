// Frame codec, CRC32C, entry unpacking (batches, compression).
#include "pulsar/frame.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "mocks/pulsar_producer.h"
#include "pulsar/crc32c.h"
#include "pulsar/entry.h"

namespace cdc::pulsar {
namespace {

using cdc::testing::Compress;
using cdc::testing::PackBatch;
using ::testing::HasSubstr;

proto::BaseCommand Flow(uint32_t permits) {
  proto::BaseCommand c;
  c.set_type(proto::BaseCommand::FLOW);
  c.mutable_flow()->set_consumer_id(7);
  c.mutable_flow()->set_messagepermits(permits);
  return c;
}

proto::BaseCommand MessageCmd(uint64_t ledger, uint64_t entry) {
  proto::BaseCommand c;
  c.set_type(proto::BaseCommand::MESSAGE);
  c.mutable_message()->set_consumer_id(3);
  c.mutable_message()->mutable_message_id()->set_ledgerid(ledger);
  c.mutable_message()->mutable_message_id()->set_entryid(entry);
  return c;
}

proto::MessageMetadata Meta() {
  proto::MessageMetadata md;
  md.set_producer_name("p");
  md.set_sequence_id(1);
  md.set_publish_time(1700000000000);
  return md;
}

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  // Incremental = one shot, across the 8-byte fast path boundary.
  std::string data(1000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31);
  uint32_t inc = Crc32c(0, data.data(), 13);
  inc = Crc32c(inc, data.data() + 13, data.size() - 13);
  EXPECT_EQ(inc, Crc32c(data));
}

TEST(Frame, SimpleCommandLayout) {
  std::string f = EncodeCommand(Flow(1000));
  // [total=4+9][cmd=9][BaseCommand bytes]
  ASSERT_EQ(f.size(), 4u + 4u + 9u);
  EXPECT_EQ(ReadBe32(f.data()), 13u);
  EXPECT_EQ(ReadBe32(f.data() + 4), 9u);
  FrameReader r;
  r.Append(f.data(), f.size());
  auto got = r.Next();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->command.flow().messagepermits(), 1000u);
  EXPECT_FALSE((*got)->has_payload);
}

TEST(Frame, PayloadRoundTripWithChecksum) {
  std::string f = EncodePayloadCommand(MessageCmd(10, 3), Meta(), "hello milvus");
  // The magic 0x0e01 follows the command.
  const uint32_t cmd_size = ReadBe32(f.data() + 4);
  EXPECT_EQ(static_cast<uint8_t>(f[8 + cmd_size]), 0x0e);
  EXPECT_EQ(static_cast<uint8_t>(f[9 + cmd_size]), 0x01);
  FrameReader r;
  r.Append(f.data(), f.size());
  auto got = r.Next();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  const Frame& fr = **got;
  EXPECT_TRUE(fr.has_payload);
  EXPECT_TRUE(fr.checksum_present);
  EXPECT_TRUE(fr.checksum_ok);
  EXPECT_EQ(fr.payload, "hello milvus");
  EXPECT_EQ(fr.metadata.producer_name(), "p");
  EXPECT_EQ(fr.command.message().message_id().entryid(), 3u);
}

TEST(Frame, ChecksumMismatchIsReportedNotFatal) {
  std::string f = EncodePayloadCommand(MessageCmd(10, 3), Meta(), "hello milvus");
  f.back() ^= 0x01;  // corrupt the payload
  FrameReader r;
  r.Append(f.data(), f.size());
  auto got = r.Next();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_TRUE((*got)->checksum_present);
  EXPECT_FALSE((*got)->checksum_ok);
  EXPECT_NE((*got)->checksum_expected, (*got)->checksum_actual);
  EXPECT_EQ((*got)->command.message().message_id().ledgerid(), 10u);
}

TEST(Frame, TruncatedStreamWaitsForMoreBytes) {
  std::string a = EncodeCommand(Flow(1));
  std::string b = EncodePayloadCommand(MessageCmd(1, 2), Meta(), std::string(5000, 'z'));
  std::string all = a + b;
  FrameReader r;
  int frames = 0;
  // Feed byte by byte: never an error, exactly two frames.
  for (char c : all) {
    r.Append(&c, 1);
    auto got = r.Next();
    ASSERT_TRUE(got.ok()) << got.status();
    if (got->has_value()) ++frames;
  }
  EXPECT_EQ(frames, 2);
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(Frame, GarbageIsDataLoss) {
  {
    FrameReader r(1024);
    std::string huge;
    AppendBe32(&huge, 1 << 30);
    r.Append(huge.data(), huge.size());
    auto got = r.Next();
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(got.status().message()), HasSubstr("maxMessageSize"));
  }
  {
    FrameReader r;
    std::string bad;
    AppendBe32(&bad, 8);
    AppendBe32(&bad, 100);  // command larger than the frame
    bad += "abcd";
    r.Append(bad.data(), bad.size());
    auto got = r.Next();
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(got.status().message()), HasSubstr("command size"));
  }
  {
    FrameReader r;
    std::string bad;
    AppendBe32(&bad, 8);
    AppendBe32(&bad, 4);
    bad += "\xff\xff\xff\xff";  // not a BaseCommand
    r.Append(bad.data(), bad.size());
    EXPECT_EQ(r.Next().status().code(), absl::StatusCode::kDataLoss);
  }
  {
    // Payload part too short to hold a metadata size.
    std::string cmd = MessageCmd(1, 1).SerializeAsString();
    std::string bad;
    AppendBe32(&bad, static_cast<uint32_t>(4 + cmd.size() + 2));
    AppendBe32(&bad, static_cast<uint32_t>(cmd.size()));
    bad += cmd;
    bad += "xy";
    FrameReader r;
    r.Append(bad.data(), bad.size());
    EXPECT_EQ(r.Next().status().code(), absl::StatusCode::kDataLoss);
  }
}

TEST(Entry, SingleMessage) {
  auto owner = std::make_shared<const std::string>("payload");
  auto e = UnpackEntry(Meta(), owner, *owner);
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(e->messages.size(), 1u);
  EXPECT_EQ(e->messages[0].payload, "payload");
  EXPECT_EQ(e->messages[0].batch_index, -1);
  EXPECT_EQ(e->batch_size, 0);
}

class EntryBatch : public ::testing::TestWithParam<proto::CompressionType> {};

TEST_P(EntryBatch, UnpacksEveryMessageInOrder) {
  std::vector<std::string> msgs = {"first", std::string(3000, 'm'), "", "last"};
  std::vector<std::string_view> views(msgs.begin(), msgs.end());
  std::string batch = PackBatch(views);
  proto::MessageMetadata md = Meta();
  md.set_num_messages_in_batch(4);
  if (GetParam() != proto::NONE) {
    md.set_compression(GetParam());
    md.set_uncompressed_size(static_cast<uint32_t>(batch.size()));
    auto c = Compress(GetParam(), batch);
    ASSERT_TRUE(c.ok()) << c.status();
    batch = *c;
  }
  auto owner = std::make_shared<const std::string>(batch);
  auto e = UnpackEntry(md, owner, *owner);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->batch_size, 4);
  ASSERT_EQ(e->messages.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(e->messages[i].payload, msgs[i]);
    EXPECT_EQ(e->messages[i].batch_index, i);
  }
}

INSTANTIATE_TEST_SUITE_P(Compression, EntryBatch,
                         ::testing::Values(proto::NONE, proto::LZ4, proto::ZLIB, proto::ZSTD));

TEST(Entry, UnsupportedAndCorrupt) {
  auto owner = std::make_shared<const std::string>("abc");
  proto::MessageMetadata md = Meta();
  md.set_compression(proto::SNAPPY);
  md.set_uncompressed_size(3);
  auto e = UnpackEntry(md, owner, *owner);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(e.status().message()), HasSubstr("SNAPPY"));

  md = Meta();
  md.set_compression(proto::ZSTD);
  md.set_uncompressed_size(100);
  e = UnpackEntry(md, owner, *owner);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kDataLoss);

  md = Meta();
  md.set_num_messages_in_batch(3);  // says 3, holds 1
  std::string one = PackBatch({"x"});
  auto o2 = std::make_shared<const std::string>(one);
  e = UnpackEntry(md, o2, *o2);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(e.status().message()), HasSubstr("truncated"));
}

// Found with the pulsar_frame fuzz target: sizes in a corrupt entry's metadata sized
// allocations before anything was checked (4 GiB for uncompressed_size 0xffffffff, 48 GiB of
// reserve for num_messages_in_batch 2^31-1: bad_alloc, the process ended).
TEST(Entry, CorruptSizesAreErrorsNotAllocations) {
  auto owner = std::make_shared<const std::string>(8, '\0');
  proto::MessageMetadata md = Meta();
  md.set_compression(proto::LZ4);
  md.set_uncompressed_size(0xffffffffu);
  auto e = UnpackEntry(md, owner, *owner);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(e.status().message()),
              HasSubstr("entry of 8 bytes claims 4294967295 bytes uncompressed, more than the "
                        "256 MiB milvus-cdc unpacks"));

  md = Meta();
  md.set_num_messages_in_batch(0x7fffffff);
  e = UnpackEntry(md, owner, *owner);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(e.status().message()), HasSubstr("batch message 0 of 2147483647"));
}

}  // namespace
}  // namespace cdc::pulsar
