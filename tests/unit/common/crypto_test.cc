#include "common/crypto.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace cdc::crypto {
namespace {

using ::testing::HasSubstr;

const std::string kHexA(64, 'a');

TEST(CryptoTest, Sha256KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(CryptoTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

TEST(CryptoTest, Base64RoundTripAndRejectsGarbage) {
  for (const std::string& s :
       std::vector<std::string>{"", "f", "fo", "foo", "foob", std::string("\0\xff\x10", 3)}) {
    auto d = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_FALSE(Base64Decode("Zm9").ok());
  EXPECT_FALSE(Base64Decode("Zm9*").ok());
}

TEST(CryptoTest, SealOpenRoundTripBindsKeyAndAad) {
  auto key = KeyFromHex(kHexA);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->id.size(), 8u);
  auto sealed = Seal(*key, "root:Milvus", "task1/token");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->size(), 12 + 11 + 16u);
  EXPECT_EQ(sealed->find("root:Milvus"), std::string::npos);
  auto again = Seal(*key, "root:Milvus", "task1/token");
  EXPECT_NE(*sealed, *again);  // fresh nonce each time
  auto opened = Open(*key, *sealed, "task1/token");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, "root:Milvus");

  auto other = KeyFromHex(std::string(64, 'b'));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->id, key->id);
  EXPECT_EQ(Open(*other, *sealed, "task1/token").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(Open(*key, *sealed, "task2/token").status().code(), StatusCode::kDataLoss);
  std::string tampered = *sealed;
  tampered[14] ^= 1;
  EXPECT_EQ(Open(*key, tampered, "task1/token").status().code(), StatusCode::kDataLoss);
  EXPECT_FALSE(Open(*key, "short", "").ok());
}

TEST(CryptoTest, KeyFileErrorsNameTheFile) {
  auto dir = std::filesystem::temp_directory_path() / ("crypto_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string missing = (dir / "missing.key").string();
  auto r = LoadKeyFile(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(missing));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("openssl rand -hex 32"));

  std::string bad = (dir / "bad.key").string();
  std::ofstream(bad) << "not a key\n";
  r = LoadKeyFile(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(bad));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("64 hex characters"));

  std::string good = (dir / "good.key").string();
  std::ofstream(good) << "  " << kHexA << "\n";
  r = LoadKeyFile(good);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->bytes[0], 0xaa);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cdc::crypto
