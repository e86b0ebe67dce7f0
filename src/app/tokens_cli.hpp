#pragma once
// `waitroom tokens create|list|revoke`: operator tokens through the admin API (docs/security.md,
// "Operator tokens and roles"), with the key from WAITROOM_ADMIN_KEY (or an admin token there).
#include <CLI/CLI.hpp>
#include <string>

#include "app/admin_client.hpp"

namespace waitroom::app {

struct TokensCommand {
  CLI::App* command = nullptr;  // `tokens`
  AdminCall call;
  std::string name;
  std::string role;
  std::string rooms;  // comma-separated
  std::uint64_t expires_in_s = 0;
  std::string id;
};

void add_tokens_command(CLI::App& app, TokensCommand& tokens);
// Exit code 0 on 2xx; 2 for a bad command line.
int run_tokens_command(const TokensCommand& tokens);

}  // namespace waitroom::app
