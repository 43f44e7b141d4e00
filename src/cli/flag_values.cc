#include "cli/flag_values.h"

#include <fstream>
#include <sstream>

namespace cdc::cli {
namespace {

std::string Trim(const std::string& s) {
  const auto* blanks = " \t\r\n";
  const auto b = s.find_first_not_of(blanks);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(blanks) - b + 1);
}

Result<std::string> ReadFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return InvalidArgumentError(flag + " " + path + ": cannot open the file; check the path");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::vector<std::string> SplitList(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) {
    std::stringstream parts(v);
    std::string part;
    while (std::getline(parts, part, ',')) {
      part = Trim(part);
      if (!part.empty()) out.push_back(part);
    }
  }
  return out;
}

Result<std::string> ReadSecretFile(const std::string& flag, const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(flag, path));
  std::string line = Trim(text.substr(0, text.find('\n')));
  if (line.empty()) {
    return InvalidArgumentError(flag + " " + path +
                                ": the file is empty; put the token on its first line");
  }
  return line;
}

Result<nlohmann::json> ReadJsonObjectFile(const std::string& flag, const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(flag, path));
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) {
      return InvalidArgumentError(flag + " " + path + ": expected a JSON object, got " +
                                  std::string(j.type_name()));
    }
    return j;
  } catch (const nlohmann::json::parse_error& e) {
    return InvalidArgumentError(flag + " " + path + ": not valid JSON: " + e.what());
  }
}

}  // namespace cdc::cli
