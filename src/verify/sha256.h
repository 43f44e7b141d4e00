#pragma once
// verify::Sha256: an incremental SHA-256 (OpenSSL EVP) for key digests. Not thread-safe; one
// per digest. Never fails in practice; an OpenSSL failure aborts (it means a broken install).
#include <memory>
#include <string>
#include <string_view>

namespace cdc::verify {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // The digest of everything given so far, 64 lower-case hex characters; the object starts
  // over afterwards.
  std::string HexDigest();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace cdc::verify
