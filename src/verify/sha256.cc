#include "verify/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace cdc::verify {

struct Sha256::Ctx {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(md); }
  void Init() {
    if (md == nullptr || EVP_DigestInit_ex(md, EVP_sha256(), nullptr) != 1) std::abort();
  }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) { ctx_->Init(); }
Sha256::~Sha256() = default;

void Sha256::Update(std::string_view bytes) {
  if (EVP_DigestUpdate(ctx_->md, bytes.data(), bytes.size()) != 1) std::abort();
}

std::string Sha256::HexDigest() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx_->md, out, &n) != 1) std::abort();
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * static_cast<size_t>(n));
  for (unsigned int i = 0; i < n; ++i) {
    hex.push_back(kHex[out[i] >> 4]);
    hex.push_back(kHex[out[i] & 15]);
  }
  ctx_->Init();
  return hex;
}

}  // namespace cdc::verify
