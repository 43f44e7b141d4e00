// CreateStore and the MySQL DSN parser: config mistakes and unreachable servers give messages
// that name the config key; no servers needed (closed ports only).
#include "meta/factory.h"

#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration/etcd/local_etcd.h"
#include "meta/mysql/dsn.h"

namespace cdc::meta {
namespace {

using ::testing::HasSubstr;

std::string Msg(const Status& s) { return std::string(s.message()); }

TEST(DsnTest, ParsesUpstreamForm) {
  auto d = ParseMysqlDsn("root:root@tcp(127.0.0.1:3306)/milvuscdc?charset=utf8");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->user, "root");
  EXPECT_EQ(d->password, "root");
  EXPECT_EQ(d->host, "127.0.0.1");
  EXPECT_EQ(d->port, 3306u);
  EXPECT_EQ(d->database, "milvuscdc");
  EXPECT_EQ(d->charset, "utf8");
  EXPECT_EQ(d->Address(), "127.0.0.1:3306/milvuscdc");
}

TEST(DsnTest, ParsesVariants) {
  auto d = ParseMysqlDsn("u:p@ss:w@rd@tcp(db.local)/x?timeout=1500ms&parseTime=true");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->password, "p@ss:w@rd");
  EXPECT_EQ(d->host, "db.local");
  EXPECT_EQ(d->port, 3306u);
  EXPECT_EQ(d->timeout, std::chrono::milliseconds(1500));
  auto u = ParseMysqlDsn("u@unix(/run/mysqld/mysqld.sock)/cdc");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->unix_socket, "/run/mysqld/mysqld.sock");
  EXPECT_EQ(u->database, "cdc");
  auto bare = ParseMysqlDsn("/cdc");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->host, "127.0.0.1");
}

TEST(DsnTest, ErrorsNameTheProblemAndHideThePassword) {
  struct Case {
    std::string dsn, want;
  } cases[] = {
      {"", "empty"},
      {"root:secret@tcp(127.0.0.1:3306)", "no '/database'"},
      {"root:secret@tcp(127.0.0.1:3306)/", "no database name"},
      {"root:secret@tcp(127.0.0.1:port)/db", "port 'port'"},
      {"root:secret@tcp(127.0.0.1:3306/db", "missing ')'"},
      {"root:secret@udp(127.0.0.1:3306)/db", "unknown protocol 'udp'"},
      {"root:secret@tcp(127.0.0.1:3306)/db?timeout=soon", "timeout 'soon'"},
  };
  for (const auto& c : cases) {
    auto s = ParseMysqlDsn(c.dsn).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.dsn;
    EXPECT_THAT(Msg(s), HasSubstr(c.want)) << c.dsn;
    EXPECT_THAT(Msg(s), HasSubstr("metaStoreConfig.mysqlSourceUrl")) << c.dsn;
    EXPECT_THAT(Msg(s), ::testing::Not(HasSubstr("secret"))) << c.dsn;
  }
  EXPECT_EQ(RedactDsn("root:secret@tcp(h:1)/db"), "root:***@tcp(h:1)/db");
}

TEST(FactoryTest, UnknownTypeListsTheAllowedOnes) {
  StoreOptions o;
  o.type = "redis";
  auto s = CreateStore(o).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(s), HasSubstr("metaStoreConfig.storeType 'redis'"));
  EXPECT_THAT(Msg(s), HasSubstr("sqlite, etcd, mysql, memory"));
}

TEST(FactoryTest, OpensSqliteAndMemory) {
  auto dir = std::filesystem::temp_directory_path() / ("cdc-factory-" + std::to_string(getpid()));
  StoreOptions o;
  o.sqlite_path = (dir / "meta.db").string();
  auto s = CreateStore(o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->Describe(), "sqlite " + o.sqlite_path);
  o.type = "MEMORY";
  auto m = CreateStore(o);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->Describe(), "memory");
  std::filesystem::remove_all(dir);
}

TEST(FactoryTest, MissingServerSettingsNameTheKey) {
  StoreOptions e;
  e.type = "etcd";
  EXPECT_THAT(Msg(CreateStore(e).status()), HasSubstr("metaStoreConfig.etcd.address"));
  StoreOptions m;
  m.type = "mysql";
  EXPECT_THAT(Msg(CreateStore(m).status()), HasSubstr("metaStoreConfig.mysqlSourceUrl"));
}

TEST(FactoryTest, UnreachableServersNameAddressAndKey) {
  std::string ep = "127.0.0.1:" + std::to_string(cdc::testing::FreePort());
  StoreOptions e;
  e.type = "etcd";
  e.etcd.endpoints = {ep};
  e.etcd.dial_timeout = std::chrono::seconds(2);
  auto es = CreateStore(e).status();
  EXPECT_EQ(es.code(), StatusCode::kUnavailable) << es;
  EXPECT_THAT(Msg(es), HasSubstr("etcd " + ep + ": connect: connection refused"));
  EXPECT_THAT(Msg(es), HasSubstr("check metaStoreConfig.etcd.address"));

  StoreOptions m;
  m.type = "mysql";
  m.mysql_dsn = "root:pw123@tcp(" + ep + ")/cdc?timeout=2s";
  auto ms = CreateStore(m).status();
  EXPECT_EQ(ms.code(), StatusCode::kUnavailable) << ms;
  EXPECT_THAT(Msg(ms), HasSubstr("mysql " + ep + "/cdc"));
  EXPECT_THAT(Msg(ms), HasSubstr("metaStoreConfig.mysqlSourceUrl"));
  EXPECT_THAT(Msg(ms), ::testing::Not(HasSubstr("pw123")));
}

}  // namespace
}  // namespace cdc::meta
