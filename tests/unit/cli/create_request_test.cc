#include "cli/create_request.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "cli/flag_values.h"
#include "unit/cli/temp_file.h"

namespace cdc::cli {
namespace {

using nlohmann::json;

CreateFlags Basic() {
  CreateFlags f;
  f.target_uri = "http://target:19530";
  f.collections = {"*"};
  return f;
}

TEST(CreateRequestTest, StarIsEveryDatabase) {
  auto r = BuildCreateRequest(Basic());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, json::parse(R"({"milvus_connect_param":{"uri":"http://target:19530"},
                                "collection_infos":[{"name":"*"}]})"));
}

TEST(CreateRequestTest, DatabaseAndCollectionNamesGoToDbCollections) {
  auto r = CollectionsJson({"db1.*", "books, db2.c2"}, "shop");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, json::parse(R"({"db_collections":{"db1":[{"name":"*"}],
      "shop":[{"name":"books"}],"db2":[{"name":"c2"}]}})"));
}

TEST(CreateRequestTest, BadCollectionNamesAreUsageErrors) {
  for (const char* bad : {"a.b.c", ".x", "db.", ""}) {
    auto r = CollectionsJson({bad}, "default");
    EXPECT_FALSE(r.ok()) << bad;
  }
  auto r = CollectionsJson({"a.b.c"}, "default");
  EXPECT_NE(r.status().message().find("--collections 'a.b.c'"), std::string::npos);
}

TEST(CreateRequestTest, TokenIsReadFromItsFileAndFlagsSetEveryField) {
  CreateFlags f = Basic();
  f.target_token_file = TempFile("root:Milvus\n");
  f.initial_sync = true;
  f.paused = true;
  f.task_id = "t1";
  f.connect_timeout_s = 9;
  f.ca_pem = "/etc/ca.pem";
  f.rpc_channel = "by-dev-replicate-msg";
  auto r = BuildCreateRequest(f);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["milvus_connect_param"]["token"], "root:Milvus");
  EXPECT_EQ((*r)["milvus_connect_param"]["connect_timeout"], 9);
  EXPECT_EQ((*r)["milvus_connect_param"]["dial_config"], json({{"ca_pem_path", "/etc/ca.pem"}}));
  EXPECT_EQ((*r)["initial_sync"], true);
  EXPECT_EQ((*r)["disable_auto_start"], true);
  EXPECT_EQ((*r)["task_id"], "t1");
  EXPECT_EQ((*r)["rpc_channel_info"]["name"], "by-dev-replicate-msg");
  std::remove(f.target_token_file.c_str());
}

TEST(CreateRequestTest, MissingOrEmptyTokenFileNamesTheFlag) {
  CreateFlags f = Basic();
  f.target_token_file = "/nonexistent/token";
  auto r = BuildCreateRequest(f);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "--target-token-file /nonexistent/token: cannot open the file; check the path");
  f.target_token_file = TempFile("\n");
  r = BuildCreateRequest(f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("the file is empty"), std::string::npos);
  std::remove(f.target_token_file.c_str());
}

TEST(CreateRequestTest, TargetAndCollectionsAreRequired) {
  CreateFlags f;
  f.collections = {"*"};
  auto r = BuildCreateRequest(f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--target-uri is required"), std::string::npos);
  f = Basic();
  f.collections.clear();
  r = BuildCreateRequest(f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--collections is required"), std::string::npos);
}

TEST(CreateRequestTest, NameMapGroupsBySourceDatabase) {
  auto r = NameMappingJson({"db1.a=db2.b", "db1.c=db2.d", "db3=db4"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, json::parse(R"([
      {"source_db":"db1","target_db":"db2","collection_mapping":{"a":"b","c":"d"}},
      {"source_db":"db3","target_db":"db4"}])"));
  EXPECT_FALSE(NameMappingJson({"db1.a=db2"}).ok());
  EXPECT_FALSE(NameMappingJson({"db1"}).ok());
  auto clash = NameMappingJson({"db1.a=db2.b", "db1.c=db3.d"});
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().message(), "--name-map maps database db1 to both db2 and db3");
}

TEST(CreateRequestTest, FromJsonIsTheBaseAndFlagsOverrideIt) {
  CreateFlags f;
  f.from_json = TempFile(R"({"request_type":"create","request_data":{
      "milvus_connect_param":{"uri":"http://old:19530","token":"a:b"},
      "collection_infos":[{"name":"c1"}],"buffer_config":{"period":1}}})");
  auto r = BuildCreateRequest(f);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["collection_infos"], json::parse(R"([{"name":"c1"}])"));
  EXPECT_EQ((*r)["buffer_config"]["period"], 1);
  f.target_uri = "http://new:19530";
  f.collections = {"db9.*"};
  r = BuildCreateRequest(f);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["milvus_connect_param"]["uri"], "http://new:19530");
  EXPECT_EQ((*r)["milvus_connect_param"]["token"], "a:b");
  EXPECT_FALSE(r->contains("collection_infos"));
  EXPECT_EQ((*r)["db_collections"], json::parse(R"({"db9":[{"name":"*"}]})"));
  std::remove(f.from_json.c_str());
}

TEST(CreateRequestTest, FromJsonErrorsNameTheFile) {
  CreateFlags f;
  f.from_json = TempFile("{\"request_type\":");
  auto r = BuildCreateRequest(f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--from-json " + f.from_json + ": not valid JSON"),
            std::string::npos);
  std::remove(f.from_json.c_str());
  f.from_json = TempFile(R"({"request_type":"delete"})");
  r = BuildCreateRequest(f);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("request_type must be \"create\""), std::string::npos);
  std::remove(f.from_json.c_str());
}

TEST(FlagValuesTest, SplitListTrimsAndDropsEmptyParts) {
  EXPECT_EQ(SplitList({" a.b , c.d,", "e.*"}), (std::vector<std::string>{"a.b", "c.d", "e.*"}));
}

}  // namespace
}  // namespace cdc::cli
