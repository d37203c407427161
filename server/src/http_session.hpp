#pragma once
// One HTTP connection: health, readiness, metrics, the flow list and static files,
// or the upgrade of /ws to a WebSocket (handed to a ChatConnection).
#include <memory>
#include <optional>

#include "beast.hpp"
#include "server_context.hpp"

namespace trellis::server {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(TcpSocket&& socket, ServerContext& context);
  void run();

 private:
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void upgrade(http::request<http::string_body> request);
  void handle(http::request<http::string_body> request);
  void answer_readiness(http::request<http::string_body> request);
  template <typename Body>
  void send(http::response<Body> response);
  void on_write(bool close, beast::error_code ec, std::size_t bytes);
  http::response<http::string_body> text_response(const http::request<http::string_body>& request,
                                                   http::status status, std::string body,
                                                   std::string content_type = "text/plain; charset=utf-8");

  TcpStream stream_;
  beast::flat_buffer buffer_;
  ServerContext& context_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string peer_;
};

// Whether a browser page from `origin` may open /ws on this server.
bool is_origin_allowed(const ServerConfig& config, std::string_view origin, std::string_view host);

}  // namespace trellis::server
