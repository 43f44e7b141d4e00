// ha::LeaseGuard with a fake clock: when may a server write for the tasks it holds?
#include "ha/lease_guard.h"

#include <gtest/gtest.h>

namespace cdc::ha {
namespace {

using std::chrono::milliseconds;

struct FakeClock {
  Nanos now{std::chrono::seconds(100)};
  Clock fn() {
    return [this] { return now; };
  }
};

TEST(LeaseGuardTest, NoLeaseNoWrites) {
  FakeClock clock;
  LeaseGuard g(milliseconds(3000), milliseconds(750), clock.fn());
  EXPECT_FALSE(g.Valid());
  EXPECT_EQ(g.AgeMs(), -1);
  EXPECT_EQ(g.window(), milliseconds(2250));
}

TEST(LeaseGuardTest, WritesStopMarginBeforeEtcdCanExpireTheLease) {
  FakeClock clock;
  LeaseGuard g(milliseconds(3000), milliseconds(750), clock.fn());
  const Nanos sent = clock.now;
  clock.now += milliseconds(40);  // the grant's round trip
  g.Granted(7, "s1#7", sent);
  EXPECT_TRUE(g.Valid());
  // etcd counts the TTL from when it received the grant (>= sent): it cannot expire the lease
  // before sent + 3000 ms. The guard closes at sent + 2250 ms.
  clock.now = sent + milliseconds(2249);
  EXPECT_TRUE(g.Valid());
  clock.now = sent + milliseconds(2250);
  EXPECT_FALSE(g.Valid());
  EXPECT_EQ(g.AgeMs(), 2250);
}

TEST(LeaseGuardTest, KeepAliveCountsFromItsSendTimeNotItsAnswer) {
  FakeClock clock;
  LeaseGuard g(milliseconds(3000), milliseconds(750), clock.fn());
  g.Granted(7, "s1#7", clock.now);
  const Nanos sent = clock.now + milliseconds(1000);
  clock.now = sent + milliseconds(900);  // a slow answer
  g.KeptAlive(7, sent);
  clock.now = sent + milliseconds(2249);
  EXPECT_TRUE(g.Valid());
  clock.now = sent + milliseconds(2251);
  EXPECT_FALSE(g.Valid());
}

TEST(LeaseGuardTest, StaleOrForeignKeepAlivesDoNotExtend) {
  FakeClock clock;
  LeaseGuard g(milliseconds(3000), milliseconds(750), clock.fn());
  const Nanos t0 = clock.now;
  g.Granted(7, "s1#7", t0 + milliseconds(500));
  g.KeptAlive(7, t0);                       // sent before the last one counted: ignored
  g.KeptAlive(8, t0 + milliseconds(2000));  // another lease: ignored
  clock.now = t0 + milliseconds(500) + milliseconds(2250);
  EXPECT_FALSE(g.Valid());
}

TEST(LeaseGuardTest, AFrozenProcessFindsItsWritesClosed) {
  // SIGSTOP for 10 s: the clock (CLOCK_BOOTTIME in production) kept counting.
  FakeClock clock;
  LeaseGuard g(milliseconds(3000), milliseconds(750), clock.fn());
  g.Granted(7, "s1#7", clock.now);
  clock.now += std::chrono::seconds(10);
  EXPECT_FALSE(g.Valid());
  EXPECT_EQ(g.token(), "s1#7");  // until the keeper learns the lease is gone
  g.Lost();
  EXPECT_FALSE(g.Valid());
  EXPECT_EQ(g.token(), "");
  EXPECT_EQ(g.lease(), 0);
}

TEST(LeaseGuardTest, BootClockIsMonotonic) {
  const Nanos a = BootClock();
  const Nanos b = BootClock();
  EXPECT_LE(a, b);
  EXPECT_GT(a.count(), 0);
}

}  // namespace
}  // namespace cdc::ha
