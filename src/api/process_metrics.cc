#include "api/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <vector>

namespace cdc::api {
namespace {

// The fields of /proc/self/stat after the command name, numbered as proc(5) numbers them
// (fields[3] is field 3, the state); empty when it cannot be read.
std::vector<std::string> StatFields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos) return {};
  std::istringstream rest(line.substr(paren + 1));
  std::vector<std::string> fields(3);  // 0 unused, 1 pid, 2 comm
  fields.insert(fields.end(), std::istream_iterator<std::string>(rest), {});
  return fields;
}

// Unix seconds of the machine's boot (/proc/stat btime); 0 when unknown.
double BootTime() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

void Write(std::ostringstream& out, const char* name, const char* type, const char* help,
           double value) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
      << name << " " << value << "\n";
}

}  // namespace

std::string RenderProcessMetrics() {
  std::ostringstream out;
  out.precision(15);
  const auto f = StatFields();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  if (f.size() > 24 && ticks > 0) {
    Write(out, "process_cpu_seconds_total", "counter", "User and system CPU time in seconds.",
          (std::stod(f[14]) + std::stod(f[15])) / ticks);
    Write(out, "process_threads", "gauge", "Threads of the process.", std::stod(f[20]));
    if (const double boot = BootTime(); boot > 0) {
      Write(out, "process_start_time_seconds", "gauge", "Unix time the process started.",
            boot + std::stod(f[22]) / ticks);
    }
    Write(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
          std::stod(f[23]));
    Write(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
          std::stod(f[24]) * page);
  }
  std::error_code ec;
  size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  if (!ec) {
    Write(out, "process_open_fds", "gauge", "Open file descriptors.", static_cast<double>(fds));
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    Write(out, "process_max_fds", "gauge", "The limit of open file descriptors.",
          static_cast<double>(limit.rlim_cur));
  }
  return out.str();
}

}  // namespace cdc::api
