// GroupCommitWait: which writes the central's poller waits for before it
// commits a group, with explicit times (no clock, no sleeps).

#include "central/group_commit_wait.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace kv::central {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

absl::Time At(int64_t us) { return kStart + absl::Microseconds(us); }

GroupCommitWait::Options Enabled() {
  GroupCommitWait::Options options;
  options.max_wait = absl::Microseconds(200);
  options.active_within = absl::Milliseconds(10);
  options.max_clients = 8;
  return options;
}

TEST(GroupCommitWaitTest, ExpectsTheActiveClientsWithNoWriteAtTheCentral) {
  GroupCommitWait wait(Enabled());
  for (const char* c : {"a", "b", "c", "d"}) wait.OnArrival(c, At(0));
  EXPECT_EQ(wait.Expected(At(10)), 0);  // all four are at the central
  wait.OnAnswer("a");
  wait.OnAnswer("b");
  EXPECT_EQ(wait.Expected(At(310)), 2);  // c and d wait, a and b will come
  wait.OnArrival("a", At(400));
  EXPECT_EQ(wait.Expected(At(410)), 1);
  wait.OnArrival("b", At(420));
  EXPECT_EQ(wait.Expected(At(430)), 0);
}

TEST(GroupCommitWaitTest, ASingleWriterNeverWaits) {
  GroupCommitWait wait(Enabled());
  for (int i = 0; i < 5; ++i) {
    wait.OnArrival("only", At(i * 1000));
    // When its write is in the batch, nobody else is expected.
    EXPECT_EQ(wait.Expected(At(i * 1000 + 1)), 0);
    wait.OnAnswer("only");
  }
}

TEST(GroupCommitWaitTest, ClientsIdleLongerThanActiveWithinAreNotExpected) {
  GroupCommitWait wait(Enabled());
  wait.OnArrival("idle", At(0));
  wait.OnAnswer("idle");
  wait.OnArrival("busy", At(20'000));
  // idle wrote 10.1 ms ago; busy's write is at the central.
  EXPECT_EQ(wait.Expected(At(10'100)), 0);
  wait.OnAnswer("busy");
  EXPECT_EQ(wait.Expected(At(20'400)), 1);  // busy only
}

TEST(GroupCommitWaitTest, ATimedOutWaitBacksOffDoublingAndACompleteOneResets) {
  GroupCommitWait wait(Enabled());
  wait.OnArrival("a", At(0));
  wait.OnArrival("b", At(0));
  wait.OnAnswer("b");
  ASSERT_EQ(wait.Expected(At(110)), 1);

  wait.OnWaitEnded(/*complete=*/false, At(310));
  EXPECT_EQ(wait.Expected(At(320)), 0);                 // backed off 10 ms
  EXPECT_EQ(wait.Expected(At(310 + 9'999)), 0);
  EXPECT_EQ(wait.Expected(At(310 + 10'000)), 0);         // b's write is 10.3 ms old now
  wait.OnArrival("b", At(10'400));
  wait.OnAnswer("b");
  EXPECT_EQ(wait.Expected(At(10'510)), 1);                // the backoff is over

  wait.OnWaitEnded(/*complete=*/false, At(10'710));
  EXPECT_EQ(wait.Expected(At(10'710 + 19'999)), 0);       // twice as long: 20 ms
  wait.OnArrival("b", At(30'700));
  wait.OnAnswer("b");
  EXPECT_EQ(wait.Expected(At(30'810)), 1);

  wait.OnWaitEnded(/*complete=*/true, At(30'900));
  wait.OnWaitEnded(/*complete=*/false, At(31'000));
  EXPECT_EQ(wait.Expected(At(31'000 + 9'999)), 0);
  wait.OnArrival("b", At(41'000));
  wait.OnAnswer("b");
  EXPECT_EQ(wait.Expected(At(41'100)), 1);  // back to 10 ms after the reset
}

TEST(GroupCommitWaitTest, ManyClientsAreNotAFewClosedLoopsUntilForgotten) {
  GroupCommitWait wait(Enabled());  // max_clients 8
  for (int i = 0; i < 9; ++i) {
    const std::string c = absl::StrCat("old", i);
    wait.OnArrival(c, At(0));
    wait.OnAnswer(c);
  }
  wait.OnArrival("x", At(200));
  wait.OnAnswer("x");
  EXPECT_EQ(wait.Expected(At(400)), 0);  // 10 clients known: more than 8
  // Two seconds later the old ones are forgotten on the next arrival.
  wait.OnArrival("x", At(2'000'000));
  wait.OnAnswer("x");
  wait.OnArrival("y", At(2'000'200));
  EXPECT_EQ(wait.Expected(At(2'000'300)), 1);  // x
}

TEST(GroupCommitWaitTest, DisabledExpectsNobody) {
  GroupCommitWait::Options options = Enabled();
  options.max_wait = absl::ZeroDuration();
  GroupCommitWait wait(options);
  EXPECT_FALSE(wait.enabled());
  wait.OnArrival("a", At(0));
  wait.OnArrival("b", At(0));
  wait.OnAnswer("b");
  EXPECT_EQ(wait.Expected(At(110)), 0);
}

TEST(GroupCommitWaitTest, AnswersOfUnknownClientsAreIgnored) {
  GroupCommitWait wait(Enabled());
  wait.OnAnswer("never-arrived");
  EXPECT_EQ(wait.Expected(At(10)), 0);
  wait.OnArrival("a", At(20));
  wait.OnAnswer("a");
  wait.OnAnswer("a");  // a second answer does not go below zero
  wait.OnArrival("a", At(50));
  EXPECT_EQ(wait.Expected(At(60)), 0);  // its one write is at the central
}

}  // namespace
}  // namespace kv::central
