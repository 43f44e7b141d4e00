// Golden test: the exact etcd key strings and position JSON of upstream's layout
// (zilliztech/milvus-cdc server/store/meta_key.go: path.Join(rootPath, "task_info", id) and
// path.Join(rootPath, "task_position", id, collectionID); server/model/meta/task.go
// TaskCollectionPosition marshalled by encoding/json with Go field names in declaration order).
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meta/layout.h"

namespace cdc::meta {
namespace {

TEST(LayoutGoldenTest, KeysMatchUpstreamPathJoin) {
  EXPECT_EQ(TaskInfoKey("cdc-by-dev", "0123456789abcdef0123456789abcdef"),
            "cdc-by-dev/task_info/0123456789abcdef0123456789abcdef");
  EXPECT_EQ(PositionKey("cdc-by-dev", "t1", 448305293023730737),
            "cdc-by-dev/task_position/t1/448305293023730737");
  EXPECT_EQ(PositionKey("cdc", "t1", -10), "cdc/task_position/t1/-10");
  EXPECT_EQ(TaskInfoPrefix("cdc"), "cdc/task_info/");
  EXPECT_EQ(PositionTaskPrefix("cdc", "t1"), "cdc/task_position/t1/");
  EXPECT_EQ(PositionPrefix("cdc"), "cdc/task_position/");
  // path.Join drops empty parts and cleans slashes.
  EXPECT_EQ(TaskInfoKey("", "t1"), "task_info/t1");
  EXPECT_EQ(TaskInfoKey("/cdc/", "t1"), "/cdc/task_info/t1");
  EXPECT_EQ(TaskInfoKey("a//b/", "t1"), "a/b/task_info/t1");
  EXPECT_EQ(TaskInfoPrefix(""), "task_info/");
}

TEST(LayoutGoldenTest, PositionJsonHasUpstreamFieldsInGoOrder) {
  PositionRecord row{
      "t1",    100,
      "books", R"({"by-dev-rootcoord-dml_0":{"Time":1,"DataPair":{"key":"k","data":"AQ=="}}})",
      "{}",    ""};
  auto v = EncodePosition(row);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(
      *v,
      R"({"TaskID":"t1","CollectionID":100,"CollectionName":"books",)"
      R"("Positions":{"by-dev-rootcoord-dml_0":{"Time":1,"DataPair":{"key":"k","data":"AQ=="}}},)"
      R"("OpPositions":{},"TargetPositions":{}})");
}

TEST(LayoutGoldenTest, DecodesWhatUpstreamWrites) {
  // Go writes nil maps as null and escapes names as JSON strings.
  std::string go =
      R"({"TaskID":"t2","CollectionID":-1,"CollectionName":"a\"b","Positions":{"ch":{"Time":5,"DataPair":{"key":"ch","data":"AA=="}}},"OpPositions":null,"TargetPositions":null})";
  auto row = DecodePosition("cdc/task_position/t2/-1", go);
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ(row->task_id, "t2");
  EXPECT_EQ(row->collection_id, -1);
  EXPECT_EQ(row->collection_name, "a\"b");
  EXPECT_EQ(row->positions_json, R"({"ch":{"Time":5,"DataPair":{"key":"ch","data":"AA=="}}})");
  EXPECT_EQ(row->op_positions_json, "{}");
  EXPECT_EQ(row->target_positions_json, "{}");
  auto again = EncodePosition(*row);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(DecodePosition("k", *again).value(), *row);
}

TEST(LayoutGoldenTest, RejectsMalformedValues) {
  auto bad = DecodePosition("cdc/task_position/t/1", "{oops");
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("cdc/task_position/t/1"));
  auto no_id = DecodePosition("k", R"({"TaskID":"t"})");
  EXPECT_THAT(std::string(no_id.status().message()), ::testing::HasSubstr("CollectionID"));
  PositionRecord row{"t", 1, "c", "[1,2]", "{}", "{}"};
  EXPECT_EQ(EncodePosition(row).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cdc::meta
