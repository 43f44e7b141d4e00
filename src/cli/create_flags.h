#pragma once
// CreateFlags: the flags of `milvus-cdc task create` as given (empty / false = not given).
// BuildCreateRequest (create_request.h) turns them into the create request's request_data.
#include <string>
#include <vector>

namespace cdc::cli {

struct CreateFlags {
  std::string from_json;                 // a file with request_data or a whole create request body
  std::string target_uri;                // milvus_connect_param.uri
  std::string target_token_file;         // milvus_connect_param.token, read from this file
  int connect_timeout_s = 0;             // milvus_connect_param.connect_timeout, 0 = server default
  std::string server_name;               // milvus_connect_param.dial_config.server_name
  std::string server_pem;                // ... dial_config.server_pem_path (a path on the server)
  std::string ca_pem;                    // ... dial_config.ca_pem_path
  std::string client_pem;                // ... dial_config.client_pem_path
  std::string client_key;                // ... dial_config.client_key_path
  std::vector<std::string> collections;  // "db.coll", "db.*", "coll", "*" (comma lists too)
  std::string database = "default";      // the database of names given without one
  std::vector<std::string> name_map;     // "srcdb=dstdb" or "srcdb.coll=dstdb.coll"
  bool initial_sync = false;
  bool paused = false;  // disable_auto_start
  std::string task_id;
  std::string rpc_channel;  // rpc_channel_info.name
};

}  // namespace cdc::cli
