#pragma once
// LocalEtcd: a private etcd-server process for tests that restart it or change its auth
// settings (the shared CDC_TEST_ETCD server is never disturbed). Listens on free 127.0.0.1
// ports, keeps its data in a fresh temporary directory, and is killed by the destructor.
// Every wait is bounded.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace cdc::testing {

inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

class LocalEtcd {
 public:
  // `extra_args` are appended to etcd's command line, e.g. {"--auth-token-ttl=1"}.
  // `scheme` "https" serves clients over TLS (pass the cert flags in extra_args and the
  // matching etcdctl flags in `etcdctl_flags`).
  explicit LocalEtcd(std::vector<std::string> extra_args = {}, std::string scheme = "http",
                     std::string etcdctl_flags = "")
      : client_port_(FreePort()),
        peer_port_(FreePort()),
        extra_args_(std::move(extra_args)),
        scheme_(std::move(scheme)),
        etcdctl_flags_(std::move(etcdctl_flags)) {
    char tmpl[] = "/tmp/cdc-local-etcd-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~LocalEtcd() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(client_port_); }

  // Starts (or restarts, keeping the data) the server and waits up to 30 s until it is healthy.
  // The ports come from FreePort(), so another process can take one before etcd binds it: then
  // this etcd exits and a health check could even reach the other server. So the check asks for
  // this instance's own member name, and a child that exited is started again on new ports.
  bool Start() {
    if (pid_ > 0) return true;
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (attempt > 0 && !restarting_) {
        client_port_ = FreePort();
        peer_port_ = FreePort();
      }
      if (StartOnce()) {
        restarting_ = true;
        return true;
      }
      if (restarting_) return false;  // a restart keeps its ports: clients know them
    }
    return false;
  }

  // Freezes / thaws the server (SIGSTOP / SIGCONT): it keeps its sockets but answers nothing.
  void Pause() {
    if (pid_ > 0) kill(pid_, SIGSTOP);
  }
  void Resume() {
    if (pid_ > 0) kill(pid_, SIGCONT);
  }

  const std::string& dir() const { return dir_; }

  // SIGTERM, then SIGKILL after 10 s; waits for the process.
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGCONT);
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // Runs `etcdctl --endpoints <this> ARGS` (quiet) and returns its exit status.
  int Etcdctl(const std::string& args) const {
    return std::system((EtcdctlCommand(args) + " >/dev/null 2>&1").c_str());
  }

 private:
  std::string EtcdctlCommand(const std::string& args) const {
    return "ETCDCTL_API=3 timeout 10 etcdctl --dial-timeout=2s --endpoints " + scheme_ + "://" +
           endpoint() + " " + etcdctl_flags_ + " " + args;
  }

  // Whether the server on this endpoint is the member `name` (not some other etcd).
  bool ServesMember(const std::string& name) const {
    return std::system(("(" + EtcdctlCommand("member list") + ") 2>/dev/null | grep -q -- " + name)
                           .c_str()) == 0;
  }

  std::string MemberName() const {
    return "local-" + std::filesystem::path(dir_).filename().string();
  }

  // True once this child serves; false (child reaped) when it exited or never became healthy.
  bool StartOnce() {
    std::string client = scheme_ + "://" + endpoint();
    std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
    std::string log = dir_ + "/etcd.log";
    std::string name = MemberName();
    pid_t pid = fork();
    if (pid == 0) {
      FILE* f = freopen(log.c_str(), "a", stdout);
      (void)f;
      dup2(fileno(stdout), fileno(stderr));
      std::vector<std::string> args = {"etcd",
                                       "--name=" + name,
                                       "--data-dir=" + dir_ + "/data",
                                       "--listen-client-urls=" + client,
                                       "--advertise-client-urls=" + client,
                                       "--listen-peer-urls=" + peer,
                                       "--initial-advertise-peer-urls=" + peer,
                                       "--initial-cluster=" + name + "=" + peer};
      args.insert(args.end(), extra_args_.begin(), extra_args_.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp("etcd", argv.data());
      _exit(127);
    }
    pid_ = pid;
    for (int i = 0; i < 60; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {  // e.g. a port was taken meanwhile
        pid_ = -1;
        return false;
      }
      if (ServesMember(name) && waitpid(pid_, nullptr, WNOHANG) == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    Stop();
    return false;
  }

  int client_port_;
  int peer_port_;
  std::vector<std::string> extra_args_;
  std::string scheme_;
  std::string etcdctl_flags_;
  std::string dir_;
  pid_t pid_ = -1;
  bool restarting_ = false;  // started once: later starts keep the ports
};

}  // namespace cdc::testing
