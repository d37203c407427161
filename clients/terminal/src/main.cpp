// The `trellis` command line: chat with, lint, draw, test and serve guided-reflection flows,
// and talk to a running server.
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "chat_command.hpp"
#include "connect_command.hpp"
#include "graph_command.hpp"
#include "lint_command.hpp"
#include "safety_command.hpp"
#include "serve_command.hpp"
#include "telegram_command.hpp"
#include "test_command.hpp"

int main(int argc, char** argv) {
  using namespace trellis::cli;
  CLI::App app{"Trellis: write, check and try guided-reflection conversations.\n"
               "Flows are JSON files in dialogs/<id>/flow.json; see docs/cli.md.",
               "trellis"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "trellis 0.1.0");

  ChatCommand chat;
  LintCommand lint;
  GraphCommand graph;
  TestCommand test;
  ServeCommand serve;
  ConnectCommand connect;
  SafetyCommand safety;
  trellis::telegram::TelegramCommand telegram;
  auto* chat_app = add_chat_command(app, chat);
  auto* lint_app = add_lint_command(app, lint);
  auto* graph_app = add_graph_command(app, graph);
  auto* test_app = add_test_command(app, test);
  auto* serve_app = add_serve_command(app, serve);
  auto* connect_app = add_connect_command(app, connect);
  auto* safety_app = add_safety_command(app, safety);
  auto* telegram_app = trellis::telegram::add_telegram_command(app, telegram);
  app.footer(R"(Examples:
  trellis chat                 talk to the braving flow in ./dialogs
  trellis lint                 check every flow under ./dialogs
  trellis test                 play every transcript under ./dialogs
  trellis graph braving        draw a flow as a Mermaid diagram
  trellis serve                serve the flows at http://127.0.0.1:8080/
  trellis connect ws://127.0.0.1:8080/ws   talk to a running server
  trellis telegram             connect a Telegram bot to a running server
  trellis safety score --corpus tests/safety/heldout5.tsv   how well the safety layer does on a corpus

Flow ids are looked up in ./dialogs, or in $TRELLIS_DIALOGS when it is set.
Run 'trellis <command> --help' for a command's options and more examples.)");

  CLI11_PARSE(app, argc, argv);
  try {
    if (chat_app->parsed()) return run_chat_command(chat);
    if (lint_app->parsed()) return run_lint(lint, std::cout);
    if (graph_app->parsed()) return run_graph_command(graph);
    if (test_app->parsed()) return run_test(test, std::cout);
    if (serve_app->parsed()) return run_serve_command(serve);
    if (connect_app->parsed()) return run_connect_command(connect);
    if (safety_app->parsed()) return run_safety_command(safety, std::cout, std::cerr);
    if (telegram_app->parsed()) return trellis::telegram::run_telegram_command(telegram);
  } catch (const std::exception& error) {
    std::cerr << "trellis: " << error.what() << "\n";
    return 2;
  }
  return 0;
}
