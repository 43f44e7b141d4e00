#pragma once
// The source::Broker / ChannelReader contract: one value-parameterised suite
// (reader_contract.cc) run against a real Kafka (kafka/kafka_reader_test.cc) and a real Pulsar
// (pulsar/pulsar_reader_test.cc), fed with source-simulator and golden Milvus payloads. A test
// binary compiles reader_contract.cc and instantiates it with its backend:
//   INSTANTIATE_TEST_SUITE_P(Kafka, ReaderContractTest, ::testing::Values(KafkaBackend()), ...);
// Every test uses channels of its own (named after the process and the test); every wait is
// bounded.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "source/broker.h"
#include "tools/sim/scenario.h"

namespace cdc::source::testing {

struct Backend {
  std::string name;
  // Non-empty: every test is skipped with this message (the server is not configured).
  std::string skip_reason;
  // A broker on the test server.
  std::function<Result<std::unique_ptr<Broker>>()> broker;
  // Writes each payload as one message, in order, and returns their ids as this backend's
  // readers write them into MsgPosition.msgID. Fails before writing anything when the broker is
  // not reachable (so a retry does not write twice).
  std::function<Result<std::vector<std::string>>(const std::string& channel,
                                                 const std::vector<sim::Payload>& payloads)>
      produce;
  // How a reader names message `id` of `channel` in errors, e.g. "topic T offset 3".
  std::function<std::string(const std::string& channel, const std::string& id)> where;
  // Checks what a reader of this backend writes into a pack's end position.
  std::function<void(const MsgPosition& position)> check_position;
  // What the reason of a reader of `channel` says while the broker is away.
  std::function<std::string(const std::string& channel)> outage_reason;
  // Take the broker away and bring it back with its data (the outage test); when unset, that
  // test is skipped with `outage_skip`.
  std::function<Status()> stop_broker;
  std::function<Status()> start_broker;
  std::string outage_skip;
  // Kafka readers count offsets (stats().next_offset); Pulsar ids are not contiguous (-1).
  bool has_offsets = false;
  // Broker::MessagesAfter can count on this server (Pulsar needs its admin API).
  bool counts_lag = false;
};

inline void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }
inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param.name;
}

class ReaderContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;

  // A channel of this process and test: "cdc-it-<pid>-<test>-<suffix>".
  std::string Channel(const std::string& suffix = "") const;
  // Writes `payloads`; fails the test (and returns no ids) if the broker refuses them.
  std::vector<std::string> Produce(const std::string& channel,
                                   const std::vector<sim::Payload>& payloads);
  // The same, retrying for up to `limit` while the broker comes back.
  std::vector<std::string> ProduceWhenBack(const std::string& channel,
                                           const std::vector<sim::Payload>& payloads,
                                           std::chrono::seconds limit);
  // A reader of `channel` from the broker, owner unique in this process, queue of 4 packs.
  std::unique_ptr<ChannelReader> Reader(const std::string& channel,
                                        ChannelKind kind = ChannelKind::kDml,
                                        std::shared_ptr<const CollectionFilter> filter = nullptr);
  // Reads packs until one ends at or after `end_ts`, `max_packs` were read or `limit` passed.
  static std::vector<Pack> ReadUntil(ChannelReader& r, uint64_t end_ts, size_t max_packs = 1000,
                                     std::chrono::seconds limit = std::chrono::seconds(30));
  // Reads for `d` (a reader that must stay silent).
  static std::vector<Pack> ReadFor(ChannelReader& r, std::chrono::milliseconds d);

  static std::vector<std::string> Payloads(const std::vector<Pack>& packs);
  static std::vector<std::string> Ids(const std::vector<Pack>& packs);
  static std::vector<std::string> NonTicks(const std::vector<sim::Payload>& ps);
  // The ids of the non-tick payloads.
  static std::vector<std::string> NonTickIds(const std::vector<sim::Payload>& ps,
                                             const std::vector<std::string>& ids);
  static std::vector<std::string> Errors(const std::vector<Pack>& packs);
  // On `channel`: a CreateCollection of collection 100 (10 rows an insert, 16-dim), `inserts`
  // inserts, a delete after every third, a tick after every second.
  static sim::Scenario Scenario(const std::string& channel, int inserts = 8);
  // The same without the create, continuing after `last` (the ts of the last message written)
  // with Milvus msgIDs and primary keys from `first_id`.
  static sim::Scenario Continue(const std::string& channel, uint64_t last, int64_t first_id,
                                int inserts = 6);
  // Reads `payloads` (already on `ch`) whole, then three packs, then from the third pack's end
  // position (through a base64 checkpoint) to the end: the two runs together give the same
  // messages as the whole, and the resumed run begins where the third pack ended.
  void ExpectResumeReproducesTheStream(const std::string& ch,
                                       const std::vector<sim::Payload>& payloads);
  // A reader of `ch` started At(`from`) gives exactly `after` (written after `from` was taken,
  // with their `ids`): every non-tick message once, in order, nothing written before.
  void ExpectReadsExactly(const std::string& ch, ChannelKind kind, const MsgPosition& from,
                          const std::vector<sim::Payload>& after,
                          const std::vector<std::string>& ids);
  // LatestPositions of `channels` (60 s at most), checked for shape.
  std::vector<MsgPosition> Latest(const std::vector<std::string>& channels);
  // `n` replicate-channel requests (CreateDatabase) with ts first_ts, first_ts + 1, ...
  static std::vector<sim::Payload> Requests(int n, uint64_t first_ts);

  std::unique_ptr<Broker> broker_;
};

}  // namespace cdc::source::testing
