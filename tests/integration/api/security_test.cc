// The secured API and secrets at rest, against the real milvus-cdc binary (docs/security.md):
// bearer tokens with read/admin roles (401/403 envelopes, /healthz open), the failed-auth
// limit (429), HTTPS with TLS 1.2+, and task secrets sealed in the SQLite file (re-encryption
// of older tasks; a wrong or missing key stops the start and changes nothing).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench/api/http_load.h"
#include "cdc_process.h"
#include "grpc_target.h"

namespace cdc::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

// sha256 hex of the tokens below (printf %s TOKEN | sha256sum).
const char kAdminToken[] = "admin-token-1";
const char kReadToken[] = "read-token-1";

std::string Sha256Hex(const std::string& s) {
  std::string out;
  FILE* p = popen(("printf %s '" + s + "' | sha256sum").c_str(), "r");
  char buf[128] = {};
  if (p && fgets(buf, sizeof(buf), p)) out.assign(buf, 64);
  if (p) pclose(p);
  return out;
}

std::string TempDir(const std::string& name) { return FreshTempDir("cdc-security", name); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every byte the SQLite store holds (the database and its write-ahead log).
std::string StoreBytes(const std::string& dir) {
  std::string all;
  for (const char* f : {"/data/meta.db", "/data/meta.db-wal"}) all += ReadFile(dir + f);
  return all;
}

std::string Base() {
  return "metaStoreConfig:\n  storeType: sqlite\n  sqlite:\n    path: data/meta.db\n" +
         SourceYaml();
}

// Base() with metaStoreConfig.secretKeyFile set.
std::string WithKey(const std::string& key_file) {
  std::string c = Base();
  c.insert(c.find("sourceConfig:"), "  secretKeyFile: " + key_file + "\n");
  return c;
}

class SecurityTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (cdc_ && cdc_->Running()) {
      EXPECT_EQ(cdc_->Stop(), 0) << cdc_->log();
    }
    if (cdc_ && !HasFailure()) std::filesystem::remove_all(cdc_->dir());
  }
  void StartWith(const std::string& name, const std::string& extra) {
    cdc_ = std::make_unique<CdcProcess>(TempDir(name));
    cdc_->WriteConfig(Base() + extra);
    ASSERT_TRUE(cdc_->Start()) << cdc_->log();
  }
  // POST /cdc with an optional bearer token; returns HTTP status and the envelope.
  std::pair<int, json> Post(const std::string& type, const json& data, const std::string& token,
                            const std::string& scheme = "Bearer") {
    load::HttpClient c("127.0.0.1", cdc_->port());
    json body = {{"request_type", type}, {"request_data", data}};
    std::string h = token.empty() ? "" : "Authorization: " + scheme + " " + token + "\r\n";
    auto r = c.Request("POST", "/cdc", body.dump(), h);
    return {r.status, json::parse(r.body, nullptr, false)};
  }
  json CreateBody(const std::string& coll) {
    return {{"milvus_connect_param",
             {{"uri", target_.uri()}, {"token", "root:TopSecret"}, {"connect_timeout", 2}}},
            {"collection_infos", {{{"name", coll}}}}};
  }

  GrpcTarget target_;
  std::unique_ptr<CdcProcess> cdc_;
};

TEST_F(SecurityTest, TokensAndRoles) {
  if (!HasLiveSource()) GTEST_SKIP() << kNoLiveSource;
  std::string dir = TempDir("tokens-file");
  std::ofstream(dir + "/tokens") << "# role sha256\nread " << Sha256Hex(kReadToken) << "\n";
  StartWith("tokens", "api:\n  auth:\n    adminTokenHashes: [" + Sha256Hex(kAdminToken) +
                          "]\n    tokenFile: " + dir + "/tokens\n");
  // /healthz stays open.
  EXPECT_EQ(cdc_->Request("GET", "/healthz"), std::make_pair(200, std::string("OK")));
  // So does the status page: it holds no data (its calls to /cdc carry the token).
  auto [page_status, page] = cdc_->Request("GET", "/");
  EXPECT_EQ(page_status, 200);
  EXPECT_THAT(page, HasSubstr("<title>milvus-cdc status</title>"));

  // No token, a wrong token, a wrong scheme: 401 envelopes.
  for (auto [token, scheme] : std::vector<std::pair<std::string, std::string>>{
           {"", "Bearer"}, {"nope", "Bearer"}, {kAdminToken, "Basic"}}) {
    auto [status, env] = Post("list", nullptr, token, scheme);
    EXPECT_EQ(status, 401) << token;
    EXPECT_EQ(env.value("code", 0), 401) << env.dump();
    EXPECT_THAT(env.value("message", ""), HasSubstr("bearer token"));
  }
  auto [ms, mb] = cdc_->Request("GET", "/metrics");
  EXPECT_EQ(ms, 401);

  // Read-only: get/list/position and the metrics; 403 for the rest.
  EXPECT_EQ(Post("list", nullptr, kReadToken).second.value("code", 0), 200);
  EXPECT_EQ(Post("get", {{"task_id", "x"}}, kReadToken).second.value("code", 0), 400);  // allowed
  EXPECT_EQ(Post("position", {{"task_id", "x"}}, kReadToken).second.value("code", 0), 400);
  for (const char* type : {"create", "delete", "pause", "resume", "maintenance"}) {
    auto [status, env] = Post(type, {{"task_id", "x"}}, kReadToken);
    EXPECT_EQ(status, 403) << type;
    EXPECT_EQ(env.value("code", 0), 403) << env.dump();
    EXPECT_THAT(env.value("message", ""), HasSubstr("read-only token may not send '"));
  }
  load::HttpClient scrape("127.0.0.1", cdc_->port());
  auto m = scrape.Request("GET", "/metrics", "",
                          std::string("Authorization: Bearer ") + kReadToken + "\r\n");
  EXPECT_EQ(m.status, 200);
  EXPECT_THAT(m.body, HasSubstr("milvus_cdc_api_rejected_total{reason=\"unauthorized\"} 4"));
  EXPECT_THAT(m.body, HasSubstr("milvus_cdc_api_rejected_total{reason=\"forbidden\"} 5"));

  // Admin: everything, the scheme in any case.
  auto [cs, created] = Post("create", CreateBody("c1"), kAdminToken, "bearer");
  EXPECT_EQ(cs, 200);
  ASSERT_EQ(created.value("code", 0), 200) << created.dump();
  std::string id = created["data"]["task_id"];
  EXPECT_EQ(Post("pause", {{"task_id", id}}, kAdminToken).second.value("code", 0), 200);
  EXPECT_EQ(Post("get", {{"task_id", id}}, kReadToken).second["data"]["task"]["state"], "Paused");
  EXPECT_THAT(cdc_->log(), Not(HasSubstr(kAdminToken)));
  EXPECT_THAT(cdc_->log(), Not(HasSubstr(kReadToken)));
}

TEST_F(SecurityTest, FailedAuthenticationsAreRateLimited) {
  StartWith("ratelimit", "api:\n  auth:\n    adminTokenHashes: [" + Sha256Hex(kAdminToken) +
                             "]\n    maxFailuresPerMinute: 3\n");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Post("list", nullptr, "guess").first, 401);
  // Blocked now, even with the right token (a guesser learns nothing), for a minute.
  load::HttpClient c("127.0.0.1", cdc_->port());
  auto r = c.Request("POST", "/cdc", R"({"request_type":"list"})",
                     std::string("Authorization: Bearer ") + kAdminToken + "\r\n");
  EXPECT_EQ(r.status, 429);
  json env = json::parse(r.body, nullptr, false);
  EXPECT_EQ(env.value("code", 0), 429);
  EXPECT_THAT(env.value("message", ""), HasSubstr("too many failed authentications"));
  EXPECT_EQ(cdc_->Request("GET", "/healthz").first, 200);  // still open
}

TEST_F(SecurityTest, BadAuthConfigStopsTheStart) {
  cdc_ = std::make_unique<CdcProcess>(TempDir("badauth"));
  cdc_->WriteConfig(Base() + "api:\n  auth:\n    tokenFile: /nonexistent/tokens\n");
  EXPECT_EQ(cdc_->RunToExit(), 1);
  EXPECT_THAT(cdc_->log(), HasSubstr("api.auth.tokenFile: cannot read /nonexistent/tokens"));
  std::string file = cdc_->dir() + "/tokens";
  std::ofstream(file) << "admin not-a-hash\n";
  cdc_->WriteConfig(Base() + "api:\n  auth:\n    tokenFile: " + file + "\n");
  EXPECT_EQ(cdc_->RunToExit(), 1);
  EXPECT_THAT(cdc_->log(), HasSubstr(file + " line 1: expected 'admin <sha256 hex>'"));
}

// A self-signed certificate for 127.0.0.1.
std::string MakeCert(const std::string& dir) {
  std::string cmd = "cd '" + dir +
                    "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                    "-nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
                    "-keyout key.pem -out cert.pem >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0 ? dir + "/cert.pem" : "";
}

// True if a TLS handshake with exactly `version` succeeds.
bool Handshake(int port, int version) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(ctx, 0);  // let the client offer old versions
  SSL_CTX_set_min_proto_version(ctx, version);
  SSL_CTX_set_max_proto_version(ctx, version);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    ok = SSL_connect(ssl) == 1;
    SSL_free(ssl);
  }
  close(fd);
  SSL_CTX_free(ctx);
  return ok;
}

TEST_F(SecurityTest, Https) {
  if (!HasLiveSource()) GTEST_SKIP() << kNoLiveSource;
  std::string dir = TempDir("pki");
  std::string cert = MakeCert(dir);
  ASSERT_FALSE(cert.empty()) << "openssl could not make a test certificate";
  cdc_ = std::make_unique<CdcProcess>(TempDir("https"));
  cdc_->WriteConfig(Base() + "api:\n  tls:\n    certPath: " + cert + "\n    keyPath: " + dir +
                    "/key.pem\n");
  cdc_->UseTls(cert);
  ASSERT_TRUE(cdc_->Start()) << cdc_->log();  // /healthz over HTTPS, certificate verified
  EXPECT_EQ(cdc_->Call("list", nullptr)["code"], 200);
  EXPECT_EQ(cdc_->Call("create", CreateBody("c1"))["code"], 200);
  EXPECT_THAT(cdc_->log(), HasSubstr("HTTP API listening on https://"));
  EXPECT_TRUE(Handshake(cdc_->port(), TLS1_2_VERSION));
  EXPECT_TRUE(Handshake(cdc_->port(), TLS1_3_VERSION));
  EXPECT_FALSE(Handshake(cdc_->port(), TLS1_1_VERSION));
  EXPECT_FALSE(Handshake(cdc_->port(), TLS1_VERSION));
  // Plain HTTP to the HTTPS port gets no answer.
  load::HttpClient plain("127.0.0.1", cdc_->port(), std::chrono::seconds(3));
  EXPECT_EQ(plain.Request("POST", "/cdc", R"({"request_type":"list"})").status, -1);
  EXPECT_EQ(cdc_->Stop(), 0);

  // A key that does not exist or does not match: the start fails naming the key.
  cdc_->WriteConfig(Base() + "api:\n  tls:\n    certPath: " + cert + "\n    keyPath: " + dir +
                    "/missing.pem\n");
  EXPECT_EQ(cdc_->RunToExit(), 1);
  EXPECT_THAT(cdc_->log(), HasSubstr("api.tls.keyPath: cannot load a PEM private key from " + dir +
                                     "/missing.pem"));
  std::filesystem::remove_all(dir);
}

TEST_F(SecurityTest, SecretsAtRest) {
  if (!HasLiveSource()) GTEST_SKIP() << kNoLiveSource;
  std::string dir = TempDir("keys");
  std::string key = dir + "/cdc.key", other = dir + "/other.key";
  std::ofstream(key) << std::string(64, 'a') << "\n";
  std::ofstream(other) << std::string(64, 'b') << "\n";
  // Written without a key: plain, as upstream.
  StartWith("at-rest", "");
  std::string a = Post("create", CreateBody("c1"), "").second["data"].value("task_id", "");
  ASSERT_EQ(a.size(), 32u);
  ASSERT_EQ(cdc_->Stop(), 0);
  EXPECT_THAT(StoreBytes(cdc_->dir()), HasSubstr("root:TopSecret"));

  // With the key: the older task is re-encrypted, new ones are written sealed.
  cdc_->WriteConfig(WithKey(key));
  ASSERT_TRUE(cdc_->Start()) << cdc_->log();
  EXPECT_THAT(cdc_->log(), HasSubstr("1 task(s) re-written"));
  std::string b = cdc_->Call("create", CreateBody("c2"))["data"].value("task_id", "");
  ASSERT_EQ(b.size(), 32u);
  ASSERT_EQ(cdc_->Call("pause", {{"task_id", a}})["code"], 200);
  ASSERT_EQ(cdc_->Stop(), 0);
  std::string sealed = StoreBytes(cdc_->dir());
  EXPECT_THAT(sealed, HasSubstr("cdc-sealed:v1:"));
  ASSERT_EQ(cdc_->Start(), true) << cdc_->log();  // reads them back: the tasks are intact
  EXPECT_EQ(cdc_->Call("get", {{"task_id", a}})["data"]["task"]["state"], "Paused");
  EXPECT_EQ(cdc_->Call("get", {{"task_id", b}})["data"]["task"]["state"], "Running");
  ASSERT_EQ(cdc_->Stop(), 0);
  std::string at_rest = StoreBytes(cdc_->dir());
  EXPECT_THAT(at_rest, Not(HasSubstr("TopSecret")));

  // A wrong key, a missing key file, no key: the start fails, naming it, and changes nothing.
  for (const auto& [config, want] : std::vector<std::pair<std::string, std::string>>{
           {WithKey(other), "was encrypted with key e0e77a50, the configured key is"},
           {WithKey(dir + "/gone.key"), "secret key file " + dir + "/gone.key"},
           {Base(), "set metaStoreConfig.secretKeyFile"}}) {
    cdc_->WriteConfig(config);
    EXPECT_EQ(cdc_->RunToExit(), 1) << config;
    EXPECT_THAT(cdc_->log(), HasSubstr(want));
    EXPECT_EQ(StoreBytes(cdc_->dir()), at_rest) << config;
  }
  EXPECT_THAT(cdc_->log(), HasSubstr("(metaStoreConfig.secretKeyFile " + other + ")"));
  EXPECT_THAT(cdc_->log(), HasSubstr("no task was changed"));
  EXPECT_THAT(cdc_->log(), Not(HasSubstr("TopSecret")));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cdc::testing
