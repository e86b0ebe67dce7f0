#include "notify/email_sender.hpp"

#include "core/html_text.hpp"

namespace waitroom::notify {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}
}  // namespace

std::optional<MailAddress> parse_mailbox(std::string_view text) {
  text = trim(text);
  const std::size_t open = text.rfind('<');
  MailAddress m;
  if (open == std::string_view::npos) {
    m.address = std::string(text);
  } else {
    if (!text.ends_with('>')) return std::nullopt;
    m.address = std::string(text.substr(open + 1, text.size() - open - 2));
    std::string_view name = trim(text.substr(0, open));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"')
      name = name.substr(1, name.size() - 2);
    m.display_name = std::string(name);
  }
  if (!net::check_mail_address(m.address)) return std::nullopt;
  return m;
}

EmailSender::EmailSender(net::SmtpClient::Options smtp, MailAddress from, const core::Clock& clock)
    : smtp_(std::move(smtp)), from_(std::move(from)), clock_(clock) {}

EmailContent EmailSender::content(const std::string& to, const NoticeText& t,
                                  const MailAddress& from, std::int64_t now_s) {
  EmailContent c;
  c.from = from;
  c.to = MailAddress{to, {}};
  c.subject = t.title;
  c.text = t.body + "\n\n" + t.link_label + ": " + t.link + "\n\n-- \n" + t.footer + "\n";
  c.html = "<p>" + core::html_escape(t.body) + "</p>\n<p><a href=\"" + core::html_escape(t.link) +
           "\">" + core::html_escape(t.link_label) +
           "</a></p>\n<p style=\"color:#555;font-size:90%\">" + core::html_escape(t.footer) +
           "</p>\n";
  c.date_s = now_s;
  return c;
}

std::expected<void, SendError> EmailSender::send(const engine::PendingNotice& n,
                                                 const std::string& contact,
                                                 const NoticeText& text) {
  MailAddress from = from_;
  if (!n.email_from.empty())
    if (auto room_from = parse_mailbox(n.email_from)) from = std::move(*room_from);
  if (auto ok = net::check_mail_address(contact); !ok)
    return std::unexpected(SendError{"the address cannot be mailed: " + ok.error(), true});
  auto client = net::SmtpClient::create(smtp_);
  if (!client) return std::unexpected(SendError{"smtp: " + client.error(), false});
  const std::string message = build_email(content(contact, text, from, clock_.now_s()));
  auto sent = (*client)->send(net::MailEnvelope{from.address, contact}, message);
  if (!sent) {
    // An SMTP reply may quote the address ("550 <x@y>: no such user"): only the step and code go
    // to logs and events.
    const std::string& r = sent.error().reason;
    const std::string code =
        r.size() >= 3 && std::isdigit(static_cast<unsigned char>(r[0])) ? r.substr(0, 3) : r;
    return std::unexpected(
        SendError{"smtp " + sent.error().step + ": " + code, sent.error().permanent});
  }
  return {};
}

}  // namespace waitroom::notify
