#pragma once
// Small OpenSSL wrappers: SHA-256 (API token hashes), AES-256-GCM (secrets at rest), base64,
// and the key file of metaStoreConfig.secretKeyFile.
//
// Pure functions, thread-safe. Errors are Status values; messages never contain key material,
// plaintext or tokens.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cdc::crypto {

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// Compares in time independent of where the strings differ (not of their lengths).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

std::string Base64Encode(std::string_view data);
// InvalidArgument if `text` is not canonical base64.
Result<std::string> Base64Decode(std::string_view text);

// A 256-bit AES key and its public fingerprint (the first 8 hex characters of the SHA-256 of
// the key), which tells which key sealed a value without revealing it.
struct AesKey {
  std::array<uint8_t, 32> bytes{};
  std::string id;
};

// Builds a key from 64 hex characters. InvalidArgument otherwise.
Result<AesKey> KeyFromHex(std::string_view hex);
// Reads a key file: 64 hex characters (`openssl rand -hex 32`), surrounding whitespace ignored.
// Errors name the file and what to do: InvalidArgument for a missing, unreadable or malformed
// file.
Result<AesKey> LoadKeyFile(const std::string& path);

// AES-256-GCM with a random 96-bit nonce; `aad` is authenticated, not encrypted. Returns
// nonce (12 bytes) | ciphertext | tag (16 bytes).
Result<std::string> Seal(const AesKey& key, std::string_view plaintext, std::string_view aad);
// Reverses Seal. DataLoss when the tag does not verify (wrong key, wrong aad or altered data).
Result<std::string> Open(const AesKey& key, std::string_view sealed, std::string_view aad);

}  // namespace cdc::crypto
