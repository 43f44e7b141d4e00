#include "cdc_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "httplib.h"

namespace cdc::testing {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string FreshTempDir(const std::string& prefix, const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  auto dir = std::filesystem::path(base ? base : std::filesystem::temp_directory_path().string()) /
             (prefix + "-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

namespace {
std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}
}  // namespace

bool HasLiveSource() { return !Env("CDC_TEST_ETCD").empty() && !Env("CDC_TEST_KAFKA").empty(); }

std::string SourceYaml() {
  if (!HasLiveSource()) {
    const std::string dead = "127.0.0.1:" + std::to_string(FreePort());
    return "sourceConfig:\n  replicateChan: by-dev-replicate-msg\n  etcd:\n    address: [" + dead +
           "]\n  kafka:\n    address: " + dead + "\n";
  }
  // Own names: neither a Milvus source's catalog nor its channels on a shared etcd/Kafka.
  // The same for a whole test process, so a restart with another config finds its channels.
  const std::string own = "cdc-api-" + std::to_string(::getpid());
  return "sourceConfig:\n  replicateChan: " + own +
         "-replicate-msg\n  etcd:\n    address: [http://" + Env("CDC_TEST_ETCD") +
         "]\n    rootPath: " + own + "\n  kafka:\n    address: " + Env("CDC_TEST_KAFKA") + "\n";
}

CdcProcess::CdcProcess(std::string dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
  config_ = dir_ + "/cdc.yaml";
  port_ = FreePort();
}

// posix_spawn, not fork: the test process runs gRPC threads, and fork's atfork handlers would
// stall them.
bool CdcProcess::Spawn() {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  std::string log = dir_ + "/cdc.log";
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addchdir_np(&fa, dir_.c_str());
  std::string bin = CDC_BINARY;
  char* argv[] = {bin.data(), const_cast<char*>("--config"), config_.data(), nullptr};
  int rc = posix_spawn(&pid_, bin.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) pid_ = -1;
  return rc == 0;
}

CdcProcess::~CdcProcess() {
  if (pid_ > 0) Kill();
}

void CdcProcess::WriteConfig(const std::string& yaml_body) {
  std::ofstream out(config_);
  out << "address: 127.0.0.1:" << port_ << "\n" << yaml_body << "\n";
}

bool CdcProcess::Start() {
  if (!Spawn()) return false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    auto [code, body] = Request("GET", "/healthz");
    if (code == 200 && body == "OK") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

int CdcProcess::Wait(int timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return -1;
}

int CdcProcess::RunToExit(int timeout_s) {
  if (!Spawn()) return -1;
  return Wait(timeout_s);
}

int CdcProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  return Wait(20);
}

void CdcProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

namespace {

template <typename Client>
httplib::Result Send(Client& cli, const std::string& method, const std::string& path,
                     const std::string& body) {
  cli.set_connection_timeout(2);
  cli.set_read_timeout(30);
  if (method == "POST") return cli.Post(path.c_str(), body, "application/json");
  if (method == "PUT") return cli.Put(path.c_str(), body, "application/json");
  if (method == "DELETE") return cli.Delete(path.c_str());
  return cli.Get(path.c_str());
}

}  // namespace

std::pair<int, std::string> CdcProcess::Request(const std::string& method, const std::string& path,
                                                const std::string& body) {
  auto answer = [](const httplib::Result& r) -> std::pair<int, std::string> {
    if (!r) return {-1, httplib::to_string(r.error())};
    return {r->status, r->body};
  };
  if (tls_ca_.empty()) {
    httplib::Client cli("127.0.0.1", port_);
    return answer(Send(cli, method, path, body));
  }
  httplib::SSLClient cli("127.0.0.1", port_);
  cli.set_ca_cert_path(tls_ca_.c_str());
  cli.enable_server_certificate_verification(true);
  return answer(Send(cli, method, path, body));
}

nlohmann::json CdcProcess::Call(const std::string& type, const nlohmann::json& data) {
  nlohmann::json req = {{"request_type", type}, {"request_data", data}};
  auto [code, body] = Request("POST", "/cdc", req.dump());
  if (code != 200) return {{"http_status", code}, {"body", body}};
  return nlohmann::json::parse(body, nullptr, false);
}

std::string CdcProcess::log() const {
  std::ifstream in(dir_ + "/cdc.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace cdc::testing
