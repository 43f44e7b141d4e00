#pragma once
// target::ProbeTcp: "does something accept TCP connections there?", the create-time check of a
// Kafka target (a broker speaks its own protocol; the connection is all that is checked).
// Thread-safe; returns within `timeout` (plus name resolution).
#include <chrono>
#include <string>

#include "common/status.h"

namespace cdc::target {

// `address` is host:port (or host, then `default_port`), parsed by target::ParseAddress; `field`
// names it in errors. InvalidArgument for a bad address; Unavailable with the reason (cannot
// resolve, refused, no answer within the timeout) otherwise.
Status ProbeTcp(const std::string& address, int default_port, const std::string& field,
                std::chrono::seconds timeout);

}  // namespace cdc::target
