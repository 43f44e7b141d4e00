// etcd::Client over TLS and mutual TLS against a private etcd serving https with certificates
// made by the openssl CLI for this test, a wrong CA, a missing client certificate, per-call
// deadlines against a frozen server, and a watch whose start revision was compacted.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "etcd/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration/etcd/local_etcd.h"
#include "integration/etcd/wait_for.h"

namespace cdc::etcd {
namespace {

using ::cdc::testing::WaitFor;
using ::testing::HasSubstr;

// A CA, a server certificate for 127.0.0.1 and a client certificate, in a temporary directory.
class Certs {
 public:
  Certs() {
    char tmpl[] = "/tmp/cdc-etcd-certs-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(dir_ + "/san.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    std::string d = dir_;
    ok_ = Run("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + d + "/ca.key -out " + d +
              "/ca.pem -days 1 -subj /CN=cdc-test-ca") &&
          Run("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + d + "/other-ca.key -out " + d +
              "/other-ca.pem -days 1 -subj /CN=other-ca") &&
          Sign("server", "/CN=127.0.0.1", true) && Sign("client", "/CN=root", false);
  }
  ~Certs() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool ok() const { return ok_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  static bool Run(const std::string& cmd) {
    return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
  }
  bool Sign(const std::string& name, const std::string& subject, bool san) {
    std::string d = dir_;
    return Run("openssl req -newkey rsa:2048 -nodes -keyout " + d + "/" + name + ".key -out " + d +
               "/" + name + ".csr -subj " + subject) &&
           Run("openssl x509 -req -in " + d + "/" + name + ".csr -CA " + d + "/ca.pem -CAkey " + d +
               "/ca.key -CAcreateserial -out " + d + "/" + name + ".pem -days 1" +
               (san ? " -extfile " + d + "/san.ext" : ""));
  }
  std::string dir_;
  bool ok_ = false;
};

ClientOptions Base(const std::string& endpoint) {
  ClientOptions o;
  o.endpoints = {endpoint};
  o.dial_timeout = std::chrono::seconds(3);
  o.call_timeout = std::chrono::seconds(3);
  return o;
}

TEST(EtcdTlsTest, MutualTlsWorksAndBadCredentialsFailClearly) {
  Certs certs;
  ASSERT_TRUE(certs.ok()) << "openssl could not make test certificates";
  cdc::testing::LocalEtcd etcd(
      {"--cert-file=" + certs.path("server.pem"), "--key-file=" + certs.path("server.key"),
       "--trusted-ca-file=" + certs.path("ca.pem"), "--client-cert-auth"},
      "https",
      "--cacert " + certs.path("ca.pem") + " --cert " + certs.path("client.pem") + " --key " +
          certs.path("client.key"));
  ASSERT_TRUE(etcd.Start()) << "etcd-server with TLS did not start";
  std::string https = "https://" + etcd.endpoint();

  ClientOptions good = Base(https);
  good.ca_path = certs.path("ca.pem");
  good.cert_path = certs.path("client.pem");
  good.key_path = certs.path("client.key");
  auto c = Client::Connect(good);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->Put("/tls/k", "v").ok());
  std::atomic<int> events{0};
  auto w = (*c)->Watch("/tls/", {.prefix = true},
                       [&](const std::vector<Event>& evs, int64_t) { events += evs.size(); });
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE((*c)->Put("/tls/k", "v2").ok());
  EXPECT_TRUE(WaitFor([&] { return events.load() == 1; }));

  // `tls` plus a host:port endpoint is the same as https://.
  ClientOptions flag = good;
  flag.endpoints = {etcd.endpoint()};
  flag.tls = true;
  EXPECT_TRUE(Client::Connect(flag).ok());

  ClientOptions no_client_cert = Base(https);
  no_client_cert.ca_path = certs.path("ca.pem");
  auto n = Client::Connect(no_client_cert);
  ASSERT_FALSE(n.ok());
  EXPECT_THAT(std::string(n.status().message()), HasSubstr("etcd " + etcd.endpoint()));

  ClientOptions wrong_ca = good;
  wrong_ca.ca_path = certs.path("other-ca.pem");
  auto b = Client::Connect(wrong_ca);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kUnavailable) << b.status();
  EXPECT_THAT(std::string(b.status().message()), HasSubstr("etcd " + etcd.endpoint()));
  EXPECT_THAT(std::string(b.status().message()), HasSubstr("TLS handshake failed"));
  EXPECT_THAT(std::string(b.status().message()), HasSubstr("certificate verify failed"));

  ClientOptions plain = Base(etcd.endpoint());  // no TLS against a TLS server
  EXPECT_FALSE(Client::Connect(plain).ok());
}

TEST(EtcdDeadlineTest, FrozenServerGivesDeadlineExceededNamingEndpoint) {
  cdc::testing::LocalEtcd etcd;
  ASSERT_TRUE(etcd.Start());
  ClientOptions o = Base(etcd.endpoint());
  o.call_timeout = std::chrono::milliseconds(500);
  auto c = Client::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status();
  etcd.Pause();
  auto r = (*c)->Put("/d/k", "v");
  etcd.Resume();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("etcd " + etcd.endpoint() + ": put '/d/k': no answer within 500ms"));
  EXPECT_TRUE(WaitFor([&] { return (*c)->Put("/d/k", "v").ok(); }));
}

TEST(EtcdCompactionTest, WatchFromCompactedRevisionIsTerminalOutOfRange) {
  cdc::testing::LocalEtcd etcd;
  ASSERT_TRUE(etcd.Start());
  auto c = Client::Connect(Base(etcd.endpoint()));
  ASSERT_TRUE(c.ok()) << c.status();
  auto r1 = (*c)->Put("/c/k", "1");
  auto r2 = (*c)->Put("/c/k", "2");
  ASSERT_TRUE(r1.ok() && r2.ok());
  ASSERT_TRUE((*c)->Compact(*r2).ok());
  std::mutex mu;
  Status err;
  std::atomic<bool> got{false};
  auto w = (*c)->Watch(
      "/c/k", {.start_revision = *r1}, [](const std::vector<Event>&, int64_t) {},
      [&](const Status& s) {
        std::lock_guard lock(mu);
        err = s;
        got = true;
      });
  if (w.ok()) {
    ASSERT_TRUE(WaitFor([&] { return got.load(); }));
    EXPECT_EQ((*w)->status().code(), StatusCode::kOutOfRange);
  } else {
    err = w.status();
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(err.code(), StatusCode::kOutOfRange) << err;
  EXPECT_THAT(std::string(err.message()), HasSubstr("was compacted"));
  auto old = (*c)->Range("/c/k", {.revision = *r1});
  EXPECT_EQ(old.status().code(), StatusCode::kOutOfRange) << old.status();
}

}  // namespace
}  // namespace cdc::etcd
