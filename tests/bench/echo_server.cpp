// trellis_echo_server: the ceiling for trellis_loadgen. A minimal Boost.Beast
// WebSocket server with the same I/O structure as `trellis serve` (one
// io_context run by --threads threads, a strand per connection, one write in
// flight per connection with a queue behind it), but no parsing, no engine and
// no store. The first text frame of a connection (the hello) is answered with
// one welcome-like frame; every later frame with --frames frames of --bytes
// bytes each, the shape of an average `trellis serve` turn of the braving flow
// (measured with trellis_loadgen; see docs/performance.md).
//
// Listens on 127.0.0.1 only. Stops on SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>  // Boost 1.74's asio/awaitable.hpp uses std::exchange without including it
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

struct Options {
  std::uint16_t port = 8090;
  int threads = 1;
  // Defaults: a braving turn of trellis serve averages 3.64 frames of 168 bytes
  // (trellis_loadgen, 100 sessions; docs/performance.md).
  int frames = 4;      // frames per answered turn
  int bytes = 168;     // bytes per frame
  bool no_delay = true;  // as trellis serve: TCP_NODELAY on every accepted socket
};

// Reads the HTTP upgrade request, as trellis serve's HttpSession does, then
// hands the socket to a Connection.
class Upgrade : public std::enable_shared_from_this<Upgrade> {
 public:
  Upgrade(tcp::socket&& socket, const Options& options, const std::string& payload)
      : stream_(std::move(socket)), options_(options), payload_(payload) {}
  void run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->stream_.expires_after(std::chrono::seconds(10));
      http::async_read(self->stream_, self->buffer_, self->request_,
                       [self](beast::error_code ec, std::size_t) { self->on_read(ec); });
    });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec || !websocket::is_upgrade(request_)) return;
    stream_.expires_never();
    auto connection = std::make_shared<ConnectionWithRequest>(stream_.release_socket(), options_, payload_);
    connection->start(std::move(request_));
  }

  struct ConnectionWithRequest : std::enable_shared_from_this<ConnectionWithRequest> {
    ConnectionWithRequest(tcp::socket&& socket, const Options& options, const std::string& payload)
        : ws(std::move(socket)), options(options), payload(payload) {}
    void start(http::request<http::string_body> request) {
      if (options.no_delay) {
        beast::error_code ignored;
        beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true), ignored);
      }
      websocket::stream_base::timeout timeouts{};
      timeouts.handshake_timeout = std::chrono::seconds(10);
      timeouts.idle_timeout = std::chrono::seconds(600);
      timeouts.keep_alive_pings = true;
      ws.set_option(timeouts);
      ws.read_message_max(64 * 1024);
      ws.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->do_read();
      });
    }
    void do_read() {
      ws.async_read(buffer, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }
    void on_read(beast::error_code ec) {
      if (ec) return;
      buffer.consume(buffer.size());
      if (!welcomed) {
        welcomed = true;
        send(R"({"type":"welcome","session":"echo","resumed":false,"last_seq":0,"flows":[]})");
      } else {
        for (int i = 0; i < options.frames; ++i) send(payload);
      }
      do_read();
    }
    void send(std::string frame) {
      outbox.push_back(std::move(frame));
      if (!writing) do_write();
    }
    void do_write() {
      if (outbox.empty()) {
        writing = false;
        return;
      }
      writing = true;
      ws.text(true);
      ws.async_write(asio::buffer(outbox.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) {
          self->outbox.clear();
          self->writing = false;
          return;
        }
        self->outbox.pop_front();
        self->do_write();
      });
    }
    websocket::stream<beast::tcp_stream> ws;
    const Options& options;
    const std::string& payload;
    beast::flat_buffer buffer;
    std::deque<std::string> outbox;
    bool writing = false;
    bool welcomed = false;
  };

  beast::tcp_stream stream_;
  const Options& options_;
  const std::string& payload_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> int {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(2);
      }
      return std::atoi(argv[++i]);
    };
    if (a == "--port") options.port = static_cast<std::uint16_t>(value());
    else if (a == "--threads") options.threads = value();
    else if (a == "--frames") options.frames = value();
    else if (a == "--bytes") options.bytes = value();
    else if (a == "--nagle") options.no_delay = false;
    else {
      std::fprintf(stderr,
                   "usage: trellis_echo_server [--port P (8090)] [--threads T (1)] [--frames K (4)] "
                   "[--bytes B (168)] [--nagle]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  if (options.threads < 1 || options.frames < 1 || options.bytes < 16) {
    std::fprintf(stderr, "an option is out of range\n");
    return 2;
  }
  // A JSON object of about --bytes bytes, like a message frame.
  std::string payload = R"({"type":"message","id":1,"seq":1,"text":")";
  while (payload.size() + 2 < static_cast<std::size_t>(options.bytes)) payload += 'x';
  payload += "\"}";

  asio::io_context io(options.threads);
  tcp::acceptor acceptor(asio::make_strand(io));
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), options.port);
  beast::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "cannot listen on 127.0.0.1:%u: %s\n", options.port, ec.message().c_str());
    return 1;
  }
  std::function<void()> do_accept = [&] {
    acceptor.async_accept(asio::make_strand(io), [&](beast::error_code error, tcp::socket socket) {
      if (error == asio::error::operation_aborted) return;
      if (!error) std::make_shared<Upgrade>(std::move(socket), options, payload)->run();
      do_accept();
    });
  };
  do_accept();
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) { io.stop(); });
  std::printf("echo server on 127.0.0.1:%u, %d thread(s), %d frame(s) of %d bytes per turn\n", options.port,
              options.threads, options.frames, options.bytes);
  std::fflush(stdout);
  std::vector<std::thread> threads;
  for (int i = 1; i < options.threads; ++i) threads.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  return 0;
}
