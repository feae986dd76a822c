// Self-tests of the kv_testing harness: child processes, status matchers,
// ASSERT_EVENTUALLY, and CentralProcess's failure reporting.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest-spi.h"
#include "tests/harness/eventually.h"
#include "tests/harness/process.h"
#include "tests/integration/itest_util.h"

namespace kv::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class HarnessTest : public CentralFixture {};

TEST_F(HarnessTest, ProcessExitStatusSignalsAndLogs) {
  ProcessOptions options;
  options.argv = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"};
  options.stdout_path = dir_->Path("sh.log");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Process> sh, Process::Start(options));
  ASSERT_OK_AND_ASSIGN(ExitStatus status, sh->Wait(absl::Seconds(30)));
  EXPECT_TRUE(status.Exited(3)) << status.ToString();
  EXPECT_FALSE(sh->IsRunning());
  EXPECT_EQ(sh->LogTail(10), "out\nerr\n");

  options.argv = {"/bin/sleep", "600"};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Process> sleeper, Process::Start(options));
  EXPECT_TRUE(sleeper->IsRunning());
  EXPECT_THAT(sleeper->Wait(absl::Milliseconds(20)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  ASSERT_OK(sleeper->Pause());
  ASSERT_OK(sleeper->Resume());
  ASSERT_OK_AND_ASSIGN(status, sleeper->Terminate(absl::Seconds(30)));
  EXPECT_EQ(status.signal, SIGTERM);
  EXPECT_OK(sleeper->Kill());  // already reaped: no-op

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Process> killed, Process::Start(options));
  ASSERT_OK(killed->Kill());
  EXPECT_EQ(killed->exit_status()->signal, SIGKILL);
  EXPECT_THAT(killed->Pause(), StatusIs(absl::StatusCode::kFailedPrecondition));

  options.argv = {"/no/such/binary"};
  EXPECT_THAT(Process::Start(options),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("/no/such/binary")));
}

TEST_F(HarnessTest, RunCommandCapturesStreamsStdinAndEnv) {
  ASSERT_OK_AND_ASSIGN(
      CommandResult result,
      RunCommand({"/bin/sh", "-c", "cat; printf \"$FOO\" >&2; test -z \"$HOME_GONE\"; exit 5"},
                 dir_->path(), {{"FOO", "bar"}, {"FOO", "baz"}, {"HOME_GONE", std::nullopt}},
                 std::string("in\0put", 6)));
  EXPECT_TRUE(result.status.Exited(5)) << result.status.ToString();
  EXPECT_EQ(result.stdout_data, std::string("in\0put", 6));
  EXPECT_EQ(result.stderr_data, "baz");
}

TEST_F(HarnessTest, StatusMatchers) {
  EXPECT_OK(absl::OkStatus());
  EXPECT_OK(grpc::Status::OK);
  EXPECT_OK(absl::StatusOr<int>(3));
  EXPECT_THAT(absl::NotFoundError("gone"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(absl::NotFoundError("gone"), StatusIs(absl::StatusCode::kNotFound, "gone"));
  EXPECT_THAT(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "too long"),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("long")));
  EXPECT_THAT(absl::StatusOr<int>(absl::InternalError("x")), Not(IsOk()));
  EXPECT_THAT(absl::StatusOr<int>(absl::InternalError("x")),
              Not(StatusIs(absl::StatusCode::kInternal, "y")));
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(absl::InternalError("broken")), "INTERNAL: broken");
  ASSERT_OK_AND_ASSIGN(int v, absl::StatusOr<int>(7));
  EXPECT_EQ(v, 7);
}

TEST_F(HarnessTest, EventuallyRetriesAndReportsTheLastFailure) {
  int attempts = 0;
  ASSERT_EVENTUALLY([&] { ASSERT_GE(++attempts, 5); }, absl::Seconds(10));
  EXPECT_EQ(attempts, 5);
  EXPECT_NONFATAL_FAILURE(
      EXPECT_EVENTUALLY([] { ADD_FAILURE() << "still not there"; }, absl::Milliseconds(30)),
      "still not there");
}

TEST_F(HarnessTest, CentralThatCannotStartReportsItsLog) {
  CentralProcessOptions options;
  options.extra_flags = {"--no_such_flag_for_testing=1"};
  absl::StatusOr<std::unique_ptr<CentralProcess>> central =
      CentralProcess::Start(dir_->Path("bad"), options);
  EXPECT_THAT(central, StatusIs(absl::StatusCode::kUnavailable,
                                HasSubstr("no_such_flag_for_testing")));
}

TEST_F(HarnessTest, RestartChangesPortAndKeepsData) {
  ASSERT_NO_FATAL_FAILURE(StartCentral());
  const std::string ns = MustCreateNamespace("restart");
  ASSERT_OK(Put(ns, "k", "v"));
  const std::string pid = central_->ready_info().at("pid");
  EXPECT_EQ(pid, absl::StrCat(central_->process()->pid()));
  ASSERT_OK(central_->Kill());
  ASSERT_OK(central_->StartAgain());
  EXPECT_NE(central_->ready_info().at("pid"), pid);
  Reconnect();
  EXPECT_EQ(Get(ns, "k"), "v");
}

TEST_F(HarnessTest, RestartOnAKeptPortWaitsWhileAnotherSocketHoldsIt) {
  CentralProcessOptions options;
  options.keep_port = true;
  ASSERT_NO_FATAL_FAILURE(StartCentral(options));
  const std::string ns = MustCreateNamespace("kept");
  ASSERT_OK(Put(ns, "k", "v"));
  const int port = central_->grpc_port();
  ASSERT_OK(central_->Kill());

  // Another listener takes the port while the node is down.
  const int holder = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(holder, 0);
  const int one = 1;
  ASSERT_EQ(setsockopt(holder, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << errno;
  ASSERT_EQ(listen(holder, 1), 0);
  // It lets go once the node has failed to listen there at least once (a
  // failure of the test when that never shows in the node's log).
  std::thread release([&] {
    EXPECT_EVENTUALLY(
        [&] {
          ASSERT_THAT(ReadFileToString(central_->log_path()).value_or(""),
                      HasSubstr("Address already in use"));
        },
        absl::Seconds(20));
    close(holder);
  });
  const absl::Status started = central_->StartAgain();
  release.join();
  ASSERT_OK(started);
  EXPECT_EQ(central_->grpc_port(), port);
  Reconnect();
  EXPECT_EQ(Get(ns, "k"), "v");
}

}  // namespace
}  // namespace kv::testing
