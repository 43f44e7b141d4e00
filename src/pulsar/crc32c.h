#pragma once
// CRC32C (Castagnoli), the checksum of Pulsar payload frames. Uses the SSE4.2 instruction when
// the CPU has it, else a table. Pure and thread-safe.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cdc::pulsar {

// Extends `crc` (0 to start) over `data`.
uint32_t Crc32c(uint32_t crc, const void* data, size_t size);
inline uint32_t Crc32c(std::string_view data) { return Crc32c(0, data.data(), data.size()); }

}  // namespace cdc::pulsar
