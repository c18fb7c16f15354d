// smtp-out client session with a connection cache (ClientHooks::park, ClientOptions::reuse_time):
// out of jobs it parks instead of quitting and stays silent; woken, it takes the next job after
// RSET; woken to quit, or when its idle time ends and unpark agrees, it sends QUIT; when unpark
// says a wake is on its way it waits for it; a server closing the idle connection, or saying
// 421, is no failure; without reuse_time it quits as before.
#include <gtest/gtest.h>

#include <functional>

#include "client_fixture.h"

namespace portico::smtpout::testing {
namespace {

const std::string kGreeting = "220 mx.example.net ESMTP\r\n";
const std::string kEhlo = "250-mx.example.net\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
const std::string kUpTo354 = "250 ok\r\n250 ok\r\n354 go\r\n";  // MAIL, RCPT, DATA

// The scheduler stand-in, with a connection cache: park() answers `answer` and keeps the wake.
struct Cache {
  Scheduler s;
  Park answer = Park::parked;
  bool unpark_answer = true;
  int parks = 0;
  int unparks = 0;
  std::function<bool(bool)> wake;
  std::function<void()> on_park;  // runs inside park(), before it answers

  ClientHooks hooks() {
    ClientHooks h = s.hooks();
    h.park = [this](std::function<bool(bool)> w) {
      ++parks;
      s.events.push_back("park");
      wake = std::move(w);
      if (on_park) on_park();
      return answer;
    };
    h.unpark = [this] {
      ++unparks;
      return unpark_answer;
    };
    return h;
  }
};

ClientOptions reusing() {
  ClientOptions o = default_options();
  o.reuse_time = std::chrono::seconds(2);
  return o;
}

// A connection whose first job was delivered and that then parked.
struct Parked {
  TempDir dir;
  Cache cache;
  std::unique_ptr<Connection> c;
  explicit Parked(ClientOptions options = reusing()) {
    c = std::make_unique<Connection>(options, cache.hooks(), make_job(dir, "first", {"b@x.net"}));
    c->feed(kGreeting);
    c->feed(kEhlo);
  }
  // The first job's replies; returns what the session wrote after its message.
  std::string deliver_first() {
    c->feed(kUpTo354);
    return c->feed("250 ok\r\n");
  }
};

TEST(SmtpOutReuse, OutOfJobsItParksSilently) {
  Parked p;
  EXPECT_EQ(p.deliver_first(), "");  // no QUIT
  EXPECT_EQ(p.cache.s.events,
            (std::vector<std::string>{"job_done:first", "next_job:none", "park"}));
  EXPECT_FALSE(p.c->driver->closed());
}

TEST(SmtpOutReuse, WokenItTakesTheNextJobAfterRset) {
  Parked p;
  p.deliver_first();
  p.cache.s.more.push_back(make_job(p.dir, "second", {"c@x.net"}));
  ASSERT_TRUE(p.cache.wake(false));
  EXPECT_EQ(p.c->feed(""), "RSET\r\n");
  EXPECT_EQ(p.c->feed("250 ok\r\n"),
            "MAIL FROM:<alice@example.test>\r\nRCPT TO:<c@x.net>\r\nDATA\r\n");
  p.c->feed(kUpTo354);
  EXPECT_EQ(p.c->feed("250 ok\r\n"), "");
  EXPECT_EQ(p.cache.s.outcomes("second").at(0).outcome, Outcome::delivered);
  EXPECT_EQ(p.cache.parks, 2);  // parked again afterwards
}

TEST(SmtpOutReuse, WokenWithNothingToTakeItParksAgain) {
  Parked p;
  p.deliver_first();
  ASSERT_TRUE(p.cache.wake(false));
  EXPECT_EQ(p.c->feed(""), "");
  EXPECT_EQ(p.cache.parks, 2);
}

TEST(SmtpOutReuse, WokenToQuitItQuits) {
  Parked p;
  p.deliver_first();
  ASSERT_TRUE(p.cache.wake(true));
  EXPECT_EQ(p.c->feed(""), "QUIT\r\n");
  p.c->feed("221 bye\r\n");
  EXPECT_TRUE(p.c->driver->closed());
  EXPECT_EQ(p.cache.s.events.back(), "closed");
  EXPECT_EQ(p.cache.s.reports.at(0).error, "");
}

TEST(SmtpOutReuse, TheIdleTimeEndsInQuitWhenUnparked) {
  Parked p;
  p.deliver_first();
  EXPECT_GE(p.c->driver->run_timers(1), 1u);
  EXPECT_EQ(p.cache.unparks, 1);
  EXPECT_EQ(p.c->driver->take(), "QUIT\r\n");
}

TEST(SmtpOutReuse, TheIdleTimeEndsInWaitingWhenAWakeIsComing) {
  Parked p;
  p.cache.unpark_answer = false;  // the scheduler has already woken it
  p.deliver_first();
  p.c->driver->run_timers(1);
  EXPECT_EQ(p.c->driver->take(), "");
  p.cache.s.more.push_back(make_job(p.dir, "second", {"c@x.net"}));
  ASSERT_TRUE(p.cache.wake(false));
  EXPECT_EQ(p.c->feed(""), "RSET\r\n");
}

TEST(SmtpOutReuse, AServerClosingTheIdleConnectionIsNoFailure) {
  Parked p;
  p.deliver_first();
  p.c->driver->disconnect();
  EXPECT_EQ(p.cache.s.events.back(), "closed");
  EXPECT_EQ(p.cache.s.reports.at(0).error, "");
  EXPECT_FALSE(p.cache.wake(false));  // the session is gone: the wake says so
}

TEST(SmtpOutReuse, A421WhileIdleClosesWithoutFailure) {
  Parked p;
  p.deliver_first();
  EXPECT_EQ(p.c->feed("421 4.4.2 idle too long\r\n"), "");
  EXPECT_TRUE(p.c->driver->closed());
  EXPECT_EQ(p.cache.s.reports.at(0).error, "");
}

TEST(SmtpOutReuse, RetryAsksAgainForTheJobThatArrivedMeanwhile) {
  Parked p;
  // A job arrives between next_job's "none" and park: park says retry.
  p.cache.answer = Park::retry;
  p.cache.on_park = [&p] { p.cache.s.more.push_back(make_job(p.dir, "late", {"d@x.net"})); };
  EXPECT_EQ(p.deliver_first(), "RSET\r\n");
  EXPECT_EQ(p.cache.s.events,
            (std::vector<std::string>{"job_done:first", "next_job:none", "park", "next_job:late"}));
}

TEST(SmtpOutReuse, ParkQuitMeansQuit) {
  Parked p;
  p.cache.answer = Park::quit;
  EXPECT_EQ(p.deliver_first(), "QUIT\r\n");
}

TEST(SmtpOutReuse, WithoutReuseTimeItQuitsWithoutAsking) {
  Parked p(default_options());
  EXPECT_EQ(p.deliver_first(), "QUIT\r\n");
  EXPECT_EQ(p.cache.parks, 0);
}

}  // namespace
}  // namespace portico::smtpout::testing
