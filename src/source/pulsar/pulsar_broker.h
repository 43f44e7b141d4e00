#pragma once
// PulsarBroker: source::Broker over Pulsar (sourceConfig.pulsar), with our own client. Channel C
// is the non-partitioned topic persistent://{tenant}/{namespace}/C. Readers are
// PulsarChannelReaders; the lag of a position comes from the broker's admin API
// (PulsarBacklog, sourceConfig.pulsar.webAddress), shared with the readers.
//
// Thread-safe (see broker.h). Errors name the service URL and the topic.
#include <memory>
#include <string>

#include "source/broker.h"
#include "source/pulsar/pulsar_backlog.h"
#include "source/pulsar/pulsar_config.h"

namespace cdc::source {

struct PulsarBrokerOptions {
  PulsarSourceSettings settings;  // sourceConfig.pulsar
  uint32_t receiver_queue = 100;  // FLOW permits per reader (messages prefetched)
};

class PulsarBroker final : public Broker {
 public:
  // InvalidArgument naming the sourceConfig.pulsar key for a bad URL, auth or size.
  static Result<std::unique_ptr<PulsarBroker>> Create(PulsarBrokerOptions options);

  std::string Describe() const override;
  Result<std::unique_ptr<ChannelReader>> OpenReader(const ReaderOptions& options) override;
  int64_t MessagesAfter(const MsgPosition& position, std::chrono::milliseconds timeout) override;
  Result<std::vector<MsgPosition>> LatestPositions(const std::vector<std::string>& channels,
                                                   std::chrono::milliseconds timeout) override;
  Result<std::vector<bool>> Holds(const std::vector<MsgPosition>& positions,
                                  std::chrono::milliseconds timeout) override;

 private:
  PulsarBroker(PulsarBrokerOptions options, pulsar::ClientOptions client);

  const PulsarBrokerOptions options_;
  const pulsar::ClientOptions client_;
  std::shared_ptr<PulsarBacklog> backlog_;
};

}  // namespace cdc::source
