#pragma once
// Table: rows of text cells rendered as aligned columns under a header, two blanks apart,
// for the human output of the CLI. The last column is not padded (long reasons run on).
// Value type, not thread-safe.
#include <string>
#include <vector>

namespace cdc::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}

  // Cells beyond the header's count are dropped, missing ones are empty.
  void AddRow(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }

  // The header and every row, each line ending in '\n'; `indent` blanks before each line.
  std::string Render(int indent = 0) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace cdc::cli
