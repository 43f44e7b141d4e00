#pragma once
// MysqlDsn: the Go-driver DSN upstream uses for metaStoreConfig.mysqlSourceUrl,
//   [user[:password]@][tcp(host[:port]) | unix(/socket)]/database[?param=value&...]
// e.g. root:root@tcp(127.0.0.1:3306)/milvuscdc?charset=utf8. Recognised params: charset
// (first of a comma list), timeout (Go duration: 500ms, 5s, 1m). Others are ignored.
// Errors: kInvalidArgument naming what is wrong; the password is never echoed (Redacted()).
#include <chrono>
#include <string>

#include "common/status.h"

namespace cdc::meta {

struct MysqlDsn {
  std::string user;
  std::string password;
  std::string host = "127.0.0.1";
  unsigned port = 3306;
  std::string unix_socket;  // set for unix(...)
  std::string database;
  std::string charset = "utf8mb4";
  std::chrono::milliseconds timeout{10000};

  // "host:port/database" (or "unix:/path/database") for messages.
  std::string Address() const;
};

Result<MysqlDsn> ParseMysqlDsn(const std::string& dsn);
// The DSN with its password replaced by "***".
std::string RedactDsn(const std::string& dsn);

}  // namespace cdc::meta
