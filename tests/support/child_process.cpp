#include "child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string_view>
#include <thread>

#include "beast.hpp"

extern char** environ;

namespace trellis::test_support {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::vector<std::string> environment_without_trellis() {
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (std::string_view(*entry).substr(0, 8) != "TRELLIS_") environment.emplace_back(*entry);
  }
  return environment;
}

bool ChildProcess::spawn(const std::vector<std::string>& args, const std::vector<std::string>& environment,
                         const std::filesystem::path& log_file) {
  kill_now();
  std::vector<std::string> arg_copies = args, env_copies = environment;
  std::vector<char*> argv, envp;
  for (auto& arg : arg_copies) argv.push_back(arg.data());
  argv.push_back(nullptr);
  for (auto& variable : env_copies) envp.push_back(variable.data());
  envp.push_back(nullptr);
  const std::string log = log_file.string();
  const pid_t parent = getpid();

  pid_t child = fork();
  if (child < 0) return false;
  if (child == 0) {
    // Only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out >= 0) {
      dup2(out, STDOUT_FILENO);
      dup2(out, STDERR_FILENO);
      close(out);
    }
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  pid_ = child;
  return true;
}

bool ChildProcess::has_exited() {
  if (pid_ <= 0) return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
  pid_ = 0;
  return true;
}

std::optional<int> ChildProcess::wait_for_exit(milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

void ChildProcess::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = 0;
}

std::optional<int> ChildProcess::terminate(milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  ::kill(pid_, SIGTERM);
  auto status = wait_for_exit(timeout);
  if (!status) kill_now();
  return status;
}

std::uint16_t free_port() {
  server::asio::io_context io;
  server::tcp::acceptor acceptor(io, server::tcp::endpoint(server::asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

}  // namespace trellis::test_support
