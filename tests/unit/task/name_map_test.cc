#include "task/name_map.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cdc::task {
namespace {

using ::testing::HasSubstr;

void ExpectInvalid(const Status& s, const std::string& msg) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(msg));
}

TEST(NameMapTest, MapsCollectionsAndDatabases) {
  const NameMap m({{"db1", "db2", {{"a", "a2"}, {"b", "b2"}}}, {"", "other", {}}});
  EXPECT_EQ(m.Collection("db1", "a"), (FullName{"db2", "a2"}));
  EXPECT_EQ(m.Collection("db1", "b"), (FullName{"db2", "b2"}));
  // A collection of a mapped database without an entry keeps its name in the target db.
  EXPECT_EQ(m.Collection("db1", "c"), (FullName{"db2", "c"}));
  // "" is the default database; a mapping without collections maps the database only.
  EXPECT_EQ(m.Collection("", "x"), (FullName{"other", "x"}));
  EXPECT_EQ(m.Collection("default", "x"), (FullName{"other", "x"}));
  // Unmapped databases keep everything.
  EXPECT_EQ(m.Collection("db3", "a"), (FullName{"db3", "a"}));
  EXPECT_EQ(m.Database("db1"), "db2");
  EXPECT_EQ(m.Database("db3"), "db3");
  EXPECT_EQ(m.Database(""), "other");
  EXPECT_FALSE(m.empty());
  EXPECT_TRUE(NameMap().empty());
  EXPECT_EQ(NameMap().Collection("", "c"), (FullName{"default", "c"}));
}

TEST(NameMapTest, PatternsOfSelections) {
  const NameMap m({{"db1", "db2", {{"a", "a2"}}}});
  EXPECT_EQ(m.Pattern("db1.a"), "db2.a2");
  EXPECT_EQ(m.Pattern("db1.*"), "db2.*");
  EXPECT_EQ(m.Pattern("*.*"), "*.*");
  EXPECT_EQ(m.Pattern("db3.c"), "db3.c");
  EXPECT_EQ(m.Pattern("c"), "default.c");
}

TEST(NameMapTest, SourceOfATargetName) {
  const NameMap m({{"db1", "db2", {{"a", "a2"}}}});
  EXPECT_EQ(m.Source("db2", "a2"), (FullName{"db1", "a"}));
  EXPECT_EQ(m.Source("db2", "c"), (FullName{"db1", "c"}));
  // db2.a is where db1.a would land without its entry: nothing lands there.
  EXPECT_EQ(m.Source("db2", "a"), std::nullopt);
  EXPECT_EQ(m.Source("db3", "x"), (FullName{"db3", "x"}));
  // db1 is mapped away: nothing lands in db1 on the target.
  EXPECT_EQ(m.Source("db1", "a"), std::nullopt);
}

TEST(NameMapTest, CheckRefusesAmbiguousEntries) {
  EXPECT_TRUE(NameMap::Check({{"db1", "db2", {{"a", "x"}, {"b", "y"}}}}).ok());
  ExpectInvalid(NameMap::Check({{"db1", "db2", {{"a", "x"}, {"b", "x"}}}}),
                "two source collections, db1.a and db1.b, are mapped to one target "
                "collection db2.x");
  ExpectInvalid(NameMap::Check({{"db1", "db2", {{"a", "x"}}}, {"db3", "db2", {{"b", "x"}}}}),
                "two source databases, db1 and db3, are mapped to target_db db2");
  ExpectInvalid(NameMap::Check({{"db1", "db2", {}}, {"db1", "db3", {}}}),
                "source_db db1 is mapped to two target databases, db2 and db3");
  ExpectInvalid(NameMap::Check({{"db1", "db2", {{"a", ""}}}}),
                "name_mapping[0].collection_mapping");
  ExpectInvalid(NameMap::Check({{"*", "db2", {}}}), "not `*`");
  // Two entries of one source_db with the same target_db merge.
  EXPECT_TRUE(NameMap::Check({{"db1", "db2", {{"a", "x"}}}, {"db1", "db2", {{"b", "y"}}}}).ok());
}

}  // namespace
}  // namespace cdc::task
