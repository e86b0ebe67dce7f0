#pragma once
// The resume link's token: lets a visitor carry their place to another device or browser
// without the link showing the ticket id.
//
// A ticket id is 16 bytes (token/ticket_id.hpp: position, epoch, HMAC tag). The token is those
// 16 bytes encrypted as one AES-256 block under a key derived from the server's secret, written
// as 22 base64url characters: a keyed permutation, so each ticket has exactly one token (the QR
// code never changes while the visitor waits), nothing needs storing, and a made-up token
// decrypts to an id whose HMAC tag fails (odds 2^-64). Opening the link restores the ticket
// cookie, so the token carries the same power as the ticket over that place (docs/page.md); what
// it does not do is work as a ticket id on the API, or reveal the id in history or screenshots.
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace waitroom::token {

class ResumeTokens {
 public:
  // `server_secret`: the data dir's secret (token/secret.hpp); the AES key is
  // HMAC-SHA256(server_secret, "waitroom resume token v1").
  explicit ResumeTokens(std::string_view server_secret);

  // nullopt when `ticket_id` is not a 36-character ticket id.
  std::optional<std::string> token_for(std::string_view ticket_id) const;
  // The ticket id a token stands for (its HMAC is checked later, by the store, against the
  // room); nullopt when the token is malformed.
  std::optional<std::string> ticket_for(std::string_view token) const;

 private:
  std::array<unsigned char, 32> key_{};
};

}  // namespace waitroom::token
