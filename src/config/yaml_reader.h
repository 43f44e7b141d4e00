#pragma once
// config::YamlReader: reads one YAML mapping with case-insensitive keys (as the Go server's
// sigs.k8s.io/yaml + encoding/json do), typed getters that return a Status naming the full key
// path, the offending value and what is allowed, and a list of keys nobody asked for.
// Not thread-safe; used only while loading.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "yaml-cpp/yaml.h"

namespace cdc::config {

class YamlReader {
 public:
  // `node` must be a map or null. `path` is the dotted prefix of its keys ("" at the top).
  static Result<YamlReader> Open(const YAML::Node& node, std::string path);

  // Each getter leaves `out` untouched when the key is absent or null.
  Status Str(const char* key, std::string* out, bool secret = false);
  Status Int(const char* key, int* out, int min, int max);
  Status Bool(const char* key, bool* out);
  // A list of strings; a single scalar is taken as a one-element list.
  Status StrList(const char* key, std::vector<std::string>* out);
  // A flat map of scalars (e.g. raw librdkafka settings).
  Status StrMap(const char* key, std::map<std::string, std::string>* out);
  // A nested mapping; std::nullopt if absent or null.
  Result<std::optional<YamlReader>> Sub(const char* key);
  // Marks a key as known without reading it (deprecated keys we ignore).
  void Ignore(const char* key);

  // Appends "unknown key 'a.b' ..." for every key not read, to `warnings`.
  void CollectUnknown(std::vector<std::string>* warnings) const;

 private:
  YamlReader(std::string path) : path_(std::move(path)) {}
  const YAML::Node* Find(const char* key);
  std::string Full(const std::string& key) const;
  Status TypeError(const char* key, const YAML::Node& v, const std::string& allowed,
                   bool secret = false) const;

  std::string path_;
  // lower-case key -> (original key, value), in document order.
  std::vector<std::pair<std::string, std::pair<std::string, YAML::Node>>> entries_;
  std::vector<bool> used_;
};

}  // namespace cdc::config
