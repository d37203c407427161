#pragma once
// A child process for tests that need the real binaries (`trellis serve`,
// `trellis telegram`): spawned with its own arguments and environment, its
// stdout and stderr appended to a log file, and killed when the owner goes.
// PR_SET_PDEATHSIG covers the test process itself dying.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace trellis::test_support {

// This process's environment without any TRELLIS_* variable, so a developer's
// settings never leak into a test's child.
std::vector<std::string> environment_without_trellis();

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { kill_now(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts `args[0]` (a path) with `args` and exactly `environment`. False if fork failed.
  bool spawn(const std::vector<std::string>& args, const std::vector<std::string>& environment,
             const std::filesystem::path& log_file);
  bool is_running() const { return pid_ > 0; }
  // True (and not running any more) once the child has exited; never blocks.
  bool has_exited();
  // The exit status once it has exited within `timeout` (128 + signal when killed by one).
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);
  // kill -9 and reap it: SIGKILL cannot be caught, so this returns promptly.
  void kill_now();
  // SIGTERM, then the exit status if it exits within `timeout` (else SIGKILL and nullopt).
  std::optional<int> terminate(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = 0;
};

// A port nobody listens on right now (it may be taken again before it is used).
std::uint16_t free_port();

}  // namespace trellis::test_support
