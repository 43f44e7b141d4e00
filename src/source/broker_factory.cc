#include "source/broker_factory.h"

#include "source/pulsar/pulsar_broker.h"

namespace cdc::source {
namespace {

class Unusable final : public Broker {
 public:
  explicit Unusable(Status error) : error_(std::move(error)) {}
  std::string Describe() const override {
    return "no source queue (" + std::string(error_.message()) + ")";
  }
  Result<std::unique_ptr<ChannelReader>> OpenReader(const ReaderOptions&) override {
    return error_;
  }
  int64_t MessagesAfter(const MsgPosition&, std::chrono::milliseconds) override { return -1; }
  Result<std::vector<MsgPosition>> LatestPositions(const std::vector<std::string>&,
                                                   std::chrono::milliseconds) override {
    return error_;
  }
  Result<std::vector<bool>> Holds(const std::vector<MsgPosition>&,
                                  std::chrono::milliseconds) override {
    return error_;
  }

 private:
  const Status error_;
};

}  // namespace

Result<std::unique_ptr<Broker>> CreateBroker(const BrokerOptions& options) {
  if (!options.pulsar.address.empty()) {
    ASSIGN_OR_RETURN(auto broker, PulsarBroker::Create({options.pulsar}));
    return std::unique_ptr<Broker>(std::move(broker));
  }
  if (options.kafka.brokers.empty()) {
    return InvalidArgumentError(
        "neither sourceConfig.pulsar.address nor sourceConfig.kafka.address is set; "
        "milvus-cdc reads the source's channels from Pulsar or Kafka");
  }
  RETURN_IF_ERROR(CheckKafkaConfig(options.kafka.config));
  return std::unique_ptr<Broker>(std::make_unique<KafkaBroker>(options.kafka));
}

std::unique_ptr<Broker> UnusableBroker(Status error) {
  return std::make_unique<Unusable>(std::move(error));
}

}  // namespace cdc::source
