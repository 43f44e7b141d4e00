#include "api/envelope.h"

#include <gtest/gtest.h>

namespace cdc::api {
namespace {

TEST(EnvelopeTest, CodesByStatus) {
  EXPECT_EQ(HandleCode(OkStatus()), 200);
  EXPECT_EQ(HandleCode(InvalidArgumentError("x")), 400);
  EXPECT_EQ(HandleCode(NotFoundError("x")), 400);
  EXPECT_EQ(HandleCode(FailedPreconditionError("x")), 400);
  EXPECT_EQ(HandleCode(AlreadyExistsError("x")), 400);
  EXPECT_EQ(HandleCode(Status(StatusCode::kUnauthenticated, "x")), 400);
  EXPECT_EQ(HandleCode(Status(StatusCode::kPermissionDenied, "x")), 400);
  EXPECT_EQ(HandleCode(ResourceExhaustedError("x")), 500);
  EXPECT_EQ(HandleCode(UnavailableError("x")), 500);
  EXPECT_EQ(HandleCode(InternalError("x")), 500);
}

TEST(EnvelopeTest, SuccessOmitsEmptyData) {
  EXPECT_EQ(OkEnvelope(nullptr).dump(), R"({"code":200})");
  EXPECT_EQ(OkEnvelope(nlohmann::json::object()).dump(), R"({"code":200})");
  EXPECT_EQ(OkEnvelope({{"task_id", "a"}}).dump(), R"({"code":200,"data":{"task_id":"a"}})");
}

TEST(EnvelopeTest, ErrorWordingPerStage) {
  auto e = ErrorEnvelope(Stage::kMethod, "", OkStatus());
  EXPECT_EQ(e.dump(), R"({"code":405,"message":"only support the POST method"})");
  e = ErrorEnvelope(Stage::kBody, "", InvalidArgumentError("bad"));
  EXPECT_EQ(e["code"], 400);
  EXPECT_EQ(e["message"], "fail to unmarshal the request, error: bad");
  e = ErrorEnvelope(Stage::kType, "x", InvalidArgumentError("[a b]"));
  EXPECT_EQ(e["code"], 400);
  EXPECT_EQ(e["message"], "invalid 'request_type' param, can be set [a b]");
  e = ErrorEnvelope(Stage::kDecode, "create", InvalidArgumentError("'x' expected"));
  EXPECT_EQ(e["code"], 500);
  EXPECT_EQ(e["message"], "fail to decode the create request, error: 'x' expected");
  e = ErrorEnvelope(Stage::kHandle, "get", NotFoundError("not found: [a]"));
  EXPECT_EQ(e["code"], 400);
  EXPECT_EQ(e["message"], "fail to handle the get request, error: not found: [a]");
  e = ErrorEnvelope(Stage::kHandle, "create", ResourceExhaustedError("limit"));
  EXPECT_EQ(e["code"], 500);
}

}  // namespace
}  // namespace cdc::api
