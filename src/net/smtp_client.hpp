#pragma once
// The SMTP client that hands Waitroom's mails (a visitor's "it's almost your turn") to the
// operator's mail server (RFC 5321, submission on 587 or 465): blocking, one connection per mail,
// STARTTLS or TLS from the start (SNI, chain and name checked, TLS 1.2 at least), AUTH PLAIN or
// LOGIN over TLS only, and one deadline over every step, name lookup included. Asio stays inside
// smtp_client.cpp, as in http_client.cpp.
#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>

namespace waitroom::net {

// When the connection moves to TLS with STARTTLS (RFC 3207). Off the wire until then.
enum class StartTls {
  required,       // no STARTTLS offered: nothing is sent (a downgrade fails, it is not obeyed)
  opportunistic,  // STARTTLS when offered, plain text otherwise
  off,            // never, even when offered
};

// The envelope (MAIL FROM, RCPT TO), which may differ from the message's From and To headers.
struct MailEnvelope {
  std::string from;  // the return path: local@domain
  std::string to;    // the one recipient: local@domain
};

// Why a mail was not accepted: the step that failed, why, and whether trying again can help.
struct SmtpError {
  std::string step;    // "sender address", "cannot resolve smtp.example.com", "cannot connect",
                       // "TLS handshake failed", "greeting", "EHLO", "STARTTLS", "AUTH",
                       // "MAIL FROM", "RCPT TO", "DATA", "end of data"
  std::string reason;  // "550 5.1.1 no such user", "timed out", "Connection refused", ...
  // The server refused for good (a 5xx reply), or the address can never be sent to: do not retry
  // this mail. Otherwise (4xx, network, timeout, TLS) a later attempt may succeed.
  bool permanent = false;
  bool timed_out = false;
  // "RCPT TO: 550 5.1.1 no such user", "greeting: timed out"
  std::string message() const { return step + ": " + reason; }
};

// An address the envelope and the headers can carry: local@domain in dot-atom form (RFC 5321
// section 4.1.2), ASCII, with no CR, LF, '<', '>', space or quote, so that it cannot add a
// command or a header. The error says why: "has no '@'", "contains CR or LF", ...
std::expected<void, std::string> check_mail_address(std::string_view address);

class SmtpClient {
 public:
  struct Options {
    std::string host;  // the mail server: a name or an IP address
    std::uint16_t port = 587;
    StartTls starttls = StartTls::required;
    bool implicit_tls = false;  // TLS from the first byte (port 465); starttls does not apply
    std::string username;       // empty: no AUTH
    std::string password;       // never in an error or a log
    // AUTH on a connection that is not TLS sends the password in the clear: refused unless this
    // says so (a server on loopback, a test).
    bool allow_plain_auth = false;
    std::string helo;     // the name EHLO gives; empty: this machine's host name, or "localhost"
    std::string ca_file;  // PEM CAs to trust the server by; empty: the system's
    std::chrono::milliseconds timeout{10000};  // one send(): lookup, connect, TLS, every command
  };
  // Errors name the option: "ca_file: cannot load /x.pem: ...", "username: ..." (AUTH that could
  // only go in the clear), "host: ...", "helo: ...".
  static std::expected<std::unique_ptr<SmtpClient>, std::string> create(Options options);
  ~SmtpClient();
  SmtpClient(const SmtpClient&) = delete;
  SmtpClient& operator=(const SmtpClient&) = delete;

  // Sends `message` (RFC 5322: headers, a blank line, the body) to `envelope.to` on a connection
  // of its own, within the timeout: EHLO, STARTTLS and EHLO again, AUTH, MAIL FROM, RCPT TO, DATA,
  // QUIT. Line ends are made CRLF and lines starting with '.' doubled on the wire. Success means
  // the server took responsibility for the mail (250 after the data); a failure afterwards, at
  // QUIT, is ignored. One call at a time.
  std::expected<void, SmtpError> send(const MailEnvelope& envelope, std::string_view message);

  // Any thread: the step in progress, and every later one, fails at once.
  void abort();

  const Options& options() const { return options_; }

 private:
  struct Connection;  // the socket, the TLS context and the private io_context
  explicit SmtpClient(Options options);

  const Options options_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace waitroom::net
