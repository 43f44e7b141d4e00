#include "task/validate.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "task/name_map.h"

namespace cdc::task {
namespace {

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::pair<std::string, std::string> SplitFull(const std::string& full) {
  auto dot = full.find('.');
  if (dot == std::string::npos) return {"default", full};
  return {full.substr(0, dot), full.substr(dot + 1)};
}

// upstream matchCollectionName(sample, target): (matches, sample has a wildcard).
std::pair<bool, bool> Match(const std::string& sample, const std::string& target) {
  auto [db1, c1] = SplitFull(sample);
  auto [db2, c2] = SplitFull(target);
  bool match = (db1 == db2 || db1 == "*") && (c1 == c2 || c1 == "*");
  return {match, db1 == "*" || c1 == "*"};
}

bool IsVirtualChannel(const std::string& ch) {
  auto i = ch.rfind('_');
  return i != std::string::npos && ch.find('v', i + 1) != std::string::npos;
}

std::string ListText(const std::vector<std::string>& v) {  // Go's %v of a []string
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + v[i];
  return out + "]";
}

Status CheckCollectionInfos(const std::vector<CollectionInfo>& infos, int max_len) {
  if (infos.empty()) return InvalidArgumentError("empty collection info");
  if (infos.size() != 1) return InvalidArgumentError("the collection info should be only one.");
  std::vector<std::string> long_names;
  bool empty_name = false;
  for (const auto& info : infos) {
    if (info.name.empty()) empty_name = true;
    if (info.name == "*" && !info.positions.empty()) {
      return InvalidArgumentError("the collection name is `*`, the positions should be empty");
    }
    if (static_cast<int>(info.name.size()) > max_len) long_names.push_back(info.name);
    for (const auto& [ch, pos] : info.positions) {
      if (!IsVirtualChannel(ch)) {
        return InvalidArgumentError("the position channel name is not virtual channel, " + ch);
      }
    }
  }
  if (!empty_name && long_names.empty()) return OkStatus();
  std::string msg;
  if (empty_name) msg += "there is a collection name that is empty. ";
  if (!long_names.empty()) {
    msg += "there are some collection names whose length exceeds " + std::to_string(max_len) +
           " characters, " + ListText(long_names);
  }
  return InvalidArgumentError(msg);
}

Status CheckNameMapping(const std::vector<NameMapping>& entries, int max_len) {
  for (size_t i = 0; i < entries.size(); ++i) {
    std::vector<std::string> names = {entries[i].source_db, entries[i].target_db};
    for (const auto& [s, t] : entries[i].collection_mapping) names.insert(names.end(), {s, t});
    for (const auto& n : names) {
      if (static_cast<int>(n.size()) > max_len) {
        return InvalidArgumentError("name_mapping[" + std::to_string(i) + "]: the name " + n +
                                    " exceeds " + std::to_string(max_len) + " characters");
      }
    }
  }
  return NameMap::Check(entries);
}

// Where a task writes on the target: its selection patterns under its name mapping. Only
// tasks with a mapping are compared this way (the source names of the others are, as upstream).
bool TargetsOverlap(const std::string& a, const std::string& b) {
  if (a == "*.*" || b == "*.*") return false;  // `*` tasks: the source-name rule decides
  return Match(a, b).first || Match(b, a).first;
}

Status CheckMappedTargets(const TaskInfo& candidate, const std::vector<TaskInfo>& others) {
  const NameMap mine(candidate.name_mapping);
  for (const auto& other : others) {
    if (candidate.name_mapping.empty() && other.name_mapping.empty()) continue;
    const NameMap theirs(other.name_mapping);
    for (const auto& n : candidate.FullCollectionNames()) {
      const std::string to = mine.Pattern(n == "default.*" ? "*.*" : n);
      for (const auto& e : other.FullCollectionNames()) {
        const std::string at = theirs.Pattern(e == "default.*" ? "*.*" : e);
        if (!TargetsOverlap(to, at)) continue;
        return InvalidArgumentError(absl::StrCat(
            "name mapping: ", n, " would be written to ", to, " on the target, where task ",
            other.task_id, " already writes ", e, at == e ? "" : absl::StrCat(" (as ", at, ")"),
            "; map it to another name or database"));
      }
    }
  }
  return OkStatus();
}

}  // namespace

Status ValidateCreate(const CreateRequest& req, const CreateLimits& limits) {
  const auto& m = req.milvus;
  const auto& k = req.kafka;
  if (m.Empty() && k.address.empty()) {
    return InvalidArgumentError("the downstream address is empty");
  }
  if (!m.Empty() && !k.address.empty()) {
    return InvalidArgumentError("don't support milvus and kafka at the same time now");
  }
  if (!m.Empty()) {
    if (m.uri.empty()) {
      if (m.host.empty()) return InvalidArgumentError("the milvus host is empty");
      if (m.port <= 0) return InvalidArgumentError("the milvus port is less or equal zero");
    }
    if (m.username.empty() != m.password.empty()) {
      return InvalidArgumentError("cannot set only one of the milvus username and password");
    }
    if (m.connect_timeout < 0) {
      return InvalidArgumentError("the milvus connect timeout is less zero");
    }
  }
  if (!k.address.empty() && k.topic.empty()) {
    return InvalidArgumentError("the kafka topic is empty");
  }
  if (req.buffer.period < 0) return InvalidArgumentError("the cache period is less zero");
  if (req.buffer.size < 0) return InvalidArgumentError("the cache size is less zero");
  if (req.collection_infos.empty() && req.db_collections.empty()) {
    return InvalidArgumentError("the collection info is empty");
  }
  if (req.collection_infos.size() > 1 || req.db_collections.size() > 1) {
    return InvalidArgumentError("the collection info should be only one");
  }
  if (req.collection_infos.size() == 1 && req.db_collections.size() == 1) {
    return InvalidArgumentError("the collection info and db collection info should be only one");
  }
  if (req.collection_infos.size() == 1) {
    RETURN_IF_ERROR(CheckCollectionInfos(req.collection_infos, limits.max_name_length));
  }
  for (const auto& [db, infos] : req.db_collections) {
    if (static_cast<int>(db.size()) > limits.max_name_length) {
      return InvalidArgumentError("the db name length exceeds " +
                                  std::to_string(limits.max_name_length) + " characters, " + db);
    }
    RETURN_IF_ERROR(CheckCollectionInfos(infos, limits.max_name_length));
  }
  RETURN_IF_ERROR(CheckNameMapping(req.name_mapping, limits.max_name_length));
  if (!req.rpc_channel.name.empty() && req.rpc_channel.name != limits.replicate_chan) {
    return InvalidArgumentError(
        "the rpc channel is invalid, the channel name should be the same as the source config");
  }
  return OkStatus();
}

Result<std::vector<std::string>> CheckDuplicates(const TaskInfo& candidate,
                                                 const std::vector<TaskInfo>& existing) {
  const std::string key = candidate.TargetKey();
  std::vector<std::string> names, excludes;
  bool user_role = false;
  for (const auto& t : existing) {
    if (t.TargetKey() != key || t.task_id == candidate.task_id) continue;
    for (auto& n : t.FullCollectionNames()) names.push_back(n);
    for (auto& e : t.exclude_collections) excludes.push_back(e);
    user_role = user_role || t.enable_user_role;
  }
  if (user_role && candidate.enable_user_role) {
    return InvalidArgumentError("the enable user role param is duplicate");
  }
  const auto new_names = candidate.FullCollectionNames();
  std::vector<std::string> dups;
  for (const auto& n : new_names) {
    if (Contains(names, n)) {
      dups.push_back(n);
      continue;
    }
    if (n == "*.*") continue;  // a second *.* is allowed; it excludes the others' names
    for (const auto& e : names) {
      auto [match, any] = Match(e, n);
      if (match && any && !Contains(excludes, n)) {
        dups.push_back(n);
        break;
      }
    }
  }
  if (!dups.empty()) {
    return InvalidArgumentError("the collection name is duplicate with existing task, " +
                                ListText(dups));
  }
  std::vector<TaskInfo> same_target;
  for (const auto& t : existing)
    if (t.TargetKey() == key && t.task_id != candidate.task_id) same_target.push_back(t);
  RETURN_IF_ERROR(CheckMappedTargets(candidate, same_target));
  // Name mapping entries must refer to a collection of this task.
  for (const auto& nm : candidate.name_mapping) {
    std::vector<std::string> mapped;
    for (const auto& [s, t] : nm.collection_mapping) mapped.push_back(nm.source_db + "." + s);
    if (nm.collection_mapping.empty()) mapped.push_back(nm.source_db + ".*");
    for (const auto& name : mapped) {
      bool ok = false;
      for (const auto& n : new_names) ok = ok || Match(n, name).first;
      if (!ok) {
        return InvalidArgumentError(
            "the collection name in the name mapping is not in the collection info, checkout it");
      }
    }
  }
  std::vector<std::string> out;
  for (const auto& n : new_names) {
    for (const auto& e : names) {
      if (Match(n, e).first) out.push_back(e);
    }
  }
  return out;
}

}  // namespace cdc::task
