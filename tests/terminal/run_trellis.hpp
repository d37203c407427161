#pragma once
// Runs a shell command line, as a person at a terminal would, and collects what it
// printed (stdout and stderr together) and its exit status. For the tests that run
// the built `trellis` binary.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace trellis::cli {

struct Run {
  int status = -1;     // the exit status; -1 when it did not exit normally or could not start
  std::string output;  // stdout and stderr together
};

inline Run run_shell(const std::string& command_line) {
  Run result;
  FILE* pipe = ::popen((command_line + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// `trellis ARGUMENTS`, with `stdin_text` (printf-formatted) as its input, or none.
inline Run run(const std::string& arguments, const std::string& stdin_text = "") {
  const std::string trellis = std::string(TRELLIS_BINARY) + " " + arguments;
  if (stdin_text.empty()) return run_shell(trellis + " </dev/null");
  return run_shell("printf '" + stdin_text + "' | " + trellis);
}

}  // namespace trellis::cli
