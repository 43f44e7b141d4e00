// GrpcTargetProbe over TLS and mutual TLS: certificates made by the openssl CLI into a temporary
// directory, a gRPC server with those credentials, and the dial_config fields upstream uses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "integration/api/grpc_target.h"
#include "task/target_probe.h"

namespace cdc::task {
namespace {

using ::testing::HasSubstr;

// A CA, a server certificate for 127.0.0.1/localhost, a client certificate and an unrelated CA.
class TestPki {
 public:
  TestPki() {
    char tmpl[] = "/tmp/cdc-probe-pki-XXXXXX";
    dir_ = mkdtemp(tmpl);
    const std::string script = "set -e; cd '" + dir_ + R"(';
q() { "$@" >/dev/null 2>&1; }
echo 'subjectAltName=IP:127.0.0.1,DNS:localhost' > san.ext
for ca in ca stranger; do
  q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=$ca -keyout $ca.key -out $ca.pem
done
for who in server client; do
  q openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=$who -keyout $who.key -out $who.csr
  ext=""; [ $who = server ] && ext="-extfile san.ext"
  q openssl x509 -req -days 1 -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial $ext \
    -out $who.pem
done)";
    ok_ = std::system(("bash -c \"$(cat <<'PKI'\n" + script + "\nPKI\n)\"").c_str()) == 0;
  }
  ~TestPki() { std::filesystem::remove_all(dir_); }
  bool ok() const { return ok_; }
  std::string path(const std::string& f) const { return dir_ + "/" + f; }
  std::string read(const std::string& f) const {
    std::ifstream in(path(f));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::shared_ptr<grpc::ServerCredentials> ServerCreds(bool require_client_cert) const {
    grpc::SslServerCredentialsOptions o(
        require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                            : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    o.pem_root_certs = read("ca.pem");
    o.pem_key_cert_pairs.push_back({read("server.key"), read("server.pem")});
    return grpc::SslServerCredentials(o);
  }

 private:
  std::string dir_;
  bool ok_ = false;
};

MilvusConnectParam Https(int port) {
  MilvusConnectParam p;
  p.uri = "https://127.0.0.1:" + std::to_string(port);
  return p;
}

class GrpcTargetProbeTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(); }
  static void TearDownTestSuite() { delete pki_; }
  void SetUp() override { ASSERT_TRUE(pki_->ok()) << "openssl could not make test certificates"; }
  // https://127.0.0.1:<target port> trusting the test CA.
  static MilvusConnectParam TrustingCa(const cdc::testing::GrpcTarget& target) {
    auto p = Https(target.port());
    p.dial_config.ca_pem_path = pki_->path("ca.pem");
    return p;
  }
  static TestPki* pki_;
  GrpcTargetProbe probe;
};
TestPki* GrpcTargetProbeTlsTest::pki_ = nullptr;

TEST_F(GrpcTargetProbeTlsTest, ServerTls) {
  const TestPki& pki = *pki_;
  cdc::testing::GrpcTarget target(pki.ServerCreds(false));
  ASSERT_TRUE(target.ok());
  auto p = TrustingCa(target);
  EXPECT_TRUE(probe.CheckMilvus(p, std::chrono::seconds(5)).ok());
  p.dial_config.server_name = "localhost";
  EXPECT_TRUE(probe.CheckMilvus(p, std::chrono::seconds(5)).ok());
  // server_pem_path alone (upstream's one-way TLS field) is taken as the trust root.
  auto self = Https(target.port());
  self.dial_config.server_pem_path = pki.path("ca.pem");
  EXPECT_TRUE(probe.CheckMilvus(self, std::chrono::seconds(5)).ok());

  p.dial_config.server_name = "wrong.example";
  Status s = probe.CheckMilvus(p, std::chrono::seconds(1));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("TLS"));
  auto stranger = Https(target.port());
  stranger.dial_config.ca_pem_path = pki.path("stranger.pem");
  EXPECT_EQ(probe.CheckMilvus(stranger, std::chrono::seconds(1)).code(), StatusCode::kUnavailable);
  // Plain text against a TLS server does not connect either.
  MilvusConnectParam plain;
  plain.uri = "http://127.0.0.1:" + std::to_string(target.port());
  EXPECT_EQ(probe.CheckMilvus(plain, std::chrono::seconds(1)).code(), StatusCode::kUnavailable);
}

TEST_F(GrpcTargetProbeTlsTest, MutualTls) {
  const TestPki& pki = *pki_;
  cdc::testing::GrpcTarget target(pki.ServerCreds(true));
  ASSERT_TRUE(target.ok());
  auto p = TrustingCa(target);
  EXPECT_EQ(probe.CheckMilvus(p, std::chrono::seconds(1)).code(), StatusCode::kUnavailable);
  p.dial_config.client_pem_path = pki.path("client.pem");
  p.dial_config.client_key_path = pki.path("client.key");
  EXPECT_TRUE(probe.CheckMilvus(p, std::chrono::seconds(5)).ok());
  p.dial_config.client_key_path = pki.path("missing.key");
  Status s = probe.CheckMilvus(p, std::chrono::seconds(1));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("client_key_path"));
}

}  // namespace
}  // namespace cdc::task
