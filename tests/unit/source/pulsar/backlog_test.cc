#include <gtest/gtest.h>

#include "source/pulsar/pulsar_backlog.h"
#include "source/pulsar_id.h"

namespace cdc::source {
namespace {

// Shape of Pulsar 4.0.7's GET .../internalStats (fields we do not read trimmed).
constexpr char kStats[] = R"({"entriesAddedCounter":12,"numberOfEntries":12,
  "currentLedgerEntries":5,"lastConfirmedEntry":"9:4","state":"LedgerOpened",
  "ledgers":[{"ledgerId":4,"entries":7,"size":700},{"ledgerId":9,"entries":0,"size":0}],
  "cursors":{}})";

TEST(PulsarBacklog, CountsEntriesAcrossLedgers) {
  auto view = ParsePulsarInternalStats(kStats);
  ASSERT_TRUE(view.ok()) << view.status();
  ASSERT_EQ(view->size(), 2u);
  EXPECT_EQ((*view)[1], std::make_pair(int64_t{9}, int64_t{5}));  // the open ledger's count
  EXPECT_EQ(PulsarEntriesAfter(*view, 4, 2), 4 + 5);  // entries 3..6 of ledger 4, all of ledger 9
  EXPECT_EQ(PulsarEntriesAfter(*view, 9, 4), 0);      // the last entry: caught up
  EXPECT_EQ(PulsarEntriesAfter(*view, 9, 1), 3);
  EXPECT_EQ(PulsarEntriesAfter(*view, 2, 0), 12);  // a ledger trimmed away: everything after it
  EXPECT_FALSE(ParsePulsarInternalStats("{}").ok());
  EXPECT_FALSE(ParsePulsarInternalStats("not json").ok());
}

TEST(PulsarBacklog, AdminUrlFromWebAddressAndPort) {
  EXPECT_EQ(PulsarAdminUrl("", 8080), "");
  EXPECT_EQ(PulsarAdminUrl("127.0.0.1", 8080), "http://127.0.0.1:8080");
  EXPECT_EQ(PulsarAdminUrl("localhost:80", 8080), "http://localhost:80");
  EXPECT_EQ(PulsarAdminUrl("https://pulsar.example/", 0), "https://pulsar.example");
}

TEST(PulsarBacklog, UnknownWithoutAnAdminUrlOrForAKafkaPosition) {
  PulsarBacklog b(PulsarAdminSettings{});
  MsgPosition p;
  p.set_channel_name("by-dev-rootcoord-dml_0");
  p.set_msgid(EncodePulsarMsgId({9, 4, 0, 0}));
  EXPECT_EQ(b.MessagesAfter(p, std::chrono::milliseconds(100)), -1);
  p.set_msgid(EncodeKafkaMsgId(42));
  EXPECT_EQ(b.CachedMessagesAfter(p), -1);
}

}  // namespace
}  // namespace cdc::source
