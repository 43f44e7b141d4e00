#include "common/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cdc {
namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) return InvalidArgumentError("odd value " + std::to_string(v));
  return v / 2;
}

Result<int> Quarter(int v) {
  ASSIGN_OR_RETURN(int h, Half(v));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int v) {
  RETURN_IF_ERROR(Half(v).status());
  return OkStatus();
}

TEST(StatusTest, AssignOrReturnPropagatesFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), testing::HasSubstr("odd value 3"));
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(5).ok());
}

TEST(StatusTest, AnnotateKeepsCodeAndPrefixesContext) {
  Status s = Annotate(UnavailableError("connection refused"), "etcd 127.0.0.1:2379");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "etcd 127.0.0.1:2379: connection refused");
  EXPECT_TRUE(IsRetryable(s));
  EXPECT_FALSE(IsRetryable(InvalidArgumentError("x")));
  EXPECT_TRUE(Annotate(OkStatus(), "ctx").ok());
}

}  // namespace
}  // namespace cdc
