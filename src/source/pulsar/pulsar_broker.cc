#include "source/pulsar/pulsar_broker.h"

#include "source/pulsar/pulsar_reader.h"

namespace cdc::source {

Result<std::unique_ptr<PulsarBroker>> PulsarBroker::Create(PulsarBrokerOptions options) {
  ASSIGN_OR_RETURN(auto client, PulsarClientOptions(options.settings));
  return std::unique_ptr<PulsarBroker>(new PulsarBroker(std::move(options), std::move(client)));
}

PulsarBroker::PulsarBroker(PulsarBrokerOptions options, pulsar::ClientOptions client)
    : options_(std::move(options)), client_(std::move(client)) {
  const auto& s = options_.settings;
  PulsarAdminSettings admin;
  admin.web_url = PulsarAdminUrl(s.web_address, s.web_port);
  admin.token = client_.auth_data;
  if (!s.tenant.empty()) admin.tenant = s.tenant;
  if (!s.name_space.empty()) admin.name_space = s.name_space;
  backlog_ = std::make_shared<PulsarBacklog>(std::move(admin));
}

std::string PulsarBroker::Describe() const { return "pulsar " + client_.service_url; }

Result<std::unique_ptr<ChannelReader>> PulsarBroker::OpenReader(const ReaderOptions& options) {
  PulsarReaderOptions po;
  po.reader = options;
  po.client = client_;
  if (!options_.settings.tenant.empty()) po.tenant = options_.settings.tenant;
  if (!options_.settings.name_space.empty()) po.name_space = options_.settings.name_space;
  po.receiver_queue = options_.receiver_queue;
  po.backlog = backlog_;
  return std::unique_ptr<ChannelReader>(std::make_unique<PulsarChannelReader>(std::move(po)));
}

int64_t PulsarBroker::MessagesAfter(const MsgPosition& position,
                                    std::chrono::milliseconds timeout) {
  return backlog_->MessagesAfter(position, timeout);
}

Result<std::vector<MsgPosition>> PulsarBroker::LatestPositions(
    const std::vector<std::string>& channels, std::chrono::milliseconds timeout) {
  (void)channels;
  (void)timeout;
  return UnimplementedError("latest positions on " + Describe() + ": not implemented yet");
}

}  // namespace cdc::source
