#include "common/msg_log.h"

#include <gtest/gtest.h>

namespace cdc {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TEST(MsgLogTest, StartWindowAdmitsFiveMessagesWithinFiveMinutes) {
  const auto t0 = MsgLog::Clock::time_point{} + std::chrono::hours(1);
  MsgLog log(t0);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(log.Admit(t0 + seconds(i))) << i;
  EXPECT_FALSE(log.Admit(t0 + seconds(6)));

  MsgLog late(t0);
  EXPECT_TRUE(late.Admit(t0 + minutes(5)));
  EXPECT_FALSE(late.Admit(t0 + minutes(5) + seconds(1)));
  EXPECT_FALSE(late.Admit(t0));  // closed stays closed
}

TEST(MsgLogTest, ResetOpensANewWindowAlsoAfterTheFirstClosed) {
  const auto t0 = MsgLog::Clock::time_point{} + std::chrono::hours(1);
  MsgLog log(t0);
  while (log.Admit(t0)) {
  }
  log.Reset(2, 1, t0 + minutes(10));
  EXPECT_TRUE(log.Admit(t0 + minutes(10)));
  EXPECT_TRUE(log.Admit(t0 + minutes(10)));
  EXPECT_FALSE(log.Admit(t0 + minutes(10)));

  log.Reset(100, 1, t0 + minutes(20));
  EXPECT_TRUE(log.Admit(t0 + minutes(21)));
  EXPECT_FALSE(log.Admit(t0 + minutes(21) + seconds(1)));  // past the minute

  log.Reset(0, 5, t0 + minutes(30));
  EXPECT_FALSE(log.Admit(t0 + minutes(30)));
}

TEST(MsgLogTest, ForceAdmitsEverythingUntilTurnedOff) {
  const auto t0 = MsgLog::Clock::time_point{} + std::chrono::hours(1);
  MsgLog log(t0);
  log.Reset(0, 0, t0);
  EXPECT_FALSE(log.Admit(t0));
  log.SetForce(true);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(log.Admit(t0 + std::chrono::hours(i)));
  log.SetForce(false);
  EXPECT_FALSE(log.Admit(t0 + std::chrono::hours(200)));
}

}  // namespace
}  // namespace cdc
