// etcd::Client against a private etcd-server process (LocalEtcd): watch re-establishment after
// the server restarts, unreachable-server errors, and username/password auth.
#include <atomic>
#include <mutex>
#include <thread>

#include "etcd/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration/etcd/local_etcd.h"
#include "integration/etcd/wait_for.h"

namespace cdc::etcd {
namespace {

using ::cdc::testing::WaitFor;
using ::testing::HasSubstr;

ClientOptions Options(const std::string& endpoint) {
  ClientOptions o;
  o.endpoints = {endpoint};
  o.dial_timeout = std::chrono::seconds(3);
  o.call_timeout = std::chrono::seconds(3);
  return o;
}

TEST(EtcdRestartTest, WatchResumesAfterServerRestartWithoutLossOrRepeat) {
  cdc::testing::LocalEtcd etcd;
  ASSERT_TRUE(etcd.Start()) << "etcd-server did not start";
  auto c = Client::Connect(Options(etcd.endpoint()));
  ASSERT_TRUE(c.ok()) << c.status();
  Client& client = **c;

  std::mutex mu;
  std::vector<std::string> values;
  std::atomic<int> resumed{0};
  WatchOptions wo{.prefix = true};
  wo.on_resumed = [&] { resumed.fetch_add(1); };
  auto w = client.Watch("/w/", wo, [&](const std::vector<Event>& evs, int64_t) {
    std::lock_guard lock(mu);
    for (const auto& e : evs) values.push_back(e.kv.value);
  });
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(client.Put("/w/k", "before").ok());
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return values.size() == 1;
  }));

  etcd.Stop();
  // While the server is down, calls fail with a message naming the endpoint.
  auto down = client.Put("/w/k", "lost");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(down.status().message()), HasSubstr("etcd " + etcd.endpoint()));

  EXPECT_EQ(resumed.load(), 0);  // not for the first confirmation
  ASSERT_TRUE(etcd.Start()) << "etcd-server did not restart";
  // The watch says when it is confirmed again, without a change to deliver.
  EXPECT_TRUE(WaitFor([&] { return resumed.load() >= 1; }));
  // Unary calls recover by themselves (bounded retries while gRPC reconnects).
  Status last;
  ASSERT_TRUE(WaitFor([&] {
    last = client.Put("/w/k", "after1").status();
    return last.ok();
  })) << last;
  ASSERT_TRUE(client.Put("/w/k", "after2").ok());
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return values.size() >= 3;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // would expose a replay
  (*w)->Stop();
  std::lock_guard lock(mu);
  EXPECT_THAT(values, ::testing::ElementsAre("before", "after1", "after2"));
  EXPECT_GE((*w)->reconnects(), 1);
  EXPECT_TRUE((*w)->status().ok());
}

TEST(EtcdRestartTest, UnreachableServerGivesUnavailableNamingEndpoint) {
  int port = cdc::testing::FreePort();
  std::string ep = "127.0.0.1:" + std::to_string(port);
  auto c = Client::Connect(Options(ep));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("etcd " + ep));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("connection refused"));

  ClientOptions two = Options(ep);
  two.endpoints.push_back("127.0.0.1:" + std::to_string(cdc::testing::FreePort()));
  auto c2 = Client::Connect(two);
  ASSERT_FALSE(c2.ok());
  EXPECT_THAT(std::string(c2.status().message()), HasSubstr(two.endpoints[1]));
}

TEST(EtcdAuthTest, PasswordAuthTokenRefreshAndBadPassword) {
  cdc::testing::LocalEtcd etcd({"--auth-token-ttl=1"});
  ASSERT_TRUE(etcd.Start()) << "etcd-server did not start";
  ASSERT_EQ(etcd.Etcdctl("user add root --new-user-password=rootpw --interactive=false"), 0);
  ASSERT_EQ(etcd.Etcdctl("auth enable"), 0);

  ClientOptions bad = Options(etcd.endpoint());
  bad.username = "root";
  bad.password = "wrong";
  auto b = Client::Connect(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument) << b.status();
  EXPECT_THAT(std::string(b.status().message()), HasSubstr("etcd " + etcd.endpoint()));
  EXPECT_THAT(std::string(b.status().message()), HasSubstr("authenticate user 'root'"));
  EXPECT_THAT(std::string(b.status().message()), HasSubstr("check the etcd username and password"));
  EXPECT_THAT(std::string(b.status().message()), ::testing::Not(HasSubstr("wrong")));

  auto anon = Client::Connect(Options(etcd.endpoint()));
  ASSERT_FALSE(anon.ok());
  EXPECT_THAT(std::string(anon.status().message()), HasSubstr("requires authentication"));

  ClientOptions good = Options(etcd.endpoint());
  good.username = "root";
  good.password = "rootpw";
  auto c = Client::Connect(good);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->Put("/auth/k", "v").ok());
  std::atomic<int> events{0};
  auto w = (*c)->Watch("/auth/", {.prefix = true},
                       [&](const std::vector<Event>& evs, int64_t) { events += evs.size(); });
  ASSERT_TRUE(w.ok()) << w.status();
  // The simple token expires after 1 s of disuse; the client must authenticate again.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  auto put = (*c)->Put("/auth/k", "v2");
  ASSERT_TRUE(put.ok()) << put.status();
  auto g = (*c)->Get("/auth/k");
  ASSERT_TRUE(g.ok() && g->has_value()) << g.status();
  EXPECT_EQ((*g)->value, "v2");
  EXPECT_TRUE(WaitFor([&] { return events.load() >= 1; }));
}

}  // namespace
}  // namespace cdc::etcd
