// Service URLs of the Pulsar client.
#include <gtest/gtest.h>

#include "pulsar/transport.h"

namespace cdc::pulsar {
namespace {

TEST(PulsarServiceUrl, HostsPortsAndTls) {
  auto eps = ParseServiceUrl("pulsar+ssl://a.example:7000,b.example");
  ASSERT_TRUE(eps.ok()) << eps.status();
  ASSERT_EQ(eps->size(), 2u);
  EXPECT_TRUE((*eps)[0].tls);
  EXPECT_EQ((*eps)[0].port, 7000);
  EXPECT_EQ((*eps)[1].port, 6651);
  EXPECT_EQ(ParseServiceUrl("pulsar://[::1]:6650")->at(0).host, "::1");
  EXPECT_EQ(ParseServiceUrl("localhost:6650").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseServiceUrl("pulsar://h:99999").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cdc::pulsar
