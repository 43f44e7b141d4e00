#include "replicate/dml_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tools/sim/messages.h"

namespace cdc::replicate {
namespace {

using ::testing::HasSubstr;

source::Message Wrap(const std::string& bytes) {
  auto owned = std::make_shared<std::string>(bytes);
  source::Message m;
  m.payload = *owned;
  m.owner = owned;
  auto h = source::DecodeHeader(m.payload);
  EXPECT_TRUE(h.ok()) << h.status();
  if (h.ok()) m.header = *h;
  m.position.set_channel_name("by-dev-rootcoord-dml_0");
  return m;
}

TEST(DmlLog, InsertShowsRowsAndFirstTenScalarValues) {
  sim::CollectionSpec spec;
  spec.id = 7;
  spec.dim = 4;
  auto ins = sim::MakeInsert(
      spec, {.partition_id = 8, .vchannel = "src_7v0", .ts = 99, .msg_id = 5, .rows = 12});
  std::string text = DescribeDml(Wrap(ins.SerializeAsString()), "db1", "books");
  EXPECT_THAT(text, HasSubstr("Insert db1.books partition_id=8 shard=src_7v0 ts=99"));
  EXPECT_THAT(text, HasSubstr("rows=12"));
  EXPECT_THAT(text, HasSubstr(",...]"));  // 12 keys, 10 shown
}

TEST(DmlLog, DeleteShowsPrimaryKeys) {
  sim::CollectionSpec spec;
  spec.id = 7;
  auto del = sim::MakeDelete(spec, "src_7v1", 100, 6, {4, 5, 6});
  std::string text = DescribeDml(Wrap(del.SerializeAsString()), "default", "c");
  EXPECT_THAT(text, HasSubstr("Delete default.c"));
  EXPECT_THAT(text, HasSubstr("shard=src_7v1 ts=100"));
  EXPECT_THAT(text, HasSubstr("rows=3 primary_keys=[4,5,6]"));
}

TEST(DmlLog, UndecodablePayloadIsSaid) {
  source::Message m;
  m.header.type = ::milvus::proto::common::Insert;
  static const std::string kBad("\x0a\xff\xff", 3);
  m.payload = kBad;
  EXPECT_THAT(DescribeDml(m, "d", "c"), HasSubstr("(undecodable)"));
}

}  // namespace
}  // namespace cdc::replicate
