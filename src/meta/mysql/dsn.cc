#include "meta/mysql/dsn.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cdc::meta {
namespace {

Result<std::chrono::milliseconds> ParseGoDuration(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && (isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  double n = 0;
  try {
    n = std::stod(s.substr(0, i));
  } catch (...) {
    i = 0;
  }
  std::string unit = s.substr(i);
  double ms = 0;
  if (i == 0) {
    return InvalidArgumentError("");
  } else if (unit == "ms") {
    ms = n;
  } else if (unit == "s") {
    ms = n * 1000;
  } else if (unit == "m") {
    ms = n * 60000;
  } else {
    return InvalidArgumentError("");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

}  // namespace

std::string MysqlDsn::Address() const {
  if (!unix_socket.empty()) return absl::StrCat("unix:", unix_socket, "/", database);
  return absl::StrCat(host, ":", port, "/", database);
}

std::string RedactDsn(const std::string& dsn) {
  size_t slash = dsn.rfind('/');
  size_t at = dsn.rfind('@', slash == std::string::npos ? std::string::npos : slash);
  if (at == std::string::npos) return dsn;
  size_t colon = dsn.find(':');
  if (colon == std::string::npos || colon > at) return dsn;
  return dsn.substr(0, colon + 1) + "***" + dsn.substr(at);
}

Result<MysqlDsn> ParseMysqlDsn(const std::string& dsn) {
  const std::string shown = RedactDsn(dsn);
  auto bad = [&](const std::string& why) {
    return InvalidArgumentError(
        absl::StrCat("metaStoreConfig.mysqlSourceUrl '", shown, "': ", why,
                     "; expected user:password@tcp(host:port)/database?charset=utf8"));
  };
  if (dsn.empty()) return bad("empty");
  MysqlDsn out;
  size_t slash = dsn.rfind('/');
  if (slash == std::string::npos) return bad("no '/database'");
  std::string left = dsn.substr(0, slash);
  std::string right = dsn.substr(slash + 1);
  // A '/' inside unix(/path) is not the database separator.
  if (left.find("unix(") != std::string::npos && left.find(')') == std::string::npos) {
    size_t close = dsn.find(')');
    if (close == std::string::npos) return bad("missing ')' after unix(");
    slash = dsn.find('/', close);
    if (slash == std::string::npos) return bad("no '/database'");
    left = dsn.substr(0, slash);
    right = dsn.substr(slash + 1);
  }
  std::string params;
  if (size_t q = right.find('?'); q != std::string::npos) {
    params = right.substr(q + 1);
    right = right.substr(0, q);
  }
  out.database = right;
  if (out.database.empty()) return bad("no database name after '/'");

  std::string net = left;
  if (size_t at = left.rfind('@'); at != std::string::npos) {
    std::string creds = left.substr(0, at);
    net = left.substr(at + 1);
    if (size_t colon = creds.find(':'); colon != std::string::npos) {
      out.user = creds.substr(0, colon);
      out.password = creds.substr(colon + 1);
    } else {
      out.user = creds;
    }
  }
  if (!net.empty()) {
    size_t open = net.find('(');
    std::string proto = net.substr(0, open);
    std::string addr;
    if (open != std::string::npos) {
      if (net.back() != ')') return bad("missing ')' after the address");
      addr = net.substr(open + 1, net.size() - open - 2);
    }
    if (proto == "unix") {
      if (addr.empty()) return bad("unix() needs a socket path");
      out.unix_socket = addr;
    } else if (proto == "tcp") {
      if (!addr.empty()) {
        size_t colon = addr.rfind(':');
        std::string port;
        if (colon != std::string::npos) {
          port = addr.substr(colon + 1);
          addr = addr.substr(0, colon);
        }
        if (!addr.empty()) out.host = addr;
        if (!port.empty()) {
          auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
          if (ec != std::errc() || p != port.data() + port.size() || out.port == 0 ||
              out.port > 65535) {
            return bad(absl::StrCat("port '", port, "' is not a number in 1..65535"));
          }
        }
      }
    } else {
      return bad(absl::StrCat("unknown protocol '", proto, "' (use tcp or unix)"));
    }
  }
  for (absl::string_view kv : absl::StrSplit(params, '&', absl::SkipEmpty())) {
    std::pair<std::string, std::string> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
    if (p.first == "charset") {
      std::string first = std::string(*absl::StrSplit(p.second, ',').begin());
      if (first.empty()) return bad("empty charset");
      out.charset = first;
    } else if (p.first == "timeout") {
      auto d = ParseGoDuration(p.second);
      if (!d.ok()) return bad(absl::StrCat("timeout '", p.second, "' is not like 5s or 500ms"));
      out.timeout = *d;
    }
  }
  return out;
}

}  // namespace cdc::meta
