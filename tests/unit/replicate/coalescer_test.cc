// Coalescing: merging of every field type, Delete runs, run boundaries, the size cap, the
// fallback, and determinism (the same pack gives the same bytes whatever round released it).
#include "replicate/coalescer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "milvus/msg.pb.h"
#include "replicate/merger.h"
#include "source/position.h"

namespace cdc::replicate {
namespace {

namespace cpb = ::milvus::proto::common;
namespace msgpb = ::milvus::proto::msg;
namespace schemapb = ::milvus::proto::schema;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kTs0 = 1000;

schemapb::FieldData* AddField(msgpb::InsertRequest* r, int64_t id, schemapb::DataType type,
                              const std::string& name) {
  auto* f = r->add_fields_data();
  f->set_field_id(id);
  f->set_type(type);
  f->set_field_name(name);
  return f;
}

// An Insert of rows [from, to) with a column of every type Milvus 2.3 (and 2.4's half-precision
// vectors) writes; row i has ts kTs0 + i, row id 5000 + i and values derived from i.
msgpb::InsertRequest InsertOfRows(int from, int to, int64_t msg_id, int64_t partition = 8) {
  msgpb::InsertRequest r;
  r.mutable_base()->set_msg_type(cpb::Insert);
  r.mutable_base()->set_msgid(msg_id);
  r.mutable_base()->set_timestamp(kTs0 + to - 1);
  r.mutable_base()->set_sourceid(1);
  r.set_shardname("by-dev-rootcoord-dml_0_7v0");
  r.set_collection_name("c");
  r.set_partition_name("p");
  r.set_collectionid(7);
  r.set_partitionid(partition);
  r.set_segmentid(11);
  r.set_version(msgpb::ColumnBased);
  auto* pk = AddField(&r, 100, schemapb::Int64, "pk")->mutable_scalars()->mutable_long_data();
  auto* b = AddField(&r, 101, schemapb::Bool, "b")->mutable_scalars()->mutable_bool_data();
  auto* i8 = AddField(&r, 102, schemapb::Int8, "i8")->mutable_scalars()->mutable_int_data();
  auto* i32 = AddField(&r, 103, schemapb::Int32, "i32")->mutable_scalars()->mutable_int_data();
  auto* fl = AddField(&r, 104, schemapb::Float, "f")->mutable_scalars()->mutable_float_data();
  auto* db = AddField(&r, 105, schemapb::Double, "d")->mutable_scalars()->mutable_double_data();
  auto* vc = AddField(&r, 106, schemapb::VarChar, "s")->mutable_scalars()->mutable_string_data();
  auto* js = AddField(&r, 107, schemapb::JSON, "j")->mutable_scalars()->mutable_json_data();
  auto* arr_f = AddField(&r, 108, schemapb::Array, "a");
  auto* arr = arr_f->mutable_scalars()->mutable_array_data();
  arr->set_element_type(schemapb::VarChar);
  auto* fv = AddField(&r, 109, schemapb::FloatVector, "fv")->mutable_vectors();
  fv->set_dim(2);
  auto* bv = AddField(&r, 110, schemapb::BinaryVector, "bv")->mutable_vectors();
  bv->set_dim(16);
  auto* hv = AddField(&r, 111, schemapb::Float16Vector, "hv")->mutable_vectors();
  hv->set_dim(1);
  auto* meta = AddField(&r, 112, schemapb::JSON, "$meta");
  meta->set_is_dynamic(true);
  auto* dyn = meta->mutable_scalars()->mutable_json_data();
  for (int i = from; i < to; ++i) {
    r.add_timestamps(kTs0 + i);
    r.add_rowids(5000 + i);
    pk->add_data(i);
    b->add_data(i % 2 == 0);
    i8->add_data(i % 100);
    i32->add_data(-i);
    fl->add_data(0.5f * i);
    db->add_data(0.25 * i);
    vc->add_data("row" + std::to_string(i));
    js->add_data("{\"n\":" + std::to_string(i) + "}");
    auto* e = arr->add_data()->mutable_string_data();
    for (int k = 0; k <= i % 3; ++k) e->add_data("e" + std::to_string(k));
    fv->mutable_float_vector()->add_data(static_cast<float>(i));
    fv->mutable_float_vector()->add_data(static_cast<float>(-i));
    bv->mutable_binary_vector()->append({static_cast<char>(i), static_cast<char>(i + 1)});
    hv->mutable_float16_vector()->append({static_cast<char>(i), static_cast<char>(0x3c)});
    dyn->add_data("{\"extra\":" + std::to_string(i) + "}");
  }
  r.set_num_rows(to - from);
  return r;
}

msgpb::DeleteRequest DeleteOfKeys(const std::vector<int64_t>& keys, uint64_t ts, int64_t msg_id) {
  msgpb::DeleteRequest r;
  r.mutable_base()->set_msg_type(cpb::Delete);
  r.mutable_base()->set_msgid(msg_id);
  r.mutable_base()->set_timestamp(ts);
  r.set_shardname("by-dev-rootcoord-dml_0_7v0");
  r.set_collectionid(7);
  r.set_partitionid(-1);
  for (int64_t k : keys) {
    r.mutable_primary_keys()->mutable_int_id()->add_data(k);
    r.add_timestamps(ts);
  }
  r.set_num_rows(static_cast<int64_t>(keys.size()));
  return r;
}

TEST(MergeInserts, EveryFieldTypeEqualsOneInsertOfAllRows) {
  const std::string a = InsertOfRows(0, 2, 1).SerializeAsString();
  const std::string b = InsertOfRows(2, 3, 2).SerializeAsString();
  const std::string c = InsertOfRows(3, 6, 3).SerializeAsString();
  auto merged = MergeInserts({a, b, c}, 42);
  ASSERT_TRUE(merged.ok()) << merged.status();
  msgpb::InsertRequest got;
  ASSERT_TRUE(got.ParseFromString(*merged));
  msgpb::InsertRequest want = InsertOfRows(0, 6, 42);
  // Every column, timestamp and row id in order; the latest base timestamp; the given id.
  EXPECT_EQ(got.DebugString(), want.DebugString());
  EXPECT_EQ(got.num_rows(), 6u);
  EXPECT_THAT(got.rowids(), ElementsAre(5000, 5001, 5002, 5003, 5004, 5005));
  EXPECT_EQ(got.timestamps(0), kTs0);
  EXPECT_EQ(got.timestamps(5), kTs0 + 5);
  EXPECT_EQ(got.fields_data(10).vectors().binary_vector().size(), 12u);  // 6 rows x 2 bytes
}

TEST(MergeInserts, RefusesWhatItCannotMergeExactly) {
  const std::string a = InsertOfRows(0, 2, 1).SerializeAsString();
  // A different partition.
  EXPECT_FALSE(MergeInserts({a, InsertOfRows(2, 3, 2, 9).SerializeAsString()}, 5).ok());
  // Fields in another order.
  auto swapped = InsertOfRows(2, 3, 2);
  swapped.mutable_fields_data()->SwapElements(0, 1);
  auto s = MergeInserts({a, swapped.SerializeAsString()}, 5);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("differs"));
  // A row-based Insert.
  auto rows = InsertOfRows(2, 3, 2);
  rows.add_row_data()->set_value("x");
  EXPECT_FALSE(MergeInserts({a, rows.SerializeAsString()}, 5).ok());
  // A protobuf field this version does not know (e.g. a newer Milvus's nullable column).
  std::string unknown = InsertOfRows(2, 3, 2).SerializeAsString();
  unknown += std::string("\xf8\x01\x01", 3);  // field 31, varint 1
  s = MergeInserts({a, unknown}, 5);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("does not know"));
  // Timestamps that do not match the rows.
  auto short_ts = InsertOfRows(2, 4, 2);
  short_ts.mutable_timestamps()->RemoveLast();
  EXPECT_FALSE(MergeInserts({a, short_ts.SerializeAsString()}, 5).ok());
}

TEST(MergeDeletes, KeysAndTimestampsInOrder) {
  auto merged = MergeDeletes({DeleteOfKeys({1, 2}, 10, 1).SerializeAsString(),
                              DeleteOfKeys({3}, 12, 2).SerializeAsString()},
                             9);
  ASSERT_TRUE(merged.ok()) << merged.status();
  msgpb::DeleteRequest got;
  ASSERT_TRUE(got.ParseFromString(*merged));
  EXPECT_THAT(got.primary_keys().int_id().data(), ElementsAre(1, 2, 3));
  EXPECT_THAT(got.timestamps(), ElementsAre(10, 10, 12));
  EXPECT_EQ(got.num_rows(), 3);
  EXPECT_EQ(got.base().msgid(), 9);
  EXPECT_EQ(got.base().timestamp(), 12u);

  msgpb::DeleteRequest str = DeleteOfKeys({}, 13, 3);
  str.mutable_primary_keys()->mutable_str_id()->add_data("k");
  str.add_timestamps(13);
  str.set_num_rows(1);
  EXPECT_FALSE(MergeDeletes({DeleteOfKeys({1}, 10, 1).SerializeAsString(), str.SerializeAsString()},
                            9)
                   .ok());  // int and string keys
  auto strs = MergeDeletes({str.SerializeAsString(), str.SerializeAsString()}, 9);
  ASSERT_TRUE(strs.ok());
  ASSERT_TRUE(got.ParseFromString(*strs));
  EXPECT_THAT(got.primary_keys().str_id().data(), ElementsAre("k", "k"));
}

// A message as a reader makes it: owned payload, header from the proto.
source::Message Wrap(std::string bytes, int type, int64_t collection, int64_t partition,
                     const std::string& shard, uint64_t ts, int64_t msg_id, int64_t offset) {
  auto owner = std::make_shared<const std::string>(std::move(bytes));
  source::Message m;
  m.payload = *owner;
  m.owner = owner;
  m.header.type = type;
  m.header.collection_id = collection;
  m.header.partition_id = partition;
  m.header.shard_name = shard;
  m.header.timestamp = ts;
  m.header.msg_id = msg_id;
  m.offset = offset;
  m.position = source::KafkaPosition("dml_0", offset, ts);
  return m;
}

source::Message Ins(int row, int64_t partition = 8, int64_t collection = 7) {
  auto r = InsertOfRows(row, row + 1, 100 + row, partition);
  r.set_collectionid(collection);
  return Wrap(r.SerializeAsString(), cpb::Insert, collection, partition, r.shardname(), kTs0 + row,
              100 + row, row);
}

source::Message Del(int64_t key, uint64_t ts) {
  return Wrap(DeleteOfKeys({key}, ts, 900 + key).SerializeAsString(), cpb::Delete, 7, -1,
              "by-dev-rootcoord-dml_0_7v0", ts, 900 + key, 50 + key);
}

// Rows of each message (Insert num_rows / Delete num_rows), in order.
std::vector<size_t> Counts(const std::vector<CoalescedMessage>& out) {
  std::vector<size_t> n;
  for (const auto& c : out) n.push_back(c.count);
  return n;
}

const auto kNoCuts = [](uint64_t) { return UINT64_MAX; };

TEST(Coalescer, RunsEndAtDeletesPartitionsAndDrops) {
  Coalescer co({.enabled = true});
  std::vector<source::Message> in;
  in.push_back(Ins(0));
  in.push_back(Ins(1, 8, 70));  // another collection between: does not end the run
  in.push_back(Ins(2));
  in.push_back(Del(0, kTs0 + 3));
  in.push_back(Del(1, kTs0 + 3));
  in.push_back(Ins(4));
  in.push_back(Ins(5, 9));  // another partition: its own run, beside partition 8's
  in.push_back(Ins(6, 8));
  in.push_back(Ins(7, 9));
  source::Message drop;
  drop.header.type = cpb::DropPartition;
  drop.header.collection_id = 7;
  drop.header.timestamp = kTs0 + 7;  // (rows 6, 7 share ts with it: only the order counts here)
  in.push_back(drop);
  in.push_back(Ins(8, 9));
  in.push_back(Ins(9, 9));
  auto out = co.Apply(std::move(in), kNoCuts);
  // [0,2] [1 of 70] [del 0,1] [4,6 of p8] [5,7 of p9] drop [8,9]
  EXPECT_THAT(Counts(out), ElementsAre(2, 1, 2, 2, 2, 1, 2));
  EXPECT_EQ(out[0].first_ts, kTs0);
  EXPECT_EQ(out[0].msg.header.timestamp, kTs0 + 2);
  EXPECT_EQ(out[0].msg.header.msg_id, CoalescedMsgId({100, 102}));
  EXPECT_EQ(out[1].msg.header.msg_id, 101);  // alone: as read
  msgpb::DeleteRequest del;
  ASSERT_TRUE(del.ParseFromArray(out[2].msg.payload.data(), out[2].msg.payload.size()));
  EXPECT_THAT(del.primary_keys().int_id().data(), ElementsAre(0, 1));
  EXPECT_EQ(co.stats().merged, 5u);
  EXPECT_EQ(co.stats().folded, 10u);
  EXPECT_EQ(co.stats().fallbacks, 0u);
}

TEST(Coalescer, CutsAndTheSizeCapEndRuns) {
  std::vector<source::Message> in;
  for (int i = 0; i < 6; ++i) in.push_back(Ins(i));
  // A cut tick at kTs0 + 2: rows 0..2 and 3..5 are in different buckets.
  auto cut = [](uint64_t ts) { return ts <= kTs0 + 2 ? kTs0 + 2 : UINT64_MAX; };
  Coalescer co({.enabled = true});
  EXPECT_THAT(Counts(co.Apply(in, cut)), ElementsAre(3, 3));
  Coalescer capped({.enabled = true, .max_bytes = in[0].payload.size() * 5 / 2});
  EXPECT_THAT(Counts(capped.Apply(in, kNoCuts)), ElementsAre(2, 2, 2));
  Coalescer off({.enabled = false});
  EXPECT_THAT(Counts(off.Apply(in, kNoCuts)), ElementsAre(1, 1, 1, 1, 1, 1));
}

TEST(Coalescer, ARunItCannotMergeGoesAsItWasCounted) {
  std::vector<source::Message> in;
  in.push_back(Ins(0));
  auto odd = InsertOfRows(1, 2, 101);
  odd.mutable_fields_data()->RemoveLast();  // lacks the dynamic field
  in.push_back(Wrap(odd.SerializeAsString(), cpb::Insert, 7, 8, odd.shardname(), kTs0 + 1, 101, 1));
  const std::string first(in[0].payload), second(in[1].payload);
  Coalescer co({.enabled = true});
  auto out = co.Apply(std::move(in), kNoCuts);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].msg.payload, first);
  EXPECT_EQ(out[1].msg.payload, second);
  EXPECT_EQ(co.stats().fallbacks, 2u);
  EXPECT_THAT(co.stats().last_fallback, HasSubstr("Insert at"));
}

TEST(Coalescer, TheSameInputGivesByteIdenticalOutput) {
  auto run = [] {
    std::vector<source::Message> in;
    for (int i = 0; i < 5; ++i) in.push_back(Ins(i));
    in.push_back(Del(2, kTs0 + 5));
    Coalescer co({.enabled = true});
    std::vector<std::pair<std::string, int64_t>> out;
    for (auto& c : co.Apply(std::move(in), kNoCuts))
      out.emplace_back(std::string(c.msg.payload), c.msg.header.msg_id);
    return out;
  };
  auto a = run();
  auto b = run();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a, b);
}

source::Pack PackOf(const std::string& ch, uint64_t begin, uint64_t end,
                    std::vector<source::Message> msgs) {
  source::Pack p;
  p.channel = ch;
  p.begin_ts = begin;
  p.end_ts = end;
  p.msgs = std::move(msgs);
  p.end_position = source::KafkaPosition(ch, 1000 + static_cast<int64_t>(end), end);
  return p;
}

// Channel a's pack holds rows at kTs0+0..5; channel b ticks at kTs0+2 and kTs0+6. Whether the
// rounds release it at b's first tick and then at the end, or all at once (as after a crash
// with a later watermark), the messages sent are the same bytes with the same ids.
std::vector<std::pair<std::string, int64_t>> Released(bool two_rounds) {
  Merger m({.enabled = true});
  m.AddChannel("a");
  m.AddChannel("b");
  std::vector<source::Message> rows;
  for (int i = 0; i < 6; ++i) rows.push_back(Ins(i));
  m.AddPack(PackOf("a", kTs0 - 1, kTs0 + 6, std::move(rows)));
  m.AddPack(PackOf("b", kTs0 - 1, kTs0 + 2, {}));
  std::vector<MergedMessage> out;
  if (two_rounds) {
    EXPECT_EQ(m.Watermark(), kTs0 + 2);
    for (auto& x : m.Take(*m.Watermark())) out.push_back(std::move(x));
  }
  m.AddPack(PackOf("b", kTs0 + 2, kTs0 + 6, {}));
  EXPECT_EQ(m.Watermark(), kTs0 + 6);
  for (auto& x : m.Take(*m.Watermark())) out.push_back(std::move(x));
  std::vector<std::pair<std::string, int64_t>> got;
  for (const auto& x : out) got.emplace_back(std::string(x.msg.payload), x.msg.header.msg_id);
  return got;
}

TEST(MergerCoalescing, AWatermarkNeverSplitsARunDifferently) {
  auto split = Released(true);
  auto whole = Released(false);
  ASSERT_EQ(split.size(), 2u);  // rows 0..2 (up to b's tick) and 3..5
  EXPECT_EQ(split, whole);
  msgpb::InsertRequest first;
  ASSERT_TRUE(first.ParseFromString(split[0].first));
  EXPECT_EQ(first.num_rows(), 3u);
}

}  // namespace
}  // namespace cdc::replicate
