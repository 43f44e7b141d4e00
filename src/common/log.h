#pragma once
// Process-wide logging through spdlog. Init once in main(); elsewhere use spdlog::info(...)
// etc. Secrets must never be passed to a log call (see common/secrets.h).
#include <string>

#include "common/status.h"

namespace cdc {

// Sets the global level from a config value: debug|info|warn|error (case-insensitive).
// Unknown levels return InvalidArgument naming the value.
Status InitLogging(const std::string& level);

}  // namespace cdc
