// The load client of `make bench`'s push row (bench/run): holds many live update streams
// (GET /v1/rooms/{room}/tickets/{ticket}/events) open on one room of a Waitroom server on
// 127.0.0.1, makes one admin advance, and measures when the changed status reaches each stream.
//
//   waitroom_push_client --port P --room R --admin-key K --streams N --server-pid PID
//
// Steps: create N tickets (64 keep-alive connections), open N streams (at most 512 connects in
// flight, source addresses spread over 127.0.0.2-17 so ephemeral ports never run out), wait until
// every stream has its first message, read the server's VmRSS, POST …/advance {"by":1}, and time
// each stream's next status message from just before the advance was sent. Prints one line of
// key=value pairs. Single-threaded epoll, so its own work is small next to the server's; every
// wait is bounded, and sockets are closed with RST so no TIME_WAIT is left behind.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kTicketConnections = 64;  // closed before the streams open
constexpr rlim_t kOwnDescriptors = 32;  // stdio, epoll, the advance's connection
constexpr int kMaxConnectsInFlight = 512;
constexpr int kSourceAddresses = 16;  // 127.0.0.2 …: each has its own ephemeral port range
constexpr double kPhaseTimeoutS = 60;
constexpr double kArrivalTimeoutS = 10;

struct Options {
  int port = 0;
  std::string room;
  std::string admin_key;
  int streams = 20000;
  int server_pid = 0;
  double idle_s = 0;  // then hold the streams this long and measure the server's idle CPU
};

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "push_client: %s\n", why.c_str());
  std::exit(1);
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

long rss_kb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

// The process's CPU time (user + system, all threads) in milliseconds, from /proc/PID/stat.
double cpu_ms(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int n = 3; n <= 15 && fields >> field; ++n)  // fields 14 and 15: utime, stime
    if (n >= 14) ticks += std::strtod(field.c_str(), nullptr);
  return ticks * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void raise_file_limit(rlim_t need) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur >= need) return;
  rlimit want{std::max(need, lim.rlim_cur), std::max(need, lim.rlim_max)};
  if (setrlimit(RLIMIT_NOFILE, &want) != 0) {  // raising the hard limit needs root
    want = {lim.rlim_max, lim.rlim_max};
    setrlimit(RLIMIT_NOFILE, &want);
  }
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < need)
    die("open-file limit is " + std::to_string(lim.rlim_cur) + ", need " + std::to_string(need));
}

int connect_nonblocking(int port, int source) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (source > 0) {
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7f000001u + static_cast<std::uint32_t>(source));
    if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0)
      die(std::string("bind: ") + std::strerror(errno));
  }
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<std::uint16_t>(port));
  dst.sin_addr.s_addr = htonl(0x7f000001u);
  if (connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0 && errno != EINPROGRESS)
    die(std::string("connect: ") + std::strerror(errno));
  return fd;
}

void close_with_reset(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;  // tiny requests: rare
    if (n <= 0) die(std::string("send: ") + std::strerror(errno));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// One HTTP exchange on a blocking socket (the advance): returns the status code.
int blocking_request(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<std::uint16_t>(port));
  dst.sin_addr.s_addr = htonl(0x7f000001u);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0)
    die("advance: connect failed");
  send_all(fd, request);
  char buf[4096];
  const ssize_t n = recv(fd, buf, sizeof buf, 0);
  close(fd);
  if (n < 12) die("advance: no answer");
  return std::atoi(buf + 9);
}

// --- tickets ---------------------------------------------------------------------------------

std::vector<std::string> create_tickets(const Options& o, int epoll_fd) {
  std::vector<std::string> tickets;
  tickets.reserve(static_cast<std::size_t>(o.streams));
  const std::string request = "POST /v1/rooms/" + o.room +
                              "/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n";
  struct Conn {
    int fd;
    std::string in;
    bool busy = false;
  };
  std::vector<Conn> conns;
  for (int i = 0; i < kTicketConnections; ++i) {
    conns.push_back({connect_nonblocking(o.port, 0), {}, false});
    epoll_event ev{EPOLLIN | EPOLLOUT, {.u32 = static_cast<std::uint32_t>(i)}};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, conns.back().fd, &ev);
  }
  int asked = 0;
  const auto started = Clock::now();
  std::vector<epoll_event> events(256);
  while (static_cast<int>(tickets.size()) < o.streams) {
    if (seconds_since(started) > kPhaseTimeoutS) die("creating tickets took too long");
    const int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 1000);
    for (int e = 0; e < n; ++e) {
      Conn& c = conns[events[e].data.u32];
      if (events[e].events & (EPOLLERR | EPOLLHUP)) die("ticket connection failed");
      if (!c.busy && asked < o.streams && (events[e].events & EPOLLOUT)) {
        send_all(c.fd, request);
        c.busy = true;
        ++asked;
        epoll_event ev{EPOLLIN, {.u32 = events[e].data.u32}};
        epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev);
      }
      if (!(events[e].events & EPOLLIN)) continue;
      char buf[8192];
      ssize_t r;
      while ((r = recv(c.fd, buf, sizeof buf, 0)) > 0)
        c.in.append(buf, static_cast<std::size_t>(r));
      if (r == 0) die("server closed a ticket connection");
      for (;;) {  // complete answers: head + Content-Length body
        const auto head_end = c.in.find("\r\n\r\n");
        if (head_end == std::string::npos) break;
        const auto cl = c.in.find("Content-Length: ");
        if (cl == std::string::npos || cl > head_end) die("answer without Content-Length");
        const std::size_t len = std::strtoul(c.in.c_str() + cl + 16, nullptr, 10);
        if (c.in.size() < head_end + 4 + len) break;
        if (c.in.compare(9, 3, "201") != 0) die("enqueue answered " + c.in.substr(0, 12));
        const std::string body = c.in.substr(head_end + 4, len);
        const auto t = body.find("\"ticket\":\"");
        if (t == std::string::npos) die("no ticket in " + body);
        tickets.push_back(body.substr(t + 10, body.find('"', t + 10) - t - 10));
        c.in.erase(0, head_end + 4 + len);
        c.busy = false;
        if (asked < o.streams) {
          send_all(c.fd, request);
          c.busy = true;
          ++asked;
        }
      }
    }
  }
  for (Conn& c : conns) close_with_reset(c.fd);
  return tickets;
}

// --- streams ---------------------------------------------------------------------------------

struct Stream {
  int fd = -1;
  std::string request;
  std::string in;
  bool connected = false;
  bool head_ok = false;
  std::uint64_t first_id = 0;
  bool got_first = false;
  double changed_s = -1;  // after the advance: seconds until the changed status arrived
};
int heartbeats = 0;  // `: heartbeat` comments received, all streams

// Parses what arrived; returns false when the stream broke.
bool parse(Stream& s, bool measuring, Clock::time_point advance_at) {
  if (!s.head_ok) {
    const auto end = s.in.find("\r\n\r\n");
    if (end == std::string::npos) return true;
    if (s.in.compare(9, 3, "200") != 0) return false;
    s.head_ok = true;
    s.in.erase(0, end + 4);
  }
  for (;;) {
    const auto end = s.in.find("\n\n");
    if (end == std::string::npos) return true;
    const std::string_view block(s.in.data(), end);
    if (block == ": heartbeat") ++heartbeats;
    const auto id_at = block.find("id: ");
    if (id_at != std::string_view::npos && block.find("data: ") != std::string_view::npos) {
      const std::uint64_t id = std::strtoull(block.data() + id_at + 4, nullptr, 10);
      if (!s.got_first) {
        s.got_first = true;
        s.first_id = id;
      } else if (measuring && s.changed_s < 0 && id > s.first_id) {
        s.changed_s = std::chrono::duration<double>(Clock::now() - advance_at).count();
      }
    }
    s.in.erase(0, end + 2);
  }
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const std::size_t i =
      std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--port")
      o.port = std::atoi(v);
    else if (k == "--room")
      o.room = v;
    else if (k == "--admin-key")
      o.admin_key = v;
    else if (k == "--streams")
      o.streams = std::atoi(v);
    else if (k == "--server-pid")
      o.server_pid = std::atoi(v);
    else if (k == "--idle-s")
      o.idle_s = std::atof(v);
    else
      die("unknown option " + std::string(k));
  }
  if (o.port <= 0 || o.room.empty() || o.admin_key.empty() || o.streams <= 0 || o.server_pid <= 0)
    die("usage: --port P --room R --admin-key K --streams N --server-pid PID");
  raise_file_limit(static_cast<rlim_t>(o.streams) + kOwnDescriptors);
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);

  const auto t_tickets = Clock::now();
  const std::vector<std::string> tickets = create_tickets(o, epoll_fd);
  const double tickets_s = seconds_since(t_tickets);
  const long rss_base = rss_kb(o.server_pid);

  // Open the streams, a bounded number of connects at a time.
  std::vector<Stream> streams(static_cast<std::size_t>(o.streams));
  int next = 0;
  int connecting = 0;
  int first_messages = 0;
  int broken = 0;
  bool measuring = false;
  Clock::time_point advance_at{};
  std::vector<epoll_event> events(1024);
  auto start_more = [&] {
    while (connecting < kMaxConnectsInFlight && next < o.streams) {
      Stream& s = streams[static_cast<std::size_t>(next)];
      s.fd = connect_nonblocking(o.port, 1 + next % kSourceAddresses);
      s.request = "GET /v1/rooms/" + o.room + "/tickets/" +
                  tickets[static_cast<std::size_t>(next)] +
                  "/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
      epoll_event ev{EPOLLIN | EPOLLOUT | EPOLLRDHUP, {.u32 = static_cast<std::uint32_t>(next)}};
      epoll_ctl(epoll_fd, EPOLL_CTL_ADD, s.fd, &ev);
      ++connecting;
      ++next;
    }
  };
  auto pump = [&](int timeout_ms) {
    const int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int e = 0; e < n; ++e) {
      Stream& s = streams[events[e].data.u32];
      if (s.fd < 0) continue;
      if (!s.connected && (events[e].events & EPOLLOUT)) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        --connecting;
        if (err != 0) {
          ++broken;
          close_with_reset(s.fd);
          s.fd = -1;
          continue;
        }
        s.connected = true;
        send_all(s.fd, s.request);
        s.request = std::string();
        epoll_event ev{EPOLLIN | EPOLLRDHUP, {.u32 = events[e].data.u32}};
        epoll_ctl(epoll_fd, EPOLL_CTL_MOD, s.fd, &ev);
      }
      if (!(events[e].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) continue;
      char buf[4096];
      ssize_t r;
      bool alive = true;
      while ((r = recv(s.fd, buf, sizeof buf, 0)) > 0)
        s.in.append(buf, static_cast<std::size_t>(r));
      if (r == 0 || (r < 0 && errno != EAGAIN)) alive = false;
      const bool had_first = s.got_first;
      if (!parse(s, measuring, advance_at)) alive = false;
      if (!had_first && s.got_first) ++first_messages;
      if (!alive) {
        ++broken;
        close_with_reset(s.fd);
        s.fd = -1;
      }
    }
  };

  const auto t_open = Clock::now();
  while (first_messages + broken < o.streams) {
    if (seconds_since(t_open) > kPhaseTimeoutS) break;
    start_more();
    pump(100);
  }
  const double open_s = seconds_since(t_open);
  const long rss_before = rss_kb(o.server_pid);

  // The change: one admin advance. Timed from just before the request leaves.
  const std::string body = R"({"by":1})";
  const std::string advance =
      "POST /admin/v1/rooms/" + o.room +
      "/advance HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + o.admin_key +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  const double cpu_before = cpu_ms(o.server_pid);
  measuring = true;
  advance_at = Clock::now();
  const int advance_status = blocking_request(o.port, advance);
  int arrived = 0;
  const auto t_wait = Clock::now();
  for (;;) {
    arrived = 0;
    for (const Stream& s : streams) arrived += s.changed_s >= 0;
    if (arrived >= first_messages || seconds_since(t_wait) > kArrivalTimeoutS) break;
    pump(50);
  }
  const long rss_after = rss_kb(o.server_pid);
  const double fanout_cpu_ms = cpu_ms(o.server_pid) - cpu_before;

  // Idle: nothing changes; only heartbeats (every event_heartbeat_s per stream) cost anything.
  double idle_cpu_pct = -1;
  const int heartbeats_before = heartbeats;
  if (o.idle_s > 0) {
    const double idle_cpu_before = cpu_ms(o.server_pid);
    const auto t_idle = Clock::now();
    while (seconds_since(t_idle) < o.idle_s) pump(100);
    idle_cpu_pct = (cpu_ms(o.server_pid) - idle_cpu_before) / (seconds_since(t_idle) * 10.0);
  }

  std::vector<double> lat;
  int within_1s = 0;
  for (const Stream& s : streams) {
    if (s.changed_s < 0) continue;
    lat.push_back(s.changed_s * 1000);
    within_1s += s.changed_s <= 1.0;
  }
  for (Stream& s : streams)
    if (s.fd >= 0) close_with_reset(s.fd);
  std::printf(
      "push streams=%d first=%d broken=%d advance_status=%d changed=%d within_1s=%d p50_ms=%.1f "
      "p99_ms=%.1f max_ms=%.1f rss_base_kb=%ld rss_before_kb=%ld rss_after_kb=%ld tickets_s=%.2f "
      "open_s=%.2f fanout_cpu_ms=%.0f idle_s=%.0f idle_cpu_pct=%.2f idle_heartbeats=%d\n",
      o.streams, first_messages, broken, advance_status, arrived, within_1s, percentile(lat, 0.5),
      percentile(lat, 0.99), lat.empty() ? -1.0 : *std::max_element(lat.begin(), lat.end()),
      rss_base, rss_before, rss_after, tickets_s, open_s, fanout_cpu_ms, o.idle_s, idle_cpu_pct,
      heartbeats - heartbeats_before);
  return (advance_status == 200 && first_messages == o.streams && arrived == o.streams) ? 0 : 2;
}
