#include "target/readiness.h"

#include <spdlog/spdlog.h>

#include "target/grpc_client.h"

namespace cdc::target {

Result<std::string> ProbeReadiness(Client& client) {
  ASSIGN_OR_RETURN(std::string version, client.GetVersion());
  RETURN_IF_ERROR(client.CheckReplicationReady().status());
  spdlog::info("{} (Milvus {}) accepts replication", client.Describe(), version);
  return version;
}

Result<std::string> ProbeReadiness(const ConnectOptions& opts) {
  ASSIGN_OR_RETURN(auto client, ConnectGrpcClient(opts));
  return ProbeReadiness(*client);
}

}  // namespace cdc::target
