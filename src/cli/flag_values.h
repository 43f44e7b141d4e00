#pragma once
// Helpers that turn flag values into request values: comma lists, secrets read from files,
// JSON files. Errors are InvalidArgument naming the flag and the file (usage errors, exit 2).
#include <string>
#include <vector>

#include "common/status.h"
#include "nlohmann/json.hpp"

namespace cdc::cli {

// Every value of a repeatable flag split at commas, blanks trimmed, empty parts dropped:
// {"a.b, c.d", "e.*"} -> {"a.b", "c.d", "e.*"}.
std::vector<std::string> SplitList(const std::vector<std::string>& values);

// The first line of a file holding a secret (a token), without its line end and surrounding
// blanks. An unreadable or empty file is an error naming `flag` and the path (never the
// content).
Result<std::string> ReadSecretFile(const std::string& flag, const std::string& path);

// A JSON object read from a file; errors name the flag, the path and where the JSON breaks.
Result<nlohmann::json> ReadJsonObjectFile(const std::string& flag, const std::string& path);

}  // namespace cdc::cli
