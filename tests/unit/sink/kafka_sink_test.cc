// KafkaSink over a recording producer: the op of every call, record keys, the answers the
// pipeline reads back (Describe/ShowPartitions/ListDatabases), positions per message, errors;
// and the SASL mapping of kafka_connect_param.
#include "sink/kafka_sink.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "milvus/msg.pb.h"
#include "sink/sink_options.h"
#include "unit/sink/fake_producer.h"

namespace cdc::sink {
namespace {

namespace milvuspb = ::milvus::proto::milvus;
namespace msgpb = ::milvus::proto::msg;
namespace schemapb = ::milvus::proto::schema;
namespace commonpb = ::milvus::proto::common;
using json = nlohmann::json;

class KafkaSinkTest : public ::testing::Test {
 protected:
  KafkaSinkTest() {
    auto p = std::make_unique<FakeProducer>();
    producer_ = p.get();
    sink_ = std::make_unique<KafkaSink>(std::move(p));
  }

  void Create(const std::string& db, const std::string& name, int shards, int64_t key_parts = 0) {
    schemapb::CollectionSchema schema;
    auto* pk = schema.add_fields();
    pk->set_name("id");
    pk->set_data_type(schemapb::Int64);
    pk->set_is_primary_key(true);
    milvuspb::CreateCollectionRequest req;
    req.set_collection_name(name);
    req.set_schema(schema.SerializeAsString());
    req.set_shards_num(shards);
    req.set_num_partitions(key_parts);
    ASSERT_TRUE(sink_->CreateCollection(db, req, 100).ok());
  }

  FakeProducer* producer_;
  std::unique_ptr<KafkaSink> sink_;
};

TEST_F(KafkaSinkTest, ReadyMeansTheTopicIsThere) {
  EXPECT_TRUE(sink_->GetVersion().ok());
  EXPECT_TRUE(sink_->CheckReplicationReady().ok());
  producer_->topic_status = UnavailableError("kafka fake: the brokers do not answer");
  EXPECT_EQ(sink_->CheckReplicationReady().status().code(), StatusCode::kUnavailable);
  EXPECT_NE(sink_->Describe().find("kafka fake"), std::string::npos);
}

TEST_F(KafkaSinkTest, CreatedCollectionsAreDescribedAsTheySentThem) {
  EXPECT_EQ(sink_->DescribeCollection("", "c").status().code(), StatusCode::kNotFound);
  Create("", "c", 2);
  auto info = sink_->DescribeCollection("default", "c");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->shards_num, 2);
  EXPECT_EQ(info->vchannels.size(), 2U);
  EXPECT_EQ(info->pchannels.size(), 2U);
  EXPECT_NE(info->vchannels[0], info->vchannels[1]);
  auto parts = sink_->ShowPartitions("", "c");
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 1U);
  EXPECT_EQ((*parts)[0].name, "_default");

  Create("db1", "k", 1, /*key_parts=*/3);
  parts = sink_->ShowPartitions("db1", "k");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->size(), 3U);  // _default_0.._default_2, as a Milvus answers

  ASSERT_TRUE(sink_->CreatePartition("", "c", "p1", 101).ok());
  parts = sink_->ShowPartitions("", "c");
  ASSERT_EQ(parts->size(), 2U);
  ASSERT_TRUE(sink_->DropPartition("", "c", "p1", 102).ok());
  EXPECT_EQ(sink_->ShowPartitions("", "c")->size(), 1U);

  ASSERT_TRUE(sink_->RenameCollection("", "c", "c2", 103).ok());
  EXPECT_FALSE(sink_->DescribeCollection("", "c").ok());
  EXPECT_TRUE(sink_->DescribeCollection("", "c2").ok());
  ASSERT_TRUE(sink_->DropCollection("", "c2", 104).ok());
  EXPECT_EQ(sink_->DescribeCollection("", "c2").status().code(), StatusCode::kNotFound);
}

// The load state a reconcile reads (replicate/partition_loads.h) is what the sink's own load
// and release envelopes left loaded.
TEST_F(KafkaSinkTest, TheLoadStateIsWhatItsEnvelopesLoaded) {
  namespace cpb = ::milvus::proto::common;
  EXPECT_EQ(*sink_->GetLoadState("", "c", {}), cpb::LoadStateNotExist);
  Create("", "c", 1);
  ASSERT_TRUE(sink_->CreatePartition("", "c", "p1", 101).ok());
  EXPECT_EQ(*sink_->GetLoadState("", "c", {}), cpb::LoadStateNotLoad);
  milvuspb::LoadPartitionsRequest lp;
  lp.set_collection_name("c");
  lp.add_partition_names("p1");
  ASSERT_TRUE(sink_->LoadPartitions("", lp, 102).ok());
  EXPECT_EQ(*sink_->GetLoadState("", "c", {}), cpb::LoadStateLoaded);
  EXPECT_EQ(*sink_->GetLoadState("", "c", {"p1"}), cpb::LoadStateLoaded);
  EXPECT_EQ(*sink_->GetLoadState("", "c", {"_default"}), cpb::LoadStateNotLoad);
  milvuspb::LoadCollectionRequest lc;
  lc.set_collection_name("c");
  ASSERT_TRUE(sink_->LoadCollection("", lc, 103).ok());
  EXPECT_EQ(*sink_->GetLoadState("", "c", {"_default", "p1"}), cpb::LoadStateLoaded);
  milvuspb::ReleasePartitionsRequest rp;
  rp.set_collection_name("c");
  rp.add_partition_names("_default");
  ASSERT_TRUE(sink_->ReleasePartitions("", rp, 104).ok());
  EXPECT_EQ(*sink_->GetLoadState("", "c", {"_default"}), cpb::LoadStateNotLoad);
  ASSERT_TRUE(sink_->DropPartition("", "c", "p1", 105).ok());
  EXPECT_EQ(*sink_->GetLoadState("", "c", {}), cpb::LoadStateNotLoad);
  ASSERT_TRUE(sink_->LoadCollection("", lc, 106).ok());
  milvuspb::ReleaseCollectionRequest rc;
  rc.set_collection_name("c");
  ASSERT_TRUE(sink_->ReleaseCollection("", rc, 107).ok());
  EXPECT_EQ(*sink_->GetLoadState("", "c", {}), cpb::LoadStateNotLoad);
}

TEST_F(KafkaSinkTest, EveryCallProducesItsOpKeyedByCollection) {
  Create("db1", "c", 1);
  ASSERT_TRUE(sink_->CreateDatabase("db2", 1).ok());
  milvuspb::CreateIndexRequest ci;
  ci.set_collection_name("c");
  ci.set_field_name("v");
  ci.set_index_name("idx");
  auto* kv = ci.add_extra_params();
  kv->set_key("index_type");
  kv->set_value("HNSW");
  ASSERT_TRUE(sink_->CreateIndex("db1", ci, 2).ok());
  milvuspb::DropIndexRequest di;
  di.set_collection_name("c");
  di.set_field_name("v");
  di.set_index_name("idx");
  ASSERT_TRUE(sink_->DropIndex("db1", di, 3).ok());
  milvuspb::LoadCollectionRequest lc;
  lc.set_collection_name("c");
  lc.set_replica_number(1);
  ASSERT_TRUE(sink_->LoadCollection("db1", lc, 4).ok());
  milvuspb::LoadPartitionsRequest lp;
  lp.set_collection_name("c");
  lp.add_partition_names("p");
  ASSERT_TRUE(sink_->LoadPartitions("db1", lp, 5).ok());
  milvuspb::ReleasePartitionsRequest rp;
  rp.set_collection_name("c");
  rp.add_partition_names("p");
  ASSERT_TRUE(sink_->ReleasePartitions("db1", rp, 6).ok());
  milvuspb::ReleaseCollectionRequest rc;
  rc.set_collection_name("c");
  ASSERT_TRUE(sink_->ReleaseCollection("db1", rc, 7).ok());
  milvuspb::FlushRequest fl;
  fl.add_collection_names("c");
  fl.add_collection_names("d");
  ASSERT_TRUE(sink_->Flush("db1", fl, 8).ok());
  ASSERT_TRUE(sink_->AlterCollection("db1", "c", {{"collection.ttl.seconds", "9"}}, 9).ok());
  ASSERT_TRUE(sink_->CreateAlias("db1", "c", "a", 10).ok());
  ASSERT_TRUE(sink_->AlterAlias("db1", "c", "a", 11).ok());
  ASSERT_TRUE(sink_->DropAlias("db1", "a", 12).ok());
  ASSERT_TRUE(sink_->DropCollection("db1", "c", 13).ok());
  ASSERT_TRUE(sink_->DropDatabase("db2", 14).ok());

  const auto v = producer_->Values();
  std::vector<std::string> ops;
  ops.reserve(v.size());
  for (const auto& e : v) ops.push_back(e["op"]);
  EXPECT_EQ(ops,
            (std::vector<std::string>{"create_collection", "create_database", "create_index",
                                      "drop_index", "load", "load", "release", "release", "flush",
                                      "flush", "alter_collection", "create_alias", "alter_alias",
                                      "drop_alias", "drop_collection", "drop_database"}));
  EXPECT_EQ(producer_->produced[0].key, "db1.c");
  EXPECT_EQ(producer_->produced[1].key, "db2");
  EXPECT_EQ(producer_->produced[9].key, "db1.d");
  EXPECT_EQ(v[2]["params"], json({{"index_type", "HNSW"}}));
  EXPECT_EQ(v[2]["field"], "v");
  EXPECT_EQ(v[3]["index_name"], "idx");
  EXPECT_EQ(v[4]["partitions"], json::array());
  EXPECT_EQ(v[5]["partitions"], json({"p"}));
  EXPECT_EQ(v[6]["partitions"], json({"p"}));
  EXPECT_EQ(v[10]["properties"], json({{"collection.ttl.seconds", "9"}}));
  EXPECT_EQ(v[12]["alias"], "a");
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(v[i]["version"], 1);
    EXPECT_TRUE(v[i]["position"].is_null()) << i;
  }
  EXPECT_EQ(v[3]["ts"], 3);
  auto dbs = sink_->ListDatabases();
  ASSERT_TRUE(dbs.ok());
  EXPECT_EQ(*dbs, std::vector<std::string>{"default"});  // db2 was dropped
}

TEST_F(KafkaSinkTest, ReplicateMessageWritesInsertsAndDeletesWithTheirPositions) {
  msgpb::InsertRequest ins;
  ins.mutable_base()->set_msg_type(commonpb::Insert);
  ins.mutable_base()->set_timestamp(50);
  ins.set_collection_name("c");
  ins.set_num_rows(1);
  ins.add_timestamps(50);
  auto* f = ins.add_fields_data();
  f->set_type(schemapb::Int64);
  f->set_field_name("id");
  f->mutable_scalars()->mutable_long_data()->add_data(1);
  msgpb::DeleteRequest del;
  del.mutable_base()->set_msg_type(commonpb::Delete);
  del.mutable_base()->set_timestamp(60);
  del.set_collection_name("c");
  del.add_timestamps(60);
  del.mutable_primary_keys()->mutable_int_id()->add_data(1);
  msgpb::TimeTickMsg tick;
  tick.mutable_base()->set_msg_type(commonpb::TimeTick);
  tick.mutable_base()->set_timestamp(70);

  milvuspb::ReplicateMessageRequest req;
  req.set_channel_name("kafka-sink_default.c_0");
  for (const auto* m : std::vector<const google::protobuf::Message*>{&ins, &del, &tick}) {
    req.add_msgs(m->SerializeAsString());
    auto* p = req.add_startpositions();
    p->set_channel_name("dml_0");
    p->set_msgid(std::string(1, static_cast<char>('a' + req.msgs_size())));
  }
  ASSERT_TRUE(sink_->ReplicateMessage(req).ok());
  const auto v = producer_->Values();
  ASSERT_EQ(v.size(), 2U);  // the tick is not written
  EXPECT_EQ(v[0]["op"], "insert");
  EXPECT_EQ(v[0]["rows"], json::parse(R"([{"id":1}])"));
  EXPECT_EQ(v[0]["position"], json({{"channel", "dml_0"}, {"msg_id", "Yg=="}}));  // "b"
  EXPECT_EQ(v[1]["op"], "delete");
  EXPECT_EQ(v[1]["position"]["msg_id"], "Yw==");  // "c"
  EXPECT_EQ(producer_->produced[0].key, "default.c");
  EXPECT_EQ(producer_->calls, 1);  // one call, one wait for the acks

  // A pack without a position per message (e.g. initial sync's query copy): position null.
  req.clear_startpositions();
  req.add_startpositions()->set_channel_name("x");
  ASSERT_TRUE(sink_->ReplicateMessage(req).ok());
  EXPECT_TRUE(producer_->Values()[2]["position"].is_null());

  req.add_msgs("\xff\xff");
  EXPECT_EQ(sink_->ReplicateMessage(req).status().code(), StatusCode::kInvalidArgument);

  // A type with no envelope is refused by name, not dropped.
  msgpb::CreateCollectionRequest create;
  create.mutable_base()->set_msg_type(commonpb::CreateCollection);
  milvuspb::ReplicateMessageRequest other;
  other.set_channel_name("kafka-sink_default.c_0");
  other.add_msgs(create.SerializeAsString());
  auto refused = sink_->ReplicateMessage(other);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(refused.status().message()).find("CreateCollection"), std::string::npos)
      << refused.status();
}

TEST_F(KafkaSinkTest, AnUnacknowledgedCallFailsAndChangesNothing) {
  producer_->produce_status = UnavailableError("kafka fake topic t: not acknowledged");
  schemapb::CollectionSchema schema;
  milvuspb::CreateCollectionRequest req;
  req.set_collection_name("c");
  req.set_schema(schema.SerializeAsString());
  Status s = sink_->CreateCollection("", req, 1);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(sink_->DescribeCollection("", "c").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(sink_->CreateDatabase("d", 1).code(), StatusCode::kUnavailable);
  EXPECT_EQ(sink_->ListDatabases()->size(), 1U);
}

TEST(SinkOptionsTest, SaslMapsToLibrdkafkaSettings) {
  task::KafkaConnectParam k;
  k.address = "b1:9092,b2:9092";
  k.topic = "t";
  auto plain = OptionsForTask(k);
  EXPECT_EQ(plain.brokers, "b1:9092,b2:9092");
  EXPECT_EQ(plain.topic, "t");
  EXPECT_TRUE(plain.config.empty());

  k.enable_sasl = true;
  k.sasl.username = "u";
  k.sasl.password = "secret";
  auto sasl = OptionsForTask(k);
  EXPECT_EQ(sasl.config.at("sasl.username"), "u");
  EXPECT_EQ(sasl.config.at("sasl.password"), "secret");
  EXPECT_EQ(sasl.config.at("sasl.mechanisms"), "PLAIN");
  EXPECT_EQ(sasl.config.at("security.protocol"), "SASL_PLAINTEXT");
  k.sasl.mechanisms = "SCRAM-SHA-512";
  k.sasl.security_protocol = "SASL_SSL";
  sasl = OptionsForTask(k);
  EXPECT_EQ(sasl.config.at("sasl.mechanisms"), "SCRAM-SHA-512");
  EXPECT_EQ(sasl.config.at("security.protocol"), "SASL_SSL");

  RdKafkaProducer producer(sasl);
  const auto settings = producer.Settings();
  EXPECT_EQ(settings.at("enable.idempotence"), "true");
  EXPECT_EQ(settings.at("acks"), "all");
  EXPECT_EQ(settings.at("sasl.username"), "u");
  EXPECT_EQ(producer.Describe().find("secret"), std::string::npos);
}

TEST(RdKafkaProducerTest, BrokersThatDoNotAnswerAreUnavailableAndNamed) {
  KafkaSinkOptions o;
  o.brokers = "127.0.0.1:1";  // nothing listens there
  o.topic = "t";
  o.config["sasl.password"] = "secret";
  o.config["security.protocol"] = "SASL_PLAINTEXT";
  o.config["sasl.mechanisms"] = "PLAIN";
  o.config["sasl.username"] = "u";
  o.delivery_timeout = std::chrono::milliseconds(1000);
  o.request_timeout = std::chrono::milliseconds(1000);
  RdKafkaProducer producer(o);
  Status s = producer.EnsureTopic();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(std::string(s.message()).find("127.0.0.1:1 topic t"), std::string::npos) << s.message();
  EXPECT_EQ(std::string(s.message()).find("secret"), std::string::npos);
  s = producer.ProduceAll({{"k", "v"}, {"k", "w"}});
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(std::string(s.message()).find("not acknowledged"), std::string::npos) << s.message();
  EXPECT_EQ(std::string(s.message()).find("secret"), std::string::npos);
}

TEST(RdKafkaProducerTest, ABadSettingIsNamed) {
  KafkaSinkOptions o;
  o.brokers = "127.0.0.1:1";
  o.topic = "t";
  o.config["security.protocol"] = "BOGUS";
  RdKafkaProducer producer(o);
  Status s = producer.EnsureTopic();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("security.protocol"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace cdc::sink
