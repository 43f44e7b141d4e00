// The reader contract (reader_contract.h) and Pulsar-only behaviour (batched and compressed
// entries, positions inside batches) against a real Pulsar standalone (CDC_TEST_PULSAR and
// CDC_TEST_PULSAR_WEB, from `scripts/e2e-env.sh up pulsar`), written with our test producer.
// Opt-in outage (CDC_TEST_PULSAR_RESTART=1; stops and restarts the broker of this worktree's
// scripts/e2e-env.sh, ~15-180 s): the broker goes away mid-stream and comes back with the same
// data.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "integration/source/reader_contract.h"
#include "mocks/pulsar_producer.h"
#include "source/pulsar/pulsar_broker.h"
#include "source/pulsar/pulsar_config.h"
#include "source/pulsar_id.h"

namespace cdc::source::testing {
namespace {
using namespace std::chrono_literals;
namespace pp = ::pulsar::proto;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

pulsar::ClientOptions Client() {
  pulsar::ClientOptions o;
  o.service_url = Env("CDC_TEST_PULSAR");
  return o;
}

std::string TopicOf(const std::string& channel) {
  return PulsarTopic("public", "default", channel);
}

std::string IdOf(const pp::MessageIdData& id, int32_t batch_index = 0) {
  return EncodePulsarMsgId(
      {static_cast<int64_t>(id.ledgerid()), static_cast<int64_t>(id.entryid()), 0, batch_index});
}

// Writes payloads, one entry each or in batches of `batch`, compressed with `c`; the ids of the
// entries written.
Result<std::vector<pp::MessageIdData>> Write(const std::string& channel,
                                             const std::vector<sim::Payload>& ps, size_t batch = 1,
                                             pp::CompressionType c = pp::NONE) {
  ASSIGN_OR_RETURN(auto p, cdc::testing::PulsarProducer::Create(Client(), TopicOf(channel)));
  for (size_t i = 0; i < ps.size(); i += batch) {
    if (batch == 1) {
      RETURN_IF_ERROR(p->Send(ps[i].bytes));
      continue;
    }
    std::vector<std::string_view> views;
    for (size_t j = i; j < std::min(ps.size(), i + batch); ++j) views.push_back(ps[j].bytes);
    RETURN_IF_ERROR(p->SendBatch(views, c));
  }
  ASSIGN_OR_RETURN(auto ids, p->Flush());
  RETURN_IF_ERROR(p->Close());
  return ids;
}

// The broker of scripts/e2e-env.sh, stopped and started again in place (same command line,
// ports and data) from its pid file. Bounded waits.
class BrokerProcess {
 public:
  Status Stop() {
    const std::string pid_file = EnvDir() + "/pids/pulsar.pid";
    std::ifstream pf(pid_file);
    pid_t pid = 0;
    if (!(pf >> pid) || pid <= 1) return FailedPreconditionError("no pid in " + pid_file);
    std::ifstream cf("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    std::string raw((std::istreambuf_iterator<char>(cf)), std::istreambuf_iterator<char>());
    char cwd[4096];
    ssize_t n = readlink(("/proc/" + std::to_string(pid) + "/cwd").c_str(), cwd, sizeof cwd - 1);
    if (raw.empty() || n <= 0) return FailedPreconditionError("cannot read the broker's command");
    cwd_.assign(cwd, static_cast<size_t>(n));
    args_.clear();
    for (size_t at = 0; at < raw.size();) {
      size_t end = raw.find('\0', at);
      if (end == std::string::npos) end = raw.size();
      args_.push_back(raw.substr(at, end - at));
      at = end + 1;
    }
    kill(pid, SIGTERM);
    for (int i = 0; i < 600 && kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(100ms);
    if (kill(pid, 0) == 0) kill(pid, SIGKILL);
    for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(100ms);
    return OkStatus();
  }

  Status Start() {
    if (args_.empty()) return FailedPreconditionError("the broker was not stopped by this test");
    const std::string log = EnvDir() + "/logs/pulsar.log";
    pid_t child = fork();
    if (child == 0) {
      setsid();
      if (chdir(cwd_.c_str()) != 0) _exit(127);
      FILE* out = freopen(log.c_str(), "a", stdout);
      FILE* err = freopen(log.c_str(), "a", stderr);
      (void)out;
      (void)err;
      std::vector<char*> argv;
      for (auto& a : args_) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    if (child <= 0) return InternalError("fork the broker");
    std::ofstream(EnvDir() + "/pids/pulsar.pid") << child << "\n";
    return OkStatus();
  }

 private:
  static std::string EnvDir() {
    return Env("CDC_ENV_DIR").empty() ? std::string(CDC_DEFAULT_ENV_DIR) : Env("CDC_ENV_DIR");
  }
  std::vector<std::string> args_;
  std::string cwd_;
};

Backend PulsarBackend() {
  Backend b;
  b.name = "Pulsar";
  if (Client().service_url.empty()) {
    b.skip_reason = "CDC_TEST_PULSAR not set (scripts/e2e-env.sh up pulsar)";
  }
  b.broker = []() -> Result<std::unique_ptr<Broker>> {
    PulsarBrokerOptions o;
    o.settings.address = Client().service_url;
    o.settings.web_address = Env("CDC_TEST_PULSAR_WEB");
    o.receiver_queue = 20;  // small, so that FLOW permits are returned mid-test
    ASSIGN_OR_RETURN(auto broker, PulsarBroker::Create(std::move(o)));
    return std::unique_ptr<Broker>(std::move(broker));
  };
  b.produce = [](const std::string& channel,
                 const std::vector<sim::Payload>& ps) -> Result<std::vector<std::string>> {
    ASSIGN_OR_RETURN(auto entries, Write(channel, ps));
    std::vector<std::string> ids;
    for (const auto& id : entries) ids.push_back(IdOf(id));
    return ids;
  };
  b.where = [](const std::string& channel, const std::string& id) {
    auto p = DecodePulsarMsgId(id);
    return absl::StrCat("topic ", TopicOf(channel), " message ", p->ledger, ":", p->entry, ":",
                        std::max(p->batch_index, 0));
  };
  b.check_position = [](const MsgPosition& p) {
    auto id = DecodePulsarMsgId(p.msgid());
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_EQ(id->partition, 0);  // as pulsar-client-go writes it for a non-partitioned topic
  };
  b.outage_reason = [](const std::string& channel) {
    return "read pulsar topic " + TopicOf(channel);
  };
  if (!Env("CDC_TEST_PULSAR_RESTART").empty()) {
    auto process = std::make_shared<BrokerProcess>();
    b.stop_broker = [process] { return process->Stop(); };
    b.start_broker = [process] { return process->Start(); };
  }
  b.outage_skip = "set CDC_TEST_PULSAR_RESTART=1 to restart the test broker";
  b.has_offsets = false;
  b.counts_lag = !Env("CDC_TEST_PULSAR_WEB").empty();
  return b;
}

INSTANTIATE_TEST_SUITE_P(Pulsar, ReaderContractTest, ::testing::Values(PulsarBackend()),
                         BackendName);

// Pulsar only: entries that hold several messages (batches, compressed).
class PulsarReaderTest : public ReaderContractTest {};

TEST_P(PulsarReaderTest, RestartInsideBatchesLosesAndRepeatsNothing) {
  const std::string ch = Channel();
  auto payloads = sim::BuildScenario(Scenario(ch, 12));
  ASSERT_TRUE(Write(ch, payloads, 3, pp::ZSTD).ok());
  ExpectResumeReproducesTheStream(ch, payloads);
}

TEST_P(PulsarReaderTest, BatchedCompressedEntriesAreUnpacked) {
  for (auto c : {pp::NONE, pp::LZ4, pp::ZLIB, pp::ZSTD}) {
    SCOPED_TRACE(pp::CompressionType_Name(c));
    const std::string ch = Channel(pp::CompressionType_Name(c));
    auto payloads = sim::BuildScenario(Scenario(ch, 6));
    auto entries = Write(ch, payloads, 4, c);
    ASSERT_TRUE(entries.ok()) << entries.status();
    auto r = Reader(ch);
    ASSERT_TRUE(r->Start(StartPosition::Earliest()).ok());
    auto packs = ReadUntil(*r, payloads.back().ts);
    r->Close();
    EXPECT_EQ(Payloads(packs), NonTicks(payloads));
    // Message i is batch member i % 4 of entry i / 4.
    std::vector<std::string> ids;
    for (size_t i = 0; i < payloads.size(); ++i) {
      ids.push_back(IdOf((*entries)[i / 4], static_cast<int32_t>(i % 4)));
    }
    EXPECT_EQ(Ids(packs), NonTickIds(payloads, ids));
    EXPECT_EQ(r->stats().bad_messages, 0u);
  }
}

TEST_P(PulsarReaderTest, KafkaPositionIsRefusedWithAHint) {
  const std::string ch = Channel();
  auto r = Reader(ch);
  Status s = r->Start(StartPosition::At(KafkaPosition(ch, 46, 1)));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("Kafka"), std::string::npos) << s;
}

INSTANTIATE_TEST_SUITE_P(Pulsar, PulsarReaderTest, ::testing::Values(PulsarBackend()), BackendName);

}  // namespace
}  // namespace cdc::source::testing
