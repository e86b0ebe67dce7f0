#pragma once
// E-mail over SMTP (net/smtp_client.hpp): one mail per message, in the visitor's language, from
// the room's sender (notify_email_from) or the server's ([smtp] from). The address is used for
// this mail only; it is never logged, and the room erases it once the turn's mail is done.
#include <memory>
#include <mutex>

#include "core/clock.hpp"
#include "net/smtp_client.hpp"
#include "notify/email_message.hpp"
#include "notify/notifier.hpp"

namespace waitroom::notify {

// "Name <addr>" or "addr" as a sender; nullopt when it is neither.
std::optional<MailAddress> parse_mailbox(std::string_view text);

class EmailSender final : public Sender {
 public:
  EmailSender(net::SmtpClient::Options smtp, MailAddress from, const core::Clock& clock);
  std::expected<void, SendError> send(const engine::PendingNotice& notice,
                                      const std::string& contact, const NoticeText& text) override;

  // The message's plain text and HTML (public for tests).
  static EmailContent content(const std::string& to, const NoticeText& text,
                              const MailAddress& from, std::int64_t now_s);

 private:
  const net::SmtpClient::Options smtp_;
  const MailAddress from_;
  const core::Clock& clock_;
};

}  // namespace waitroom::notify
