#pragma once
// Human text of a verify job (the verify answer's data.verify, docs/verify.md): a verdict
// line and one row per collection with what differs. Pure, thread-safe.
#include <string>

#include "nlohmann/json.hpp"

namespace cdc::cli {

std::string RenderVerify(const nlohmann::json& verify);

}  // namespace cdc::cli
