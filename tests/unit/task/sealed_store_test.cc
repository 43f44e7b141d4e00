// Secrets at rest: SealSecrets/OpenSecrets on stored task documents, the SealedStore decorator
// and the start-up check PrepareStoredSecrets (over the in-memory store).
#include "task/sealed_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "meta/memory/memory_store.h"
#include "task/task_json.h"

namespace cdc::task {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

crypto::AesKey Key(char c) { return *crypto::KeyFromHex(std::string(64, c)); }

TaskInfo WithSecrets(const std::string& id) {
  TaskInfo t;
  t.task_id = id;
  t.milvus.uri = "https://target:19530";
  t.milvus.token = "root:TopSecret";
  t.milvus.username = "root";
  t.milvus.password = "Pa55word";
  t.kafka.sasl.username = "kafka-user";
  t.kafka.sasl.password = "kafka-Secret";
  t.state = 1;
  return t;
}

std::string Stored(const TaskInfo& t) { return ToStoredJson(t).dump(); }

void ExpectNoPlainSecret(const std::string& text) {
  for (const char* s : {"TopSecret", "Pa55word", "kafka-Secret", "kafka-user"}) {
    EXPECT_THAT(text, Not(HasSubstr(s))) << s;
  }
}

TEST(SecretsAtRestTest, SealThenOpenRestoresTheDocument) {
  json doc = ToStoredJson(WithSecrets("t1"));
  auto key = Key('a');
  auto sealed = SealSecrets(doc, key);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  ExpectNoPlainSecret(sealed->dump());
  EXPECT_THAT((*sealed)["MilvusConnectParam"]["token"].get<std::string>(),
              ::testing::StartsWith("cdc-sealed:v1:" + key.id + ":"));
  EXPECT_EQ((*sealed)["MilvusConnectParam"]["uri"], "https://target:19530");  // untouched
  EXPECT_EQ(CountSecrets(doc).plain, 5);
  EXPECT_EQ(CountSecrets(*sealed).sealed, 5);
  EXPECT_EQ(CountSecrets(*sealed).plain, 0);
  // Sealing twice keeps the sealed values.
  EXPECT_EQ(*SealSecrets(*sealed, key), *sealed);
  auto opened = OpenSecrets(*sealed, &key);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, doc);
  // Plain documents open as they are, with or without a key.
  EXPECT_EQ(*OpenSecrets(doc, nullptr), doc);
  auto back = FromStoredJson(opened->dump());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->milvus.token, "root:TopSecret");
  EXPECT_EQ(back->kafka.sasl.password, "kafka-Secret");
}

TEST(SecretsAtRestTest, OpenFailsClearlyWithoutOrWithAnotherKey) {
  auto key = Key('a');
  json sealed = *SealSecrets(ToStoredJson(WithSecrets("t1")), key);
  auto none = OpenSecrets(sealed, nullptr);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(none.status().message()),
              HasSubstr("task t1: MilvusConnectParam.username is encrypted (key " + key.id));
  auto other = Key('b');
  auto wrong = OpenSecrets(sealed, &other);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(std::string(wrong.status().message()),
              HasSubstr("encrypted with key " + key.id + ", the configured key is " + other.id));
  // A value moved to another task does not open.
  json moved = sealed;
  moved["TaskID"] = "t2";
  auto m = OpenSecrets(moved, &key);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("moved from another task"));
  ExpectNoPlainSecret(std::string(m.status().message()));
}

TEST(SealedStoreTest, WritesSealedAndReadsPlain) {
  auto inner = std::make_unique<meta::MemoryStore>();
  meta::MemoryStore* raw = inner.get();
  SealedStore store(std::move(inner), Key('a'), "/etc/cdc/key");
  ASSERT_TRUE(store.PutTask({"t1", Stored(WithSecrets("t1"))}).ok());
  ASSERT_TRUE(store.PutTaskAndPositions({"t2", Stored(WithSecrets("t2"))}, {}).ok());
  for (const char* id : {"t1", "t2"}) {
    auto stored = raw->GetTask(id);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    ExpectNoPlainSecret((*stored)->info_json);
    auto got = store.GetTask(id);
    ASSERT_TRUE(got.ok() && got->has_value()) << got.status();
    EXPECT_EQ(json::parse((*got)->info_json), ToStoredJson(WithSecrets(id)));
  }
  auto all = store.ListTasks();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_THAT((*all)[0].info_json, HasSubstr("TopSecret"));
  EXPECT_EQ(store.Describe(), "memory");
}

TEST(PrepareStoredSecretsTest, ReencryptsTasksWrittenBefore) {
  meta::MemoryStore store;
  ASSERT_TRUE(store.PutTask({"t1", Stored(WithSecrets("t1"))}).ok());
  ASSERT_TRUE(store.PutTask({"bad", "not json"}).ok());  // left to Recover
  auto key = Key('a');
  ASSERT_TRUE(PrepareStoredSecrets(&store, &key, "/k").ok());
  auto t1 = store.GetTask("t1");
  ExpectNoPlainSecret((*t1)->info_json);
  EXPECT_EQ((*store.GetTask("bad"))->info_json, "not json");
  // Without a key, plain tasks are fine and nothing is written.
  meta::MemoryStore plain;
  ASSERT_TRUE(plain.PutTask({"t1", Stored(WithSecrets("t1"))}).ok());
  ASSERT_TRUE(PrepareStoredSecrets(&plain, nullptr, "").ok());
  EXPECT_EQ((*plain.GetTask("t1"))->info_json, Stored(WithSecrets("t1")));
}

TEST(PrepareStoredSecretsTest, WrongOrMissingKeyTouchesNoTask) {
  auto key = Key('a');
  meta::MemoryStore store;
  ASSERT_TRUE(store.PutTask({"a-plain", Stored(WithSecrets("a-plain"))}).ok());
  std::string sealed = SealSecrets(ToStoredJson(WithSecrets("z-sealed")), key)->dump();
  ASSERT_TRUE(store.PutTask({"z-sealed", sealed}).ok());
  auto before = store.ListTasks();

  auto other = Key('b');
  Status wrong = PrepareStoredSecrets(&store, &other, "/etc/cdc/other.key");
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(std::string(wrong.message()), HasSubstr("/etc/cdc/other.key"));
  EXPECT_THAT(std::string(wrong.message()), HasSubstr("task z-sealed"));
  EXPECT_THAT(std::string(wrong.message()), HasSubstr("no task was changed"));
  Status missing = PrepareStoredSecrets(&store, nullptr, "");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.message()), HasSubstr("set metaStoreConfig.secretKeyFile"));
  EXPECT_EQ(*store.ListTasks(), *before);  // the plain task was not re-encrypted either
}

}  // namespace
}  // namespace cdc::task
