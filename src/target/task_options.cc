#include "target/task_options.h"

namespace cdc::target {

ConnectOptions OptionsForTask(const task::MilvusConnectParam& p,
                              const std::string& replicate_channel) {
  ConnectOptions o;
  o.uri = p.EffectiveUri();
  o.token = !p.token.empty() ? p.token : (p.username.empty() ? "" : p.username + ":" + p.password);
  if (p.connect_timeout > 0) o.connect_timeout_s = p.connect_timeout;
  o.server_pem_path = p.dial_config.server_pem_path;
  o.server_name = p.dial_config.server_name;
  o.ca_pem_path = p.dial_config.ca_pem_path;
  o.client_pem_path = p.dial_config.client_pem_path;
  o.client_key_path = p.dial_config.client_key_path;
  o.replicate_channel = replicate_channel;
  return o;
}

}  // namespace cdc::target
