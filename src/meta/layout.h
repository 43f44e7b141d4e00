#pragma once
// The upstream meta layout shared by the etcd, MySQL and SQLite backends (UPSTREAM.md §3):
//   {rootPath}/task_info/{taskID}                      -> the task JSON
//   {rootPath}/task_position/{taskID}/{collectionID}   -> the position JSON (etcd)
// Keys are built like Go's path.Join: empty parts dropped, repeated and trailing slashes
// removed (so rootPath "" gives "task_info/ID", "/cdc/" gives "/cdc/task_info/ID").
//
// Threads: pure functions. Errors: DecodePosition returns kInternal for a value that is not the
// upstream position JSON, naming the key.
#include <string>

#include "common/status.h"
#include "meta/store.h"

namespace cdc::meta {

// Go path.Join of two or three parts (no "." / ".." resolution).
std::string JoinPath(const std::string& a, const std::string& b, const std::string& c = "");

std::string TaskInfoKey(const std::string& root, const std::string& task_id);
// "{root}/task_info/" (with the trailing slash).
std::string TaskInfoPrefix(const std::string& root);
std::string PositionKey(const std::string& root, const std::string& task_id, int64_t collection_id);
// "{root}/task_position/{taskID}/" (with the trailing slash, so "t1" never matches "t10").
std::string PositionTaskPrefix(const std::string& root, const std::string& task_id);
// "{root}/task_position/".
std::string PositionPrefix(const std::string& root);

// Upstream's TaskCollectionPosition JSON, fields in Go's order:
// {"TaskID":..,"CollectionID":..,"CollectionName":..,"Positions":{..},"OpPositions":{..},
//  "TargetPositions":{..}}. The three maps are embedded as given (they must be JSON objects;
// empty means {}). Returns kInvalidArgument for a map that is not a JSON object.
Result<std::string> EncodePosition(const PositionRecord& row);
// The inverse; maps come back in compact form (null becomes {}).
Result<PositionRecord> DecodePosition(const std::string& key, const std::string& value);

// Checks that `json` is a JSON object (or empty); `what` names it in the error.
Status CheckJsonObject(const std::string& json, const std::string& what);

}  // namespace cdc::meta
