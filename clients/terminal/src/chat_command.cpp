#include "chat_command.hpp"

#include <chrono>
#include <iostream>
#include <thread>

#include <unistd.h>

#include "chat_view.hpp"
#include "flow_lookup.hpp"
#include "trellis/engine_io/flow_directory.hpp"

namespace trellis::cli {

CLI::App* add_chat_command(CLI::App& app, ChatCommand& command) {
  auto* chat = app.add_subcommand("chat", "Talk to a flow in this terminal, as the person would");
  chat->add_option("FLOW", command.flow,
                   "A flow id found under the dialogs folder, or the path of a flow file")
      ->type_name("ID|FILE")
      ->capture_default_str();
  chat->add_flag("--fast", command.fast, "Do not wait at the flow's pauses");
  chat->add_option("--dialogs", command.dialogs,
                   "Where flow ids are looked up (default: $TRELLIS_DIALOGS, else ./dialogs)")
      ->type_name("DIR");
  chat->add_option("--region", command.region,
                   "Whose crisis resources the safety layer shows: a region id of dialogs/safety/policy.json "
                   "(default: the policy's default_region)")
      ->type_name("ID");
  chat->footer(R"(Type your answers and press Enter. On a list of options, type the option's
number ("2") or its words. Type help, pause, resume, restart, stop or skip as a
single word for the commands the flow offers. Ctrl-D leaves.

Examples:
  trellis chat                         talk to the braving flow in ./dialogs
  trellis chat trust --fast            another flow, without waiting at pauses
  trellis chat my-flows/draft.json     a flow file you are writing
  printf '1\n7\n' | trellis chat braving --fast   answers piped in, as tests do)");
  return chat;
}

int run_chat_command(const ChatCommand& command) {
  auto flow = find_flow(command.flow, dialogs_folder(command.dialogs));
  if (!flow) {
    std::cerr << format_all(flow.error());
    return 1;
  }
  ChatOptions options;
  std::shared_ptr<const engine::SafetyPolicy> policy;
  if (auto policy_file = engine_io::find_safety_policy(dialogs_folder(command.dialogs))) {
    auto loaded = engine_io::load_safety_policy(*policy_file);
    if (!loaded) {
      std::cerr << format_all(loaded.error());
      return 1;
    }
    policy = *loaded;
    options.policy = policy.get();
    options.region = command.region;
  }
  bool is_terminal = isatty(STDIN_FILENO) != 0;
  options.show_prompt_marker = is_terminal;
  if (!command.fast) {
    options.wait = [](int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  }
  if (is_terminal) {
    std::cout << "(" << (*flow)->info.title << ", about " << (*flow)->info.minutes
              << ((*flow)->info.minutes == 1 ? " minute" : " minutes") << ". Ctrl-D leaves.)\n\n";
  }
  return run_chat(**flow, std::cin, std::cout, options);
}

}  // namespace trellis::cli
