// The ceiling of initial sync's query way: every row of a collection read from a Milvus in
// primary-key pages exactly as the copy reads them (target::PkPager over target::GrpcReader,
// output *, Strong), with nothing done to the rows. Prints one JSON object:
//   {"rows": N, "seconds": S, "bytes": B}   (B = the serialized size of the pages' fields)
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "target/grpc_reader.h"
#include "target/pk_pager.h"

int main(int argc, char** argv) {
  CLI::App app{"bench raw_read: read a collection in primary-key pages as initial sync does"};
  std::string uri, db = "default", collection, pk = "id";
  int64_t page = 4000;
  app.add_option("--uri", uri, "the Milvus proxy, host:port")->required();
  app.add_option("--db", db, "database");
  app.add_option("--collection", collection, "collection")->required();
  app.add_option("--pk", pk, "primary key field (Int64 or VarChar)");
  app.add_option("--page", page, "rows per page");
  CLI11_PARSE(app, argc, argv);

  cdc::target::ConnectOptions o;
  o.uri = uri;
  o.names.role = "source";
  auto reader = cdc::target::ConnectGrpcReader(o);
  if (!reader.ok()) {
    std::fprintf(stderr, "connect %s: %s\n", uri.c_str(),
                 std::string(reader.status().message()).c_str());
    return 1;
  }
  cdc::target::PkPagerOptions po;
  po.db = db;
  po.collection = collection;
  po.pk_field = pk;
  po.output_fields = {"*"};
  po.page_size = page;
  po.consistency = cdc::target::ReadConsistency::Strong();
  cdc::target::PkPager pager(reader->get(), po);
  int64_t rows = 0, bytes = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (!pager.done()) {
    auto p = pager.Next();
    if (!p.ok()) {
      std::fprintf(stderr, "read %s: %s\n", collection.c_str(),
                   std::string(p.status().message()).c_str());
      return 1;
    }
    rows += p->rows.num_rows;
    for (const auto& f : p->rows.fields) bytes += static_cast<int64_t>(f.ByteSizeLong());
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"rows\": %lld, \"seconds\": %.4f, \"bytes\": %lld}\n",
              static_cast<long long>(rows), secs, static_cast<long long>(bytes));
  return 0;
}
