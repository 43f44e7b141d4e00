#pragma once
// The Kafka sink's JSON envelope, version 1 (docs/kafka-sink.md): one Kafka record per
// replicated change. Pure functions, thread-safe.
//
// Every envelope has "version", "op", "database", "collection" (except database ops), "ts"
// (the source's hybrid timestamp), "time_ms" (its physical part, ms since the epoch) and
// "position" ({"channel", "msg_id"}: the source message's channel and base64 MQ id, the key a
// consumer de-duplicates on; null for DDL, which is de-duplicated by op, names and ts).
// Errors: InvalidArgument when a message's bytes are not the message they claim to be.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "milvus/milvus.pb.h"
#include "milvus/msg.pb.h"
#include "milvus/schema.pb.h"

namespace cdc::sink {

inline constexpr int kEnvelopeVersion = 1;

// Where a data envelope's source message was read.
struct SourcePosition {
  std::string channel;
  std::string msg_id;  // raw MQ id bytes (base64 in the envelope)
};

// The fields every envelope has. `collection` empty = a database op (no "collection" key).
nlohmann::json EnvelopeHead(std::string_view op, const std::string& db,
                            const std::string& collection, uint64_t ts,
                            const std::optional<SourcePosition>& position);

// The value of row `row` of column `f` as JSON (docs/kafka-sink.md, "Values"). InvalidArgument
// when the column has fewer rows or a type this version cannot encode.
Result<nlohmann::json> FieldValue(const ::milvus::proto::schema::FieldData& f, int64_t row);

// {"name", "type"} of a column, with "dim" for vectors, "element_type" for arrays and
// "dynamic": true for the dynamic-field column `$meta`.
nlohmann::json FieldDescription(const ::milvus::proto::schema::FieldData& f);

// op "insert": "partition", "fields" and "rows" (one object per row, field name -> value).
Result<nlohmann::json> InsertEnvelope(const ::milvus::proto::msg::InsertRequest& req,
                                      const std::optional<SourcePosition>& position);
// op "delete": "partition" ("" = every partition), "pk_type" (Int64 | VarChar) and
// "primary_keys".
Result<nlohmann::json> DeleteEnvelope(const ::milvus::proto::msg::DeleteRequest& req,
                                      const std::optional<SourcePosition>& position);

// op "create_collection": "schema" {"description", "enable_dynamic_field", "fields": [{"name",
// "type", "primary_key", "auto_id", "partition_key", "dynamic", "element_type", "params":
// {type params}}]}, "shards_num", "consistency_level", "properties", "num_partitions".
Result<nlohmann::json> CreateCollectionEnvelope(
    const std::string& db, const ::milvus::proto::milvus::CreateCollectionRequest& req,
    uint64_t ts);

}  // namespace cdc::sink
