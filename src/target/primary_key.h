#pragma once
// target::PrimaryKey: a Milvus primary key (Int64 or VarChar) and the query expressions over
// key ranges that paging through a collection needs. Pure functions, thread-safe.
//
// Order: Int64 keys by value, VarChar keys by their bytes (unsigned), the order Milvus uses
// to answer a query with a limit (target/milvus_reader.h).
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "milvus/schema.pb.h"

namespace cdc::target {

using PrimaryKey = std::variant<int64_t, std::string>;

// The keys of a primary-key column of a query answer (Int64 or VarChar).
Result<std::vector<PrimaryKey>> KeysOf(const ::milvus::proto::schema::FieldData& column);

// The key as an expression literal: 42, "a\"b" (Go-style escapes, as Milvus' parser reads
// them: \" \\ and \xHH for control bytes).
std::string KeyLiteral(const PrimaryKey& key);

// The key for people: 42, or the string as it is.
std::string KeyText(const PrimaryKey& key);

// `pk > after && pk <= upto` with either side left out when absent; "" when both are.
std::string RangeExpr(const std::string& pk_field, const std::optional<PrimaryKey>& after,
                      const std::optional<PrimaryKey>& upto);

// `pk in [k1, k2, ...]`.
std::string InExpr(const std::string& pk_field, const std::vector<PrimaryKey>& keys);

}  // namespace cdc::target
