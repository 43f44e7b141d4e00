#include "pulsar/entry.h"

#include <lz4.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "pulsar/frame.h"

namespace cdc::pulsar {
namespace {

using ::pulsar::proto::CompressionType;

Result<std::string> Decompress(CompressionType type, std::string_view in, uint32_t size) {
  std::string out(size, '\0');
  switch (type) {
    case ::pulsar::proto::LZ4: {
      int n = LZ4_decompress_safe(in.data(), out.data(), static_cast<int>(in.size()),
                                  static_cast<int>(size));
      if (n < 0 || static_cast<uint32_t>(n) != size) {
        return absl::DataLossError(absl::StrCat("LZ4 payload of ", in.size(),
                                                " bytes does not decompress to ", size, " bytes"));
      }
      return out;
    }
    case ::pulsar::proto::ZLIB: {
      uLongf n = size;
      int rc = uncompress(reinterpret_cast<Bytef*>(out.data()), &n,
                          reinterpret_cast<const Bytef*>(in.data()), in.size());
      if (rc != Z_OK || n != size) {
        return absl::DataLossError(absl::StrCat("ZLIB payload of ", in.size(),
                                                " bytes does not decompress to ", size,
                                                " bytes (zlib code ", rc, ")"));
      }
      return out;
    }
    case ::pulsar::proto::ZSTD: {
      size_t n = ZSTD_decompress(out.data(), size, in.data(), in.size());
      if (ZSTD_isError(n) || n != size) {
        return absl::DataLossError(absl::StrCat(
            "ZSTD payload of ", in.size(), " bytes does not decompress to ", size, " bytes",
            ZSTD_isError(n) ? absl::StrCat(" (", ZSTD_getErrorName(n), ")") : ""));
      }
      return out;
    }
    default:
      return absl::UnimplementedError(absl::StrCat(
          "compression ", ::pulsar::proto::CompressionType_Name(type),
          " is not supported by milvus-cdc's Pulsar reader (NONE, LZ4, ZLIB, ZSTD are); set the "
          "source Milvus producers to one of those"));
  }
}

}  // namespace

Result<Entry> UnpackEntry(const ::pulsar::proto::MessageMetadata& md,
                          std::shared_ptr<const std::string> owner, std::string_view payload) {
  if (md.has_encryption_algo() || md.has_encryption_param()) {
    return absl::UnimplementedError("encrypted Pulsar messages are not supported");
  }
  if (md.num_chunks_from_msg() > 1) {
    return absl::UnimplementedError(
        absl::StrCat("chunked Pulsar message (", md.num_chunks_from_msg(),
                     " chunks) is not supported; raise the broker's maxMessageSize instead of "
                     "enabling chunking"));
  }
  Entry e;
  e.owner = std::move(owner);
  if (md.compression() != ::pulsar::proto::NONE) {
    if (md.uncompressed_size() > kMaxUncompressedEntrySize) {
      return absl::DataLossError(absl::StrCat(
          "entry of ", payload.size(), " bytes claims ", md.uncompressed_size(),
          " bytes uncompressed, more than the ", kMaxUncompressedEntrySize >> 20,
          " MiB milvus-cdc unpacks (Milvus splits its messages at the Pulsar maxMessageSize); "
          "the entry is corrupt"));
    }
    ASSIGN_OR_RETURN(std::string plain,
                     Decompress(md.compression(), payload, md.uncompressed_size()));
    auto buf = std::make_shared<const std::string>(std::move(plain));
    payload = *buf;
    e.owner = std::move(buf);
  }
  if (!md.has_num_messages_in_batch()) {
    e.messages.push_back({payload, -1});
    return e;
  }
  const int32_t n = md.num_messages_in_batch();
  if (n < 0) return absl::DataLossError(absl::StrCat("batch of ", n, " messages"));
  e.batch_size = n;
  // Each message takes at least 4 bytes: a corrupt count must not size the allocation.
  e.messages.reserve(std::min(static_cast<size_t>(n), payload.size() / 4));
  std::string_view rest = payload;
  for (int32_t i = 0; i < n; ++i) {
    if (rest.size() < 4) {
      return absl::DataLossError(
          absl::StrCat("batch says ", n, " messages but ends after ", i, " (truncated)"));
    }
    const uint32_t meta_size = ReadBe32(rest.data());
    ::pulsar::proto::SingleMessageMetadata smd;
    if (meta_size > rest.size() - 4 ||
        !smd.ParseFromArray(rest.data() + 4, static_cast<int>(meta_size))) {
      return absl::DataLossError(
          absl::StrCat("batch message ", i, " of ", n, " has an unreadable header"));
    }
    rest.remove_prefix(4 + meta_size);
    if (smd.payload_size() < 0 || static_cast<size_t>(smd.payload_size()) > rest.size()) {
      return absl::DataLossError(absl::StrCat("batch message ", i, " of ", n, " claims ",
                                              smd.payload_size(), " bytes, ", rest.size(),
                                              " left"));
    }
    std::string_view one = rest.substr(0, static_cast<size_t>(smd.payload_size()));
    rest.remove_prefix(one.size());
    if (!smd.compacted_out()) e.messages.push_back({one, i});
  }
  return e;
}

}  // namespace cdc::pulsar
