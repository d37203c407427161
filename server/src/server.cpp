#include "server.hpp"

#include <future>
#include <typeinfo>

#include "chat_connection.hpp"
#include "http_session.hpp"
#include "log.hpp"
#include "sqlite_store.hpp"
#include "trellis/engine_io/flow_directory.hpp"

namespace trellis::server {

tl::expected<std::unique_ptr<Server>, std::string> Server::create(ServerConfig config) {
  if (auto together = check_settings_together(config); !together) return tl::make_unexpected(together.error());
  if (auto level = log::parse_level(config.log_level)) {
    log::set_min_level(*level);
  } else {
    return tl::make_unexpected("log_level: expected one of debug, info, warn or error");
  }
  if (!config.alert_webhook_url.empty()) {
    // Refuse a URL we cannot use now, not at the first safety event.
    if (auto url = parse_webhook_url(config.alert_webhook_url); !url) {
      return tl::make_unexpected("alert_webhook_url: " + url.error());
    }
  }
  auto flow_set = engine_io::load_flows({config.dialogs});
  if (!flow_set.ok()) {
    std::string report = "the flows in " + config.dialogs.string() + " have errors:\n";
    for (const auto& diagnostic : flow_set.diagnostics) report += engine::format(diagnostic) + "\n";
    return tl::make_unexpected(report);
  }
  if (flow_set.by_id.empty()) return tl::make_unexpected("no flows found in " + config.dialogs.string());
  auto policy_file = engine_io::find_safety_policy(config.dialogs);
  if (!policy_file) {
    return tl::make_unexpected("no safety policy found: the server needs " +
                               (config.dialogs / engine_io::kSafetyPolicyPath).string() + " (see docs/safety.md)");
  }
  auto policy = engine_io::load_safety_policy(*policy_file);
  if (!policy) {
    std::string report = "the safety policy has errors:\n";
    for (const auto& diagnostic : policy.error()) report += engine::format(diagnostic) + "\n";
    return tl::make_unexpected(report);
  }
  // Read now, on this thread, so that serving a static file never waits on the disk.
  auto site = StaticSite::load(config.web_root);
  if (!site) return tl::make_unexpected("web_root: " + site.error());
  if (std::error_code ec; !std::filesystem::is_directory(config.web_root, ec)) {
    log::warn("web_root_missing", {{"web_root", config.web_root.string()}});
  } else {
    log::info("web_root_loaded", {{"files", site->file_count()}, {"bytes", site->total_bytes()}});
  }
  std::vector<FlowCatalog::Source> sources;
  for (const auto& [id, flow] : flow_set.by_id) {
    sources.push_back({flow, engine_io::read_file(flow_set.file_by_id.at(id))});
  }

  SqliteStore::Options store_options;
  store_options.group_commit_window = config.group_commit_window;
  auto store = SqliteStore::open(config.database, store_options);
  if (!store) return tl::make_unexpected("cannot open the database " + config.database.string() + ": " + store.error().message);

  std::unique_ptr<Server> server(new Server());
  server->store_ = std::move(*store);
  server->flows_ = std::make_unique<FlowCatalog>(std::move(sources));
  // Keep every version's text, so sessions continue on the version they started with.
  for (const auto& source : server->flows_->sources()) {
    std::promise<StoreResult<void>> saved;
    server->store_->save_flow_version(source.flow->info.id, source.flow->info.version, source.text,
                                      [&saved](StoreResult<void> result) { saved.set_value(std::move(result)); });
    auto result = saved.get_future().get();
    if (!result) return tl::make_unexpected("cannot save flow versions: " + result.error().message);
  }
  server->context_ = std::make_unique<ServerContext>(std::move(config), *server->flows_, *server->store_);
  server->context_->safety = std::move(*policy);
  server->context_->site = std::make_shared<const StaticSite>(std::move(*site));
  const auto& settings = server->context_->config;
  if (!settings.alert_webhook_url.empty()) {
    AlertWebhook::Options alert_options;
    alert_options.url = settings.alert_webhook_url;
    alert_options.secret = settings.alert_webhook_secret;
    alert_options.timeout = settings.alert_timeout;
    alert_options.max_attempts = settings.alert_max_attempts;
    auto alerts = AlertWebhook::create(std::move(alert_options), server->context_->metrics);
    if (!alerts) return tl::make_unexpected("alert_webhook_url: " + alerts.error());
    server->alerts_ = std::move(*alerts);
    server->context_->alerts = server->alerts_.get();
    // The host only: a URL's path or query may hold a token of the receiver's.
    log::info("alerts_on", {{"host", parse_webhook_url(settings.alert_webhook_url)->host},
                            {"text", settings.safety_store_text ? "stored" : "off"}});
  }
  return server;
}

Server::~Server() {
  if (!waited_ && io_) {
    begin_stop();
    wait();
  }
}

tl::expected<void, std::string> Server::start() {
  const auto& config = context_->config;
  int threads = config.io_threads > 0 ? config.io_threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  io_ = std::make_unique<asio::io_context>(threads);
  beast::error_code ec;
  auto address = asio::ip::make_address(config.host, ec);
  if (ec) return tl::make_unexpected("'" + config.host + "' is not an IP address");
  tcp::endpoint endpoint{address, config.port};
  acceptor_ = std::make_unique<tcp::acceptor>(asio::make_strand(*io_));
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return tl::make_unexpected("cannot listen on " + config.host + ":" + std::to_string(config.port) + ": " + ec.message());
  port_ = acceptor_->local_endpoint().port();
  purge_timer_ = std::make_unique<asio::steady_timer>(*io_);
  drain_timer_ = std::make_unique<asio::steady_timer>(*io_);
  do_accept();
  schedule_purge();
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      // A handler that throws is a bug; it costs that handler, not the server.
      for (;;) {
        try {
          io_->run();
          return;
        } catch (const std::exception& error) {
          log::error("handler_failed", {{"what", log::sanitise(typeid(error).name())}});
        }
      }
    });
  }
  log::info("listening", {{"host", config.host}, {"port", port_}, {"threads", threads},
                          {"flows", flows_->sources().size()}});
  return {};
}

void Server::stop_on_signals() {
  signals_ = std::make_unique<asio::signal_set>(*io_, SIGINT, SIGTERM);
  signals_->async_wait([this](beast::error_code ec, int signal) {
    if (ec) return;
    log::info("signal", {{"signal", signal}});
    begin_stop();
  });
}

void Server::do_accept() {
  acceptor_->async_accept(asio::make_strand(*io_), beast::bind_front_handler(&Server::on_accept, this));
}

void Server::on_accept(beast::error_code ec, TcpSocket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
  if (!ec) {
    // A turn is several small frames written one after another. With Nagle's
    // algorithm on, every frame after the first waits for the client's
    // (delayed) ACK of the one before: 40 ms each on Linux. See
    // docs/performance.md.
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<HttpSession>(std::move(socket), *context_)->run();
  }
  do_accept();
}

void Server::schedule_purge() {
  purge_timer_->expires_after(context_->config.purge_interval);
  purge_timer_->async_wait([this](beast::error_code ec) {
    if (ec || context_->stopping) return;
    auto idle_since = Clock::now() - context_->config.session_ttl;
    store_->purge_idle(idle_since, [this](StoreResult<int> purged) {
      if (purged && *purged > 0) {
        context_->metrics.sessions_purged += static_cast<std::uint64_t>(*purged);
        log::info("sessions_purged", {{"count", *purged}});
      }
    });
    schedule_purge();
  });
}

void Server::begin_stop() {
  if (stop_begun_.exchange(true)) return;
  asio::post(*io_, [this] {
    context_->stopping = true;
    beast::error_code ignored;
    acceptor_->close(ignored);
    if (signals_) signals_->cancel(ignored);
    purge_timer_->cancel();
    auto connections = context_->hub.connections();
    log::info("stopping", {{"connections", connections.size()}});
    for (const auto& connection : connections) connection->shut_down();
    check_drained(std::chrono::steady_clock::now() + context_->config.shutdown_grace);
  });
}

void Server::check_drained(std::chrono::steady_clock::time_point deadline) {
  if (context_->hub.connection_count() == 0 || std::chrono::steady_clock::now() >= deadline) {
    io_->stop();
    return;
  }
  drain_timer_->expires_after(std::chrono::milliseconds(20));
  drain_timer_->async_wait([this, deadline](beast::error_code) { check_drained(deadline); });
}

int Server::wait() {
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  waited_ = true;
  // Alerts still being delivered get the grace period too; the rest are counted as dropped.
  if (alerts_) alerts_->stop(context_->config.shutdown_grace);
  store_->close();  // commits anything still queued, then stops its thread
  log::info("stopped");
  return 0;
}

}  // namespace trellis::server
