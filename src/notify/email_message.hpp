#pragma once
// The mail a waiting visitor gets ("almost your turn", "it's your turn") as the bytes SMTP
// carries (RFC 5322 with MIME): a minimal header set, the text in quoted-printable UTF-8, and an
// HTML alternative when there is one. Every line ends in CRLF and stays within 76 characters, so
// no relay has to rewrap or re-encode it.
#include <cstdint>
#include <string>
#include <string_view>

namespace waitroom::notify {

struct MailAddress {
  std::string address;       // local@domain (net::check_mail_address is the envelope's check)
  std::string display_name;  // UTF-8; empty: the address alone
};

struct EmailContent {
  MailAddress from;
  MailAddress to;
  std::string subject;            // UTF-8
  std::string text;               // UTF-8, the plain-text body; any line ends
  std::string html;               // UTF-8; empty: text only
  std::int64_t date_s = 0;        // the Date header, Unix seconds
  std::string message_id_domain;  // the Message-ID's right side; empty: the sender's domain
};

// The whole message: Date, From, To, Subject, Message-ID (random), MIME-Version, Auto-Submitted,
// Content-Type and Content-Transfer-Encoding, a blank line, the body. A subject or display name
// that is not plain ASCII goes as RFC 2047 encoded words (base64 UTF-8). No header value can carry
// a line break: CR, LF and other control characters become spaces in the subject and names, and
// are dropped from addresses (with '<', '>' and spaces), so nothing can add a header.
std::string build_email(const EmailContent& content);

// RFC 2045 section 6.7: line ends CRLF (a lone LF or CR counts as one), '=', controls and bytes
// above 126 as =XX, a space or tab at a line's end as =20 or =09, and soft breaks ("=" CRLF) so
// that no line is longer than 76 characters.
std::string quoted_printable(std::string_view text);

// RFC 5322 section 3.3, in UTC: "Thu, 01 Jan 2026 10:00:00 +0000".
std::string email_date(std::int64_t unix_s);

}  // namespace waitroom::notify
