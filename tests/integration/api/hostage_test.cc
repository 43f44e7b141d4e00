// The HTTP API cannot be held hostage (issue 18): against the real milvus-cdc binary, hundreds
// of idle, half-sent and trickling connections, a connection cap and slow `create` calls do not
// delay a `list`; the timeouts close slow clients; limits are answered with JSON envelopes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <future>

#include "bench/api/http_load.h"
#include "cdc_process.h"
#include "grpc_target.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using std::chrono::milliseconds;

constexpr auto kListBudget = milliseconds(100);
const char kList[] = R"({"request_type":"list"})";

std::string TempDir(const std::string& name) { return FreshTempDir("cdc-hostage", name); }

// A TCP port that accepts connections (the kernel's backlog) and never answers: a target that
// hangs every probe until its deadline.
class BlackHole {
 public:
  BlackHole() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(fd_, 64);
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~BlackHole() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class HostageTest : public ::testing::Test {
 protected:
  void StartCdc(const std::string& name, const std::string& api_yaml) {
    cdc_ = std::make_unique<CdcProcess>(TempDir(name));
    cdc_->WriteConfig("metaStoreConfig:\n  storeType: sqlite\n  sqlite:\n    path: data/meta.db\n" +
                      SourceYaml() + api_yaml);
    ASSERT_TRUE(cdc_->Start()) << cdc_->log();
  }
  void TearDown() override {
    if (cdc_ && cdc_->Running()) {
      EXPECT_EQ(cdc_->Stop(), 0) << cdc_->log();
    }
    if (cdc_ && !HasFailure()) std::filesystem::remove_all(cdc_->dir());
  }
  json CreateBody(const std::string& uri, const std::string& coll, int timeout_s = 2) {
    return {{"milvus_connect_param", {{"uri", uri}, {"connect_timeout", timeout_s}}},
            {"collection_infos", {{{"name", coll}}}}};
  }
  // `list` on a fresh connection; checks the answer and returns how long it took.
  milliseconds TimedList(size_t want_tasks) {
    load::HttpClient c("127.0.0.1", cdc_->port(), std::chrono::seconds(5));
    auto r = c.Request("POST", "/cdc", kList);
    EXPECT_EQ(r.status, 200) << r.error;
    json body = json::parse(r.body, nullptr, false);
    EXPECT_EQ(body.value("code", 0), 200) << r.body;
    if (body.contains("data")) {
      EXPECT_EQ(body["data"]["tasks"].size(), want_tasks) << r.body;
    }
    return std::chrono::duration_cast<milliseconds>(r.elapsed);
  }
  // Every one of `n` lists answers within the budget.
  void ExpectFastLists(int n, size_t want_tasks) {
    std::vector<milliseconds> took;
    for (int i = 0; i < n; ++i) took.push_back(TimedList(want_tasks));
    std::sort(took.begin(), took.end());
    std::cout << "list latency over " << n << " fresh connections: median " << took[n / 2].count()
              << " ms, max " << took.back().count() << " ms\n";
    EXPECT_LT(took.back(), kListBudget);
  }
  // The value of an unlabelled metric line, or -1.
  long Metric(const std::string& text, const std::string& name) {
    auto p = text.find("\n" + name + " ");
    return p == std::string::npos ? -1 : std::atol(text.c_str() + p + name.size() + 2);
  }
  std::string Metrics() { return cdc_->Request("GET", "/metrics").second; }

  GrpcTarget target_;
  std::unique_ptr<CdcProcess> cdc_;
};

TEST_F(HostageTest, FiveHundredSlowClientsDoNotDelayList) {
  StartCdc("five-hundred", "");
  ASSERT_TRUE(target_.ok());
  for (const char* coll : {"c1", "c2"}) {
    ASSERT_EQ(cdc_->Call("create", CreateBody(target_.uri(), coll))["code"], 200);
  }
  load::SlowClients slow(
      "127.0.0.1", cdc_->port(),
      {.idle = 125, .half_header = 125, .header_trickle = 125, .body_trickle = 125},
      /*reopen=*/false, milliseconds(100));
  ASSERT_TRUE(slow.WaitOpen(500, std::chrono::seconds(20))) << slow.open();
  std::string m = Metrics();
  EXPECT_GE(Metric(m, "milvus_cdc_api_connections"), 501) << m;  // all held by the server

  ExpectFastLists(30, 2);
  // Also on one kept-alive connection.
  load::HttpClient keep("127.0.0.1", cdc_->port());
  for (int i = 0; i < 30; ++i) {
    auto r = keep.Request("POST", "/cdc", kList);
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_LT(r.elapsed, kListBudget);
  }
  EXPECT_EQ(slow.open(), 500) << "the hostages were let go early: the test proved nothing";
  EXPECT_EQ(slow.closed_by_server(), 0);

  // Stopping does not wait for them.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(cdc_->Stop(), 0) << cdc_->log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST_F(HostageTest, TimeoutsCloseSlowClients) {
  StartCdc("timeouts",
           "api:\n  headerTimeoutMs: 800\n  bodyTimeoutMs: 800\n  idleTimeoutMs: 800\n");
  auto t0 = std::chrono::steady_clock::now();
  load::SlowClients slow("127.0.0.1", cdc_->port(),
                         {.idle = 10, .half_header = 10, .header_trickle = 10, .body_trickle = 10},
                         /*reopen=*/false, milliseconds(50));
  ASSERT_TRUE(slow.WaitOpen(40, std::chrono::seconds(5)));
  std::this_thread::sleep_for(milliseconds(400));
  EXPECT_EQ(slow.closed_by_server(), 0) << "closed before any timeout ran out";
  ASSERT_TRUE(slow.WaitClosed(40, std::chrono::seconds(10))) << slow.closed_by_server();
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, milliseconds(800));
  EXPECT_LT(took, std::chrono::seconds(5));

  // A kept-alive connection without a request is closed after idleTimeoutMs.
  load::HttpClient keep("127.0.0.1", cdc_->port());
  ASSERT_EQ(keep.Request("POST", "/cdc", kList).status, 200);
  std::this_thread::sleep_for(milliseconds(1500));
  std::string m = Metrics();
  EXPECT_EQ(Metric(m, "milvus_cdc_api_connections"), 1) << m;  // only this scrape
  EXPECT_THAT(m, HasSubstr("milvus_cdc_api_rejected_total{reason=\"header_timeout\"} 30"));
  EXPECT_THAT(m, HasSubstr("milvus_cdc_api_rejected_total{reason=\"body_timeout\"} 10"));
}

TEST_F(HostageTest, ConnectionCapAndBodyLimitAnswerWithEnvelopes) {
  StartCdc("cap", "api:\n  maxConnections: 20\n  maxBodyBytes: 2048\n");
  {
    load::SlowClients slow("127.0.0.1", cdc_->port(), {.idle = 20}, /*reopen=*/false);
    ASSERT_TRUE(slow.WaitOpen(20, std::chrono::seconds(5)));
    std::this_thread::sleep_for(milliseconds(200));  // the server has accepted them all
    load::HttpClient c("127.0.0.1", cdc_->port());
    auto r = c.Request("POST", "/cdc", kList);
    EXPECT_EQ(r.status, 503) << r.error;
    json env = json::parse(r.body, nullptr, false);
    EXPECT_EQ(env.value("code", 0), 503) << r.body;
    EXPECT_THAT(env.value("message", ""),
                HasSubstr("too many open connections (api.maxConnections 20)"));
  }
  // Released: served again.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    load::HttpClient c("127.0.0.1", cdc_->port());
    status = c.Request("POST", "/cdc", kList).status;
    if (status != 200) std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(status, 200);

  load::HttpClient c("127.0.0.1", cdc_->port());
  auto big = c.Request("POST", "/cdc", std::string(4096, ' '));
  EXPECT_EQ(big.status, 413);
  EXPECT_THAT(big.body, HasSubstr("exceeds api.maxBodyBytes (2048 bytes)"));
  EXPECT_THAT(Metrics(), HasSubstr("milvus_cdc_api_rejected_total{reason=\"connection_limit\"}"));
}

TEST_F(HostageTest, SlowCreatesDoNotDelayFastRequests) {
  StartCdc("slow-creates", "api:\n  handlerThreads: 4\n");
  BlackHole hole;
  const std::string uri = "http://127.0.0.1:" + std::to_string(hole.port());
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::future<json>> creates;
  for (int i = 0; i < 8; ++i) {  // 4 run, 4 wait: about 6 s in all
    creates.push_back(std::async(std::launch::async, [&, i] {
      load::HttpClient c("127.0.0.1", cdc_->port(), std::chrono::seconds(30));
      json body = {{"request_type", "create"},
                   {"request_data", CreateBody(uri, "c" + std::to_string(i), 3)}};
      auto r = c.Request("POST", "/cdc", body.dump());
      return json::parse(r.body, nullptr, false);
    }));
  }
  std::this_thread::sleep_for(milliseconds(500));  // the slow pool is busy with the probes
  ExpectFastLists(20, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3))
      << "the lists ran after the creates: nothing was proven";
  for (auto& f : creates) {
    json r = f.get();
    EXPECT_EQ(r.value("code", 0), 500) << r.dump();
    EXPECT_THAT(r.value("message", ""), HasSubstr("127.0.0.1:" + std::to_string(hole.port())));
  }
}

}  // namespace
}  // namespace cdc::testing
