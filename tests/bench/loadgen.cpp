// trellis_loadgen: a WebSocket load generator for `trellis serve` (and for
// trellis_echo_server, the ceiling it is compared with).
//
// Every session opens its own WebSocket, says hello, and then runs scripted
// turns. In trellis mode (the default) a session starts --flow and answers
// each prompt (scale: "7", yesno: "yes", choice: the first id, text: a short
// sentence, number: the minimum), starting the flow again after its end. In
// echo mode (--frames-per-turn K) it sends one frame per turn and waits for K
// frames back, without reading them: it depends on no protocol semantics
// except that the first frame after hello is answered with one frame.
//
// A turn's latency runs from the moment the turn was due to be sent until its
// last frame arrived (prompt or end for trellis, the K-th frame for echo).
// With --rate R each session sends a turn every 1/R s on a fixed schedule
// (open loop: a turn delayed behind a slow one is timed from when it was due,
// so queueing is not hidden); with --rate 0 each session sends its next turn
// as soon as the previous turn's last frame arrived.
//
// --idle connects the sessions, says hello, prints "all N sessions connected"
// and then keeps them open without traffic for --duration seconds.
//
// Loopback only by intent: the default host is 127.0.0.1. Everything is
// bounded: connect and turn timeouts, and the run ends after --duration.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iostream>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>  // Boost 1.74's asio/awaitable.hpp uses std::exchange without including it
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string path = "/ws";
  int sessions = 1;
  double duration = 10;
  double rate = 0;  // turns per second per session; 0: as fast as possible
  std::string flow = "braving";
  bool idle = false;
  int frames_per_turn = 0;  // 0: trellis mode; K > 0: echo mode
  int threads = 1;
  double connect_timeout = 10;
  double turn_timeout = 10;
  double connect_phase_timeout = 120;
  int connect_parallel = 200;
  std::string label;
  int server_pid = 0;  // read its CPU time and memory from /proc around the measured window
};

[[noreturn]] void usage(int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "usage: trellis_loadgen [options]\n"
               "  --url ws://HOST:PORT/PATH   where to connect (default ws://127.0.0.1:8080/ws)\n"
               "  --host H --port P           the same, in parts\n"
               "  --sessions N                concurrent sessions (default 1)\n"
               "  --duration S                measured seconds (default 10; the idle hold time with --idle)\n"
               "  --rate R                    turns per second per session; 0 = as fast as possible (default)\n"
               "  --flow ID                   flow to run (default braving)\n"
               "  --frames-per-turn K         echo mode: one frame out, K frames back per turn\n"
               "  --idle                      connect, hello, then hold the sessions open without traffic\n"
               "  --threads T                 io_context threads (default 1)\n"
               "  --connect-parallel C        connections being opened at once (default 200)\n"
               "  --turn-timeout S            a turn without its last frame after S seconds is an error (default 10)\n"
               "  --label TEXT                name for the result line\n"
               "  --server-pid PID            report that process's CPU time per turn and its memory (from /proc)\n");
  std::exit(code);
}

Options parse_options(int argc, char** argv) {
  Options o;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) usage(2);
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") usage(0);
    else if (a == "--url") {
      std::string url = need(i);
      if (url.rfind("ws://", 0) != 0) {
        std::fprintf(stderr, "--url must start with ws://\n");
        std::exit(2);
      }
      url = url.substr(5);
      auto slash = url.find('/');
      std::string authority = url.substr(0, slash);
      o.path = slash == std::string::npos ? "/" : url.substr(slash);
      auto colon = authority.rfind(':');
      if (colon != std::string::npos) {
        o.host = authority.substr(0, colon);
        o.port = static_cast<std::uint16_t>(std::stoi(authority.substr(colon + 1)));
      } else {
        o.host = authority;
        o.port = 80;
      }
    } else if (a == "--host") o.host = need(i);
    else if (a == "--port") o.port = static_cast<std::uint16_t>(std::stoi(need(i)));
    else if (a == "--sessions") o.sessions = std::stoi(need(i));
    else if (a == "--duration") o.duration = std::stod(need(i));
    else if (a == "--rate") o.rate = std::stod(need(i));
    else if (a == "--flow") o.flow = need(i);
    else if (a == "--frames-per-turn") o.frames_per_turn = std::stoi(need(i));
    else if (a == "--idle") o.idle = true;
    else if (a == "--threads") o.threads = std::stoi(need(i));
    else if (a == "--connect-parallel") o.connect_parallel = std::stoi(need(i));
    else if (a == "--turn-timeout") o.turn_timeout = std::stod(need(i));
    else if (a == "--label") o.label = need(i);
    else if (a == "--server-pid") o.server_pid = std::stoi(need(i));
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      usage(2);
    }
  }
  if (o.sessions < 1 || o.sessions > 100000 || o.threads < 1 || o.threads > 64 || o.duration <= 0 ||
      o.duration > 3600 || o.rate < 0 || o.frames_per_turn < 0 || o.connect_parallel < 1) {
    std::fprintf(stderr, "an option is out of range\n");
    std::exit(2);
  }
  return o;
}

// Latency samples in microseconds. All are kept (a few hundred thousand at
// most in the runs this tool is for), so percentiles are exact.
struct Stats {
  std::vector<std::uint32_t> latency_us;
  std::uint64_t turns = 0;
  std::uint64_t frames = 0;       // frames received during measured turns
  std::uint64_t frame_bytes = 0;  // their payload bytes
  std::uint64_t flows_completed = 0;
  std::uint64_t error_frames = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t disconnects = 0;
  std::uint64_t late_sends = 0;  // rate mode: turns sent after their due time
  void merge(const Stats& o) {
    latency_us.insert(latency_us.end(), o.latency_us.begin(), o.latency_us.end());
    turns += o.turns;
    frames += o.frames;
    frame_bytes += o.frame_bytes;
    flows_completed += o.flows_completed;
    error_frames += o.error_frames;
    timeouts += o.timeouts;
    connect_failures += o.connect_failures;
    disconnects += o.disconnects;
    late_sends += o.late_sends;
  }
};

struct Shared {
  const Options& options;
  tcp::endpoint endpoint;
  std::atomic<int> connected{0};
  std::atomic<int> failed{0};
  std::atomic<bool> stopping{false};        // no new turns
  std::atomic<std::int64_t> window_start{0};  // steady ns; turns completing before it are not counted
  std::atomic<std::int64_t> window_end{0};
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
}

std::string_view frame_type(std::string_view frame) {
  // The server writes "type" first: {"type":"prompt",...}. Fall back to a search.
  constexpr std::string_view key = "\"type\":\"";
  auto at = frame.find(key);
  if (at == std::string_view::npos) return {};
  at += key.size();
  auto end = frame.find('"', at);
  if (end == std::string_view::npos) return {};
  return frame.substr(at, end - at);
}

class Worker;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Worker& worker, asio::io_context& io, int index);
  void start_connect();
  void begin_load(std::int64_t first_due_ns);
  void close();
  void check_timeout(std::int64_t now);
  bool dead() const { return dead_; }

 private:
  void on_connect(beast::error_code ec);
  void on_handshake(beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void on_frame(std::string_view frame);
  void turn_finished(bool ok);
  void schedule_next();
  void send_turn();
  void send(std::string text);
  void fail(bool connecting);
  void gone();

  Worker& worker_;
  int index_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  asio::steady_timer timer_;
  std::string out_;
  bool connected_ = false;
  bool dead_ = false;
  bool in_turn_ = false;
  bool running_ = false;
  bool opened_ = false;      // counted in Worker::open_
  bool first_turn_ = false;  // rate mode: the first turn is due at its phase offset
  std::int64_t seq_ = 0;
  std::int64_t due_ns_ = 0;   // when the turn in flight was due (its latency starts here)
  std::int64_t sent_ns_ = 0;  // when it was sent (for the timeout)
  int frames_in_turn_ = 0;
  std::uint64_t bytes_in_turn_ = 0;
  int errors_in_a_row_ = 0;
  int turns_in_flow_ = 0;
  std::string next_;  // the next client frame to send (trellis mode)
};

class Worker {
 public:
  Worker(Shared& shared, int first, int count) : shared_(shared), io_(1), watchdog_(io_), first_(first), count_(count) {}

  void start() {
    for (int i = 0; i < count_; ++i) sessions_.push_back(std::make_shared<Session>(*this, io_, first_ + i));
    int parallel = std::max(1, shared_.options.connect_parallel / shared_.options.threads);
    for (int i = 0; i < parallel && next_connect_ < count_; ++i) sessions_[next_connect_++]->start_connect();
    arm_watchdog();
    thread_ = std::thread([this] { io_.run(); });
  }

  // A session finished connecting (or failed): start the next one.
  void connect_done() {
    if (next_connect_ < count_) sessions_[next_connect_++]->start_connect();
  }

  void begin_load(std::int64_t start_ns) {
    asio::post(io_, [this, start_ns] {
      std::mt19937_64 random(static_cast<std::uint64_t>(first_) * 7919 + 17);
      const double period_ns = shared_.options.rate > 0 ? 1e9 / shared_.options.rate : 0;
      std::uniform_real_distribution<double> phase(0, period_ns);
      for (auto& s : sessions_) {
        if (s->dead()) continue;
        s->begin_load(start_ns + static_cast<std::int64_t>(period_ns > 0 ? phase(random) : 0));
      }
    });
  }

  void close_all() {
    asio::post(io_, [this] {
      closing_ = true;
      for (auto& s : sessions_) s->close();
    });
  }

  void join(double seconds) {
    // Closing handshakes get a bounded time; then the io_context is stopped.
    auto deadline = SteadyClock::now() + std::chrono::duration<double>(seconds);
    while (!io_.stopped() && SteadyClock::now() < deadline && open_ > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    io_.stop();
    if (thread_.joinable()) thread_.join();
    sessions_.clear();
  }

  Shared& shared() { return shared_; }
  Stats& stats() { return stats_; }
  std::atomic<int> open_{0};

 private:
  void arm_watchdog() {
    watchdog_.expires_after(std::chrono::milliseconds(250));
    watchdog_.async_wait([this](beast::error_code ec) {
      if (ec || closing_) return;
      auto now = now_ns();
      for (auto& s : sessions_) s->check_timeout(now);
      arm_watchdog();
    });
  }

  Shared& shared_;
  asio::io_context io_;
  asio::steady_timer watchdog_;
  int first_;
  int count_;
  int next_connect_ = 0;
  bool closing_ = false;
  std::vector<std::shared_ptr<Session>> sessions_;
  Stats stats_;
  std::thread thread_;
};

Session::Session(Worker& worker, asio::io_context& io, int index)
    : worker_(worker), index_(index), ws_(io.get_executor()), timer_(io) {}

void Session::start_connect() {
  auto& options = worker_.shared().options;
  beast::get_lowest_layer(ws_).expires_after(std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(options.connect_timeout)));
  beast::get_lowest_layer(ws_).async_connect(worker_.shared().endpoint,
                                             beast::bind_front_handler(&Session::on_connect, shared_from_this()));
}

void Session::on_connect(beast::error_code ec) {
  if (ec) return fail(true);
  opened_ = true;
  ++worker_.open_;
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ignored);
  auto& options = worker_.shared().options;
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(options.connect_timeout));
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.async_handshake(options.host + ":" + std::to_string(options.port), options.path,
                      beast::bind_front_handler(&Session::on_handshake, shared_from_this()));
}

void Session::on_handshake(beast::error_code ec) {
  if (ec) return fail(true);
  ws_.text(true);
  sent_ns_ = now_ns();
  in_turn_ = true;  // the hello: its answer is timed out like a turn, but not measured
  send(R"({"type":"hello","client":"loadgen/1.0"})");
  do_read();
}

void Session::do_read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
}

void Session::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    if (!connected_) return fail(true);
    if (!dead_ && !worker_.shared().stopping) ++worker_.stats().disconnects;
    dead_ = true;
    return gone();
  }
  auto data = buffer_.cdata();
  on_frame(std::string_view(static_cast<const char*>(data.data()), data.size()));
  buffer_.consume(buffer_.size());
  if (!dead_) do_read();
}

void Session::on_frame(std::string_view frame) {
  auto& shared = worker_.shared();
  const bool echo = shared.options.frames_per_turn > 0;
  if (!connected_) {
    // The answer to hello: welcome from trellis, any one frame from the echo server.
    if (!echo && frame_type(frame) != "welcome") {
      ++worker_.stats().error_frames;
      return fail(true);
    }
    connected_ = true;
    in_turn_ = false;
    ++shared.connected;
    next_ = R"({"type":"start","seq":1,"flow":")" + shared.options.flow + R"("})";
    worker_.connect_done();
    return;
  }
  ++frames_in_turn_;
  bytes_in_turn_ += frame.size();
  if (echo) {
    if (frames_in_turn_ >= shared.options.frames_per_turn) turn_finished(true);
    return;
  }
  auto type = frame_type(frame);
  if (type == "message" || type == "pause") return;
  if (type == "error") {
    ++worker_.stats().error_frames;
    // A refused frame does not use up its seq: send the same one again, or
    // after three refusals in a row, start the flow again with that seq.
    if (++errors_in_a_row_ >= 3) {
      next_ = R"({"type":"start","seq":)" + std::to_string(seq_ + 1) + R"(,"flow":")" + shared.options.flow + R"("})";
      errors_in_a_row_ = 0;
    }
    return turn_finished(false);
  }
  errors_in_a_row_ = 0;
  ++seq_;
  const std::string seq = std::to_string(seq_ + 1);
  if (type == "end") {
    ++worker_.stats().flows_completed;
    turns_in_flow_ = 0;
    next_ = R"({"type":"start","seq":)" + seq + R"(,"flow":")" + shared.options.flow + R"("})";
    return turn_finished(true);
  }
  if (type == "prompt") {
    auto json = nlohmann::json::parse(frame, nullptr, false);
    std::string input = json.is_object() ? json.value("input", "") : "";
    if (++turns_in_flow_ > 200) {  // a flow that never ends: begin again
      turns_in_flow_ = 0;
      next_ = R"({"type":"start","seq":)" + seq + R"(,"flow":")" + shared.options.flow + R"("})";
    } else if (input == "scale") {
      next_ = R"({"type":"input","seq":)" + seq + R"(,"choice":"7"})";
    } else if (input == "yesno") {
      next_ = R"({"type":"input","seq":)" + seq + R"(,"choice":"yes"})";
    } else if (input == "choice" && json["choices"].is_array() && !json["choices"].empty()) {
      next_ = R"({"type":"input","seq":)" + seq + R"(,"choice":)" + json["choices"][0]["id"].dump() + "}";
    } else if (input == "number") {
      next_ = R"({"type":"input","seq":)" + seq + R"(,"text":")" + std::to_string(json.value("min", 1)) + R"("})";
    } else {
      next_ = R"({"type":"input","seq":)" + seq + R"(,"text":"I kept my word to myself, mostly"})";
    }
    return turn_finished(true);
  }
  // An unknown type is ignored, as the protocol asks.
  --frames_in_turn_;
}

void Session::turn_finished(bool ok) {
  if (!in_turn_) return;
  in_turn_ = false;
  auto now = now_ns();
  auto& shared = worker_.shared();
  auto& stats = worker_.stats();
  if (ok && now >= shared.window_start.load() && now <= shared.window_end.load()) {
    auto us = (now - due_ns_) / 1000;
    stats.latency_us.push_back(static_cast<std::uint32_t>(std::clamp<std::int64_t>(us, 0, UINT32_MAX)));
    ++stats.turns;
    stats.frames += static_cast<std::uint64_t>(frames_in_turn_);
    stats.frame_bytes += bytes_in_turn_;
  }
  schedule_next();
}

void Session::begin_load(std::int64_t first_due_ns) {
  running_ = true;
  first_turn_ = true;
  due_ns_ = first_due_ns;
  schedule_next();
}

void Session::schedule_next() {
  if (!running_ || dead_ || worker_.shared().stopping) return;
  const double rate = worker_.shared().options.rate;
  auto now = now_ns();
  if (rate <= 0) {
    due_ns_ = now;
    return send_turn();
  }
  if (!first_turn_) due_ns_ += static_cast<std::int64_t>(1e9 / rate);
  first_turn_ = false;
  if (due_ns_ <= now) {
    if (now - due_ns_ > 1'000'000) ++worker_.stats().late_sends;
    return send_turn();
  }
  timer_.expires_after(std::chrono::nanoseconds(due_ns_ - now));
  timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->send_turn();
  });
}

void Session::send_turn() {
  if (dead_ || worker_.shared().stopping) return;
  in_turn_ = true;
  frames_in_turn_ = 0;
  bytes_in_turn_ = 0;
  sent_ns_ = now_ns();
  if (worker_.shared().options.frames_per_turn > 0) {
    send(R"({"type":"input","seq":)" + std::to_string(++seq_) + R"(,"choice":"7"})");
  } else {
    send(next_);
  }
}

void Session::send(std::string text) {
  // One frame in flight at a time: a session sends only after the previous turn's answer.
  out_ = std::move(text);
  ws_.async_write(asio::buffer(out_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec && !self->dead_ && !self->worker_.shared().stopping) ++self->worker_.stats().disconnects;
  });
}

void Session::check_timeout(std::int64_t now) {
  if (dead_ || !in_turn_) return;
  const double limit = worker_.shared().options.turn_timeout;
  if (static_cast<double>(now - sent_ns_) / 1e9 > limit) {
    ++worker_.stats().timeouts;
    if (!connected_) return fail(true);
    dead_ = true;
    beast::get_lowest_layer(ws_).close();
  }
}

void Session::close() {
  timer_.cancel();
  if (dead_) return;
  if (!connected_) {
    beast::get_lowest_layer(ws_).close();
    return;
  }
  dead_ = true;
  // The closing handshake is bounded by the stream's handshake timeout, and
  // Worker::join stops the io_context after a few seconds in any case.
  ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {});
}

void Session::fail(bool connecting) {
  if (connecting && !connected_ && !dead_) {
    ++worker_.stats().connect_failures;
    ++worker_.shared().failed;
    dead_ = true;
    beast::get_lowest_layer(ws_).close();
    worker_.connect_done();
  }
  gone();
}

void Session::gone() {
  if (!opened_) return;
  opened_ = false;
  --worker_.open_;
}

// utime + stime of a whole process (all its threads), in microseconds.
double process_cpu_us(int pid) {
  if (pid <= 0) return 0;
  FILE* file = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!file) return 0;
  char text[4096];
  std::size_t n = std::fread(text, 1, sizeof text - 1, file);
  std::fclose(file);
  text[n] = 0;
  const char* after_name = std::strrchr(text, ')');  // the command name may hold spaces
  if (!after_name) return 0;
  unsigned long long utime = 0, stime = 0;
  // Fields after the name: state(3) ... utime(14) stime(15).
  if (std::sscanf(after_name + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return 0;
  return static_cast<double>(utime + stime) * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A field of /proc/PID/status in KiB (VmRSS, VmHWM).
long process_status_kib(int pid, const char* field) {
  if (pid <= 0) return 0;
  FILE* file = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (!file) return 0;
  char line[256];
  long value = 0;
  const std::size_t length = std::strlen(field);
  while (std::fgets(line, sizeof line, file)) {
    if (std::strncmp(line, field, length) == 0 && line[length] == ':') {
      value = std::atol(line + length + 1);
      break;
    }
  }
  std::fclose(file);
  return value;
}

long rusage_us() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec * 1000000L + usage.ru_utime.tv_usec + usage.ru_stime.tv_sec * 1000000L +
         usage.ru_stime.tv_usec;
}

double percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  // Many sessions need many sockets: take the hard limit.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  Shared shared{options, {}};
  {
    asio::io_context io;
    tcp::resolver resolver(io);
    beast::error_code ec;
    auto results = resolver.resolve(options.host, std::to_string(options.port), ec);
    if (ec || results.empty()) {
      std::fprintf(stderr, "cannot resolve %s: %s\n", options.host.c_str(), ec.message().c_str());
      return 2;
    }
    shared.endpoint = results.begin()->endpoint();
    if (!shared.endpoint.address().is_loopback()) {
      std::fprintf(stderr, "refusing %s: this tool sends load to loopback addresses only\n", options.host.c_str());
      return 2;
    }
  }
  shared.window_start = std::numeric_limits<std::int64_t>::max();
  shared.window_end = std::numeric_limits<std::int64_t>::max();

  const long rss_before_kib = process_status_kib(options.server_pid, "VmRSS");
  std::vector<std::unique_ptr<Worker>> workers;
  int per = options.sessions / options.threads;
  int extra = options.sessions % options.threads;
  int first = 0;
  auto connect_began = SteadyClock::now();
  for (int t = 0; t < options.threads; ++t) {
    int count = per + (t < extra ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(shared, first, count));
    first += count;
  }
  for (auto& w : workers) w->start();

  // Connect phase: bounded.
  auto connect_deadline = connect_began + std::chrono::duration<double>(options.connect_phase_timeout);
  while (shared.connected + shared.failed < options.sessions && SteadyClock::now() < connect_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  double connect_seconds = std::chrono::duration<double>(SteadyClock::now() - connect_began).count();
  const int connected = shared.connected;
  std::fprintf(stderr, "connected %d of %d sessions in %.2f s (%d failed)\n", connected, options.sessions,
               connect_seconds, shared.failed.load());

  long cpu_before = 0, cpu_after = 0;
  double server_cpu_before = 0, server_cpu_after = 0;
  long rss_connected_kib = 0;
  double measured = options.duration;
  if (options.idle) {
    // Let the last welcomes and allocations settle before reading the memory.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    rss_connected_kib = process_status_kib(options.server_pid, "VmRSS");
    std::printf("all %d sessions connected\n", connected);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::duration<double>(options.duration));
  } else {
    auto start = now_ns();
    // A warm-up (10% of the duration, at most 1 s) reaches a steady state; the window starts after it.
    auto warm = static_cast<std::int64_t>(std::min(1.0, options.duration * 0.1) * 1e9);
    shared.window_start = start + warm;
    shared.window_end = start + warm + static_cast<std::int64_t>(options.duration * 1e9);
    for (auto& w : workers) w->begin_load(start);
    std::this_thread::sleep_until(SteadyClock::time_point(std::chrono::nanoseconds(shared.window_start.load())));
    cpu_before = rusage_us();
    server_cpu_before = process_cpu_us(options.server_pid);
    std::this_thread::sleep_until(SteadyClock::time_point(std::chrono::nanoseconds(shared.window_end.load())));
    cpu_after = rusage_us();
    server_cpu_after = process_cpu_us(options.server_pid);
    rss_connected_kib = process_status_kib(options.server_pid, "VmRSS");
    shared.stopping = true;
  }
  shared.stopping = true;
  for (auto& w : workers) w->close_all();
  for (auto& w : workers) w->join(3.0);

  Stats total;
  for (auto& w : workers) total.merge(w->stats());
  std::sort(total.latency_us.begin(), total.latency_us.end());
  const double turns_per_second = static_cast<double>(total.turns) / measured;
  const double mean_ms = total.latency_us.empty()
                             ? 0
                             : std::accumulate(total.latency_us.begin(), total.latency_us.end(), 0.0) /
                                   static_cast<double>(total.latency_us.size()) / 1000.0;
  const double frames_per_turn = total.turns ? static_cast<double>(total.frames) / static_cast<double>(total.turns) : 0;
  const double bytes_per_frame = total.frames ? static_cast<double>(total.frame_bytes) / static_cast<double>(total.frames) : 0;
  const std::uint64_t errors = total.error_frames + total.timeouts + total.connect_failures + total.disconnects;
  nlohmann::ordered_json report;
  report["label"] = options.label;
  report["mode"] = options.idle ? "idle" : (options.frames_per_turn > 0 ? "echo" : "trellis");
  report["sessions"] = options.sessions;
  report["connected"] = connected;
  report["connect_seconds"] = std::round(connect_seconds * 1000) / 1000;
  report["rate_per_session"] = options.rate;
  report["duration_s"] = measured;
  report["turns"] = total.turns;
  report["turns_per_s"] = std::round(turns_per_second * 10) / 10;
  report["p50_ms"] = percentile(total.latency_us, 50);
  report["p99_ms"] = percentile(total.latency_us, 99);
  report["p999_ms"] = percentile(total.latency_us, 99.9);
  report["max_ms"] = total.latency_us.empty() ? 0.0 : total.latency_us.back() / 1000.0;
  report["mean_ms"] = std::round(mean_ms * 1000) / 1000;
  report["frames_per_turn"] = std::round(frames_per_turn * 100) / 100;
  report["bytes_per_frame"] = std::round(bytes_per_frame);
  report["flows_completed"] = total.flows_completed;
  report["errors"] = errors;
  report["error_frames"] = total.error_frames;
  report["timeouts"] = total.timeouts;
  report["connect_failures"] = total.connect_failures;
  report["disconnects"] = total.disconnects;
  report["late_sends"] = total.late_sends;
  report["loadgen_cpu_us_per_turn"] =
      total.turns ? std::round(static_cast<double>(cpu_after - cpu_before) / static_cast<double>(total.turns) * 10) / 10 : 0.0;
  if (options.server_pid > 0) {
    const double server_us = server_cpu_after - server_cpu_before;
    report["server_cpu_us_per_turn"] =
        total.turns ? std::round(server_us / static_cast<double>(total.turns) * 10) / 10 : 0.0;
    report["server_cpu_percent"] = std::round(server_us / (measured * 1e6) * 1000) / 10;
    report["server_rss_before_kib"] = rss_before_kib;
    report["server_rss_kib"] = rss_connected_kib;
    report["server_rss_hwm_kib"] = process_status_kib(options.server_pid, "VmHWM");
    if (connected > 0) {
      report["server_rss_per_session_kib"] =
          std::round(static_cast<double>(rss_connected_kib - rss_before_kib) / connected * 100) / 100;
    }
  }
  std::printf("%s\n", report.dump().c_str());
  std::fprintf(stderr, "%s: %" PRIu64 " turns, %.1f turns/s, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, %.2f frames/turn, %" PRIu64 " errors\n",
               options.label.empty() ? "result" : options.label.c_str(), total.turns, turns_per_second,
               percentile(total.latency_us, 50), percentile(total.latency_us, 99),
               percentile(total.latency_us, 99.9), frames_per_turn, errors);
  return connected == options.sessions && errors == 0 ? 0 : 1;
}
