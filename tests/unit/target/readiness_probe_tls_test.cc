// target::ReadinessProbe over TLS and mutual TLS against the FakeMilvus with certificates made
// by openssl (test_pki.h), using the dial_config fields upstream uses. The real TLS target
// (Milvus 2.3.5, tlsMode 1 and 2) is exercised by tests/e2e/test_tls_target.py.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "target/readiness_probe.h"
#include "unit/target/fake_milvus.h"
#include "unit/target/test_pki.h"

namespace cdc::target {
namespace {

using ::testing::HasSubstr;
using Fake = ::cdc::testing::FakeMilvus;
constexpr auto kTimeout = std::chrono::seconds(5);
constexpr auto kShort = std::chrono::seconds(1);

class ReadinessProbeTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new ::cdc::testing::TestPki(); }
  static void TearDownTestSuite() { delete pki_; }
  void SetUp() override { ASSERT_TRUE(pki_->ok()) << "openssl could not make test certificates"; }

  // https://127.0.0.1:<port> with nothing in dial_config yet.
  task::MilvusConnectParam Https() const {
    task::MilvusConnectParam p;
    p.uri = "https://" + addr_;
    return p;
  }
  // The message of a refused probe (Unavailable naming the target) with `timeout`.
  std::string Message(const task::MilvusConnectParam& p, std::chrono::seconds timeout = kShort) {
    Status s = probe_.CheckMilvus(p, timeout);
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
    EXPECT_THAT(s.message(), HasSubstr("milvus target " + addr_ + " (TLS)"));
    return std::string(s.message());
  }

  // The message of a handshake that cannot succeed: refused well before a 20 s timeout.
  std::string RefusedAtOnce(const task::MilvusConnectParam& p) {
    const auto t0 = std::chrono::steady_clock::now();
    std::string message = Message(p, std::chrono::seconds(20));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    EXPECT_THAT(message, HasSubstr("TLS handshake refused"));
    return message;
  }

  static ::cdc::testing::TestPki* pki_;
  Fake fake_;
  std::string addr_;
  ReadinessProbe probe_{Fake::kReplicateChannel};
};
::cdc::testing::TestPki* ReadinessProbeTlsTest::pki_ = nullptr;

TEST_F(ReadinessProbeTlsTest, ServerTlsWithCaOrServerPem) {
  addr_ = fake_.Start(pki_->ServerCreds(false));
  auto p = Https();
  p.dial_config.ca_pem_path = pki_->path("ca.pem");
  EXPECT_TRUE(probe_.CheckMilvus(p, kTimeout).ok());
  // Upstream's one-way fields: server_pem_path (the CA that signed the server, or a self-signed
  // server certificate) and server_name; TLS also without https:// when a path is set.
  auto one_way = Https();
  one_way.uri = "http://" + addr_;
  one_way.dial_config.server_pem_path = pki_->path("ca.pem");
  one_way.dial_config.server_name = "localhost";
  EXPECT_TRUE(probe_.CheckMilvus(one_way, kTimeout).ok());
  one_way.dial_config.server_pem_path = pki_->path("server.pem");
  Status leaf = probe_.CheckMilvus(one_way, kTimeout);
  EXPECT_TRUE(leaf.ok()) << leaf;
  EXPECT_EQ(fake_.CallsOf("ReplicateMessage").size(), 3u);
}

TEST_F(ReadinessProbeTlsTest, WrongServerNameIsRefusedAtOnceSayingWhichSetting) {
  addr_ = fake_.Start(pki_->ServerCreds(false));
  auto p = Https();
  p.dial_config.server_pem_path = pki_->path("ca.pem");
  p.dial_config.server_name = "wrong.example";
  EXPECT_THAT(RefusedAtOnce(p), HasSubstr("set dial_config.server_name to a name it holds"));
}

TEST_F(ReadinessProbeTlsTest, CertificateOfAnotherCaIsRefusedAtOnceSayingWhichFile) {
  addr_ = fake_.Start(pki_->ServerCreds(false));
  auto p = Https();
  p.dial_config.ca_pem_path = pki_->path("stranger.pem");
  EXPECT_THAT(RefusedAtOnce(p), HasSubstr("not signed by a CA in dial_config.ca_pem_path"));
}

TEST_F(ReadinessProbeTlsTest, PlainTextAgainstTlsSuggestsHttps) {
  addr_ = fake_.Start(pki_->ServerCreds(false));
  task::MilvusConnectParam plain;
  plain.uri = "http://" + addr_;
  Status s = probe_.CheckMilvus(plain, kShort);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("use an https:// uri and dial_config"));
}

TEST_F(ReadinessProbeTlsTest, TlsAgainstPlainTextSuggestsHttp) {
  addr_ = fake_.Start();
  auto p = Https();
  p.dial_config.ca_pem_path = pki_->path("ca.pem");
  EXPECT_THAT(RefusedAtOnce(p), HasSubstr("use an http:// uri without dial_config"));
}

TEST_F(ReadinessProbeTlsTest, MutualTls) {
  addr_ = fake_.Start(pki_->ServerCreds(true));
  auto p = Https();
  p.dial_config.ca_pem_path = pki_->path("ca.pem");
  EXPECT_THAT(Message(p), HasSubstr("check dial_config.client_pem_path and client_key_path"));
  p.dial_config.client_pem_path = pki_->path("client.pem");
  p.dial_config.client_key_path = pki_->path("client.key");
  EXPECT_TRUE(probe_.CheckMilvus(p, kTimeout).ok());

  p.dial_config.client_key_path = pki_->path("missing.key");
  Status s = probe_.CheckMilvus(p, kShort);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("dial_config.client_key_path"));
  p.dial_config.client_key_path.clear();
  s = probe_.CheckMilvus(p, kShort);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("must be set together"));
}

}  // namespace
}  // namespace cdc::target
