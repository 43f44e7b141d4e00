#pragma once
// The standard Prometheus process metrics of this process, read from /proc (Linux):
//   process_resident_memory_bytes, process_virtual_memory_bytes   gauges
//   process_cpu_seconds_total                                      counter (user + system)
//   process_start_time_seconds                                     gauge (unix seconds)
//   process_open_fds, process_max_fds, process_threads             gauges
// A value that cannot be read (no /proc) is left out. Thread-safe (no state).
#include <string>

namespace cdc::api {

std::string RenderProcessMetrics();

}  // namespace cdc::api
