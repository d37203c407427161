#pragma once
// The Boost.Beast and Asio names the server uses, in one place.
#include <utility>  // Boost 1.74's asio/awaitable.hpp uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace trellis::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// Every connection runs on a strand of the server's one io_context. Naming that
// type, instead of Asio's polymorphic any_io_executor, makes every operation on
// the connection smaller (a WebSocket write no longer outgrows Asio's recycled
// blocks, so it does not go to malloc) and its dispatch direct.
using Strand = asio::strand<asio::io_context::executor_type>;
using TcpSocket = asio::basic_stream_socket<tcp, Strand>;
using TcpStream = beast::basic_stream<tcp, Strand>;
}  // namespace trellis::server
