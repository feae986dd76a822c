// PullInbox: messages come out in order, all at once; a full inbox holds
// the reader back; Close drains, Fail drops and releases a blocked reader.
#include "central/pull_inbox.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace kv::central {
namespace {

using kv::replication::v1::PullResponse;

PullResponse Batch(uint64_t first, size_t entries, size_t value_bytes = 0) {
  PullResponse response;
  for (size_t i = 0; i < entries; ++i) {
    auto* entry = response.mutable_batch()->add_entries();
    entry->set_sequence(first + i);
    entry->mutable_entry()->set_value(std::string(value_bytes, 'v'));
  }
  return response;
}

PullResponse Heartbeat(uint64_t head) {
  PullResponse response;
  response.mutable_heartbeat()->set_head_sequence(head);
  return response;
}

TEST(PullInboxTest, TakeAllReturnsEverythingQueuedInOrder) {
  PullInbox inbox(1 << 20);
  ASSERT_TRUE(inbox.Push(Batch(1, 2), absl::UnixEpoch()));
  ASSERT_TRUE(inbox.Push(Heartbeat(2), absl::UnixEpoch() + absl::Seconds(1)));
  ASSERT_TRUE(inbox.Push(Batch(3, 1), absl::UnixEpoch()));
  std::optional<std::vector<PullInbox::Received>> taken = inbox.TakeAll(absl::ZeroDuration());
  ASSERT_TRUE(taken.has_value());
  ASSERT_EQ(taken->size(), 3u);
  EXPECT_EQ((*taken)[0].message.batch().entries(0).sequence(), 1u);
  EXPECT_EQ((*taken)[1].message.heartbeat().head_sequence(), 2u);
  EXPECT_EQ((*taken)[1].received_at, absl::UnixEpoch() + absl::Seconds(1));
  EXPECT_EQ((*taken)[2].message.batch().entries(0).sequence(), 3u);
  // Taken once: the next call times out empty.
  taken = inbox.TakeAll(absl::Milliseconds(1));
  ASSERT_TRUE(taken.has_value());
  EXPECT_TRUE(taken->empty());
}

TEST(PullInboxTest, NudgeEndsTheWaitAtOnce) {
  PullInbox inbox(1 << 20);
  inbox.Nudge();
  std::optional<std::vector<PullInbox::Received>> taken = inbox.TakeAll(absl::Hours(1));
  ASSERT_TRUE(taken.has_value());
  EXPECT_TRUE(taken->empty());
  // A nudge is used up: the next wait times out (short, to keep the test
  // quick; a nudge left set would return at once as well, so check the
  // clock).
  const absl::Time start = absl::Now();
  taken = inbox.TakeAll(absl::Milliseconds(30));
  ASSERT_TRUE(taken.has_value());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(30));
}

TEST(PullInboxTest, CloseDrainsThenEnds) {
  PullInbox inbox(1 << 20);
  ASSERT_TRUE(inbox.Push(Batch(1, 1), absl::UnixEpoch()));
  inbox.Close();
  std::optional<std::vector<PullInbox::Received>> taken = inbox.TakeAll(absl::Seconds(10));
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->size(), 1u);
  EXPECT_FALSE(inbox.TakeAll(absl::Seconds(10)).has_value());
  EXPECT_TRUE(inbox.why().empty());
}

TEST(PullInboxTest, FailDropsQueuedMessagesAndRefusesMore) {
  PullInbox inbox(1 << 20);
  ASSERT_TRUE(inbox.Push(Batch(1, 1), absl::UnixEpoch()));
  inbox.Fail("gap: expected 2");
  inbox.Fail("second reason is not kept");
  EXPECT_FALSE(inbox.Push(Batch(2, 1), absl::UnixEpoch()));
  EXPECT_FALSE(inbox.TakeAll(absl::Seconds(10)).has_value());
  EXPECT_EQ(inbox.why(), "gap: expected 2");
}

TEST(PullInboxTest, AnEmptyInboxTakesAMessageLargerThanItsBound) {
  PullInbox inbox(100);
  ASSERT_TRUE(inbox.Push(Batch(1, 1, 1000), absl::UnixEpoch()));
  std::optional<std::vector<PullInbox::Received>> taken = inbox.TakeAll(absl::ZeroDuration());
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->size(), 1u);
}

TEST(PullInboxTest, AFullInboxBlocksTheReaderUntilTaken) {
  PullInbox inbox(100);
  ASSERT_TRUE(inbox.Push(Batch(1, 1, 1000), absl::UnixEpoch()));
  absl::Notification pushed;
  std::thread reader([&] {
    EXPECT_TRUE(inbox.Push(Batch(2, 1), absl::UnixEpoch()));
    pushed.Notify();
  });
  EXPECT_FALSE(pushed.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  std::optional<std::vector<PullInbox::Received>> taken = inbox.TakeAll(absl::ZeroDuration());
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->size(), 1u);
  EXPECT_TRUE(pushed.WaitForNotificationWithTimeout(absl::Seconds(10)));
  reader.join();
  taken = inbox.TakeAll(absl::ZeroDuration());
  ASSERT_TRUE(taken.has_value());
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ((*taken)[0].message.batch().entries(0).sequence(), 2u);
}

TEST(PullInboxTest, FailReleasesABlockedReader) {
  PullInbox inbox(100);
  ASSERT_TRUE(inbox.Push(Batch(1, 1, 1000), absl::UnixEpoch()));
  std::thread reader([&] { EXPECT_FALSE(inbox.Push(Batch(2, 1), absl::UnixEpoch())); });
  inbox.Fail("apply failed");
  reader.join();
}

}  // namespace
}  // namespace kv::central
