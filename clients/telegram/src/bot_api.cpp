#include "bot_api.hpp"

#include <algorithm>
#include <random>
#include <thread>
#include <type_traits>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>

#include "alert_webhook.hpp"  // parse_webhook_url, backoff_delay
#include "beast.hpp"

namespace trellis::telegram {

namespace asio = server::asio;
namespace beast = server::beast;
namespace http = server::http;
namespace ssl = asio::ssl;
using server::tcp;
using nlohmann::json;

Milliseconds Pacer::scaled(Milliseconds wait) const {
  return Milliseconds(static_cast<Milliseconds::rep>(static_cast<double>(wait.count()) * scale));
}

void Pacer::wait(Milliseconds unscaled) const {
  auto wait = scaled(unscaled);
  if (wait <= Milliseconds(0)) return;
  if (sleep) sleep(wait);
  else std::this_thread::sleep_for(wait);
}

Verdict verdict_for(unsigned status, const json& body, int failed_attempts) {
  if (status == 200 && body.is_object() && body.value("ok", false)) return {Verdict::Kind::Done, {}};
  if (status == 429) {
    // Branch on parameters, not on the description's wording (it may change).
    std::int64_t seconds = 1;
    if (auto it = body.find("parameters"); it != body.end() && it->is_object()) {
      seconds = std::max<std::int64_t>(1, it->value("retry_after", std::int64_t{1}));
    }
    return {Verdict::Kind::Retry, Milliseconds(seconds * 1000)};
  }
  if (status == 403) return {Verdict::Kind::Blocked, {}};
  if (status == 0 || status >= 500) {
    return {Verdict::Kind::Retry, server::backoff_delay(failed_attempts, Milliseconds(500), Milliseconds(30'000), 1.0)};
  }
  return {Verdict::Kind::Refused, {}};
}

std::chrono::steady_clock::time_point RateLimiter::reserve(std::int64_t chat_id,
                                                           std::chrono::steady_clock::time_point now) {
  booked_.erase(booked_.begin(), booked_.lower_bound(now - window_));
  auto at = now;
  if (chat_id != 0) {
    if (auto found = next_for_chat_.find(chat_id); found != next_for_chat_.end()) at = std::max(at, found->second);
  }
  // Move past any window that is already full: the slot opens a window after its earliest booking.
  for (;;) {
    auto first = booked_.upper_bound(at - window_);
    auto last = booked_.upper_bound(at);
    if (static_cast<std::size_t>(std::distance(first, last)) < per_window_) break;
    at = *first + window_;
  }
  booked_.insert(at);
  if (chat_id != 0) next_for_chat_[chat_id] = at + per_chat_;
  // Forget chats whose slot is long past, so the map does not grow with every chat ever seen.
  if (next_for_chat_.size() > 10'000) {
    std::erase_if(next_for_chat_, [&](const auto& entry) { return entry.second < now; });
  }
  return at;
}

namespace {

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct HttpAnswer {
  unsigned status = 0;  // 0: no answer
  std::string body;
};

// One POST on a fresh connection, bounded by `timeout` as a whole.
template <typename Stream>
HttpAnswer post_once(ssl::context* tls, const server::WebhookUrl& url, const std::string& target,
                     const std::string& body, Milliseconds timeout) {
  asio::io_context io;
  std::optional<Stream> stream;
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    stream.emplace(io, *tls);
  } else {
    (void)tls;
    stream.emplace(io);
  }
  http::request<http::string_body> request{http::verb::post, target, 11};
  request.set(http::field::host, url.host);
  request.set(http::field::user_agent, "trellis-telegram/0.1");
  request.set(http::field::content_type, "application/json");
  request.keep_alive(false);
  request.body() = body;
  request.prepare_payload();

  HttpAnswer answer;
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  tcp::resolver resolver(io);
  auto& lowest = beast::get_lowest_layer(*stream);
  lowest.expires_after(timeout);

  auto on_read = [&](beast::error_code ec, std::size_t) {
    if (ec) return;
    answer.status = response.result_int();
    answer.body = std::move(response.body());
  };
  auto do_write = [&] {
    http::async_write(*stream, request, [&](beast::error_code ec, std::size_t) {
      if (ec) return;
      http::async_read(*stream, buffer, response, on_read);
    });
  };
  resolver.async_resolve(url.host, url.port, [&](beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return;
    lowest.async_connect(results, [&](beast::error_code ec2, const tcp::endpoint&) {
      if (ec2) return;
      if constexpr (std::is_same_v<Stream, TlsStream>) {
        if (!SSL_set_tlsext_host_name(stream->native_handle(), url.host.c_str())) return;
        stream->set_verify_callback(ssl::host_name_verification(url.host));
        stream->async_handshake(ssl::stream_base::client, [&](beast::error_code ec3) {
          if (!ec3) do_write();
        });
      } else {
        do_write();
      }
    });
  });
  // The resolver is not bounded by the stream's timer; run_for bounds it all.
  io.run_for(timeout + Milliseconds(1000));
  return answer;
}

}  // namespace

struct BotApi::Impl {
  BotApiOptions options;
  server::WebhookUrl base;
  std::optional<ssl::context> tls;
  std::mutex limiter_mutex;
  RateLimiter limiter;
};

BotApi::BotApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BotApi::~BotApi() = default;

tl::expected<std::unique_ptr<BotApi>, std::string> BotApi::create(BotApiOptions options) {
  auto base = server::parse_webhook_url(options.api_base);
  if (!base) return tl::unexpected("--api-base: " + base.error());
  if (options.token.empty()) return tl::unexpected(std::string("the bot token is empty"));
  auto impl = std::make_unique<Impl>();
  impl->base = std::move(*base);
  if (impl->base.target == "/") impl->base.target.clear();
  impl->limiter = RateLimiter(options.pacer.scaled(Milliseconds(1000)), options.pacer.scaled(Milliseconds(1000)), 30);
  impl->options = std::move(options);
  if (impl->base.is_https) {
    impl->tls.emplace(ssl::context::tls_client);
    impl->tls->set_default_verify_paths();
    impl->tls->set_verify_mode(ssl::verify_peer);
  }
  return std::unique_ptr<BotApi>(new BotApi(std::move(impl)));
}

BotReply BotApi::call(const std::string& method, const json& params, std::int64_t chat_id,
                      const std::function<bool()>& keep_going) {
  auto& impl = *impl_;
  const std::string target = impl.base.target + "/bot" + impl.options.token + "/" + method;
  const std::string body = params.dump();
  auto timeout = impl.options.timeout;
  if (method == "getUpdates") timeout += Milliseconds(params.value("timeout", 0) * 1000);
  int failed = 0;
  BotReply reply;
  for (;;) {
    if (chat_id != 0) {
      std::chrono::steady_clock::time_point at;
      {
        std::lock_guard lock(impl.limiter_mutex);
        at = impl.limiter.reserve(chat_id, std::chrono::steady_clock::now());
      }
      std::this_thread::sleep_until(at);
    }
    auto answer = impl.base.is_https ? post_once<TlsStream>(&*impl.tls, impl.base, target, body, timeout)
                                     : post_once<PlainStream>(nullptr, impl.base, target, body, timeout);
    json parsed = json::parse(answer.body, nullptr, false);
    if (parsed.is_discarded()) parsed = json::object();
    reply.error_code = parsed.is_object() ? parsed.value("error_code", static_cast<int>(answer.status)) : 0;
    reply.description = parsed.is_object() ? parsed.value("description", std::string()) : std::string();
    auto verdict = verdict_for(answer.status, parsed, failed + 1);
    switch (verdict.kind) {
      case Verdict::Kind::Done:
        reply.outcome = BotReply::Outcome::Ok;
        reply.result = parsed.value("result", json());
        return reply;
      case Verdict::Kind::Blocked: reply.outcome = BotReply::Outcome::Blocked; return reply;
      case Verdict::Kind::Refused: reply.outcome = BotReply::Outcome::Failed; return reply;
      case Verdict::Kind::Retry: break;
    }
    if (answer.status != 429 && ++failed >= impl.options.max_attempts) {
      reply.outcome = BotReply::Outcome::Failed;
      if (reply.description.empty()) reply.description = "no answer from the Bot API";
      return reply;
    }
    if (keep_going && !keep_going()) {
      reply.outcome = BotReply::Outcome::Failed;
      return reply;
    }
    impl.options.pacer.wait(verdict.retry_after);
  }
}

}  // namespace trellis::telegram
