#pragma once
// Test-only: a real redis-server (Debian's /usr/bin/redis-server) of our own, on free loopback
// ports, in its own directory, with no persistence (--save "" --appendonly no), killed when this
// is destroyed. Tests of reconnecting stop() it (SIGKILL: a crash, no goodbye to clients) and
// start() it again on the same ports; freeze() (SIGSTOP) makes a server that still accepts
// connections but answers nothing, for timeouts. With a certificate it listens for TLS too.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "testing/temp_dir.hpp"

namespace waitroom::testing {

struct RedisServerOptions {
  std::vector<std::string> args;  // more redis-server arguments: {"--requirepass", "secret"}
  // When set: TLS on tls_port() as well as plain TCP on port(), with this certificate and key
  // (PEM files). Clients are not asked for certificates.
  std::string tls_cert_file;
  std::string tls_key_file;
};

class RedisServer {
 public:
  static constexpr const char* kBinary = "/usr/bin/redis-server";
  static constexpr auto kStartTimeout = std::chrono::seconds(10);

  // For GTEST_SKIP() where redis-server is not installed.
  static bool available() { return ::access(kBinary, X_OK) == 0; }

  explicit RedisServer(RedisServerOptions options = {}) : options_(std::move(options)) {
    const std::vector<std::uint16_t> ports = free_ports(options_.tls_cert_file.empty() ? 1 : 2);
    port_ = ports[0];
    if (ports.size() > 1) tls_port_ = ports[1];
    start();
  }
  ~RedisServer() { stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::uint16_t tls_port() const { return tls_port_; }  // 0 without TLS
  const std::filesystem::path& dir() const { return dir_.path(); }
  bool running() const { return pid_ > 0; }

  // Starts the server (again, on the same ports, with an empty data set) and waits until it
  // answers PING (any reply counts: with requirepass it is -NOAUTH). False, with a test
  // failure that quotes its log, when it does not within kStartTimeout.
  bool start() {
    if (pid_ > 0) return true;
    std::vector<std::pair<std::string, std::string>> config = {
        {"--port", std::to_string(port_)},
        {"--bind", "127.0.0.1"},
        {"--save", ""},
        {"--appendonly", "no"},
        {"--dir", dir().string()},
        {"--logfile", log_path()},
        {"--daemonize", "no"},
    };
    if (tls_port_ != 0) {
      const std::vector<std::pair<std::string, std::string>> tls = {
          {"--tls-port", std::to_string(tls_port_)},
          {"--tls-cert-file", options_.tls_cert_file},
          {"--tls-key-file", options_.tls_key_file},
          {"--tls-ca-cert-file", options_.tls_cert_file},
          {"--tls-auth-clients", "no"},
      };
      config.insert(config.end(), tls.begin(), tls.end());
    }
    std::vector<std::string> args = {kBinary};
    for (auto& [flag, value] : config) {
      args.push_back(flag);
      args.push_back(value);
    }
    args.insert(args.end(), options_.args.begin(), options_.args.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid == 0) {
      // The child: only async-signal-safe calls until exec. Dies with the test process.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execv(kBinary, argv.data());
      ::_exit(127);
    }
    if (pid < 0) {
      ADD_FAILURE() << "fork failed";
      return false;
    }
    pid_ = pid;
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        ADD_FAILURE() << "redis-server exited at start; its log:\n" << log_text();
        return false;
      }
      if (answers_ping()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "redis-server did not answer PING within 10 s; its log:\n" << log_text();
    stop();
    return false;
  }

  // SIGKILL, and waits for it to be gone: its clients see their connections reset or closed.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

  void freeze() { ::kill(pid_, SIGSTOP); }
  void thaw() { ::kill(pid_, SIGCONT); }

  std::string log_path() const { return (dir() / "redis.log").string(); }
  std::string log_text() const {
    std::ifstream in(log_path());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  // Ports the kernel had free just now (all bound at once, so they differ).
  static std::vector<std::uint16_t> free_ports(int n) {
    std::vector<int> fds;
    std::vector<std::uint16_t> ports;
    for (int i = 0; i < n; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = 0;
      socklen_t len = sizeof addr;
      if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
          ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        ADD_FAILURE() << "cannot find a free port";
      fds.push_back(fd);
      ports.push_back(ntohs(addr.sin_port));
    }
    for (int fd : fds) ::close(fd);
    return ports;
  }

  bool answers_ping() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    bool ok = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6) {
      pollfd p{fd, POLLIN, 0};
      char c = 0;
      ok = ::poll(&p, 1, 500) == 1 && ::recv(fd, &c, 1, 0) == 1 && (c == '+' || c == '-');
    }
    ::close(fd);
    return ok;
  }

  RedisServerOptions options_;
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace waitroom::testing
