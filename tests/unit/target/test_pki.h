#pragma once
// TestPki: certificates for TLS unit tests, made by the openssl CLI into a temporary directory
// (removed again by the destructor): a CA (ca.pem), a server certificate for 127.0.0.1 and
// localhost (server.pem/server.key), a client certificate (client.pem/client.key), both signed
// by the CA, and an unrelated CA (stranger.pem). Not thread-safe; one per test suite.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace cdc::testing {

class TestPki {
 public:
  TestPki() {
    char tmpl[] = "/tmp/cdc-target-pki-XXXXXX";
    dir_ = mkdtemp(tmpl);
    const std::string script = "set -e; cd '" + dir_ + R"(';
q() { "$@" >/dev/null 2>&1; }
echo 'subjectAltName=IP:127.0.0.1,DNS:localhost' > server.ext
echo 'extendedKeyUsage=clientAuth' > client.ext
for ca in ca stranger; do
  q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=$ca -keyout $ca.key -out $ca.pem
done
for who in server client; do
  q openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=$who -keyout $who.key -out $who.csr
  q openssl x509 -req -days 1 -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -extfile $who.ext -out $who.pem
done)";
    ok_ = std::system(("bash -c \"$(cat <<'PKI'\n" + script + "\nPKI\n)\"").c_str()) == 0;
  }
  ~TestPki() { std::filesystem::remove_all(dir_); }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  bool ok() const { return ok_; }
  std::string path(const std::string& f) const { return dir_ + "/" + f; }
  std::string read(const std::string& f) const {
    std::ifstream in(path(f));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // The server side: TLS with server.pem, and with require_client_cert mutual TLS trusting ca.pem.
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

}  // namespace cdc::testing
