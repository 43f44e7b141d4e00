#pragma once
// A sink::Producer for unit tests: records what it is given, answers the statuses it is set to.
// Not thread-safe.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sink/producer.h"

namespace cdc::sink {

class FakeProducer : public Producer {
 public:
  std::string Describe() const override { return "kafka fake topic t"; }
  Status EnsureTopic() override { return topic_status; }
  Status ProduceAll(const std::vector<Record>& records) override {
    ++calls;
    if (!produce_status.ok()) return produce_status;
    produced.insert(produced.end(), records.begin(), records.end());
    return OkStatus();
  }
  // The produced values, parsed.
  std::vector<nlohmann::json> Values() const {
    std::vector<nlohmann::json> out;
    out.reserve(produced.size());
    for (const auto& r : produced) out.push_back(nlohmann::json::parse(r.value));
    return out;
  }

  Status topic_status = OkStatus();
  Status produce_status = OkStatus();
  std::vector<Record> produced;
  int calls = 0;
};

}  // namespace cdc::sink
