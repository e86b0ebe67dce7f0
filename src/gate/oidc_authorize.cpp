// GET /oidc/{room}/authorize: the authorization endpoint (RFC 6749 section 4.1.1, OIDC Core
// section 3.1.2). A visitor with a live pass for the room gets a fresh code at once; anyone else
// is sent to the room page, which brings them back here once they are admitted.
#include <openssl/rand.h>

#include <algorithm>

#include "core/html_text.hpp"
#include "gate/oauth_params.hpp"
#include "gate/oidc_endpoints.hpp"
#include "http/problem.hpp"
#include "token/base64url.hpp"
#include "token/pkce.hpp"
#include "visitor/html_page.hpp"
#include "visitor/visitor_pass.hpp"

namespace waitroom::gate {

namespace asio = boost::asio;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

// The whole request must fit the room page's return URL (visitor::safe_return allows 4096 bytes).
constexpr std::size_t kMaxAuthorizeTargetBytes = 3072;
constexpr std::size_t kMaxStateBytes = 1024;  // state and nonce are echoed, so they are bounded
constexpr std::size_t kJtiBytes = 16;

bool has_word(std::string_view list, std::string_view word) {
  while (!list.empty()) {
    const auto space = list.find(' ');
    if (list.substr(0, space) == word) return true;
    list = space == std::string_view::npos ? std::string_view{} : list.substr(space + 1);
  }
  return false;
}

bool wants_html(const http::Request& req) {
  return http::header_value(req, "Accept").find("text/html") != std::string_view::npos;
}

// RFC 6749 section 4.1.2.1: without a known client and one of its registered redirect URIs there
// is nowhere safe to send an error, so it is told to the person in front of the browser.
Response refuse_here(const RequestContext& ctx, std::string_view room, std::string_view why) {
  if (!wants_html(ctx.request)) return http::problem(ctx.request, Status::bad_request, why);
  return visitor::html_response(
      ctx.request, Status::bad_request,
      visitor::html_page(
          room, "This sign-in link does not work",
          "<p>The site that sent you here made a mistake: " + core::html_escape(why) +
              ".</p><p class=\"muted\">Go back to that site and try again.</p>"));
}

// RFC 6749 section 4.1.2.1: every other error goes back to the client's registered redirect URI.
Response refuse_to_client(const RequestContext& ctx, std::string_view redirect_uri,
                          std::string_view state, std::string_view error,
                          std::string_view description) {
  return http::redirect(
      ctx.request, Status::found,
      with_query(redirect_uri,
                 {{"error", error}, {"error_description", description}, {"state", state}}));
}

// An error for the client's redirect URI (RFC 6749 section 4.1.2.1).
struct ClientError {
  std::string_view error;
  std::string_view description;
  bool echo_state = true;  // false when the state itself is what is wrong
};

// Step 2 of the authorization request, once the client and its redirect URI are known: sizes,
// response type, scope, unsupported request objects, and PKCE: S256 only ("plain", also the
// default when the method is left out, is refused); required of public clients, used when a
// confidential client sends it.
std::optional<ClientError> check_request(const OAuthParams& params, const core::OidcClient& client,
                                         std::size_t target_bytes) {
  if (params.get("state").value_or("").size() > kMaxStateBytes)
    return ClientError{"invalid_request", "state is too long", false};
  if (target_bytes > kMaxAuthorizeTargetBytes)
    return ClientError{"invalid_request", "the request is too long"};
  const auto response_type = params.get("response_type");
  if (!response_type) return ClientError{"invalid_request", "response_type is required"};
  if (*response_type != "code")
    return ClientError{"unsupported_response_type", "only response_type=code is supported"};
  if (!has_word(params.get("scope").value_or(""), "openid"))
    return ClientError{"invalid_scope", "scope must include openid"};
  if (params.has("request"))
    return ClientError{"request_not_supported", "request objects are not supported"};
  if (params.has("request_uri"))
    return ClientError{"request_uri_not_supported", "request_uri is not supported"};
  if (params.get("nonce").value_or("").size() > kMaxStateBytes)
    return ClientError{"invalid_request", "nonce is too long"};
  const std::string_view challenge = params.get("code_challenge").value_or("");
  const auto method = params.get("code_challenge_method");
  if (challenge.empty() && method)
    return ClientError{"invalid_request", "code_challenge_method without code_challenge"};
  if (!challenge.empty() && method != "S256")
    return ClientError{"invalid_request", "code_challenge_method must be S256 (plain is refused)"};
  if (!challenge.empty() && !token::is_valid_s256_challenge(challenge))
    return ClientError{"invalid_request", "code_challenge must be 43 base64url characters"};
  if (challenge.empty() && client.is_public)
    return ClientError{"invalid_request", "public clients must use PKCE (code_challenge, S256)"};
  return std::nullopt;
}

std::optional<std::string> random_id() {
  unsigned char bytes[kJtiBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return std::nullopt;
  return token::base64url_encode(
      std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

}  // namespace

asio::awaitable<Response> oidc_authorize(OidcContext& oidc, RequestContext& ctx) {
  const OidcDeps& s = oidc.deps;
  const std::string room(ctx.param("room"));
  auto r = co_await s.store.room(room);
  if (!r) co_return http::problem(ctx.request, r.error());
  auto params = OAuthParams::parse(ctx.query);
  if (!params) co_return refuse_here(ctx, room, params.error().detail);

  // 1. Who asks, and where the answer goes: errors here are never redirected.
  const auto client_id = params->get("client_id");
  if (!client_id) co_return refuse_here(ctx, room, "the client_id parameter is missing");
  const core::OidcClient* client = r->settings.oidc.find(*client_id);
  if (!client)
    co_return refuse_here(ctx, room, "this room has no client \"" + std::string(*client_id) + "\"");
  const auto redirect_uri = params->get("redirect_uri");
  if (!redirect_uri) co_return refuse_here(ctx, room, "the redirect_uri parameter is missing");
  if (std::find(client->redirect_uris.begin(), client->redirect_uris.end(), *redirect_uri) ==
      client->redirect_uris.end())
    co_return refuse_here(ctx, room, "the redirect_uri is not registered for this client");

  // 2. The rest of the request: errors go back to the client, with its state.
  const std::string_view state = params->get("state").value_or("");
  const std::string_view to = *redirect_uri;
  if (auto bad = check_request(*params, *client, ctx.path.size() + 1 + ctx.query.size()))
    co_return refuse_to_client(ctx, to, bad->echo_state ? state : "", bad->error, bad->description);
  const std::string_view challenge = params->get("code_challenge").value_or("");
  const std::string_view nonce = params->get("nonce").value_or("");

  // 3. Admitted? Otherwise the line, and back here afterwards.
  std::string why;
  std::optional<store::PassCheck> admitted =
      co_await visitor::live_pass(s, ctx.request, ctx.remote, room, why);
  if (!admitted) {
    if (has_word(params->get("prompt").value_or(""), "none"))
      co_return refuse_to_client(ctx, to, state, "login_required",
                                 "the visitor has not been admitted yet");
    co_return http::redirect(
        ctx.request, Status::found,
        visitor::room_page_url(s, room, std::string(ctx.path) + "?" + std::string(ctx.query)));
  }
  auto jti = random_id();
  if (!jti) co_return refuse_to_client(ctx, to, state, "server_error", "no randomness");
  CodeGrant grant{room,
                  client->client_id,
                  std::string(to),
                  std::string(challenge),
                  std::string(nonce),
                  admitted->ticket,
                  admitted->pass,
                  admitted->position,
                  admitted->issued_at_s,
                  admitted->expires_at_s,
                  std::move(*jti)};
  auto code = oidc.codes.issue(std::move(grant), s.clock.now_ms());
  if (!code)
    co_return refuse_to_client(ctx, to, state, "temporarily_unavailable",
                               "too many sign-ins at once; try again shortly");
  co_return http::redirect(ctx.request, Status::found,
                           with_query(to, {{"code", *code}, {"state", state}}));
}

}  // namespace waitroom::gate
