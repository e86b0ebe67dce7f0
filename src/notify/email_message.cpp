#include "notify/email_message.hpp"

#include <openssl/rand.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>
#include <vector>

#include "core/base64.hpp"
#include "core/hex.hpp"

namespace waitroom::notify {
namespace {

// RFC 2045 and 2047: encoded lines, and header lines holding encoded words, within 76.
constexpr std::size_t kMaxLine = 76;
// Encoded-word bytes: 39 make 52 base64 characters, a word of 64 ("=?UTF-8?B?" ... "?="), which
// fits after "Subject: " within 76.
constexpr std::size_t kWordBytes = 39;
// A plain subject word longer than this could not be folded within 76: such a subject is encoded.
constexpr std::size_t kMaxPlainWord = 66;
// A display name longer than this is encoded too, so that it is split into words.
constexpr std::size_t kMaxQuotedName = 60;
constexpr std::size_t kIdBytes = 16;
constexpr std::size_t kBoundaryBytes = 12;
constexpr char kHexDigits[] = "0123456789ABCDEF";

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    // RAND_bytes fails only when OpenSSL cannot seed itself; the id must be unique, not secret.
    std::random_device device;
    for (char& b : raw) b = static_cast<char>(device());
  }
  return core::lower_hex(raw);
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

// A subject or display name on one line: every control character (CR and LF among them) a space.
std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& ch : out) {
    if (is_control(static_cast<unsigned char>(ch))) ch = ' ';
  }
  return out;
}

// An address as a header can carry it: nothing that could end the header or the angle brackets.
std::string bare_address(std::string_view address) {
  std::string out;
  for (const char ch : address) {
    const auto c = static_cast<unsigned char>(ch);
    if (!is_control(c) && ch != ' ' && ch != '<' && ch != '>') out += ch;
  }
  return out;
}

// Printable ASCII that no decoder could take for an encoded word.
bool is_plain(std::string_view text) {
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return text.find("=?") == std::string_view::npos;
}

// The text as RFC 2047 encoded words ("=?UTF-8?B?...?="), each of whole UTF-8 characters (a
// continuation byte never starts a word) and at most kWordBytes.
std::vector<std::string> encoded_words(std::string_view text) {
  std::vector<std::string> words;
  while (!text.empty()) {
    std::size_t n = std::min(text.size(), kWordBytes);
    while (n < text.size() && n > 1 && (static_cast<unsigned char>(text[n]) & 0xc0) == 0x80) --n;
    words.push_back("=?UTF-8?B?" + core::base64_encode(text.substr(0, n)) + "?=");
    text.remove_prefix(n);
  }
  return words;
}

// "Name: token token ...", folded (CRLF and a space, RFC 5322 section 2.2.3) before a token that
// would take the line past 76 characters. Unfolding gives back the tokens joined by single spaces.
std::string header(std::string_view name, const std::vector<std::string>& tokens) {
  std::string out(name);
  out += ':';
  std::size_t line = out.size();
  bool first = true;
  for (const std::string& token : tokens) {
    if (!first && line + 1 + token.size() > kMaxLine) {
      out += "\r\n";
      line = 0;
    }
    out += ' ';
    out += token;
    line += 1 + token.size();
    first = false;
  }
  return out + "\r\n";
}

std::vector<std::string> split_spaces(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    const std::size_t space = text.find(' ');
    out.emplace_back(text.substr(0, space));
    if (space == std::string_view::npos) return out;
    text.remove_prefix(space + 1);
  }
}

// An unstructured value (the subject): as it is when plain and foldable, else encoded words.
std::vector<std::string> unstructured(std::string_view raw) {
  const std::string text = one_line(raw);
  if (text.empty()) return {};
  if (is_plain(text)) {
    auto words = split_spaces(text);
    bool foldable = true;
    for (const std::string& w : words) foldable = foldable && w.size() <= kMaxPlainWord;
    if (foldable) return words;
  }
  return encoded_words(text);
}

// `"Display Name" <local@domain>`, or the address alone.
std::vector<std::string> mailbox(const MailAddress& who) {
  const std::string address = bare_address(who.address);
  const std::string name = one_line(who.display_name);
  if (name.find_first_not_of(' ') == std::string::npos) return {address};
  std::vector<std::string> tokens;
  if (is_plain(name) && name.size() <= kMaxQuotedName) {
    std::string quoted = "\"";
    for (const char ch : name) {
      if (ch == '"' || ch == '\\') quoted += '\\';
      quoted += ch;
    }
    tokens.push_back(quoted + "\"");
  } else {
    tokens = encoded_words(name);
  }
  tokens.push_back("<" + address + ">");
  return tokens;
}

// The Message-ID's right side: the configured domain or the sender's, as a dot-atom.
std::string id_domain(const EmailContent& content) {
  std::string_view domain = content.message_id_domain;
  if (domain.empty()) {
    const std::string_view from = content.from.address;
    const std::size_t at = from.rfind('@');
    if (at != std::string_view::npos) domain = from.substr(at + 1);
  }
  std::string out;
  for (const char ch : domain) {
    if (std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '.' || ch == '-') out += ch;
  }
  return out.empty() ? "localhost" : out;
}

std::string part_headers(std::string_view type) {
  return "Content-Type: " + std::string(type) +
         "; charset=utf-8\r\n"
         "Content-Transfer-Encoding: quoted-printable\r\n";
}

}  // namespace

std::string quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t line = 0;
  // Each piece is one character as encoded, never split by a soft break. 75 leaves room for the
  // break's '='.
  const auto put = [&](std::string_view piece) {
    if (line + piece.size() > kMaxLine - 1) {
      out += "=\r\n";
      line = 0;
    }
    out += piece;
    line += piece.size();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == '\r' || ch == '\n') {
      if (ch == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += "\r\n";
      line = 0;
      continue;
    }
    const auto c = static_cast<unsigned char>(ch);
    const bool line_end = i + 1 == text.size() || text[i + 1] == '\r' || text[i + 1] == '\n';
    if ((c == ' ' || c == '\t') && !line_end) {
      put(std::string_view(&ch, 1));
    } else if (c >= 33 && c <= 126 && c != '=') {
      put(std::string_view(&ch, 1));
    } else {
      const char encoded[] = {'=', kHexDigits[c >> 4], kHexDigits[c & 0xf]};
      put(std::string_view(encoded, 3));
    }
  }
  return out;
}

std::string email_date(std::int64_t unix_s) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto t = static_cast<time_t>(unix_s);
  struct tm utc {};
  gmtime_r(&t, &utc);
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[utc.tm_wday],
                utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  return text;
}

std::string build_email(const EmailContent& content) {
  std::string out;
  out += "Date: " + email_date(content.date_s) + "\r\n";
  out += header("From", mailbox(content.from));
  out += header("To", mailbox(content.to));
  out += header("Subject", unstructured(content.subject));
  out += "Message-ID: <" + random_hex(kIdBytes) + "@" + id_domain(content) + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  // RFC 3834: a machine sent it, so that out-of-office replies do not answer it.
  out += "Auto-Submitted: auto-generated\r\n";
  if (content.html.empty()) {
    out += part_headers("text/plain");
    out += "\r\n";
    out += quoted_printable(content.text);
    return out;
  }
  // "=_" never occurs in quoted-printable ('=' is always =3D or a soft break), so the boundary
  // cannot occur in either part.
  const std::string boundary = "=_" + random_hex(kBoundaryBytes);
  out += "Content-Type: multipart/alternative;\r\n boundary=\"" + boundary + "\"\r\n";
  out += "\r\n";
  out += "--" + boundary + "\r\n" + part_headers("text/plain") + "\r\n";
  out += quoted_printable(content.text);
  out += "\r\n--" + boundary + "\r\n" + part_headers("text/html") + "\r\n";
  out += quoted_printable(content.html);
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

}  // namespace waitroom::notify
