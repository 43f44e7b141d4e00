#pragma once
// cdc::testing::CdcProcess: runs the real build/milvus-cdc binary on a config written into a
// fresh temporary directory (127.0.0.1, a free port), waits for /healthz, and talks to it with
// an httplib client (HTTPS after UseTls). Stop() sends SIGTERM and waits; Kill() sends SIGKILL. The
// process is always reaped in the destructor. Not thread-safe; one per test.
#include <sys/types.h>

#include <string>

#include "nlohmann/json.hpp"

namespace cdc::testing {

class CdcProcess {
 public:
  // `yaml_body` is appended to a config holding address (free port) and replicateChan.
  explicit CdcProcess(std::string dir);
  ~CdcProcess();

  void WriteConfig(const std::string& yaml_body);
  // Talk HTTPS (the server has api.tls), verifying its certificate against `ca_path`.
  void UseTls(std::string ca_path) { tls_ca_ = std::move(ca_path); }
  // Starts the binary; returns false (with log()) if it exits or is not healthy within 20 s.
  bool Start();
  // Starts the binary and waits for its exit; returns the exit code (for bad-config tests).
  int RunToExit(int timeout_s = 20);
  int Stop();   // SIGTERM, returns the exit code
  void Kill();  // SIGKILL
  bool Running() const { return pid_ > 0; }

  // POST /cdc {"request_type": type, "request_data": data}; returns the envelope.
  nlohmann::json Call(const std::string& type, const nlohmann::json& data);
  // Raw request; returns HTTP status and body.
  std::pair<int, std::string> Request(const std::string& method, const std::string& path,
                                      const std::string& body = "");
  std::string log() const;
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

 private:
  bool Spawn();
  int Wait(int timeout_s);
  std::string dir_;
  std::string config_;
  std::string tls_ca_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A free TCP port on 127.0.0.1 (bound, read and closed).
int FreePort();

// A fresh, empty directory $TEST_TMPDIR (or the system's)/<prefix>-<pid>-<name>.
std::string FreshTempDir(const std::string& prefix, const std::string& name);

// The sourceConfig section. Create needs a reachable source: it fixes the task's start on the
// source catalog and the queue's latest positions before it answers. With CDC_TEST_ETCD and
// CDC_TEST_KAFKA set (scripts/e2e-env.sh up etcd kafka) the section names that etcd under a
// fresh rootPath (an empty catalog) and that Kafka, with a replicate channel of its own;
// otherwise both point at a dead port (the API serves anyway; creates fail naming the source).
std::string SourceYaml();
// Whether SourceYaml() names a reachable source. Tests that create skip without one, saying so:
//   if (!HasLiveSource()) GTEST_SKIP() << kNoLiveSource;
bool HasLiveSource();
inline constexpr char kNoLiveSource[] =
    "CDC_TEST_ETCD or CDC_TEST_KAFKA not set (scripts/e2e-env.sh up etcd kafka): create needs a "
    "reachable source";

}  // namespace cdc::testing
