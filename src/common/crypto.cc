#include "common/crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace cdc::crypto {
namespace {

constexpr size_t kNonce = 12;
constexpr size_t kTag = 16;

std::string Hex(const unsigned char* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherCtx NewCtx() { return CipherCtx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free); }

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* U(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(U(data), data.size(), digest);
  return Hex(digest, sizeof(digest));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string Base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(U(out), U(data), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0)
    return InvalidArgumentError("not base64: length is not a multiple of 4");
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(U(out), U(text), static_cast<int>(text.size()));
  if (n < 0) return InvalidArgumentError("not base64");
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  if (Base64Encode(out) != text) return InvalidArgumentError("not canonical base64");
  return out;
}

Result<AesKey> KeyFromHex(std::string_view hex) {
  if (hex.size() != 64) {
    return InvalidArgumentError("expected 64 hex characters (a 256-bit key), got " +
                                std::to_string(hex.size()) + " characters");
  }
  AesKey key;
  for (size_t i = 0; i < 32; ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgumentError("expected hex characters 0-9a-f only");
    key.bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  std::string_view raw(reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size());
  key.id = Sha256Hex(raw).substr(0, 8);
  return key;
}

Result<AesKey> LoadKeyFile(const std::string& path) {
  const std::string fix = "; create it with: openssl rand -hex 32 > " + path;
  std::ifstream in(path);
  if (!in) {
    return InvalidArgumentError("secret key file " + path + ": " + std::strerror(errno) + fix);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const char* ws = " \t\r\n";
  size_t b = text.find_first_not_of(ws);
  size_t e = text.find_last_not_of(ws);
  std::string_view hex =
      b == std::string::npos ? std::string_view() : std::string_view(text).substr(b, e - b + 1);
  auto key = KeyFromHex(hex);
  if (!key.ok()) {
    return InvalidArgumentError("secret key file " + path + ": " +
                                std::string(key.status().message()) + fix);
  }
  return key;
}

Result<std::string> Seal(const AesKey& key, std::string_view plaintext, std::string_view aad) {
  std::string out(kNonce + plaintext.size() + kTag, '\0');
  if (RAND_bytes(U(out), kNonce) != 1) return InternalError("no random bytes for a nonce");
  CipherCtx ctx = NewCtx();
  int len = 0;
  bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.bytes.data(), U(out)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), U(out) + kNonce, &len, U(plaintext),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), U(out) + kNonce + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag,
                          U(out) + kNonce + plaintext.size()) == 1;
  if (!ok) return InternalError("AES-256-GCM encryption failed");
  return out;
}

Result<std::string> Open(const AesKey& key, std::string_view sealed, std::string_view aad) {
  if (sealed.size() < kNonce + kTag) return absl::DataLossError("sealed value is too short");
  const size_t n = sealed.size() - kNonce - kTag;
  std::string out(n, '\0');
  std::string tag(sealed.substr(kNonce + n));
  CipherCtx ctx = NewCtx();
  int len = 0;
  bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.bytes.data(), U(sealed)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), U(out), &len, U(sealed) + kNonce, static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, U(tag)) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), U(out) + len, &len) == 1;
  if (!ok)
    return absl::DataLossError("AES-256-GCM authentication failed (wrong key or altered data)");
  return out;
}

}  // namespace cdc::crypto
