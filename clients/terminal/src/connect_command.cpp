#include "connect_command.hpp"

#include <chrono>
#include <iostream>
#include <thread>

#include <unistd.h>

#include "connect_view.hpp"

namespace trellis::cli {

using nlohmann::json;

CLI::App* add_connect_command(CLI::App& app, ConnectCommand& command) {
  auto* connect = app.add_subcommand("connect", "Talk to a running trellis serve over its WebSocket protocol");
  connect->add_option("URL", command.url, "The server's WebSocket address, like ws://127.0.0.1:8080/ws")
      ->required()
      ->type_name("ws://HOST:PORT/ws");
  connect->add_option("--flow", command.flow, "The flow to start (default: ask, from the server's list)")
      ->type_name("ID");
  connect->add_option("--session", command.session, "Continue this session (its token, printed when it began)")
      ->type_name("TOKEN");
  connect->add_option("--last-seen", command.last_seen,
                      "With --session: the highest output id already seen; later ones are shown (default 0: all)")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  connect->add_flag("--fast", command.fast, "Do not wait at the flow's pauses");
  connect->footer(R"(Type answers as in 'trellis chat': on a list of options, its number; on a
scale, the value; help, pause, resume, restart, stop or skip (with or without
a /) as a single word sends that command. Ctrl-D leaves; the session stays on
the server, and the line printed at the start continues it later.
If the connection drops, connect resumes the session by itself and re-sends an
answer that did not arrive (for up to a minute).

Examples:
  trellis connect ws://127.0.0.1:8080/ws                     pick a flow from the server's list
  trellis connect ws://127.0.0.1:8080/ws --flow braving --fast
  trellis connect ws://127.0.0.1:8080/ws --session TOKEN     continue a session
  printf '1\n7\n' | trellis connect ws://127.0.0.1:8080/ws --flow braving --fast)");
  return connect;
}

int run_connect_command(const ConnectCommand& command) {
  ConnectOptions options;
  options.url = command.url;
  options.flow = command.flow;
  options.session = command.session;
  options.last_seen = command.last_seen.value_or(0);
  options.show_prompt_marker = isatty(STDIN_FILENO) != 0;
  if (!command.fast) {
    options.wait = [](int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  }
  return run_connect(options, std::cin, std::cout, std::cerr);
}

namespace {

// One conversation with the server, from welcome to the end of the flow or input.
class Conversation {
 public:
  Conversation(const ConnectOptions& options, const WsUrl& url, std::istream& in, std::ostream& out,
               std::ostream& err)
      : options_(options), in_(in), out_(out), err_(err), session_(session_options(url)) {}

  int run() {
    auto welcome = session_.open(options_.session, options_.last_seen);
    if (!welcome) {
      err_ << "trellis connect: " << options_.url << ": " << welcome.error() << "\n";
      return 1;
    }
    bool resumed = welcome->value("resumed", false);
    out_ << (resumed ? "(resumed session; " : "(new session; ") << "to continue later: " << resume_command()
         << ")\n" << std::flush;
    const json flows = welcome->value("flows", json::array());

    bool flow_running = false;
    if (resumed && session_.cursor().last_seq() > 0) {
      // What the person has not seen yet arrives now; pauses in it were waited out before.
      while (true) {
        auto event = session_.next(std::chrono::milliseconds(300));
        if (event.kind != WsSession::Event::Kind::Frame) {
          if (auto code = stop_for(event)) return *code;
          break;
        }
        show(event.frame, false);
      }
      flow_running = !ended_;
    }
    if (!flow_running) {
      ended_ = false;
      auto flow = choose_flow(flows);
      if (!flow) return flow.error();
      session_.send({{"type", "start"}, {"seq", session_.cursor().next_seq()}, {"flow", *flow}});
      if (auto code = finish_turn()) return *code;
    }
    while (!ended_) {
      if (options_.show_prompt_marker) out_ << "\n> " << std::flush;
      std::string line;
      if (!std::getline(in_, line)) {
        if (options_.show_prompt_marker) out_ << "\n";
        break;
      }
      session_.send(frame_for_line(line, open_prompt_ ? &*open_prompt_ : nullptr, session_.cursor().next_seq()));
      if (auto code = finish_turn()) return *code;
    }
    session_.close();
    return 0;
  }

 private:
  WsSession::Options session_options(const WsUrl& url) {
    WsSession::Options options;
    options.url = url;
    options.backoff = options_.backoff;
    options.sleep = options_.sleep;
    options.on_reconnecting = [this] { out_ << "(reconnecting\u2026)\n" << std::flush; };
    options.on_reconnected = [this] { out_ << "(reconnected)\n" << std::flush; };
    return options;
  }

  std::string resume_command() const {
    return "trellis connect " + options_.url + " --session " + session_.cursor().token();
  }

  // `live`: part of the turn just answered, so its pauses are honoured.
  void show(const json& frame, bool live) {
    auto output = output_from_frame(frame);
    if (output) {
      if (const auto* pause = std::get_if<engine::PauseOutput>(&*output)) {
        out_.flush();
        if (live && options_.wait) options_.wait(pause->ms);
        return;
      }
      if (const auto* prompt = std::get_if<engine::PromptOutput>(&*output)) open_prompt_ = *prompt;
      if (const auto* safety = std::get_if<engine::SafetyOutput>(&*output)) {
        engine::PromptOutput choices;  // a typed number picks one of the safety choices
        choices.input = engine::InputKind::Choice;
        choices.choices = safety->choices;
        open_prompt_ = std::move(choices);
      }
      if (std::holds_alternative<engine::EndOutput>(*output)) {
        open_prompt_.reset();
        ended_ = true;
      }
    }
    out_ << render_frame(frame) << std::flush;
  }

  // Waits for the outputs of the turn in flight. A turn ends with a prompt, an end
  // or an error; one that ends otherwise (a message after the end) is done once the
  // server has been quiet for a second, since it sends a turn's outputs together.
  std::optional<int> finish_turn() {
    bool has_output = false;
    while (session_.cursor().has_turn_in_flight()) {
      auto event = session_.next(std::chrono::milliseconds(has_output ? 1000 : 30000));
      if (event.kind == WsSession::Event::Kind::Frame) {
        has_output = true;
        show(event.frame, true);
        continue;
      }
      if (auto code = stop_for(event)) return code;
      if (has_output) break;
    }
    return std::nullopt;
  }

  // The exit code when the event ends the conversation (superseded, lost).
  std::optional<int> stop_for(const WsSession::Event& event) {
    switch (event.kind) {
      case WsSession::Event::Kind::Superseded:
        err_ << "This session was taken over by another connection (superseded), so this one stops here.\n"
             << "To continue it here instead: " << resume_command() << "\n";
        return 1;
      case WsSession::Event::Kind::Lost:
        err_ << "trellis connect: " << options_.url << ": " << event.reason << ".\n"
             << "To continue later: " << resume_command() << " --last-seen " << session_.cursor().last_seen()
             << "\n";
        return 1;
      case WsSession::Event::Kind::Frame:
      case WsSession::Event::Kind::Quiet: break;
    }
    return std::nullopt;
  }

  tl::expected<std::string, int> choose_flow(const json& flows) {
    if (options_.flow) {
      if (pick_flow(*options_.flow, flows) == *options_.flow) return *options_.flow;
      err_ << "trellis connect: this server has no flow '" << *options_.flow << "'; it offers:\n"
           << render_flow_menu(flows);
      return tl::unexpected(1);
    }
    if (!flows.is_array() || flows.empty()) {
      err_ << "trellis connect: this server offers no flows\n";
      return tl::unexpected(1);
    }
    out_ << "Which flow?\n" << render_flow_menu(flows);
    for (;;) {
      if (options_.show_prompt_marker) out_ << "\n> " << std::flush;
      std::string line;
      if (!std::getline(in_, line)) return tl::unexpected(0);
      if (auto flow = pick_flow(line, flows)) return *flow;
      out_ << "Type a number from 1 to " << flows.size() << ", or a flow's id.\n";
    }
  }

  const ConnectOptions& options_;
  std::istream& in_;
  std::ostream& out_;
  std::ostream& err_;
  WsSession session_;
  std::optional<engine::PromptOutput> open_prompt_;
  bool ended_ = false;
};

}  // namespace

int run_connect(const ConnectOptions& options, std::istream& in, std::ostream& out, std::ostream& err) {
  auto url = parse_ws_url(options.url);
  if (!url) {
    err << "trellis connect: " << url.error() << "\n";
    return 2;
  }
  Conversation conversation(options, *url, in, out, err);
  return conversation.run();
}

}  // namespace trellis::cli
