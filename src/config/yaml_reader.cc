#include "config/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <climits>

namespace cdc::config {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string KindName(const YAML::Node& v) {
  switch (v.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
      return "null";
    default:
      return "'" + v.Scalar() + "'";
  }
}

}  // namespace

Result<YamlReader> YamlReader::Open(const YAML::Node& node, std::string path) {
  YamlReader r(std::move(path));
  if (!node || node.IsNull()) return r;
  if (!node.IsMap()) {
    return InvalidArgumentError((r.path_.empty() ? std::string("the document") : r.path_) +
                                ": expected a mapping of keys, got " + KindName(node));
  }
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>("");
    r.entries_.push_back({Lower(key), {key, kv.second}});
    r.used_.push_back(false);
  }
  return r;
}

std::string YamlReader::Full(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

const YAML::Node* YamlReader::Find(const char* key) {
  const std::string want = Lower(key);
  const YAML::Node* found = nullptr;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].first == want) {
      used_[i] = true;
      found = &entries_[i].second.second;  // last one wins, like encoding/json
    }
  }
  if (found && found->IsNull()) return nullptr;
  return found;
}

Status YamlReader::TypeError(const char* key, const YAML::Node& v, const std::string& allowed,
                             bool secret) const {
  std::string got = secret ? "a hidden value" : KindName(v);
  return InvalidArgumentError("config key " + Full(key) + ": got " + got + ", expected " + allowed);
}

Status YamlReader::Str(const char* key, std::string* out, bool secret) {
  const YAML::Node* v = Find(key);
  if (!v) return OkStatus();
  if (!v->IsScalar()) return TypeError(key, *v, "a string", secret);
  *out = v->Scalar();
  return OkStatus();
}

Status YamlReader::Int(const char* key, int* out, int min, int max) {
  const YAML::Node* v = Find(key);
  if (!v) return OkStatus();
  long long n = 0;
  if (!v->IsScalar() || !YAML::convert<long long>::decode(*v, n)) {
    return TypeError(key, *v, "an integer");
  }
  if (n < min || n > max) {
    return InvalidArgumentError("config key " + Full(key) + ": got " + std::to_string(n) +
                                ", expected an integer from " + std::to_string(min) + " to " +
                                std::to_string(max));
  }
  *out = static_cast<int>(n);
  return OkStatus();
}

Status YamlReader::Bool(const char* key, bool* out) {
  const YAML::Node* v = Find(key);
  if (!v) return OkStatus();
  bool b = false;
  if (!v->IsScalar() || !YAML::convert<bool>::decode(*v, b)) {
    return TypeError(key, *v, "true or false");
  }
  *out = b;
  return OkStatus();
}

Status YamlReader::StrList(const char* key, std::vector<std::string>* out) {
  const YAML::Node* v = Find(key);
  if (!v) return OkStatus();
  if (v->IsScalar()) {
    *out = {v->Scalar()};
    return OkStatus();
  }
  if (!v->IsSequence()) return TypeError(key, *v, "a list of strings");
  std::vector<std::string> items;
  for (const auto& item : *v) {
    if (!item.IsScalar()) return TypeError(key, item, "a list of strings");
    items.push_back(item.Scalar());
  }
  *out = std::move(items);
  return OkStatus();
}

Status YamlReader::StrMap(const char* key, std::map<std::string, std::string>* out) {
  const YAML::Node* v = Find(key);
  if (!v) return OkStatus();
  if (!v->IsMap()) return TypeError(key, *v, "a mapping of string values");
  std::map<std::string, std::string> m;
  for (const auto& kv : *v) {
    if (!kv.second.IsScalar()) {
      return TypeError(key, kv.second, "a mapping of string values");
    }
    m[kv.first.as<std::string>("")] = kv.second.Scalar();
  }
  *out = std::move(m);
  return OkStatus();
}

Result<std::optional<YamlReader>> YamlReader::Sub(const char* key) {
  const YAML::Node* v = Find(key);
  if (!v) return std::optional<YamlReader>();
  if (!v->IsMap()) return TypeError(key, *v, "a mapping of keys");
  ASSIGN_OR_RETURN(YamlReader sub, Open(*v, Full(key)));
  return std::optional<YamlReader>(std::move(sub));
}

void YamlReader::Ignore(const char* key) { Find(key); }

void YamlReader::CollectUnknown(std::vector<std::string>* warnings) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (!used_[i]) {
      warnings->push_back("unknown config key " + Full(entries_[i].second.first) +
                          " is ignored; check its spelling");
    }
  }
}

}  // namespace cdc::config
