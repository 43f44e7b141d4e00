// etcd client pieces that need no server: key ranges, option validation, request building and
// the error for an endpoint nobody listens on.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "etcd/client.h"
#include "etcd/convert.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdc::etcd {
namespace {

using ::testing::HasSubstr;

TEST(PrefixEndTest, IncrementsLastByteAndCarries) {
  EXPECT_EQ(PrefixEnd("a/b"), "a/c");
  EXPECT_EQ(PrefixEnd("/cdc/task_info/"), "/cdc/task_info0");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff", 2)), std::string(1, '\0'));
  EXPECT_EQ(PrefixEnd(""), std::string(1, '\0'));
}

TEST(ConvertTest, RangeRequestForPrefixLimitRevision) {
  RangeOptions o;
  o.prefix = true;
  o.limit = 5;
  o.revision = 42;
  o.keys_only = true;
  auto req = internal::ToRangeRequest("k/", o);
  EXPECT_EQ(req.key(), "k/");
  EXPECT_EQ(req.range_end(), "k0");
  EXPECT_EQ(req.limit(), 5);
  EXPECT_EQ(req.revision(), 42);
  EXPECT_TRUE(req.keys_only());
}

TEST(ConvertTest, CompareAndOpsMapToEtcdEnums) {
  auto c = internal::ToProto(Compare::ModRevision("k", Compare::Op::kLess, 7));
  EXPECT_EQ(c.target(), etcdserverpb::Compare::MOD);
  EXPECT_EQ(c.result(), etcdserverpb::Compare::LESS);
  EXPECT_EQ(c.mod_revision(), 7);
  auto v = internal::ToProto(Compare::Value("k", Compare::Op::kNotEqual, "x"));
  EXPECT_EQ(v.target(), etcdserverpb::Compare::VALUE);
  EXPECT_EQ(v.value(), "x");
  auto del = internal::ToProto(TxnOp::Delete("p/", true));
  ASSERT_TRUE(del.has_request_delete_range());
  EXPECT_EQ(del.request_delete_range().range_end(), "p0");
  auto put = internal::ToProto(TxnOp::Put("k", "v", 9));
  EXPECT_EQ(put.request_put().lease(), 9);
}

TEST(ConnectTest, RejectsBadOptions) {
  ClientOptions none;
  EXPECT_EQ(Client::Connect(none).status().code(), StatusCode::kInvalidArgument);
  ClientOptions bad;
  bad.endpoints = {"localhost"};
  auto s = Client::Connect(bad).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("'localhost' is not host:port"));
  ClientOptions half;
  half.endpoints = {"127.0.0.1:2379"};
  half.cert_path = "/x.pem";
  EXPECT_THAT(std::string(Client::Connect(half).status().message()), HasSubstr("key"));
  ClientOptions ca;
  ca.endpoints = {"https://127.0.0.1:2379"};
  ca.ca_path = "/nonexistent/ca.pem";
  auto cs = Client::Connect(ca).status();
  EXPECT_EQ(cs.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(cs.message()), HasSubstr("/nonexistent/ca.pem"));
}

TEST(ConnectTest, ClosedPortIsUnavailableAndNamesEndpoint) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string ep = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  close(fd);  // nobody listens there now
  ClientOptions o;
  o.endpoints = {"http://" + ep};
  o.dial_timeout = std::chrono::seconds(2);
  auto s = Client::Connect(o).status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("etcd " + ep + ": connect: connection refused"));
}

}  // namespace
}  // namespace cdc::etcd
