#include "notify/email_message.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <map>
#include <string>
#include <vector>

namespace waitroom::notify {
namespace {

// 2026-01-01T10:00:00Z, a Thursday.
constexpr std::int64_t kEmailTestNewYear = 1767261600;

std::string email_test_base64_decode(const std::string& text) {
  std::string out(text.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return "<bad base64>";
  out.resize(static_cast<std::size_t>(n));
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) out.pop_back();
  return out;
}

// Undoes quoted_printable: soft breaks go, =XX become their byte.
std::string email_test_decode_qp(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out += text[i];
    } else if (text.compare(i + 1, 2, "\r\n") == 0) {
      i += 2;
    } else {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    }
  }
  return out;
}

// The RFC 2047 words of a value, whole ("=?UTF-8?B?...?="). (Not std::regex: g++ 12 warns inside
// <regex> under the sanitizers.)
std::vector<std::string> email_test_words(const std::string& value) {
  std::vector<std::string> words;
  for (std::size_t at = value.find("=?UTF-8?B?"); at != std::string::npos;
       at = value.find("=?UTF-8?B?", at)) {
    const std::size_t end = value.find("?=", at + 10);
    if (end == std::string::npos) break;
    words.push_back(value.substr(at, end + 2 - at));
    at = end + 2;
  }
  return words;
}

// Undoes RFC 2047 in an unfolded value: each word's UTF-8, the spaces between words dropped.
std::string email_test_decode_words(const std::string& value) {
  std::string out;
  for (const std::string& w : email_test_words(value))
    out += email_test_base64_decode(w.substr(10, w.size() - 12));
  return out;
}

bool email_test_is_hex(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

struct EmailTestParsed {
  std::vector<std::string> raw_header_lines;   // as written, folded
  std::map<std::string, std::string> headers;  // unfolded
  std::string body;
};

EmailTestParsed email_test_parse(const std::string& message) {
  EmailTestParsed out;
  const std::size_t end = message.find("\r\n\r\n");
  EXPECT_NE(end, std::string::npos);
  const std::string head = message.substr(0, end + 2);
  out.body = message.substr(end + 4);
  std::string current;
  for (std::size_t at = 0; at < head.size();) {
    const std::size_t eol = head.find("\r\n", at);
    const std::string line = head.substr(at, eol - at);
    out.raw_header_lines.push_back(line);
    at = eol + 2;
    if (!line.empty() && line[0] == ' ') {
      current += line;  // unfolding removes the CRLF only
      continue;
    }
    if (!current.empty()) {
      const std::size_t colon = current.find(':');
      out.headers[current.substr(0, colon)] = current.substr(colon + 2);
    }
    current = line;
  }
  const std::size_t colon = current.find(':');
  out.headers[current.substr(0, colon)] = current.substr(colon + 2);
  return out;
}

void email_test_expect_wire_safe(const std::string& message) {
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\n') {
      EXPECT_TRUE(i > 0 && message[i - 1] == '\r') << "bare LF at " << i;
    }
    if (message[i] == '\r') {
      EXPECT_TRUE(i + 1 < message.size() && message[i + 1] == '\n') << "bare CR at " << i;
    }
    EXPECT_LT(static_cast<unsigned char>(message[i]), 0x80) << "8-bit byte at " << i;
  }
  std::size_t at = 0;
  while (at < message.size()) {
    const std::size_t eol = std::min(message.find("\r\n", at), message.size());
    EXPECT_LE(eol - at, 76u) << message.substr(at, eol - at);
    at = eol + 2;
  }
}

EmailContent email_test_turn_mail() {
  EmailContent c;
  c.from = {"queue@shop.example", "Shop Queue"};
  c.to = {"visitor@example.org", ""};
  c.subject = "It's your turn";
  c.text = "Hello,\nit's your turn: https://shop.example/r/sale\n";
  c.date_s = kEmailTestNewYear;
  return c;
}

TEST(EmailMessage, WritesTheMinimalHeadersAndAQuotedPrintableBody) {
  const std::string message = build_email(email_test_turn_mail());
  email_test_expect_wire_safe(message);
  const EmailTestParsed mail = email_test_parse(message);
  EXPECT_EQ(mail.headers.at("Date"), "Thu, 01 Jan 2026 10:00:00 +0000");
  EXPECT_EQ(mail.headers.at("From"), "\"Shop Queue\" <queue@shop.example>");
  EXPECT_EQ(mail.headers.at("To"), "visitor@example.org");
  EXPECT_EQ(mail.headers.at("Subject"), "It's your turn");
  const std::string& id = mail.headers.at("Message-ID");
  EXPECT_TRUE(id.size() == 47 && id.starts_with("<") && id.ends_with("@shop.example>") &&
              email_test_is_hex(std::string_view(id).substr(1, 32)))
      << id;
  EXPECT_EQ(mail.headers.at("MIME-Version"), "1.0");
  EXPECT_EQ(mail.headers.at("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(mail.headers.at("Content-Transfer-Encoding"), "quoted-printable");
  EXPECT_EQ(mail.headers.at("Auto-Submitted"), "auto-generated");
  EXPECT_EQ(mail.headers.size(), 9u);
  EXPECT_EQ(email_test_decode_qp(mail.body),
            "Hello,\r\nit's your turn: https://shop.example/r/sale\r\n");
  EXPECT_NE(email_test_parse(build_email(email_test_turn_mail())).headers.at("Message-ID"),
            mail.headers.at("Message-ID"));
}

TEST(EmailMessage, EncodesASubjectThatIsNotAsciiInWordsOfWholeCharacters) {
  EmailContent c = email_test_turn_mail();
  // 40 two-byte and three-byte characters: several words, none splitting a character.
  c.subject = "Bientôt votre tour ! Ihr Platz in der Warteschlange für den Verkauf — 残り5分です";
  c.from.display_name = "Café Ünter den Linden";
  const std::string message = build_email(c);
  email_test_expect_wire_safe(message);
  const EmailTestParsed mail = email_test_parse(message);
  EXPECT_EQ(email_test_decode_words(mail.headers.at("Subject")), c.subject);
  EXPECT_EQ(email_test_decode_words(mail.headers.at("From")), c.from.display_name);
  EXPECT_TRUE(mail.headers.at("From").ends_with(" <queue@shop.example>"))
      << mail.headers.at("From");
  int subject_lines = 0;
  bool in_subject = false;
  for (const std::string& line : mail.raw_header_lines) {
    if (line.starts_with("Subject:"))
      in_subject = true;
    else if (!line.starts_with(" "))
      in_subject = false;
    subject_lines += in_subject ? 1 : 0;
  }
  EXPECT_GT(subject_lines, 1) << "folded";
  for (const std::string& w : email_test_words(mail.headers.at("Subject"))) {
    EXPECT_LE(w.size(), 75u) << w;
    const std::string bytes = email_test_base64_decode(w.substr(10, w.size() - 12));
    ASSERT_FALSE(bytes.empty());
    EXPECT_NE(static_cast<unsigned char>(bytes[0]) & 0xc0, 0x80) << "starts mid-character";
  }
}

TEST(EmailMessage, FoldsALongAsciiSubjectAtItsSpaces) {
  EmailContent c = email_test_turn_mail();
  c.subject =
      "Your place in the line for the spring sale: about five minutes left, please keep this "
      "mail at hand";
  const std::string message = build_email(c);
  email_test_expect_wire_safe(message);
  const EmailTestParsed mail = email_test_parse(message);
  EXPECT_EQ(mail.headers.at("Subject"), c.subject);
  EXPECT_EQ(message.find("=?"), std::string::npos);
}

TEST(EmailMessage, NoHeaderValueCanAddAHeader) {
  EmailContent c = email_test_turn_mail();
  c.subject = "Hi\r\nBcc: everyone@example.org";
  c.from.display_name = "Shop\nReply-To: evil@example.org";
  c.to.address = "visitor@example.org>\r\nCc: <x@example.org";
  const std::string message = build_email(c);
  email_test_expect_wire_safe(message);
  const EmailTestParsed mail = email_test_parse(message);
  EXPECT_EQ(mail.headers.count("Bcc"), 0u);
  EXPECT_EQ(mail.headers.count("Reply-To"), 0u);
  EXPECT_EQ(mail.headers.count("Cc"), 0u);
  EXPECT_EQ(mail.headers.at("Subject"), "Hi  Bcc: everyone@example.org");
  EXPECT_EQ(mail.headers.at("To"), "visitor@example.orgCc:x@example.org");
  EXPECT_EQ(mail.headers.at("From"), "\"Shop Reply-To: evil@example.org\" <queue@shop.example>");
}

TEST(EmailMessage, AddsAnHtmlAlternative) {
  EmailContent c = email_test_turn_mail();
  c.html = "<p>It's your <b>turn</b>: <a href=\"https://shop.example/r/sale\">go</a></p>";
  const std::string message = build_email(c);
  email_test_expect_wire_safe(message);
  const EmailTestParsed mail = email_test_parse(message);
  const std::string& type = mail.headers.at("Content-Type");
  const std::string prefix = "multipart/alternative; boundary=\"=_";
  ASSERT_TRUE(type.starts_with(prefix) && type.ends_with("\"") &&
              email_test_is_hex(
                  std::string_view(type).substr(prefix.size(), type.size() - prefix.size() - 1)))
      << type;
  const std::string delimiter =
      "--" + type.substr(prefix.size() - 2, type.size() - prefix.size() + 1);
  std::vector<std::string> parts;
  for (std::size_t at = mail.body.find(delimiter); at != std::string::npos;) {
    const std::size_t start = at + delimiter.size();
    if (mail.body.compare(start, 2, "--") == 0) break;  // the close delimiter
    const std::size_t next = mail.body.find("\r\n" + delimiter, start);
    ASSERT_NE(next, std::string::npos);
    parts.push_back(mail.body.substr(start + 2, next - start - 2));
    at = next + 2;
  }
  ASSERT_EQ(parts.size(), 2u);
  const EmailTestParsed text = email_test_parse(parts[0]);
  const EmailTestParsed html = email_test_parse(parts[1]);
  EXPECT_EQ(text.headers.at("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(html.headers.at("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(html.headers.at("Content-Transfer-Encoding"), "quoted-printable");
  EXPECT_EQ(email_test_decode_qp(text.body),
            "Hello,\r\nit's your turn: https://shop.example/r/sale\r\n");
  EXPECT_EQ(email_test_decode_qp(html.body), c.html);
  EXPECT_TRUE(mail.body.ends_with(delimiter + "--\r\n"));
}

TEST(EmailMessage, QuotedPrintableEncodesWhatItMustAndBreaksLongLines) {
  EXPECT_EQ(quoted_printable("a=b"), "a=3Db");
  EXPECT_EQ(quoted_printable("trailing \nspace\t"), "trailing=20\r\nspace=09");
  EXPECT_EQ(quoted_printable("café\r\nx"), "caf=C3=A9\r\nx");
  EXPECT_EQ(quoted_printable("one\rtwo\n\nthree"), "one\r\ntwo\r\n\r\nthree");
  const std::string long_line = std::string(100, 'x') + "é" + std::string(100, ' ') + "end";
  const std::string encoded = quoted_printable(long_line);
  email_test_expect_wire_safe(encoded);
  EXPECT_EQ(email_test_decode_qp(encoded), long_line);
  for (int i = 0; i < 300; ++i) {  // every cut of an =XX sequence against a soft break
    const std::string text = std::string(static_cast<std::size_t>(i % 80), 'a') + "ééé=é\n";
    const std::string qp = quoted_printable(text);
    email_test_expect_wire_safe(qp);
    EXPECT_EQ(email_test_decode_qp(qp),
              std::string(static_cast<std::size_t>(i % 80), 'a') + "ééé=é\r\n");
  }
}

TEST(EmailMessage, DatesAreRfc5322InUtc) {
  EXPECT_EQ(email_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(email_date(1772323199), "Sat, 28 Feb 2026 23:59:59 +0000");
}

TEST(EmailMessage, TheMessageIdDomainIsConfiguredOrTheSenders) {
  EmailContent c = email_test_turn_mail();
  c.message_id_domain = "queue.shop.example";
  EXPECT_TRUE(
      email_test_parse(build_email(c)).headers.at("Message-ID").ends_with("@queue.shop.example>"));
  c.message_id_domain = "bad>\r\ndomain";
  EXPECT_TRUE(email_test_parse(build_email(c)).headers.at("Message-ID").ends_with("@baddomain>"));
}

}  // namespace
}  // namespace waitroom::notify
