#pragma once
// The create request of `milvus-cdc task create`, built from its flags (docs/cli.md):
//   --collections '*' (or '*.*')  -> "collection_infos": [{"name": "*"}]  (every database)
//   --collections db.c / db.*      -> "db_collections": {"db": [{"name": "c"}]}
//   a name without a database      -> in --database (default "default")
//   --name-map db1=db2             -> "name_mapping": [{"source_db": "db1", "target_db": "db2"}]
//   --name-map db1.a=db2.b         -> ... "collection_mapping": {"a": "b"} under db1 -> db2
// Several --collections are all sent; the server decides (today it takes one filter a task).
// Flags replace what --from-json holds for the same keys. Errors are InvalidArgument naming
// the flag and what to write instead (usage errors).
#include "cli/create_flags.h"
#include "common/status.h"
#include "nlohmann/json.hpp"

namespace cdc::cli {

Result<nlohmann::json> BuildCreateRequest(const CreateFlags& flags);

// "--collections" values to the request's collection_infos or db_collections (one key set).
Result<nlohmann::json> CollectionsJson(const std::vector<std::string>& values,
                                       const std::string& database);

// "--name-map" values to the request's name_mapping array.
Result<nlohmann::json> NameMappingJson(const std::vector<std::string>& values);

}  // namespace cdc::cli
