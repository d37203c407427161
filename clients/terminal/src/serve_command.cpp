#include "serve_command.hpp"

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "config.hpp"
#include "server.hpp"
#include "trellis/engine_io/flow_directory.hpp"

extern char** environ;

namespace trellis::cli {

CLI::App* add_serve_command(CLI::App& app, ServeCommand& command) {
  auto* serve = app.add_subcommand("serve", "Serve the flows to web, messaging and terminal clients over WebSocket.");
  serve->add_option("--config", command.config_file, "JSON settings file (see docs/operations.md)");
  serve->add_option("--host", command.host, "address to listen on (default 127.0.0.1)");
  serve->add_option("--port", command.port, "port to listen on (default 8080; 0 picks a free one)")->check(CLI::Range(0, 65535));
  serve->add_option("--dialogs", command.dialogs, "folder of flows (default ./dialogs)");
  serve->add_option("--web-root", command.web_root, "folder of the web client (default ./clients/web)");
  serve->add_option("--database", command.database, "SQLite file (default ./data/trellis.db, created if missing)");
  serve->add_option("--threads", command.threads, "I/O threads (default: one per core)")->check(CLI::Range(1, 256));
  serve->add_option("--allowed-origins", command.allowed_origins,
                    "comma-separated origins that may open /ws from a browser (default: this server's own)");
  serve->footer(R"(Settings come from defaults, then --config, then TRELLIS_* environment
variables, then these flags; each overrides the one before.

Examples:
  trellis serve                               http://127.0.0.1:8080/
  trellis serve --port 9000 --dialogs ./my-flows
  TRELLIS_DATABASE=/var/lib/trellis/db trellis serve --config /etc/trellis.json)");
  return serve;
}

int run_serve_command(const ServeCommand& command) {
  using trellis::server::ServerConfig;
  ServerConfig config;
  if (command.config_file) {
    std::string text;
    try {
      text = engine_io::read_file(*command.config_file);
    } catch (const std::exception& error) {
      std::cerr << "trellis serve: " << error.what() << "\n";
      return 2;
    }
    auto applied = server::apply_config_json(config, text);
    if (!applied) {
      std::cerr << "trellis serve: " << *command.config_file << ":\n" << applied.error() << "\n";
      return 2;
    }
    config = *applied;
  }
  std::map<std::string, std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view pair(*entry);
    auto equals = pair.find('=');
    if (equals != std::string_view::npos && pair.substr(0, 8) == "TRELLIS_") {
      environment.emplace(std::string(pair.substr(0, equals)), std::string(pair.substr(equals + 1)));
    }
  }
  auto with_environment = server::apply_environment(config, environment);
  if (!with_environment) {
    std::cerr << "trellis serve: " << with_environment.error() << "\n";
    return 2;
  }
  config = *with_environment;
  if (command.host) config.host = *command.host;
  if (command.port) config.port = static_cast<std::uint16_t>(*command.port);
  if (command.dialogs) config.dialogs = *command.dialogs;
  if (command.web_root) config.web_root = *command.web_root;
  if (command.database) config.database = *command.database;
  if (command.threads) config.io_threads = *command.threads;
  if (command.allowed_origins) {
    config.allowed_origins.clear();
    std::stringstream list(*command.allowed_origins);
    for (std::string origin; std::getline(list, origin, ',');) {
      if (!origin.empty()) config.allowed_origins.push_back(origin);
    }
  }

  auto created = server::Server::create(config);
  if (!created) {
    std::cerr << "trellis serve: " << created.error();
    if (created.error().back() != '\n') std::cerr << "\n";
    return 1;
  }
  auto& server = **created;
  if (auto started = server.start(); !started) {
    std::cerr << "trellis serve: " << started.error() << "\n";
    return 1;
  }
  server.stop_on_signals();
  std::string shown_host = config.host == "0.0.0.0" ? "127.0.0.1" : config.host;
  std::cout << "Trellis is running. Open http://" << shown_host << ":" << server.port()
            << "/ in your browser (Ctrl-C stops it)." << std::endl;
  return server.wait();
}

}  // namespace trellis::cli
