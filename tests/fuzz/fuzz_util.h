#pragma once
// Helpers of the fuzz targets (tests/fuzz/README.md).
//
// The input layout shared by the targets that take a sequence of byte strings, and by
// make_corpus.cc, which writes their seeds:
//   record = [length: u16 big-endian][length bytes]
// A short tail (a cut record) ends the input. Plain values, no state beyond the read cursor.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "google/protobuf/stubs/logging.h"
#include "spdlog/sinks/null_sink.h"
#include "spdlog/spdlog.h"

// An invariant of the code under test: a violation is a finding, reported like a crash.
#define FUZZ_CHECK(cond, what)                                                              \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", __FILE__, __LINE__, #cond, \
                   std::string(what).c_str());                                              \
      std::abort();                                                                         \
    }                                                                                       \
  } while (false)

namespace cdc::fuzz {

// Sends every log line, down to trace, to a sink that drops it: the formatting code runs (it is
// part of what is fuzzed) without flooding the fuzzer's output. Protobuf's own complaints about
// what it cannot parse are dropped too.
inline void DropLogs() {
  auto logger =
      std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
}

class RecordReader {
 public:
  RecordReader(const uint8_t* data, size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  bool empty() const { return rest_.empty(); }

  // One byte, or nullopt at the end.
  std::optional<uint8_t> Byte() {
    if (rest_.empty()) return std::nullopt;
    auto b = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return b;
  }

  // A big-endian u64 (missing bytes read as 0).
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | Byte().value_or(0);
    return v;
  }

  // The next record, or nullopt when fewer bytes are left than it claims.
  std::optional<std::string_view> Record() {
    if (rest_.size() < 2) return std::nullopt;
    size_t n = (size_t{static_cast<uint8_t>(rest_[0])} << 8) | static_cast<uint8_t>(rest_[1]);
    if (rest_.size() - 2 < n) return std::nullopt;
    std::string_view r = rest_.substr(2, n);
    rest_.remove_prefix(2 + n);
    return r;
  }

 private:
  std::string_view rest_;
};

inline void AppendU64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// Appends one record; `bytes` must be shorter than 64 KiB.
inline void AppendRecord(std::string* out, std::string_view bytes) {
  out->push_back(static_cast<char>(bytes.size() >> 8));
  out->push_back(static_cast<char>(bytes.size() & 0xff));
  out->append(bytes);
}

}  // namespace cdc::fuzz
