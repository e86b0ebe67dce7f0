#include "store/sign_in_providers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "core/base64.hpp"
#include "core/https_url.hpp"
#include "net/http_client.hpp"
#include "ops/log.hpp"

namespace waitroom::store {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using core::ErrorCode;

constexpr std::size_t kMaxProviderAnswerBytes = 256 * 1024;

core::Error unreachable(const std::string& issuer) {
  return core::Error{ErrorCode::unavailable,
                     "the room's identity provider " + issuer +
                         " cannot be reached; try again "
                         "shortly",
                     kDiscoveryRetryMs / 1000};
}

// Everything but RFC 3986's unreserved characters escaped: a form value (RFC 6749 appendix B),
// and the client id and secret before they go into HTTP Basic (section 2.3.1).
std::string form_encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::expected<net::ClientResponse, std::string> call(const std::string& url,
                                                     const net::ClientRequest& request) {
  net::HttpClient::Options options;
  options.timeout = kSignInCallTimeout;
  options.max_body_bytes = kMaxProviderAnswerBytes;
  return net::send_once(url, request, std::move(options));
}

std::optional<std::string> endpoint(const json::object& doc, std::string_view name) {
  const auto* v = doc.if_contains(name);
  if (v == nullptr || !v->is_string() || !core::is_https_or_loopback_url(v->as_string()))
    return std::nullopt;
  return std::string(v->as_string());
}

}  // namespace

SignInProviders::SignInProviders(const core::Clock& clock, InvitationJwks& jwks)
    : clock_(clock), jwks_(jwks) {}

SignInProviders::~SignInProviders() {
  threads_.stop();
  threads_.join();
}

core::Result<ProviderEndpoints> SignInProviders::discover_on_thread(const std::string& issuer) {
  const std::string url = (issuer.ends_with('/') ? issuer.substr(0, issuer.size() - 1) : issuer) +
                          "/.well-known/openid-configuration";
  net::ClientRequest request;
  request.headers = {{"Accept", "application/json"}, {"User-Agent", "waitroom"}};
  auto answer = call(url, request);
  std::string why;
  std::optional<ProviderEndpoints> found;
  if (!answer) {
    why = answer.error();
  } else if (answer->status != 200) {
    why = "answered " + std::to_string(answer->status) + ", not 200";
  } else {
    json::error_code ec;
    const json::value doc = json::parse(answer->body, ec);
    const json::object* o = ec ? nullptr : doc.if_object();
    const json::value* iss = o != nullptr ? o->if_contains("issuer") : nullptr;
    if (o == nullptr) {
      why = "the discovery document is not a JSON object";
    } else if (iss == nullptr || !iss->is_string() || iss->as_string() != issuer) {
      // OpenID Connect Discovery section 4.3: a document for another issuer is not this one's.
      why = "the discovery document's issuer is not " + issuer;
    } else {
      auto authorize = endpoint(*o, "authorization_endpoint");
      auto token = endpoint(*o, "token_endpoint");
      auto keys = endpoint(*o, "jwks_uri");
      if (authorize && token && keys)
        found = ProviderEndpoints{std::move(*authorize), std::move(*token), std::move(*keys)};
      else
        why =
            "the discovery document lacks an https authorization_endpoint, token_endpoint or "
            "jwks_uri";
    }
  }
  const std::lock_guard lock(mutex_);
  Entry& e = entries_[issuer];
  if (found) {
    e.endpoints = std::move(*found);
    e.fetched_ms = clock_.now_ms();
  } else {
    ops::log_warn("cannot read a sign-in provider's discovery document",
                  {{"url", url}, {"error", why}, {"has_endpoints", e.endpoints.has_value()}});
  }
  if (!e.endpoints) return std::unexpected(unreachable(issuer));
  return *e.endpoints;
}

asio::awaitable<core::Result<ProviderEndpoints>> SignInProviders::endpoints(std::string issuer) {
  {
    const std::lock_guard lock(mutex_);
    Entry& e = entries_[issuer];
    const std::int64_t now_ms = clock_.now_ms();
    const bool fresh =
        e.endpoints && now_ms - e.fetched_ms < kDiscoveryFreshMs && now_ms >= e.fetched_ms;
    const bool may_try =
        !e.tried_ms || now_ms - *e.tried_ms >= kDiscoveryRetryMs || now_ms < *e.tried_ms;
    if (fresh || (!may_try && e.endpoints)) co_return *e.endpoints;
    if (!may_try) co_return std::unexpected(unreachable(issuer));
    e.tried_ms = now_ms;
  }
  auto found = co_await asio::co_spawn(threads_, discover_later(issuer), asio::use_awaitable);
  co_return found;
}

asio::awaitable<core::Result<ProviderEndpoints>> SignInProviders::discover_later(
    std::string issuer) {
  co_return discover_on_thread(issuer);
}

asio::awaitable<core::Result<std::string>> SignInProviders::post_later(core::LoginSettings login,
                                                                       std::string token_endpoint,
                                                                       CodeRedemption redemption) {
  co_return post_token_request(login, token_endpoint, redemption);
}

core::Result<std::string> SignInProviders::post_token_request(const core::LoginSettings& login,
                                                              const std::string& token_endpoint,
                                                              const CodeRedemption& r) {
  net::ClientRequest request;
  request.method = "POST";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"},
                     {"User-Agent", "waitroom"}};
  request.body = "grant_type=authorization_code&code=" + form_encode(r.code) +
                 "&redirect_uri=" + form_encode(r.redirect_uri) +
                 "&code_verifier=" + form_encode(r.code_verifier) +
                 "&client_id=" + form_encode(login.client_id);
  if (!login.client_secret.empty())
    request.headers.emplace_back("Authorization",
                                 "Basic " + core::base64_encode(form_encode(login.client_id) + ":" +
                                                                form_encode(login.client_secret)));
  auto answer = call(token_endpoint, request);
  if (!answer) {
    ops::log_warn("cannot reach a sign-in provider's token endpoint",
                  {{"url", token_endpoint}, {"error", answer.error()}});
    return std::unexpected(unreachable(login.issuer));
  }
  json::error_code ec;
  const json::value doc = json::parse(answer->body, ec);
  const json::object* o = ec ? nullptr : doc.if_object();
  if (answer->status != 200) {
    const json::value* error = o != nullptr ? o->if_contains("error") : nullptr;
    const std::string code = error != nullptr && error->is_string()
                                 ? std::string(error->as_string())
                                 : "HTTP " + std::to_string(answer->status);
    return core::fail(ErrorCode::unauthorized,
                      "the identity provider refused the sign-in's code (" + code + ")");
  }
  const json::value* id_token = o != nullptr ? o->if_contains("id_token") : nullptr;
  if (id_token == nullptr || !id_token->is_string())
    return core::fail(ErrorCode::unauthorized, "the identity provider's answer has no id_token");
  return std::string(id_token->as_string());
}

asio::awaitable<core::Result<token::IdToken>> SignInProviders::redeem(core::LoginSettings login,
                                                                      CodeRedemption redemption) {
  auto found = co_await endpoints(login.issuer);
  if (!found) {
    core::Result<token::IdToken> failed = std::unexpected(found.error());
    count(failed);
    co_return failed;
  }
  const ProviderEndpoints ends = std::move(*found);
  auto jwt = co_await asio::co_spawn(threads_, post_later(login, ends.token_endpoint, redemption),
                                     asio::use_awaitable);
  core::Result<token::IdToken> checked = std::unexpected(core::Error{});
  const std::optional<std::string> kid = jwt ? token::id_token_kid(*jwt) : std::nullopt;
  if (!jwt) {
    checked = std::unexpected(jwt.error());
  } else if (!kid) {
    checked = core::fail(ErrorCode::unauthorized, "the identity provider's id_token is not a JWT");
  } else {
    auto keys = co_await jwks_.keys(ends.jwks_uri, *kid);
    if (!keys)
      checked = std::unexpected(unreachable(login.issuer));
    else
      checked = token::verify_id_token(
          *jwt, **keys, {login.issuer, login.client_id, redemption.nonce}, clock_.now_ms() / 1000);
  }
  count(checked);
  co_return checked;
}

bool SignInProviders::spend(const std::string& state, std::int64_t expires_at_s) {
  const std::int64_t now_s = clock_.now_ms() / 1000;
  const std::lock_guard lock(mutex_);
  // The expired ones first (their cookies are refused anyway), then the oldest past the cap.
  while (!spent_by_expiry_.empty() && (spent_by_expiry_.begin()->first <= now_s ||
                                       spent_by_expiry_.size() >= kMaxSpentSignIns)) {
    spent_.erase(spent_by_expiry_.begin()->second);
    spent_by_expiry_.erase(spent_by_expiry_.begin());
  }
  if (!spent_.insert(state).second) return false;
  spent_by_expiry_.emplace(expires_at_s, state);
  return true;
}

void SignInProviders::count(const core::Result<token::IdToken>& result) {
  const std::lock_guard lock(mutex_);
  if (result)
    ++ok_;
  else if (result.error().code == ErrorCode::unavailable)
    ++unavailable_;
  else
    ++refused_;
}

void SignInProviders::render_metrics(std::string& out) const {
  const std::lock_guard lock(mutex_);
  out.append(
      "# HELP waitroom_sign_ins_total Sign-ins at rooms' identity providers that came back, by "
      "result.\n# TYPE waitroom_sign_ins_total counter\n");
  for (auto [result, n] : {std::pair{"ok", ok_}, std::pair{"refused", refused_},
                           std::pair{"unavailable", unavailable_}})
    out.append("waitroom_sign_ins_total{result=\"")
        .append(result)
        .append("\"} ")
        .append(std::to_string(n))
        .append("\n");
}

}  // namespace waitroom::store
