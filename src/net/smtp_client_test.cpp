#include "net/smtp_client.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "testing/temp_dir.hpp"
#include "testing/test_certificates.hpp"

namespace waitroom::net {
namespace {

using namespace std::chrono_literals;
using tcp = boost::asio::ip::tcp;

// What the fake mail server does on its one connection.
struct SmtpScript {
  bool offer_starttls = true;
  bool implicit_tls = false;   // TLS from the first byte (port 465)
  bool auth_in_plain = false;  // offer AUTH before TLS too (real servers offer it over TLS only)
  bool silent = false;         // accept, then never say a word
  std::string auth = "PLAIN LOGIN";  // the mechanisms offered; empty: no AUTH line
  std::string rcpt_reply = "250 2.1.5 Ok";
  std::string data_end_reply = "250 2.0.0 Ok: queued";
};

// What it saw.
struct SmtpLog {
  std::vector<std::string> commands;  // as received, AUTH's credentials included
  bool tls = false;                   // the session went TLS
  std::optional<bool> auth_over_tls;  // set once AUTH came
  std::string credentials;            // decoded: "\0user\0password"
  std::string mail_from;
  std::string rcpt_to;
  std::string wire_data;  // between DATA and ".", as sent (dot-stuffed)
  std::string message;    // the same with the dots taken out again
  bool quit = false;
};

std::string smtp_test_base64_decode(const std::string& text) {
  std::string out(text.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return "<bad base64>";
  out.resize(static_cast<std::size_t>(n));
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) out.pop_back();
  return out;
}

std::string smtp_test_bracketed(const std::string& line) {
  const auto open = line.find('<');
  const auto close = line.rfind('>');
  return open == std::string::npos || close < open ? "" : line.substr(open + 1, close - open - 1);
}

// A mail server on 127.0.0.1 for one connection, on a thread of its own: blocking Asio, STARTTLS
// with the test certificate. finish() waits for the session to end and returns what it saw.
class FakeSmtpServer {
 public:
  FakeSmtpServer(SmtpScript script, const waitroom::testing::TestCertificate& certificate)
      : script_(std::move(script)),
        acceptor_(ioc_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    tls_.use_certificate_chain(boost::asio::buffer(certificate.cert_pem));
    tls_.use_private_key(boost::asio::buffer(certificate.key_pem), boost::asio::ssl::context::pem);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeSmtpServer() { finish(); }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  bool accepted() const { return accepted_; }

  const SmtpLog& finish() {
    if (thread_.joinable()) {
      if (!accepted_) {  // nobody came: come and go ourselves, so that the session ends
        boost::system::error_code ec;
        tcp::socket poke(ioc_);
        poke.connect(acceptor_.local_endpoint(), ec);
      }
      thread_.join();
    }
    return log_;
  }

 private:
  std::optional<std::string> read_line() {
    boost::system::error_code ec;
    auto buffer = boost::asio::dynamic_buffer(input_);
    const std::size_t n = secure_ ? boost::asio::read_until(*secure_, buffer, "\r\n", ec)
                                  : boost::asio::read_until(socket_, buffer, "\r\n", ec);
    if (ec) return std::nullopt;
    std::string line = input_.substr(0, n - 2);
    input_.erase(0, n);
    return line;
  }

  void write(const std::string& text) {
    boost::system::error_code ec;
    if (secure_)
      boost::asio::write(*secure_, boost::asio::buffer(text), ec);
    else
      boost::asio::write(socket_, boost::asio::buffer(text), ec);
  }

  bool start_tls() {
    secure_ = std::make_unique<boost::asio::ssl::stream<tcp::socket&>>(socket_, tls_);
    boost::system::error_code ec;
    secure_->handshake(boost::asio::ssl::stream_base::server, ec);
    log_.tls = !ec;
    return !ec;
  }

  void serve() {
    boost::system::error_code ec;
    acceptor_.accept(socket_, ec);
    accepted_ = true;
    if (ec || (script_.implicit_tls && !start_tls())) return;
    if (script_.silent) {
      (void)read_line();  // holds the connection until the client gives up
      return;
    }
    write("220 fake.test ESMTP\r\n");
    while (auto line = read_line()) {
      log_.commands.push_back(*line);
      std::string upper = *line;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (upper.starts_with("EHLO ")) {
        std::string reply = "250-fake.test\r\n";
        if (script_.offer_starttls && !secure_) reply += "250-STARTTLS\r\n";
        if (!script_.auth.empty() && (secure_ || script_.auth_in_plain))
          reply += "250-AUTH " + script_.auth + "\r\n";
        write(reply + "250 8BITMIME\r\n");
      } else if (upper == "STARTTLS") {
        write("220 2.0.0 Ready to start TLS\r\n");
        input_.clear();
        if (!start_tls()) return;
      } else if (upper.starts_with("AUTH PLAIN ")) {
        log_.auth_over_tls = secure_ != nullptr;
        log_.credentials = smtp_test_base64_decode(line->substr(11));
        write("235 2.7.0 Authentication successful\r\n");
      } else if (upper == "AUTH LOGIN") {
        log_.auth_over_tls = secure_ != nullptr;
        write("334 VXNlcm5hbWU6\r\n");
        const auto user = read_line();
        write("334 UGFzc3dvcmQ6\r\n");
        const auto password = read_line();
        if (!user || !password) return;
        log_.credentials = std::string(1, '\0') + smtp_test_base64_decode(*user) + '\0' +
                           smtp_test_base64_decode(*password);
        write("235 2.7.0 Authentication successful\r\n");
      } else if (upper.starts_with("MAIL FROM:")) {
        log_.mail_from = smtp_test_bracketed(*line);
        write("250 2.1.0 Ok\r\n");
      } else if (upper.starts_with("RCPT TO:")) {
        log_.rcpt_to = smtp_test_bracketed(*line);
        write(script_.rcpt_reply + "\r\n");
      } else if (upper == "DATA") {
        write("354 End data with <CR><LF>.<CR><LF>\r\n");
        while (true) {
          const auto data = read_line();
          if (!data) return;
          if (*data == ".") break;
          log_.wire_data += *data + "\r\n";
          log_.message += (data->starts_with('.') ? data->substr(1) : *data) + "\r\n";
        }
        write(script_.data_end_reply + "\r\n");
      } else if (upper == "QUIT") {
        log_.quit = true;
        write("221 2.0.0 Bye\r\n");
        return;
      } else {
        write("502 5.5.2 Error: command not recognized\r\n");
      }
    }
  }

  const SmtpScript script_;
  boost::asio::io_context ioc_;
  boost::asio::ssl::context tls_{boost::asio::ssl::context::tls_server};
  tcp::acceptor acceptor_;
  tcp::socket socket_{ioc_};
  std::unique_ptr<boost::asio::ssl::stream<tcp::socket&>> secure_;
  std::string input_;
  std::atomic<bool> accepted_{false};
  SmtpLog log_;
  std::thread thread_;
};

class SmtpClientTest : public ::testing::Test {
 protected:
  SmtpClientTest() {
    std::ofstream(ca_file_) << certificate_.cert_pem;
    std::ofstream(other_ca_file_) << other_.cert_pem;
  }

  SmtpClient::Options options_for(const FakeSmtpServer& server) const {
    SmtpClient::Options o;
    o.host = "127.0.0.1";
    o.port = server.port();
    o.ca_file = ca_file_.string();
    o.helo = "waitroom.test";
    o.timeout = 5s;
    return o;
  }

  std::unique_ptr<SmtpClient> client(SmtpClient::Options options) const {
    auto made = SmtpClient::create(std::move(options));
    EXPECT_TRUE(made) << (made ? "" : made.error());
    return made ? std::move(*made) : nullptr;
  }

  const waitroom::testing::TestCertificate certificate_ =
      waitroom::testing::make_server_certificate("DNS:localhost,IP:127.0.0.1");
  const waitroom::testing::TestCertificate other_ =
      waitroom::testing::make_server_certificate("DNS:localhost,IP:127.0.0.1");
  waitroom::testing::TempDir dir_;
  const std::filesystem::path ca_file_ = dir_.path() / "ca.pem";
  const std::filesystem::path other_ca_file_ = dir_.path() / "other.pem";
  const MailEnvelope envelope_{"queue@shop.example", "visitor@example.org"};
  const std::string message_ = "Subject: Your turn\r\n\r\nCome back now.\r\n";
};

TEST_F(SmtpClientTest, MovesToTlsBeforeAuthAndSendsTheMail) {
  FakeSmtpServer server({}, certificate_);
  auto options = options_for(server);
  // By name: a lookup, SNI and the certificate's DNS entry ("localhost" may resolve to ::1
  // first, which is refused: the next address is tried).
  options.host = "localhost";
  options.username = "queue";
  options.password = "s3cret";
  auto smtp = client(options);
  ASSERT_TRUE(smtp);
  auto sent = smtp->send(envelope_, message_);
  ASSERT_TRUE(sent) << sent.error().message();
  const SmtpLog& log = server.finish();
  EXPECT_TRUE(log.tls);
  ASSERT_TRUE(log.auth_over_tls.has_value());
  EXPECT_TRUE(*log.auth_over_tls);
  EXPECT_EQ(log.credentials, std::string("\0queue\0s3cret", 13));
  EXPECT_EQ(log.mail_from, "queue@shop.example");
  EXPECT_EQ(log.rcpt_to, "visitor@example.org");
  EXPECT_EQ(log.message, message_);
  EXPECT_TRUE(log.quit);
  const std::vector<std::string> expected_start = {"EHLO waitroom.test", "STARTTLS",
                                                   "EHLO waitroom.test"};
  ASSERT_GE(log.commands.size(), 4u);
  EXPECT_EQ(std::vector(log.commands.begin(), log.commands.begin() + 3), expected_start);
  EXPECT_TRUE(log.commands[3].starts_with("AUTH PLAIN ")) << log.commands[3];
}

TEST_F(SmtpClientTest, UsesAuthLoginWhenThatIsAllTheServerOffers) {
  FakeSmtpServer server({.auth = "LOGIN"}, certificate_);
  auto options = options_for(server);
  options.username = "queue";
  options.password = "s3cret";
  auto sent = client(options)->send(envelope_, message_);
  ASSERT_TRUE(sent) << sent.error().message();
  const SmtpLog& log = server.finish();
  EXPECT_TRUE(log.auth_over_tls.value_or(false));
  EXPECT_EQ(log.credentials, std::string("\0queue\0s3cret", 13));
  EXPECT_EQ(log.message, message_);
}

TEST_F(SmtpClientTest, RequiredStartTlsThatIsNotOfferedSendsNothing) {
  FakeSmtpServer server({.offer_starttls = false, .auth_in_plain = true}, certificate_);
  auto options = options_for(server);
  options.username = "queue";
  options.password = "s3cret";
  auto sent = client(options)->send(envelope_, message_);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().step, "STARTTLS");
  EXPECT_NE(sent.error().reason.find("does not offer"), std::string::npos)
      << sent.error().message();
  EXPECT_FALSE(sent.error().permanent);
  const SmtpLog& log = server.finish();
  EXPECT_FALSE(log.auth_over_tls.has_value()) << "no password in the clear";
  EXPECT_EQ(log.mail_from, "");
  EXPECT_TRUE(log.quit);
}

TEST_F(SmtpClientTest, OpportunisticSendsInPlainTextButNeverThePassword) {
  {
    FakeSmtpServer server({.offer_starttls = false}, certificate_);
    auto options = options_for(server);
    options.starttls = StartTls::opportunistic;
    auto sent = client(options)->send(envelope_, message_);
    ASSERT_TRUE(sent) << sent.error().message();
    const SmtpLog& log = server.finish();
    EXPECT_FALSE(log.tls);
    EXPECT_EQ(log.message, message_);
  }
  FakeSmtpServer server({.offer_starttls = false, .auth_in_plain = true}, certificate_);
  auto options = options_for(server);
  options.starttls = StartTls::opportunistic;
  options.username = "queue";
  options.password = "s3cret";
  auto sent = client(options)->send(envelope_, message_);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().step, "AUTH");
  EXPECT_NE(sent.error().reason.find("not sent in the clear"), std::string::npos);
  const SmtpLog& log = server.finish();
  EXPECT_FALSE(log.auth_over_tls.has_value());
  EXPECT_EQ(log.mail_from, "");
}

TEST_F(SmtpClientTest, PlainAuthOnlyWhenAllowed) {
  SmtpClient::Options options;
  options.host = "127.0.0.1";
  options.starttls = StartTls::off;
  options.username = "queue";
  options.password = "s3cret";
  auto refused = SmtpClient::create(options);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().starts_with("username: ")) << refused.error();

  FakeSmtpServer server({.auth_in_plain = true}, certificate_);
  options = options_for(server);
  options.starttls = StartTls::off;  // STARTTLS offered, not used
  options.username = "queue";
  options.password = "s3cret";
  options.allow_plain_auth = true;
  auto sent = client(options)->send(envelope_, message_);
  ASSERT_TRUE(sent) << sent.error().message();
  const SmtpLog& log = server.finish();
  EXPECT_FALSE(log.tls);
  EXPECT_FALSE(log.auth_over_tls.value_or(true));
  EXPECT_EQ(log.credentials, std::string("\0queue\0s3cret", 13));
}

TEST_F(SmtpClientTest, SpeaksTlsFromTheStartOnImplicitTls) {
  FakeSmtpServer server({.offer_starttls = false, .implicit_tls = true}, certificate_);
  auto options = options_for(server);
  options.implicit_tls = true;
  options.username = "queue";
  options.password = "s3cret";
  auto sent = client(options)->send(envelope_, message_);
  ASSERT_TRUE(sent) << sent.error().message();
  const SmtpLog& log = server.finish();
  EXPECT_TRUE(log.tls);
  EXPECT_TRUE(log.auth_over_tls.value_or(false));
  EXPECT_EQ(log.message, message_);
}

TEST_F(SmtpClientTest, RefusesACertificateItDoesNotTrust) {
  FakeSmtpServer server({}, certificate_);
  auto options = options_for(server);
  options.ca_file = other_ca_file_.string();  // same names, another key: the chain fails
  auto sent = client(options)->send(envelope_, message_);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().step, "TLS handshake failed");
  EXPECT_FALSE(sent.error().permanent);
  EXPECT_EQ(server.finish().mail_from, "");
}

TEST_F(SmtpClientTest, A5xxRecipientRefusalIsPermanent) {
  FakeSmtpServer server({.rcpt_reply = "550-5.1.1 <visitor@example.org>:\r\n"
                                       "550 5.1.1 Recipient address rejected"},
                        certificate_);
  auto sent = client(options_for(server))->send(envelope_, message_);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().step, "RCPT TO");
  EXPECT_TRUE(sent.error().permanent);
  EXPECT_EQ(sent.error().message(),
            "RCPT TO: 550 5.1.1 <visitor@example.org>: 5.1.1 Recipient address rejected");
  const SmtpLog& log = server.finish();
  EXPECT_EQ(log.wire_data, "");
  EXPECT_TRUE(log.quit);
}

TEST_F(SmtpClientTest, A4xxIsTemporary) {
  FakeSmtpServer server({.data_end_reply = "451 4.3.0 Try again later"}, certificate_);
  auto sent = client(options_for(server))->send(envelope_, message_);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().message(), "end of data: 451 4.3.0 Try again later");
  EXPECT_FALSE(sent.error().permanent);
  EXPECT_FALSE(sent.error().timed_out);
}

TEST_F(SmtpClientTest, AServerThatNeverAnswersTimesOutWithinTheDeadline) {
  FakeSmtpServer server({.silent = true}, certificate_);
  auto options = options_for(server);
  options.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  auto sent = client(options)->send(envelope_, message_);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().message(), "greeting: timed out");
  EXPECT_TRUE(sent.error().timed_out);
  EXPECT_FALSE(sent.error().permanent);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2s);
  EXPECT_TRUE(server.accepted());
}

TEST_F(SmtpClientTest, StuffsDotsAndMakesLineEndsCrlf) {
  FakeSmtpServer server({}, certificate_);
  const std::string message = "Subject: dots\r\n\r\n.hidden\nplain\r\n..two\rlast";
  auto sent = client(options_for(server))->send(envelope_, message);
  ASSERT_TRUE(sent) << sent.error().message();
  const SmtpLog& log = server.finish();
  EXPECT_EQ(log.wire_data, "Subject: dots\r\n\r\n..hidden\r\nplain\r\n...two\r\nlast\r\n");
  EXPECT_EQ(log.message, "Subject: dots\r\n\r\n.hidden\r\nplain\r\n..two\r\nlast\r\n");
}

TEST_F(SmtpClientTest, RefusesAnAddressThatCouldInjectCommands) {
  FakeSmtpServer server({}, certificate_);
  auto smtp = client(options_for(server));
  auto sent = smtp->send({"queue@shop.example\r\nRCPT TO:<x@evil.example>", "visitor@example.org"},
                         message_);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().message(), "sender address: contains CR or LF");
  EXPECT_TRUE(sent.error().permanent);
  sent = smtp->send({"queue@shop.example", "Visitor <visitor@example.org>"}, message_);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().message(), "recipient address: contains '<' or '>'");
  EXPECT_FALSE(server.accepted()) << "nothing reached the wire";
}

TEST(SmtpMailAddress, AcceptsLocalAtDomainOnly) {
  for (const char* good : {"a@b", "visitor@example.org", "first.last+tag@mail.example.co.uk",
                           "o'neil@example.org", "x@[192.0.2.1]", "x@[IPv6:2001:db8::1]"}) {
    EXPECT_TRUE(check_mail_address(good)) << good;
  }
  const std::pair<const char*, const char*> bad[] = {
      {"", "is empty"},
      {"visitor", "has no '@'"},
      {"a@b@c", "more than one '@'"},
      {"@example.org", "nothing before"},
      {"visitor@", "no domain"},
      {"a b@example.org", "a space"},
      {"a@example.org\n", "CR or LF"},
      {"\"a\"@example.org", "'\"'"},
      {".a@example.org", "'.'"},
      {"a..b@example.org", "'.'"},
      {"a@exa mple.org", "a space"},
      {"a@example..org", "not a host name"},
      {"a@-example.org", "not a host name"},
      {"a@example.org,b", "','"},
      {"\xc3\xa9@example.org", "not ASCII"},
      {"a\x01@example.org", "control character"},
  };
  for (const auto& [address, why] : bad) {
    auto checked = check_mail_address(address);
    ASSERT_FALSE(checked) << address;
    EXPECT_NE(checked.error().find(why), std::string::npos) << address << ": " << checked.error();
  }
  EXPECT_FALSE(check_mail_address(std::string(65, 'a') + "@example.org"));
}

TEST(SmtpClientOptions, ErrorsNameTheOption) {
  SmtpClient::Options options;
  EXPECT_EQ(SmtpClient::create(options).error(), "host: must be a host name or an IP address");
  options.host = "smtp.example.com";
  options.ca_file = "/nonexistent/ca.pem";
  auto made = SmtpClient::create(options);
  ASSERT_FALSE(made);
  EXPECT_TRUE(made.error().starts_with("ca_file: cannot load /nonexistent/ca.pem")) << made.error();
  options.ca_file.clear();
  options.helo = "two words";
  ASSERT_FALSE(SmtpClient::create(options));
  EXPECT_TRUE(SmtpClient::create(options).error().starts_with("helo: "));
  options.helo.clear();
  made = SmtpClient::create(options);
  ASSERT_TRUE(made) << made.error();
  EXPECT_FALSE((*made)->options().helo.empty()) << "the host name, or localhost";
  EXPECT_EQ((*made)->options().port, 587);
}

}  // namespace
}  // namespace waitroom::net
