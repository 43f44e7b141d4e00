// The whole `milvus-cdc task` path (arguments -> request -> output and exit code) against a
// small local HTTP server that records each request and answers scripted envelopes.
#include "cli/command_line.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "cli/exit_code.h"
#include "unit/cli/temp_file.h"

namespace cdc::cli {
namespace {

using nlohmann::json;

// cpp-httplib 0.11 has no wait_until_ready: poll is_running, bounded.
void WaitUntilRunning(const httplib::Server& server) {
  for (int i = 0; i < 500 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(server.is_running());
}

class FakeServer {
 public:
  using Answer = std::function<std::pair<int, json>(const json& body)>;

  explicit FakeServer(Answer answer) : answer_(std::move(answer)) {
    server_.Post("/cdc", [this](const httplib::Request& req, httplib::Response& res) {
      json body = json::parse(req.body);
      {
        std::lock_guard<std::mutex> lock(mu_);
        bodies_.push_back(body);
        auth_.push_back(req.get_header_value("Authorization"));
      }
      auto [status, envelope] = answer_(body);
      res.status = status;
      res.set_content(envelope.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    WaitUntilRunning(server_);
  }
  ~FakeServer() {
    server_.stop();
    thread_.join();
  }
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<json> bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  std::vector<std::string> auth() {
    std::lock_guard<std::mutex> lock(mu_);
    return auth_;
  }

 private:
  Answer answer_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<json> bodies_;
  std::vector<std::string> auth_;
};

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome RunCli(std::vector<std::string> args, bool tty = false) {
  args.insert(args.begin(), "task");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  CommandLine cli({out, err, tty});
  const int code = cli.Run(static_cast<int>(argv.size()), argv.data());
  return {code, out.str(), err.str()};
}

json Ok(json data) { return {{"code", 200}, {"data", std::move(data)}}; }

json Task(const std::string& state) {
  return {{"task_id", "t1"},
          {"state", state},
          {"milvus_connect_param", {{"uri", "http://target:19530"}}},
          {"collection_infos", {{{"name", "*"}}}},
          {"channels", json::array()},
          {"collections", json::array()},
          {"skipped", json::object()}};
}

// Answers like the server for a task t1 that is Running.
std::pair<int, json> Normal(const json& body) {
  const std::string type = body["request_type"];
  if (type == "create") return {200, Ok({{"task_id", "t1"}})};
  if (type == "list") return {200, Ok({{"tasks", {Task("Running")}}})};
  if (type == "get") return {200, Ok({{"task", Task("Running")}, {"Task", Task("Running")}})};
  if (type == "pause" || type == "resume" || type == "delete") return {200, {{"code", 200}}};
  return {200, {{"code", 400}, {"message", "not found the task, task_id: x"}}};
}

TEST(CommandLineTest, CreateSendsTheFlagsAndPrintsOnlyTheId) {
  FakeServer server(Normal);
  const std::string token = TempFile("root:Milvus\n");
  auto r = RunCli({"create", "--server", server.url(), "--target-uri", "http://target:19530",
                   "--target-token-file", token, "--collections", "db1.*", "--initial-sync"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "t1\n");
  ASSERT_EQ(server.bodies().size(), 1u);
  EXPECT_EQ(server.bodies()[0], json::parse(R"({"request_type":"create","request_data":{
      "milvus_connect_param":{"uri":"http://target:19530","token":"root:Milvus"},
      "db_collections":{"db1":[{"name":"*"}]},"initial_sync":true}})"));
  std::remove(token.c_str());
}

TEST(CommandLineTest, ListPrintsATableAndJsonPrintsTheAnswerUnchanged) {
  FakeServer server(Normal);
  auto r = RunCli({"list", "--server", server.url()});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "TASK ID  STATE    TARGET               COLLECTIONS  MAX LAG  REASON\n"
            "t1       Running  http://target:19530  *            -\n");
  r = RunCli({"--json", "list", "--server", server.url()});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(json::parse(r.out), Ok({{"tasks", {Task("Running")}}}));
  EXPECT_EQ(r.out, Ok({{"tasks", {Task("Running")}}}).dump(2) + "\n");
}

TEST(CommandLineTest, IdCommandsSendTheTaskId) {
  FakeServer server(Normal);
  for (const char* cmd : {"get", "pause", "resume", "delete"}) {
    auto r = RunCli({cmd, "t1", "--server", server.url()});
    EXPECT_EQ(r.code, kExitOk) << cmd << ": " << r.err;
  }
  auto r = RunCli({"delete", "t1", "--ignore-not-found", "--server", server.url()});
  EXPECT_EQ(r.out, "deleted t1\n");
  const auto bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 5u);
  EXPECT_EQ(bodies[1], json::parse(R"({"request_type":"pause","request_data":{"task_id":"t1"}})"));
  EXPECT_EQ(bodies[4]["request_data"]["ignore_not_found"], true);
}

TEST(CommandLineTest, ServerErrorIsExitOneWithItsMessage) {
  FakeServer server(Normal);
  auto r = RunCli({"position", "nope", "--server", server.url()});
  EXPECT_EQ(r.code, kExitServerError);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "position: code 400: not found the task, task_id: x\n");
}

TEST(CommandLineTest, UnauthorizedSaysHowToGiveAToken) {
  FakeServer server([](const json&) {
    return std::pair<int, json>{401, {{"code", 401}, {"message", "missing bearer token"}}};
  });
  auto r = RunCli({"list", "--server", server.url()});
  EXPECT_EQ(r.code, kExitServerError);
  EXPECT_NE(r.err.find("code 401: missing bearer token (give an API token with --token-file"),
            std::string::npos)
      << r.err;
}

TEST(CommandLineTest, TokenFromFileOrEnvironmentIsSentAsBearer) {
  FakeServer server(Normal);
  const std::string file = TempFile("s3cret\n");
  EXPECT_EQ(RunCli({"list", "--server", server.url(), "--token-file", file}).code, kExitOk);
  setenv("MILVUS_CDC_TOKEN", "fromenv", 1);
  EXPECT_EQ(RunCli({"list", "--server", server.url()}).code, kExitOk);
  unsetenv("MILVUS_CDC_TOKEN");
  EXPECT_EQ(server.auth(), (std::vector<std::string>{"Bearer s3cret", "Bearer fromenv"}));
  std::remove(file.c_str());
}

TEST(CommandLineTest, ServerComesFromTheEnvironment) {
  FakeServer server(Normal);
  setenv("MILVUS_CDC_SERVER", server.url().c_str(), 1);
  auto r = RunCli({"list"});
  unsetenv("MILVUS_CDC_SERVER");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(server.bodies().size(), 1u);
}

TEST(CommandLineTest, UnreachableServerIsExitThreeNamingTheUrl) {
  int port = 0;
  {
    httplib::Server probe;  // a port that was free a moment ago and has no listener now
    port = probe.bind_to_any_port("127.0.0.1");
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto r = RunCli({"list", "--server", url, "--timeout", "2"});
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_NE(r.err.find("cannot reach the milvus-cdc server at " + url + "/cdc"), std::string::npos)
      << r.err;
}

TEST(CommandLineTest, NotTheApiIsExitThree) {
  httplib::Server other;
  other.Post("/cdc", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("<html>hello</html>", "text/html");
  });
  const int port = other.bind_to_any_port("127.0.0.1");
  std::thread t([&] { other.listen_after_bind(); });
  WaitUntilRunning(other);
  auto r = RunCli({"list", "--server", "http://127.0.0.1:" + std::to_string(port)});
  other.stop();
  t.join();
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_NE(r.err.find("without the milvus-cdc JSON envelope"), std::string::npos) << r.err;
}

TEST(CommandLineTest, UsageErrorsAreExitTwo) {
  FakeServer server(Normal);
  EXPECT_EQ(RunCli({}).code, kExitUsage);                                 // no subcommand
  EXPECT_EQ(RunCli({"get", "--server", server.url()}).code, kExitUsage);  // no ID
  EXPECT_EQ(RunCli({"frobnicate"}).code, kExitUsage);                     // unknown
  EXPECT_EQ(RunCli({"list", "--server", "ftp://x:1"}).code, kExitUsage);  // bad URL
  EXPECT_EQ(RunCli({"list", "--token", "a", "--token-file", "b"}).code, kExitUsage);
  auto r = RunCli({"create", "--server", server.url(), "--collections", "*"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--target-uri is required"), std::string::npos) << r.err;
  r = RunCli({"list", "--server", server.url(), "--token-file", "/nonexistent/t"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err,
            "milvus-cdc task: --token-file /nonexistent/t: cannot open the file; check the path\n");
  EXPECT_TRUE(server.bodies().empty());  // nothing was sent for any of them
  EXPECT_EQ(RunCli({"--help"}).code, kExitOk);
}

TEST(CommandLineTest, WatchPrintsOneLinePerRefreshWhenNotATerminal) {
  FakeServer server(Normal);
  auto r = RunCli({"watch", "t1", "--server", server.url(), "--interval", "0.1", "--count", "3"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  int lines = 0;
  for (char c : r.out) lines += c == '\n' ? 1 : 0;
  EXPECT_EQ(lines, 3) << r.out;
  EXPECT_NE(r.out.find("task=t1 state=Running"), std::string::npos);
  EXPECT_EQ(server.bodies().size(), 3u);
}

TEST(CommandLineTest, WatchRedrawsOnATerminalAndStopsOnRequest) {
  FakeServer server(Normal);
  std::thread stopper([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    Watcher::RequestStop();
  });
  auto r = RunCli({"watch", "t1", "--server", server.url(), "--interval", "0.1"}, /*tty=*/true);
  stopper.join();
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out.rfind("\x1b[H\x1b[2Jtask t1 on " + server.url() + "/cdc", 0), 0u) << r.out;
  EXPECT_GE(server.bodies().size(), 2u);
}

TEST(CommandLineTest, WatchOfAMissingTaskEndsWithTheServersError) {
  FakeServer server([](const json&) {
    return std::pair<int, json>{200, {{"code", 400}, {"message", "not found: [t9]"}}};
  });
  auto r = RunCli({"watch", "t9", "--server", server.url(), "--count", "2"});
  EXPECT_EQ(r.code, kExitServerError);
  EXPECT_EQ(r.err, "watch t9: code 400: not found: [t9]\n");
}

TEST(CommandLineTest, VerifyFollowsARunningJobAndExitsFourWhenNotEqual) {
  int calls = 0;
  FakeServer server([&calls](const json& body) {
    const bool done = ++calls >= 2;
    json v = {{"task_id", "t1"},
              {"state", done ? "done" : "running"},
              {"equal", false},
              {"results", json::array()}};
    return std::pair<int, json>{200, Ok({{"verify", v}})};
  });
  auto r = RunCli({"verify", "t1", "--collections", "db1.a,db1.b", "--server", server.url()});
  EXPECT_EQ(r.code, kExitDiffers) << r.err;
  EXPECT_NE(r.out.find("verify of task t1: NOT equal"), std::string::npos) << r.out;
  const auto bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_EQ(bodies[0]["request_data"]["collections"], json({"db1.a", "db1.b"}));
  EXPECT_EQ(bodies[0]["request_data"]["wait"], true);
  EXPECT_EQ(bodies[1]["request_data"]["action"], "status");
}

TEST(CommandLineTest, VerifyEqualIsExitZero) {
  FakeServer server([](const json&) {
    json v = {{"task_id", "t1"}, {"state", "done"}, {"equal", true}, {"results", json::array()}};
    return std::pair<int, json>{200, Ok({{"verify", v}})};
  });
  EXPECT_EQ(RunCli({"verify", "t1", "--server", server.url()}).code, kExitOk);
}

}  // namespace
}  // namespace cdc::cli
