#pragma once
// NameThread: names the calling thread, as `top -H`, `ps -L`, perf and gdb show it (Linux keeps
// the first 15 bytes). Every thread milvus-cdc starts names itself by what it does ("task-",
// "read-", "pump-", ...), so that a thread count can be told apart by kind (bench/scale).
#include <pthread.h>

#include <string>
#include <string_view>

namespace cdc {

inline void NameThread(std::string_view name) {
  const std::string n(name.substr(0, 15));
  pthread_setname_np(pthread_self(), n.c_str());
}

// The last `n` characters of `s` (a channel's name ends with what tells it apart).
inline std::string Tail(std::string_view s, size_t n) {
  return std::string(s.size() <= n ? s : s.substr(s.size() - n));
}

}  // namespace cdc
