#include "alert_webhook.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "beast.hpp"
#include "log.hpp"

namespace trellis::server {
namespace {

namespace ssl = asio::ssl;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0x0f];
  }
  return out;
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
    if (c != prefix[i]) return false;
  }
  return true;
}

struct Alert {
  std::string id;
  std::string body;
};

enum class Verdict { Delivered, Retry, Refused };

struct Outcome {
  Verdict verdict = Verdict::Retry;
  unsigned status = 0;          // the HTTP status, when one arrived
  std::string_view stage;       // where a failed attempt stopped: resolve, connect, tls, write, read, timeout
  int error = 0;                // the error_code's value, for the log
};

Verdict verdict_of(unsigned status) {
  if (status >= 200 && status < 300) return Verdict::Delivered;
  if (status == 429 || status >= 500) return Verdict::Retry;
  return Verdict::Refused;  // the request is wrong (or redirected): sending it again will not help
}

std::string host_header(const WebhookUrl& url) {
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  const bool is_default_port = url.port == (url.is_https ? "443" : "80");
  return is_default_port ? host : host + ":" + url.port;
}

// One POST: resolve, connect, (TLS handshake,) write, read the answer's header.
// Runs on the worker's single thread, so it needs no strand. The deadline timer
// bounds the whole attempt, resolving included, by closing the socket.
template <typename Stream>
class Attempt : public std::enable_shared_from_this<Attempt<Stream>> {
  static constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

 public:
  Attempt(asio::io_context& io, ssl::context* tls, const WebhookUrl& url, http::request<http::string_body> request,
          std::chrono::milliseconds timeout, std::function<void(Outcome)> done)
      : url_(url),
        resolver_(io),
        stream_(make_stream(io, tls)),
        deadline_(io),
        request_(std::move(request)),
        timeout_(timeout),
        done_(std::move(done)) {}

  void run() {
    deadline_.expires_after(timeout_);
    deadline_.async_wait([self = this->shared_from_this()](beast::error_code ec) { self->on_deadline(ec); });
    resolver_.async_resolve(url_.host, url_.port, beast::bind_front_handler(&Attempt::on_resolve, this->shared_from_this()));
  }

 private:
  static Stream make_stream(asio::io_context& io, ssl::context* tls) {
    if constexpr (kIsTls) {
      return Stream(io, *tls);
    } else {
      (void)tls;
      return Stream(io);
    }
  }

  void on_deadline(beast::error_code ec) {
    if (ec || finished_) return;
    timed_out_ = true;
    resolver_.cancel();
    beast::get_lowest_layer(stream_).close();  // every pending operation ends with operation_aborted
  }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return fail("resolve", ec);
    beast::get_lowest_layer(stream_).async_connect(
        results, beast::bind_front_handler(&Attempt::on_connect, this->shared_from_this()));
  }

  void on_connect(beast::error_code ec, const tcp::endpoint&) {
    if (ec) return fail("connect", ec);
    if constexpr (kIsTls) {
      // SNI, and the certificate must name the URL's host.
      if (!SSL_set_tlsext_host_name(stream_.native_handle(), url_.host.c_str())) {
        return fail("tls", beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
      }
      stream_.set_verify_callback(ssl::host_name_verification(url_.host));
      stream_.async_handshake(ssl::stream_base::client,
                              beast::bind_front_handler(&Attempt::on_handshake, this->shared_from_this()));
    } else {
      do_write();
    }
  }

  void on_handshake(beast::error_code ec) {
    if (ec) return fail("tls", ec);
    do_write();
  }

  void do_write() {
    http::async_write(stream_, request_, beast::bind_front_handler(&Attempt::on_write, this->shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return fail("write", ec);
    // Only the status matters; whatever body follows is never read.
    http::async_read_header(stream_, buffer_, parser_,
                            beast::bind_front_handler(&Attempt::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return fail("read", ec);
    const unsigned status = parser_.get().result_int();
    finish(Outcome{verdict_of(status), status, "answer", 0});
  }

  void fail(std::string_view stage, beast::error_code ec) {
    finish(Outcome{Verdict::Retry, 0, timed_out_ ? "timeout" : stage, ec.value()});
  }

  void finish(Outcome outcome) {
    if (finished_) return;
    finished_ = true;
    deadline_.cancel();
    // We asked for Connection: close; no TLS close_notify either, since a
    // receiver that hangs would make us wait for nothing.
    beast::get_lowest_layer(stream_).close();
    done_(outcome);
  }

  const WebhookUrl& url_;
  tcp::resolver resolver_;
  Stream stream_;
  asio::steady_timer deadline_;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  http::response_parser<http::empty_body> parser_;
  const std::chrono::milliseconds timeout_;
  std::function<void(Outcome)> done_;
  bool finished_ = false;
  bool timed_out_ = false;
};

}  // namespace

tl::expected<WebhookUrl, std::string> parse_webhook_url(std::string_view url) {
  WebhookUrl parsed;
  for (unsigned char c : url) {
    if (c <= ' ' || c >= 0x7f) return tl::make_unexpected("the webhook URL holds a space or a control character");
  }
  std::string_view rest;
  if (starts_with_ignoring_case(url, "https://")) {
    parsed.is_https = true;
    rest = url.substr(8);
  } else if (starts_with_ignoring_case(url, "http://")) {
    rest = url.substr(7);
  } else {
    return tl::make_unexpected("the webhook URL must start with http:// or https://");
  }
  if (rest.find('#') != std::string_view::npos) return tl::make_unexpected("the webhook URL must not have a #fragment");
  const std::size_t authority_end = std::min(rest.find('/'), rest.find('?'));
  std::string_view authority = rest.substr(0, authority_end);
  const std::string_view target = authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return tl::make_unexpected("the webhook URL must not carry a user name or password (the secret signs each alert)");
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8443
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return tl::make_unexpected("the webhook URL has an unclosed [IPv6 address]");
    parsed.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return tl::make_unexpected("the webhook URL has text after its [IPv6 address]");
      port = after.substr(1);
      if (port.empty()) return tl::make_unexpected("the webhook URL has a ':' but no port");
    }
  } else {
    const std::size_t colon = authority.find(':');
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return tl::make_unexpected("the webhook URL has a ':' but no port");
    }
  }
  if (parsed.host.empty()) return tl::make_unexpected("the webhook URL has no host");
  if (!port.empty()) {
    int number = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc() || end != port.data() + port.size() || number < 1 || number > 65535) {
      return tl::make_unexpected("the webhook URL's port must be a number from 1 to 65535");
    }
    parsed.port = std::to_string(number);
  } else {
    parsed.port = parsed.is_https ? "443" : "80";
  }
  parsed.target = target.empty() ? "/" : target.front() == '?' ? "/" + std::string(target) : std::string(target);
  return parsed;
}

std::string sign_alert(std::string_view secret, std::string_view timestamp, std::string_view body) {
  std::string message;
  message.reserve(timestamp.size() + 1 + body.size());
  message.append(timestamp).append(".").append(body);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &size);
  return "sha256=" + to_hex(digest, size);
}

std::string new_delivery_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // OpenSSL's generator failed to seed; an id only needs to be unique, not secret.
    std::random_device device;
    for (auto& byte : bytes) byte = static_cast<unsigned char>(device());
  }
  return to_hex(bytes, sizeof bytes);
}

std::chrono::milliseconds backoff_delay(int failed_attempts, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, double jitter) {
  // Doubling stops once it passes the cap, so a large attempt count cannot overflow.
  double delay = static_cast<double>(base.count());
  for (int i = 1; i < failed_attempts && delay < static_cast<double>(cap.count()); ++i) delay *= 2;
  delay = std::min(delay, static_cast<double>(cap.count()));
  delay *= 0.5 + std::clamp(jitter, 0.0, 1.0) / 2;
  return std::chrono::milliseconds(std::llround(delay));
}

class AlertWebhook::Worker {
 public:
  Worker(Options options, WebhookUrl url, Metrics& metrics)
      : options_(std::move(options)),
        url_(std::move(url)),
        host_header_(host_header(url_)),
        metrics_(metrics),
        rng_(std::random_device{}()) {
    if (url_.is_https) {
      tls_.emplace(ssl::context::tls_client);
      tls_->set_default_verify_paths();
      tls_->set_verify_mode(ssl::verify_peer);
    }
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Worker() { stop(std::chrono::milliseconds(0)); }

  std::string send(std::string body, std::string id) {
    if (id.empty()) id = new_delivery_id();
    std::optional<std::string> pushed_out;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        ++metrics_.alerts_dropped;
        log::warn("alert_dropped", {{"delivery", id}, {"reason", "stopping"}});
        return id;
      }
      if (queue_.size() >= options_.max_queue) {
        pushed_out = std::move(queue_.front().id);
        queue_.pop_front();
      }
      queue_.push_back(Alert{id, std::move(body)});
    }
    if (pushed_out) {
      ++metrics_.alerts_dropped;
      log::warn("alert_dropped", {{"delivery", *pushed_out}, {"reason", "queue_full"}});
    }
    asio::post(io_, [this] { start_deliveries(); });
    return id;
  }

  void stop(std::chrono::milliseconds grace) {
    std::size_t abandoned = 0;
    {
      std::unique_lock lock(mutex_);
      if (stopped_) return;
      stopping_ = true;
      idle_.wait_for(lock, grace, [this] { return queue_.empty() && in_flight_ == 0; });
      abandoned = queue_.size() + in_flight_;
      queue_.clear();
      stopped_ = true;  // from here, deliveries that end are neither counted nor logged
    }
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
    if (abandoned > 0) {
      metrics_.alerts_dropped += abandoned;
      log::warn("alerts_abandoned", {{"count", abandoned}});
    }
  }

  std::size_t pending() const {
    std::lock_guard lock(mutex_);
    return queue_.size() + in_flight_;
  }

 private:
  // One alert, through all its attempts.
  class Delivery : public std::enable_shared_from_this<Delivery> {
   public:
    Delivery(Worker& worker, Alert alert) : worker_(worker), alert_(std::move(alert)), backoff_(worker.io_) {}

    void do_attempt() {
      ++attempt_;
      auto done = [self = this->shared_from_this()](Outcome outcome) { self->on_attempt(outcome); };
      if (worker_.tls_) {
        std::make_shared<Attempt<TlsStream>>(worker_.io_, &*worker_.tls_, worker_.url_, request(),
                                             worker_.options_.timeout, std::move(done))
            ->run();
      } else {
        std::make_shared<Attempt<PlainStream>>(worker_.io_, nullptr, worker_.url_, request(),
                                               worker_.options_.timeout, std::move(done))
            ->run();
      }
    }

   private:
    // Signed afresh for every attempt, so the timestamp is the time of sending.
    http::request<http::string_body> request() const {
      const auto now = worker_.options_.now ? worker_.options_.now() : std::chrono::system_clock::now();
      const std::string timestamp =
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
      http::request<http::string_body> request{http::verb::post, worker_.url_.target, 11};
      request.set(http::field::host, worker_.host_header_);
      request.set(http::field::user_agent, "trellis-alerts/1");
      request.set(http::field::content_type, "application/json");
      request.set("X-Trellis-Event", "safety");
      request.set("X-Trellis-Delivery", alert_.id);
      request.set("X-Trellis-Attempt", std::to_string(attempt_));
      request.set("X-Trellis-Timestamp", timestamp);
      request.set("X-Trellis-Signature", sign_alert(worker_.options_.secret, timestamp, alert_.body));
      request.keep_alive(false);
      request.body() = alert_.body;
      request.prepare_payload();
      return request;
    }

    void on_attempt(Outcome outcome) {
      if (worker_.is_stopped()) return;
      const auto& id = alert_.id;
      if (outcome.verdict == Verdict::Delivered) {
        log::info("alert_sent", {{"delivery", id}, {"attempt", attempt_}, {"status", outcome.status}});
        return worker_.finished(worker_.metrics_.alerts_sent);
      }
      if (outcome.verdict == Verdict::Refused) {
        log::error("alert_refused", {{"delivery", id}, {"attempt", attempt_}, {"status", outcome.status}});
        return worker_.finished(worker_.metrics_.alerts_failed);
      }
      if (attempt_ >= worker_.options_.max_attempts) {
        log::error("alert_failed", {{"delivery", id}, {"attempts", attempt_}, {"status", outcome.status},
                                    {"stage", outcome.stage}, {"error", outcome.error}});
        return worker_.finished(worker_.metrics_.alerts_failed);
      }
      const auto delay = backoff_delay(attempt_, worker_.options_.backoff_base, worker_.options_.backoff_cap,
                                       worker_.jitter());
      log::warn("alert_retry", {{"delivery", id}, {"attempt", attempt_}, {"status", outcome.status},
                                {"stage", outcome.stage}, {"error", outcome.error}, {"delay_ms", delay.count()}});
      backoff_.expires_after(delay);
      backoff_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
        if (!ec) self->do_attempt();
      });
    }

    Worker& worker_;
    Alert alert_;
    asio::steady_timer backoff_;
    int attempt_ = 0;
  };

  // On the worker thread: starts queued alerts while there are free slots.
  void start_deliveries() {
    std::vector<Alert> starting;
    {
      std::lock_guard lock(mutex_);
      while (!stopped_ && in_flight_ < options_.max_in_flight && !queue_.empty()) {
        starting.push_back(std::move(queue_.front()));
        queue_.pop_front();
        ++in_flight_;
      }
    }
    for (auto& alert : starting) std::make_shared<Delivery>(*this, std::move(alert))->do_attempt();
  }

  // On the worker thread, when a delivery has ended one way or the other.
  // Counted under the lock, so that pending() and the counters always add up
  // and stop() never counts an alert twice.
  void finished(std::atomic<std::uint64_t>& outcome_counter) {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      ++outcome_counter;
      --in_flight_;
    }
    idle_.notify_all();
    start_deliveries();
  }

  bool is_stopped() const {
    std::lock_guard lock(mutex_);
    return stopped_;
  }

  double jitter() {
    if (options_.jitter) return options_.jitter();
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }

  const Options options_;
  const WebhookUrl url_;
  const std::string host_header_;
  Metrics& metrics_;
  std::minstd_rand rng_;  // worker thread only
  std::optional<ssl::context> tls_;

  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::deque<Alert> queue_;      // guarded by mutex_
  std::size_t in_flight_ = 0;    // guarded by mutex_
  bool stopping_ = false;        // guarded by mutex_: send() drops
  bool stopped_ = false;         // guarded by mutex_: the rest is abandoned

  // Declared after everything its handlers touch, so it is destroyed first.
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::thread thread_;
};

tl::expected<std::unique_ptr<AlertWebhook>, std::string> AlertWebhook::create(Options options, Metrics& metrics) {
  auto url = parse_webhook_url(options.url);
  if (!url) return tl::make_unexpected(url.error());
  if (options.secret.empty()) return tl::make_unexpected("the webhook needs a secret to sign alerts with");
  if (options.max_attempts < 1) options.max_attempts = 1;
  if (options.max_in_flight < 1) options.max_in_flight = 1;
  if (options.max_queue < 1) options.max_queue = 1;
  auto worker = std::make_unique<Worker>(std::move(options), std::move(*url), metrics);
  return std::unique_ptr<AlertWebhook>(new AlertWebhook(std::move(worker)));
}

AlertWebhook::AlertWebhook(std::unique_ptr<Worker> worker) : worker_(std::move(worker)) {}

AlertWebhook::~AlertWebhook() = default;  // the Worker stops itself

std::string AlertWebhook::send(std::string json_body, std::string delivery_id) {
  return worker_->send(std::move(json_body), std::move(delivery_id));
}

void AlertWebhook::stop(std::chrono::milliseconds grace) { worker_->stop(grace); }

std::size_t AlertWebhook::pending() const { return worker_->pending(); }

}  // namespace trellis::server
