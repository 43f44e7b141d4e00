#include "pulsar/frame.h"

#include "absl/strings/str_cat.h"
#include "pulsar/crc32c.h"

namespace cdc::pulsar {
namespace {

constexpr uint16_t kChecksumMagic = 0x0e01;
constexpr uint16_t kBrokerEntryMagic = 0x0e02;

uint16_t ReadBe16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}

Status Bad(std::string what) { return absl::DataLossError("bad Pulsar frame: " + what); }

}  // namespace

uint32_t ReadBe32(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

void AppendBe32(std::string* out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out->append(b, 4);
}

std::string EncodeCommand(const proto::BaseCommand& cmd) {
  const size_t n = cmd.ByteSizeLong();
  std::string out;
  out.reserve(8 + n);
  AppendBe32(&out, static_cast<uint32_t>(4 + n));
  AppendBe32(&out, static_cast<uint32_t>(n));
  cmd.AppendToString(&out);
  return out;
}

std::string EncodePayloadCommand(const proto::BaseCommand& cmd,
                                 const proto::MessageMetadata& metadata, std::string_view payload) {
  const size_t cmd_size = cmd.ByteSizeLong();
  const size_t meta_size = metadata.ByteSizeLong();
  const size_t total = 4 + cmd_size + 2 + 4 + 4 + meta_size + payload.size();
  std::string out;
  out.reserve(4 + total);
  AppendBe32(&out, static_cast<uint32_t>(total));
  AppendBe32(&out, static_cast<uint32_t>(cmd_size));
  cmd.AppendToString(&out);
  out.push_back(static_cast<char>(kChecksumMagic >> 8));
  out.push_back(static_cast<char>(kChecksumMagic & 0xff));
  const size_t crc_at = out.size();
  AppendBe32(&out, 0);
  const size_t covered_from = out.size();
  AppendBe32(&out, static_cast<uint32_t>(meta_size));
  metadata.AppendToString(&out);
  out.append(payload.data(), payload.size());
  const uint32_t crc = Crc32c(0, out.data() + covered_from, out.size() - covered_from);
  std::string crc_bytes;
  AppendBe32(&crc_bytes, crc);
  out.replace(crc_at, 4, crc_bytes);
  return out;
}

Result<Frame> DecodeFrame(std::shared_ptr<const std::string> owner, std::string_view body) {
  if (body.size() < 4) return Bad(absl::StrCat("frame of ", body.size(), " bytes has no size"));
  const uint32_t cmd_size = ReadBe32(body.data());
  if (cmd_size > body.size() - 4) {
    return Bad(absl::StrCat("command size ", cmd_size, " exceeds the frame (", body.size() - 4,
                            " bytes left)"));
  }
  Frame f;
  if (!f.command.ParseFromArray(body.data() + 4, static_cast<int>(cmd_size))) {
    return Bad(absl::StrCat("command of ", cmd_size,
                            " bytes is not a BaseCommand we can parse (unknown type or corrupt)"));
  }
  std::string_view rest = body.substr(4 + cmd_size);
  if (rest.empty()) return f;
  f.has_payload = true;
  if (rest.size() >= 2 && ReadBe16(rest.data()) == kBrokerEntryMagic) {
    if (rest.size() < 6) return Bad("truncated broker entry metadata");
    const uint32_t n = ReadBe32(rest.data() + 2);
    if (n > rest.size() - 6) return Bad("broker entry metadata exceeds the frame");
    rest.remove_prefix(6 + n);
  }
  if (rest.size() >= 2 && ReadBe16(rest.data()) == kChecksumMagic) {
    if (rest.size() < 6) return Bad("truncated checksum");
    f.checksum_present = true;
    f.checksum_expected = ReadBe32(rest.data() + 2);
    rest.remove_prefix(6);
    f.checksum_actual = Crc32c(rest);
    f.checksum_ok = f.checksum_actual == f.checksum_expected;
  }
  if (rest.size() < 4) return Bad("payload frame without message metadata size");
  const uint32_t meta_size = ReadBe32(rest.data());
  if (meta_size > rest.size() - 4) {
    return Bad(absl::StrCat("message metadata size ", meta_size, " exceeds the frame (",
                            rest.size() - 4, " bytes left)"));
  }
  if (!f.metadata.ParseFromArray(rest.data() + 4, static_cast<int>(meta_size))) {
    if (!f.checksum_ok) {
      // A corrupt frame: keep the command (its message id) so the caller can report it.
      f.metadata.Clear();
      f.payload = {};
      f.buffer = std::move(owner);
      return f;
    }
    return Bad(absl::StrCat("message metadata of ", meta_size, " bytes does not parse"));
  }
  f.payload = rest.substr(4 + meta_size);
  f.buffer = std::move(owner);
  return f;
}

Result<std::optional<Frame>> FrameReader::Next() {
  if (buffered() < 4) return std::optional<Frame>();
  const uint32_t total = ReadBe32(buf_.data() + pos_);
  if (total > max_frame_size_) {
    return absl::DataLossError(absl::StrCat(
        "Pulsar frame of ", total, " bytes exceeds the limit of ", max_frame_size_,
        " bytes; raise sourceConfig.pulsar.maxMessageSize if the broker allows larger messages"));
  }
  if (total < 4) return Bad(absl::StrCat("frame size ", total, " is too small"));
  if (buffered() < 4 + size_t{total}) return std::optional<Frame>();
  auto owner = std::make_shared<std::string>(buf_.data() + pos_ + 4, total);
  pos_ += 4 + size_t{total};
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > (1 << 20) && pos_ > buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  std::string_view body(*owner);
  ASSIGN_OR_RETURN(Frame f, DecodeFrame(owner, body));
  return std::optional<Frame>(std::move(f));
}

}  // namespace cdc::pulsar
