// Positions given at create (replicate/given_start.h): decoding and every refusal.
#include "replicate/given_start.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "source/pulsar_id.h"

namespace cdc::replicate {
namespace {

using ::testing::HasSubstr;

constexpr char kCh0[] = "by-dev-rootcoord-dml_0";
constexpr char kCh1[] = "by-dev-rootcoord-dml_1";
constexpr char kV0[] = "by-dev-rootcoord-dml_0_42v0";
constexpr char kV1[] = "by-dev-rootcoord-dml_1_42v1";
constexpr char kRep[] = "by-dev-replicate-msg";

std::vector<CollectionMeta> Catalog() {
  CollectionMeta c;
  c.id = 42;
  c.db_name = "default";
  c.name = "books";
  c.vchannels = {kV0, kV1};
  c.pchannels = {kCh0, kCh1};
  CollectionMeta other = c;
  other.id = 43;
  other.db_name = "db1";
  other.name = "books";
  other.vchannels = {"by-dev-rootcoord-dml_0_43v0"};
  other.pchannels = {kCh0};
  return {c, other};
}

std::string Pos(const std::string& channel, int64_t offset, uint64_t ts) {
  return source::EncodePosition(source::KafkaPosition(channel, offset, ts));
}

task::TaskInfo Task(std::map<std::string, std::string> positions, std::string rpc = "") {
  task::TaskInfo t;
  t.collection_infos = {{"books", std::move(positions), false}};
  t.rpc_channel.name = kRep;
  t.rpc_channel.position = std::move(rpc);
  return t;
}

Status ErrorOf(const task::TaskInfo& t) {
  auto r = DecodeGivenStart(t, Catalog(), kRep);
  return r.ok() ? OkStatus() : r.status();
}

TEST(GivenStart, NoPositionsIsEmpty) {
  auto r = DecodeGivenStart(Task({}), Catalog(), kRep);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->empty());
}

TEST(GivenStart, VchannelKeysBecomePchannelStartsAndTheReplicateChannelFollowsTheLowestTs) {
  // The channel name inside may be the vchannel, the pchannel or empty.
  auto r =
      DecodeGivenStart(Task({{kV0, Pos(kV0, 17, 4000)},
                             {kV1, source::EncodePosition(source::KafkaPosition("", 9, 3000))}}),
                       Catalog(), kRep);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->collection, "default.books");
  ASSERT_EQ(r->dml.size(), 2u);
  EXPECT_EQ(r->dml.at(kCh0).channel_name(), kCh0);
  EXPECT_EQ(*source::DecodeKafkaMsgId(r->dml.at(kCh0).msgid()), 17);
  EXPECT_EQ(r->dml.at(kCh0).timestamp(), 4000u);
  EXPECT_EQ(*source::DecodeKafkaMsgId(r->dml.at(kCh1).msgid()), 9);
  // No rpc_channel_info.position: the replicate channel from its first message, after ts 3000.
  ASSERT_TRUE(r->replicate.has_value());
  EXPECT_FALSE(r->replicate_given);
  EXPECT_EQ(r->replicate->channel_name(), kRep);
  EXPECT_TRUE(r->replicate->msgid().empty());
  EXPECT_EQ(r->replicate->timestamp(), 3000u);
  EXPECT_EQ(Positions(*r).size(), 2u);  // the replicate start has no id to check
}

TEST(GivenStart, PositionsWithoutTimestampLeaveTheReplicateChannelAtCreateAsUpstream) {
  auto r =
      DecodeGivenStart(Task({{kV0, Pos(kCh0, 1, 0)}, {kV1, Pos(kCh1, 1, 0)}}), Catalog(), kRep);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->replicate.has_value());
}

TEST(GivenStart, RpcChannelPosition) {
  auto r = DecodeGivenStart(Task({}, Pos(kRep, 5, 777)), Catalog(), kRep);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->replicate.has_value());
  EXPECT_TRUE(r->replicate_given);
  EXPECT_EQ(r->replicate->timestamp(), 777u);
  EXPECT_EQ(Positions(*r).size(), 1u);

  Status s = ErrorOf(Task({}, "%%%"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("rpc_channel_info.position: decode position: not base64"));
  s = ErrorOf(Task({}, Pos(kCh0, 5, 1)));
  EXPECT_THAT(s.message(), HasSubstr("is one of channel by-dev-rootcoord-dml_0, not of the "
                                     "replicate channel by-dev-replicate-msg"));
}

TEST(GivenStart, DbCollectionsName) {
  task::TaskInfo t;
  t.db_collections["db1"] = {{"books", {{"by-dev-rootcoord-dml_0_43v0", Pos(kCh0, 3, 9)}}, false}};
  auto r = DecodeGivenStart(t, Catalog(), kRep);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->collection, "db1.books");
  EXPECT_EQ(r->dml.size(), 1u);
}

TEST(GivenStart, EachRefusalNamesTheFieldAndChannel) {
  struct Case {
    task::TaskInfo task;
    std::string want;
  };
  std::vector<Case> cases = {
      {Task({{kV0, "not base64!"}, {kV1, Pos(kCh1, 1, 1)}}),
       "collection_infos[0].positions[by-dev-rootcoord-dml_0_42v0]: decode position: not base64"},
      {Task({{kV0, absl::Base64Escape("\xff\xff\xff")}, {kV1, Pos(kCh1, 1, 1)}}),
       "positions[by-dev-rootcoord-dml_0_42v0]: decode position: base64 text is not a "
       "serialized MsgPosition"},
      {Task({{"by-dev-rootcoord-dml_0_43v0", Pos(kCh0, 1, 1)}}),
       "positions[by-dev-rootcoord-dml_0_43v0]: the vchannel belongs to collection id 43, but "
       "default.books is collection id 42"},
      {Task({{"by-dev-rootcoord-dml_5_42v0", Pos(kCh0, 1, 1)}}),
       "default.books has no such vchannel (its vchannels: by-dev-rootcoord-dml_0_42v0, "
       "by-dev-rootcoord-dml_1_42v1)"},
      {Task({{kV0, Pos(kCh0, 1, 1)}}),
       "no position of by-dev-rootcoord-dml_1_42v1; give one for every vchannel of "
       "default.books"},
      {Task({{kV0, Pos(kCh1, 1, 1)}, {kV1, Pos(kCh1, 1, 1)}}),
       "positions[by-dev-rootcoord-dml_0_42v0]: the position is one of channel "
       "by-dev-rootcoord-dml_1"},
      {Task({{kV0, source::EncodePosition(source::MsgPosition())}, {kV1, Pos(kCh1, 1, 1)}}),
       "the position has no message id"},
      {Task({{"junk", Pos(kCh0, 1, 1)}}), "the key is not a vchannel"},
  };
  task::TaskInfo missing = Task({{kV0, Pos(kCh0, 1, 1)}});
  missing.collection_infos[0].name = "nope";
  cases.push_back({missing, "collection default.nope does not exist on the source"});
  task::TaskInfo with_sync = Task({{kV0, Pos(kCh0, 1, 1)}, {kV1, Pos(kCh1, 1, 1)}});
  with_sync.initial_sync = true;
  cases.push_back({with_sync, "initial_sync copies what the collection holds"});
  for (const auto& c : cases) {
    Status s = ErrorOf(c.task);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.want;
    EXPECT_THAT(s.message(), HasSubstr(c.want));
  }
}

TEST(GivenStart, CheckedAgainstTheQueue) {
  auto given = DecodeGivenStart(
      Task({{kV0, Pos(kCh0, 10, 5)}, {kV1, Pos(kCh1, 20, 5)}}, Pos(kRep, 3, 5)), Catalog(), kRep);
  ASSERT_TRUE(given.ok()) << given.status();
  std::map<std::string, source::MsgPosition> latest = {{kCh0, source::KafkaPosition(kCh0, 10, 99)},
                                                       {kCh1, source::KafkaPosition(kCh1, 30, 99)},
                                                       {kRep, source::KafkaPosition(kRep, 3, 99)}};
  // At the end (offset = high watermark) is fine, whatever the timestamps.
  EXPECT_TRUE(CheckGivenAgainstQueue(*given, latest, {true, true, true}).ok());
  Status s = CheckGivenAgainstQueue(*given, latest, {true, false, true});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("the position of default.books on by-dev-rootcoord-dml_1 "
                                     "(by-dev-rootcoord-dml_1@20 ts=5) is no longer held by the "
                                     "source's queue"));
  s = CheckGivenAgainstQueue(*given, latest, {true, true, false});
  EXPECT_THAT(s.message(), HasSubstr("rpc_channel_info.position on by-dev-replicate-msg"));
  latest[kCh0] = source::KafkaPosition(kCh0, 9, 99);
  s = CheckGivenAgainstQueue(*given, latest, {true, true, true});
  EXPECT_THAT(s.message(), HasSubstr("on by-dev-rootcoord-dml_0 (by-dev-rootcoord-dml_0@10 "
                                     "ts=5) is past the channel's end"));
  // Pulsar ids compare by ledger and entry.
  auto pulsar = [](const std::string& ch, int64_t ledger, int64_t entry) {
    source::MsgPosition p;
    p.set_channel_name(ch);
    p.set_msgid(source::EncodePulsarMsgId({ledger, entry, 0, 0}));
    return p;
  };
  GivenStart g;
  g.collection = "default.books";
  g.dml[kCh0] = pulsar(kCh0, 7, 3);
  EXPECT_TRUE(CheckGivenAgainstQueue(g, {{kCh0, pulsar(kCh0, 7, 4)}}, {true}).ok());
  EXPECT_FALSE(CheckGivenAgainstQueue(g, {{kCh0, pulsar(kCh0, 6, 9)}}, {true}).ok());
}

}  // namespace
}  // namespace cdc::replicate
