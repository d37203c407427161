#include "http_session.hpp"

#include "chat_connection.hpp"
#include "log.hpp"
#include "static_site.hpp"

namespace trellis::server {

namespace {
constexpr std::size_t kMaxRequestHeaderBytes = 8 * 1024;
constexpr std::size_t kMaxRequestBodyBytes = 16 * 1024;

std::string_view path_of(std::string_view target) {
  auto end = target.find_first_of("?#");
  return end == std::string_view::npos ? target : target.substr(0, end);
}

// A response body over a static file's bytes, which the StaticSite owns: sending
// copies nothing, and the shared_ptr keeps the bytes alive until the write ends.
struct SharedBytesBody {
  using value_type = std::shared_ptr<const std::string>;

  static std::uint64_t size(const value_type& body) { return body ? body->size() : 0; }

  class writer {
   public:
    using const_buffers_type = asio::const_buffer;
    template <bool isRequest, class Fields>
    writer(const http::header<isRequest, Fields>&, const value_type& body) : body_(body) {}
    void init(beast::error_code& ec) { ec = {}; }
    // The whole body in one buffer, and no more after it.
    boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
      ec = {};
      if (!body_ || body_->empty()) return boost::none;
      return std::make_pair(const_buffers_type(body_->data(), body_->size()), false);
    }

   private:
    const value_type& body_;
  };
};
}  // namespace

bool is_origin_allowed(const ServerConfig& config, std::string_view origin, std::string_view host) {
  if (origin.empty()) return true;  // not a browser: terminal clients, bridges, tests
  for (const auto& allowed : config.allowed_origins) {
    if (allowed == "*" || allowed == origin) return true;
  }
  if (!config.allowed_origins.empty()) return false;
  // Default: the page must come from this very server.
  for (std::string_view scheme : {"http://", "https://"}) {
    if (origin.substr(0, scheme.size()) == scheme && origin.substr(scheme.size()) == host) return true;
  }
  return false;
}

HttpSession::HttpSession(TcpSocket&& socket, ServerContext& context)
    : stream_(std::move(socket)), context_(context) {
  beast::error_code ec;
  auto endpoint = stream_.socket().remote_endpoint(ec);
  peer_ = ec ? "unknown" : endpoint.address().to_string();
}

void HttpSession::run() {
  asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&HttpSession::do_read, shared_from_this()));
}

void HttpSession::do_read() {
  parser_.emplace();
  parser_->header_limit(kMaxRequestHeaderBytes);
  parser_->body_limit(kMaxRequestBodyBytes);
  stream_.expires_after(context_.config.handshake_timeout);
  http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream) {
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    return;
  }
  if (ec) return;  // timeouts, resets, oversized headers: drop the connection
  auto request = parser_->release();
  if (websocket::is_upgrade(request)) return upgrade(std::move(request));
  handle(std::move(request));
}

void HttpSession::upgrade(http::request<http::string_body> request) {
  auto refuse = [&](http::status status, std::string why) {
    send(text_response(request, status, std::move(why) + "\n"));
  };
  if (path_of(request.target()) != "/ws") return refuse(http::status::not_found, "WebSocket endpoint is /ws");
  if (!is_origin_allowed(context_.config, request[http::field::origin], request[http::field::host])) {
    context_.metrics.errors_by_code.add("origin_refused");
    log::warn("origin_refused", {{"peer", peer_}});
    return refuse(http::status::forbidden, "this origin may not connect");
  }
  if (context_.stopping) return refuse(http::status::service_unavailable, "server is shutting down");
  if (!context_.limiter.try_acquire(peer_)) {
    context_.metrics.errors_by_code.add("busy");
    return refuse(http::status::service_unavailable, "too many connections; try again shortly");
  }
  stream_.expires_never();  // the WebSocket has its own timeouts
  std::make_shared<ChatConnection>(std::move(stream_), context_, peer_)->run(std::move(request));
}

http::response<http::string_body> HttpSession::text_response(const http::request<http::string_body>& request,
                                                             http::status status, std::string body,
                                                             std::string content_type) {
  http::response<http::string_body> response{status, request.version()};
  response.set(http::field::server, "trellis");
  response.set(http::field::content_type, content_type);
  response.set(http::field::cache_control, "no-store");
  response.set("X-Content-Type-Options", "nosniff");
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  if (request.method() == http::verb::head) response.body().clear();
  return response;
}

void HttpSession::handle(http::request<http::string_body> request) {
  auto path = path_of(request.target());
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    auto response = text_response(request, http::status::method_not_allowed, "only GET and HEAD are served here\n");
    response.set(http::field::allow, "GET, HEAD");
    return send(std::move(response));
  }
  if (path == "/healthz") return send(text_response(request, http::status::ok, "ok\n"));
  if (path == "/readyz") return answer_readiness(std::move(request));
  if (path == "/metrics") {
    return send(text_response(request, http::status::ok,
                              context_.metrics.render_prometheus(static_cast<std::int64_t>(context_.store.stats().sessions)),
                              "text/plain; version=0.0.4; charset=utf-8"));
  }
  if (path == "/api/flows") {
    nlohmann::json flows = nlohmann::json::array();
    for (const auto& listing : context_.flows.listings()) flows.push_back(protocol::to_json(listing));
    return send(text_response(request, http::status::ok, nlohmann::json{{"flows", flows}}.dump(),
                              "application/json; charset=utf-8"));
  }
  // A map lookup: the files were read at start-up, so the disk never blocks this thread.
  const StaticFile* file = context_.site->find(request.target());
  if (!file) return send(text_response(request, http::status::not_found, "not found\n"));
  auto set_headers = [&](auto& response) {
    response.set(http::field::server, "trellis");
    response.set(http::field::cache_control, file->cache_control);
    response.set(http::field::etag, file->etag);
    response.keep_alive(request.keep_alive());
  };
  if (matches_if_none_match(request[http::field::if_none_match], file->etag)) {
    http::response<http::empty_body> response{http::status::not_modified, request.version()};
    set_headers(response);
    return send(std::move(response));
  }
  if (request.method() == http::verb::head) {
    http::response<http::empty_body> response{http::status::ok, request.version()};
    set_headers(response);
    response.set(http::field::content_type, file->content_type);
    response.set("X-Content-Type-Options", "nosniff");
    response.content_length(file->bytes->size());
    return send(std::move(response));
  }
  http::response<SharedBytesBody> response{http::status::ok, request.version()};
  set_headers(response);
  response.set(http::field::content_type, file->content_type);
  response.set("X-Content-Type-Options", "nosniff");
  response.content_length(file->bytes->size());
  response.body() = file->bytes;
  send(std::move(response));
}

void HttpSession::answer_readiness(http::request<http::string_body> request) {
  // Ask the store through its own queue, so a stuck disk shows as "not ready"
  // instead of blocking this thread.
  auto self = shared_from_this();
  auto shared_request = std::make_shared<http::request<http::string_body>>(std::move(request));
  context_.store.load_flow_version("readyz-probe", 0, [self, shared_request](StoreResult<std::optional<std::string>> probe) {
    asio::post(self->stream_.get_executor(), [self, shared_request, ok = probe.has_value()] {
      bool ready = ok && !self->context_.flows.empty() && !self->context_.stopping;
      std::string body = std::string("store=") + (ok ? "ok" : "unreachable") +
                         " flows=" + std::to_string(self->context_.flows.sources().size()) + "\n";
      self->send(self->text_response(*shared_request, ready ? http::status::ok : http::status::service_unavailable, body));
    });
  });
}

template <typename Body>
void HttpSession::send(http::response<Body> response) {
  auto shared = std::make_shared<http::response<Body>>(std::move(response));
  bool close = shared->need_eof();
  http::async_write(stream_, *shared, [self = shared_from_this(), shared, close](beast::error_code ec, std::size_t bytes) {
    self->on_write(close, ec, bytes);
  });
}

void HttpSession::on_write(bool close, beast::error_code ec, std::size_t) {
  if (ec) return;
  if (close || context_.stopping) {
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    return;
  }
  do_read();
}

}  // namespace trellis::server
