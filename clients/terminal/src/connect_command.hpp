#pragma once
// `trellis connect ws://HOST:PORT/ws [--flow ID] [--session TOKEN] [--last-seen N] [--fast]`:
// talk to a running `trellis serve` over protocol v1 (docs/protocol.md), and
// carry on across dropped connections and server restarts.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "ws_session.hpp"

namespace trellis::cli {

struct ConnectCommand {
  std::string url;
  std::optional<std::string> flow;
  std::optional<std::string> session;
  std::optional<std::int64_t> last_seen;
  bool fast = false;
};

struct ConnectOptions {
  std::string url;
  std::optional<std::string> flow;     // absent: ask, from welcome's list
  std::optional<std::string> session;  // resume this session
  std::int64_t last_seen = 0;          // the highest output id already shown
  bool show_prompt_marker = false;     // print "> " before reading (a terminal)
  std::function<void(int ms)> wait;    // honours pauses; null skips them
  std::function<Backoff()> backoff = [] { return Backoff(); };
  std::function<void(Milliseconds)> sleep;  // between reconnect attempts; null sleeps
};

CLI::App* add_connect_command(CLI::App& app, ConnectCommand& command);
int run_connect_command(const ConnectCommand& command);

// The whole conversation: hello, pick and start a flow, then one turn per line of
// `in` until the flow ends or `in` does. Returns the exit code: 0 at the end of the
// flow or of the input; 1 when the session cannot go on (not found, superseded, the
// server gone for good); 2 for a bad URL. Frames and notes go to `out`, problems to `err`.
int run_connect(const ConnectOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace trellis::cli
