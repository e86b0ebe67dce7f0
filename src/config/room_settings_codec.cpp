#include "config/room_settings_codec.hpp"

#include <boost/json.hpp>

#include "core/rfc3339.hpp"

namespace waitroom::config {

namespace json = boost::json;
using core::ErrorCode;
using core::fail;

namespace {

core::Result<std::string> read_string(const json::value& v, std::string_view field) {
  if (!v.is_string()) return fail(ErrorCode::bad_request, std::string(field) + " must be a string");
  return std::string(v.get_string());
}

core::Result<std::int64_t> read_int(const json::value& v, std::string_view field) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v.get_uint64());
  return fail(ErrorCode::bad_request, std::string(field) + " must be an integer");
}

core::Result<bool> read_bool(const json::value& v, std::string_view field) {
  if (!v.is_bool())
    return fail(ErrorCode::bad_request, std::string(field) + " must be true or false");
  return v.get_bool();
}

template <class Enum>
core::Result<Enum> read_enum(const json::value& v, std::string_view field,
                             std::optional<Enum> (*parse)(std::string_view),
                             std::string_view allowed) {
  std::optional<Enum> e;
  if (v.is_string()) e = parse(v.get_string());
  if (!e)
    return fail(ErrorCode::bad_request,
                std::string(field) + " must be one of " + std::string(allowed));
  return *e;
}

// null clears an optional number; integers set it (ranges are checked by core::validate).
core::Result<std::optional<std::int64_t>> read_optional_int(const json::value& v,
                                                            std::string_view field) {
  if (v.is_null()) return std::optional<std::int64_t>{};
  auto n = read_int(v, field);
  if (!n) return std::unexpected(n.error());
  return std::optional<std::int64_t>(*n);
}

core::Result<std::optional<std::int64_t>> read_optional_time(const json::value& v,
                                                             std::string_view field) {
  if (v.is_null()) return std::optional<std::int64_t>{};
  std::optional<std::int64_t> t;
  if (v.is_string()) t = core::parse_rfc3339(v.get_string());
  if (!t)
    return fail(
        ErrorCode::bad_request,
        std::string(field) + " must be an RFC 3339 time such as \"2026-12-01T10:00:00Z\", or null");
  return t;
}

// An "admission" object is merged key by key into the current policy.
core::Result<void> apply_admission(const json::value& value, core::AdmissionPolicy& a) {
  if (!value.is_object()) return fail(ErrorCode::bad_request, "admission must be an object");
  for (const auto& [key, v] : value.get_object()) {
    const std::string field = "admission." + std::string(key);
    if (key == "mode") {
      auto m = read_enum(v, field, core::parse_admission_mode,
                         "\"manual\", \"rate\", \"max_active\", \"capacity\", \"adaptive\"");
      if (!m) return std::unexpected(m.error());
      a.mode = *m;
      continue;
    }
    if (key == "compensate_no_shows") {
      auto b = read_bool(v, field);
      if (!b) return std::unexpected(b.error());
      a.compensate_no_shows = *b;
      continue;
    }
    if (key == "max_error_ratio") {
      if (v.is_null()) {
        a.max_error_ratio.reset();
      } else if (v.is_number()) {
        a.max_error_ratio = v.to_number<double>();
      } else {
        return fail(ErrorCode::bad_request, field + " must be a number from 0 to 1, or null");
      }
      continue;
    }
    std::optional<std::int64_t>* target = nullptr;
    bool is_time = false;
    if (key == "rate_per_minute")
      target = &a.rate_per_minute;
    else if (key == "max_active")
      target = &a.max_active;
    else if (key == "total_active")
      target = &a.total_active;
    else if (key == "new_per_minute")
      target = &a.new_per_minute;
    else if (key == "target_p95_ms")
      target = &a.target_p95_ms;
    else if (key == "min_per_minute")
      target = &a.min_per_minute;
    else if (key == "max_per_minute")
      target = &a.max_per_minute;
    else if (key == "start")
      target = &a.start_s, is_time = true;
    else if (key == "end")
      target = &a.end_s, is_time = true;
    else
      return fail(ErrorCode::bad_request, "unknown room setting \"" + field + "\"");
    auto n = is_time ? read_optional_time(v, field) : read_optional_int(v, field);
    if (!n) return std::unexpected(n.error());
    *target = *n;
  }
  return {};
}

core::Result<core::ScheduledEvent> read_event(const json::value& v, const std::string& field,
                                              const core::RoomSettings& room) {
  if (!v.is_object()) return fail(ErrorCode::bad_request, field + " must be an object");
  core::ScheduledEvent e;
  bool has_start = false;
  for (const auto& [key, value] : v.get_object()) {
    const std::string name = field + "." + std::string(key);
    if (key == "prequeue_start" || key == "start" || key == "end") {
      auto t = read_optional_time(value, name);
      if (!t) return std::unexpected(t.error());
      if (key == "prequeue_start") e.prequeue_start_s = *t;
      if (key == "end") e.end_s = *t;
      if (key == "start") {
        if (!*t) return fail(ErrorCode::bad_request, name + " is required");
        e.start_s = **t;
        has_start = true;
      }
    } else if (key == "winners") {
      if (value.is_null()) continue;
      auto n = read_int(value, name);
      if (!n) return std::unexpected(n.error());
      e.winners = *n;
    } else if (key == "overrides") {
      if (!value.is_object()) return fail(ErrorCode::bad_request, name + " must be an object");
      for (const auto& [ok, ov] : value.get_object()) {
        const std::string oname = name + "." + std::string(ok);
        if (ok == "admission") {
          core::AdmissionPolicy a = room.admission;
          if (auto r = apply_admission(ov, a); !r) return std::unexpected(r.error());
          e.admission = a;
        } else if (ok == "queueing") {
          auto q = read_enum(ov, oname, core::parse_queueing,
                             "\"fifo\", \"random\", \"passthrough\", \"reject\", \"draw\"");
          if (!q) return std::unexpected(q.error());
          e.queueing = *q;
        } else {
          return fail(ErrorCode::bad_request, "unknown room setting \"" + oname + "\"");
        }
      }
    } else {
      return fail(ErrorCode::bad_request, "unknown room setting \"" + name + "\"");
    }
  }
  if (!has_start) return fail(ErrorCode::bad_request, field + ".start is required");
  return e;
}

// A "pass_cookie" object is merged key by key, like "admission".
core::Result<void> apply_pass_cookie(const json::value& value, core::PassCookie& c) {
  if (!value.is_object()) return fail(ErrorCode::bad_request, "pass_cookie must be an object");
  for (const auto& [key, v] : value.get_object()) {
    const std::string field = "pass_cookie." + std::string(key);
    if (key == "secure") {
      if (v.is_null()) {
        c.secure.reset();
        continue;
      }
      auto b = read_bool(v, field);
      if (!b) return std::unexpected(b.error());
      c.secure = *b;
    } else if (key == "same_site") {
      auto ss = read_enum(v, field, core::parse_same_site, "\"Lax\", \"Strict\", \"None\"");
      if (!ss) return std::unexpected(ss.error());
      c.same_site = *ss;
    } else if (key == "name" || key == "domain" || key == "path") {
      auto text = read_string(v, field);
      if (!text) return std::unexpected(text.error());
      (key == "name" ? c.name : key == "domain" ? c.domain : c.path) = std::move(*text);
    } else {
      return fail(ErrorCode::bad_request, "unknown room setting \"" + field + "\"");
    }
  }
  return {};
}

// An "abuse" object is merged key by key, like "admission"; trusted_proxies is replaced whole.
core::Result<void> apply_abuse(const json::value& value, core::AbuseSettings& a) {
  if (!value.is_object()) return fail(ErrorCode::bad_request, "abuse must be an object");
  for (const auto& [key, v] : value.get_object()) {
    const std::string field = "abuse." + std::string(key);
    if (key == "tickets_per_ip_per_minute" || key == "polls_per_ip_per_second" ||
        key == "pow_difficulty_bits") {
      auto n = read_int(v, field);
      if (!n) return std::unexpected(n.error());
      (key == "tickets_per_ip_per_minute" ? a.tickets_per_ip_per_minute
       : key == "polls_per_ip_per_second" ? a.polls_per_ip_per_second
                                          : a.pow_difficulty_bits) = *n;
    } else if (key == "max_waiting") {
      auto n = read_optional_int(v, field);
      if (!n) return std::unexpected(n.error());
      a.max_waiting = *n;
    } else if (key == "bind_pass") {
      auto b = read_enum(v, field, core::parse_pass_binding, "\"none\", \"ip_prefix\", \"cookie\"");
      if (!b) return std::unexpected(b.error());
      a.bind_pass = *b;
    } else if (key == "trusted_proxies") {
      if (!v.is_array())
        return fail(ErrorCode::bad_request,
                    field + " must be an array of networks such as \"10.0.0.0/8\"");
      std::vector<core::IpNetwork> networks;
      for (std::size_t i = 0; i < v.get_array().size(); ++i) {
        const std::string item = field + "[" + std::to_string(i) + "]";
        auto text = read_string(v.get_array()[i], item);
        if (!text) return std::unexpected(text.error());
        auto net = core::parse_ip_network(*text);
        if (!net) return fail(ErrorCode::bad_request, item + ": " + net.error().detail);
        networks.push_back(*net);
      }
      a.trusted_proxies = std::move(networks);
    } else {
      return fail(ErrorCode::bad_request, "unknown room setting \"" + field + "\"");
    }
  }
  return {};
}

json::object abuse_to_json(const core::AbuseSettings& a) {
  json::array proxies;
  for (const core::IpNetwork& n : a.trusted_proxies)
    proxies.push_back(json::value(core::to_string(n)));
  return json::object{
      {"tickets_per_ip_per_minute", a.tickets_per_ip_per_minute},
      {"polls_per_ip_per_second", a.polls_per_ip_per_second},
      {"pow_difficulty_bits", a.pow_difficulty_bits},
      {"bind_pass", core::to_string(a.bind_pass)},
      {"max_waiting", a.max_waiting ? json::value(*a.max_waiting) : json::value(nullptr)},
      {"trusted_proxies", std::move(proxies)}};
}

core::Result<std::vector<std::string>> read_string_array(const json::value& v,
                                                         const std::string& field) {
  if (!v.is_array()) return fail(ErrorCode::bad_request, field + " must be an array of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.get_array().size(); ++i) {
    auto text = read_string(v.get_array()[i], field + "[" + std::to_string(i) + "]");
    if (!text) return std::unexpected(text.error());
    out.push_back(std::move(*text));
  }
  return out;
}

// One entry of oidc.clients. A confidential client given without "client_secret" keeps the
// secret it has in `current` (what the admin API shows is redacted, so a GET edited and PUT back
// must not lose it).
core::Result<core::OidcClient> read_oidc_client(const json::value& v, const std::string& field,
                                                const core::OidcSettings& current) {
  if (!v.is_object()) return fail(ErrorCode::bad_request, field + " must be an object");
  core::OidcClient c;
  bool has_id = false, has_secret = false, has_uris = false;
  for (const auto& [key, value] : v.get_object()) {
    const std::string name = field + "." + std::string(key);
    if (key == "client_id" || key == "client_secret") {
      auto text = read_string(value, name);
      if (!text) return std::unexpected(text.error());
      (key == "client_id" ? c.client_id : c.client_secret) = std::move(*text);
      (key == "client_id" ? has_id : has_secret) = true;
    } else if (key == "redirect_uris") {
      auto uris = read_string_array(value, name);
      if (!uris) return std::unexpected(uris.error());
      c.redirect_uris = std::move(*uris);
      has_uris = true;
    } else if (key == "public") {
      auto b = read_bool(value, name);
      if (!b) return std::unexpected(b.error());
      c.is_public = *b;
    } else {
      return fail(ErrorCode::bad_request, "unknown room setting \"" + name + "\"");
    }
  }
  if (!has_id) return fail(ErrorCode::bad_request, field + ".client_id is required");
  if (!has_uris) return fail(ErrorCode::bad_request, field + ".redirect_uris is required");
  if (!has_secret && !c.is_public)
    if (const core::OidcClient* old = current.find(c.client_id); old && !old->is_public)
      c.client_secret = old->client_secret;
  return c;
}

// A "login" object replaces the room's sign-in settings as a whole, but one without
// "client_secret" keeps the secret it has (what the admin API shows is redacted); null removes it.
core::Result<std::optional<core::LoginSettings>> read_login(
    const json::value& v, const std::optional<core::LoginSettings>& current) {
  if (v.is_null()) return std::optional<core::LoginSettings>{};
  if (!v.is_object()) return fail(ErrorCode::bad_request, "login must be an object or null");
  core::LoginSettings l;
  bool has_issuer = false, has_client = false, has_secret = false;
  for (const auto& [key, value] : v.get_object()) {
    const std::string name = "login." + std::string(key);
    if (key == "issuer" || key == "client_id" || key == "scope") {
      auto text = read_string(value, name);
      if (!text) return std::unexpected(text.error());
      (key == "issuer" ? l.issuer : key == "client_id" ? l.client_id : l.scope) = std::move(*text);
      has_issuer = has_issuer || key == "issuer";
      has_client = has_client || key == "client_id";
    } else if (key == "client_secret") {
      has_secret = true;
      if (value.is_null()) continue;  // a public client
      auto text = read_string(value, name);
      if (!text) return std::unexpected(text.error());
      l.client_secret = std::move(*text);
    } else if (key == "required") {
      auto b = read_bool(value, name);
      if (!b) return std::unexpected(b.error());
      l.required = *b;
    } else {
      return fail(ErrorCode::bad_request, "unknown room setting \"" + name + "\"");
    }
  }
  if (!has_issuer) return fail(ErrorCode::bad_request, "login.issuer is required");
  if (!has_client) return fail(ErrorCode::bad_request, "login.client_id is required");
  if (!has_secret && current) l.client_secret = current->client_secret;
  return std::optional<core::LoginSettings>(std::move(l));
}

json::value login_to_json(const std::optional<core::LoginSettings>& login, Secrets secrets) {
  if (!login) return nullptr;
  json::object o{{"issuer", login->issuer},
                 {"client_id", login->client_id},
                 {"required", login->required},
                 {"scope", login->scope}};
  if (secrets == Secrets::include && !login->client_secret.empty())
    o["client_secret"] = login->client_secret;
  return o;
}

// An "oidc" object replaces the room's OIDC settings as a whole (clients are matched by
// client_id only to keep secrets that were left out).
core::Result<core::OidcSettings> read_oidc(const json::value& v,
                                           const core::OidcSettings& current) {
  if (!v.is_object()) return fail(ErrorCode::bad_request, "oidc must be an object");
  core::OidcSettings out;
  for (const auto& [key, value] : v.get_object()) {
    if (key != "clients")
      return fail(ErrorCode::bad_request, "unknown room setting \"oidc." + std::string(key) + "\"");
    if (!value.is_array()) return fail(ErrorCode::bad_request, "oidc.clients must be an array");
    for (std::size_t i = 0; i < value.get_array().size(); ++i) {
      auto c = read_oidc_client(value.get_array()[i], "oidc.clients[" + std::to_string(i) + "]",
                                current);
      if (!c) return std::unexpected(c.error());
      out.clients.push_back(std::move(*c));
    }
  }
  return out;
}

json::object oidc_to_json(const core::OidcSettings& oidc, Secrets secrets) {
  json::array clients;
  for (const core::OidcClient& c : oidc.clients) {
    json::object o{{"client_id", c.client_id}, {"public", c.is_public}};
    if (secrets == Secrets::include && !c.is_public) o["client_secret"] = c.client_secret;
    json::array uris;
    for (const std::string& u : c.redirect_uris) uris.push_back(json::string(u));
    o["redirect_uris"] = std::move(uris);
    clients.push_back(std::move(o));
  }
  return json::object{{"clients", std::move(clients)}};
}

// One entry of invitations.keys. An HS256 key given without "secret" keeps the secret it has in
// `current` (redacted in what the admin API shows, like an OIDC client secret).
core::Result<core::InvitationKey> read_invitation_key(const json::value& v,
                                                      const std::string& field,
                                                      const core::InvitationSettings& current) {
  if (!v.is_object()) return fail(ErrorCode::bad_request, field + " must be an object");
  core::InvitationKey k;
  bool has_kid = false, has_alg = false, has_secret = false;
  for (const auto& [key, value] : v.get_object()) {
    const std::string name = field + "." + std::string(key);
    std::string* target = key == "kid"          ? &k.kid
                          : key == "alg"        ? &k.alg
                          : key == "public_key" ? &k.public_key
                          : key == "secret"     ? &k.secret
                                                : nullptr;
    if (target == nullptr)
      return fail(ErrorCode::bad_request, "unknown room setting \"" + name + "\"");
    auto text = read_string(value, name);
    if (!text) return std::unexpected(text.error());
    *target = std::move(*text);
    has_kid |= key == "kid";
    has_alg |= key == "alg";
    has_secret |= key == "secret";
  }
  if (!has_kid) return fail(ErrorCode::bad_request, field + ".kid is required");
  if (!has_alg) return fail(ErrorCode::bad_request, field + ".alg is required");
  if (!has_secret && k.alg == "HS256")
    if (const core::InvitationKey* old = current.find(k.kid); old && old->alg == "HS256")
      k.secret = old->secret;
  return k;
}

// "invitations" replaces the room's invitation keys and JWKS URL as a whole:
// {"keys": [...], "jwks_url": "https://..."}; invite_only stays as it is in `current`.
core::Result<core::InvitationSettings> read_invitations(const json::value& v,
                                                        const core::InvitationSettings& current) {
  if (!v.is_object()) return fail(ErrorCode::bad_request, "invitations must be an object");
  core::InvitationSettings out;
  out.invite_only = current.invite_only;
  for (const auto& [key, value] : v.get_object()) {
    if (key == "jwks_url") {
      auto url = read_string(value, "invitations.jwks_url");
      if (!url) return std::unexpected(url.error());
      out.jwks_url = std::move(*url);
      continue;
    }
    if (key != "keys")
      return fail(ErrorCode::bad_request,
                  "unknown room setting \"invitations." + std::string(key) + "\"");
    if (!value.is_array()) return fail(ErrorCode::bad_request, "invitations.keys must be an array");
    for (std::size_t i = 0; i < value.get_array().size(); ++i) {
      auto k = read_invitation_key(value.get_array()[i],
                                   "invitations.keys[" + std::to_string(i) + "]", current);
      if (!k) return std::unexpected(k.error());
      out.keys.push_back(std::move(*k));
    }
  }
  return out;
}

json::object invitations_to_json(const core::InvitationSettings& invitations, Secrets secrets) {
  json::array keys;
  for (const core::InvitationKey& k : invitations.keys) {
    json::object o{{"kid", k.kid}, {"alg", k.alg}};
    if (k.alg == "HS256") {
      if (secrets == Secrets::include) o["secret"] = k.secret;
    } else {
      o["public_key"] = k.public_key;
    }
    keys.push_back(std::move(o));
  }
  json::object out{{"keys", std::move(keys)}};
  if (!invitations.jwks_url.empty()) out["jwks_url"] = invitations.jwks_url;
  return out;
}

// "lanes" replaces the room's lanes as a whole: [{"name": "vip", "share": 0.3}, ...].
core::Result<core::Lanes> read_lanes(const json::value& v) {
  if (!v.is_array()) return fail(ErrorCode::bad_request, "lanes must be an array");
  core::Lanes lanes;
  for (std::size_t i = 0; i < v.get_array().size(); ++i) {
    const std::string field = "lanes[" + std::to_string(i) + "]";
    const json::value& item = v.get_array()[i];
    if (!item.is_object()) return fail(ErrorCode::bad_request, field + " must be an object");
    core::Lane lane;
    bool has_share = false;
    for (const auto& [key, value] : item.get_object()) {
      if (key == "name") {
        auto name = read_string(value, field + ".name");
        if (!name) return std::unexpected(name.error());
        lane.name = std::move(*name);
      } else if (key == "share") {
        if (!value.is_number())
          return fail(ErrorCode::bad_request, field + ".share must be a number");
        lane.share = value.to_number<double>();
        has_share = true;
      } else {
        return fail(ErrorCode::bad_request,
                    "unknown room setting \"" + field + "." + std::string(key) + "\"");
      }
    }
    if (!has_share) return fail(ErrorCode::bad_request, field + ".share is required");
    lanes.push_back(std::move(lane));
  }
  return lanes;
}

json::array lanes_to_json(const core::Lanes& lanes) {
  json::array out;
  for (const core::Lane& lane : lanes)
    out.push_back(json::object{{"name", lane.name}, {"share", lane.share}});
  return out;
}

json::value optional_json(const std::optional<std::int64_t>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::value optional_time_json(const std::optional<std::int64_t>& v) {
  return v ? json::value(core::format_rfc3339(*v)) : json::value(nullptr);
}

}  // namespace

core::Result<core::RoomSettings> apply_room_settings(const json::object& fields,
                                                     core::RoomSettings s) {
  for (const auto& [key, value] : fields) {
    if (key == "pass_lifetime_s") {
      auto v = read_int(value, key);
      if (!v) return std::unexpected(v.error());
      s.pass_lifetime_s = *v;
    } else if (key == "ticket_idle_timeout_s" || key == "claim_timeout_s") {
      auto v = read_int(value, key);
      if (!v) return std::unexpected(v.error());
      (key == "claim_timeout_s" ? s.claim_timeout_s : s.ticket_idle_timeout_s) = *v;
    } else if (key == "reserve_per_session") {
      auto v = read_int(value, key);
      if (!v) return std::unexpected(v.error());
      s.reserve_per_session = *v;
    } else if (key == "away_max_s" || key == "notify_before_s" || key == "notify_ahead") {
      auto v = read_int(value, key);
      if (!v) return std::unexpected(v.error());
      (key == "away_max_s"        ? s.away_max_s
       : key == "notify_before_s" ? s.notify_before_s
                                  : s.notify_ahead) = *v;
    } else if (key == "notify_email_from") {
      if (!value.is_string())
        return fail(ErrorCode::bad_request, "notify_email_from must be a string");
      s.notify_email_from = std::string(value.as_string());
    } else if (key == "max_places_per_identity" || key == "max_party_size") {
      auto v = read_int(value, key);
      if (!v) return std::unexpected(v.error());
      (key == "max_party_size" ? s.max_party_size : s.max_places_per_identity) = *v;
    } else if (key == "aws_serving_counter_as_string" || key == "recycle_unclaimed" ||
               key == "renew_on_activity" || key == "invite_only") {
      auto v = read_bool(value, key);
      if (!v) return std::unexpected(v.error());
      (key == "recycle_unclaimed"   ? s.recycle_unclaimed
       : key == "renew_on_activity" ? s.renew_on_activity
       : key == "invite_only"       ? s.invitations.invite_only
                                    : s.aws_serving_counter_as_string) = *v;
    } else if (key == "events") {
      continue;  // after the other fields: overrides merge onto the room's new policy
    } else if (key == "oidc") {
      auto oidc = read_oidc(value, s.oidc);
      if (!oidc) return std::unexpected(oidc.error());
      s.oidc = std::move(*oidc);
    } else if (key == "login") {
      auto login = read_login(value, s.login);
      if (!login) return std::unexpected(login.error());
      s.login = std::move(*login);
    } else if (key == "invitations") {
      auto invitations = read_invitations(value, s.invitations);
      if (!invitations) return std::unexpected(invitations.error());
      s.invitations = std::move(*invitations);
    } else if (key == "lanes") {
      auto lanes = read_lanes(value);
      if (!lanes) return std::unexpected(lanes.error());
      s.lanes = std::move(*lanes);
    } else if (key == "admission") {
      if (auto ok = apply_admission(value, s.admission); !ok) return std::unexpected(ok.error());
    } else if (key == "pass_cookie") {
      if (auto ok = apply_pass_cookie(value, s.pass_cookie); !ok)
        return std::unexpected(ok.error());
    } else if (key == "abuse") {
      if (auto ok = apply_abuse(value, s.abuse); !ok) return std::unexpected(ok.error());
    } else if (key == "queueing") {
      auto q = read_enum(value, key, core::parse_queueing,
                         "\"fifo\", \"random\", \"passthrough\", \"reject\", \"draw\"");
      if (!q) return std::unexpected(q.error());
      s.queueing = *q;
    } else if (key == "state") {
      auto st =
          read_enum(value, key, core::parse_room_state, "\"open\", \"paused\", \"queue_all\"");
      if (!st) return std::unexpected(st.error());
      s.state = *st;
    } else if (key == "algorithm" || key == "issuer" || key == "audience" || key == "target_url") {
      auto v = read_string(value, key);
      if (!v) return std::unexpected(v.error());
      if (key == "algorithm") s.algorithm = *v;
      if (key == "issuer") s.issuer = *v;
      if (key == "audience") s.audience = *v;
      if (key == "target_url") s.target_url = *v;
    } else {
      return fail(ErrorCode::bad_request, "unknown room setting \"" + std::string(key) + "\"");
    }
  }
  if (const json::value* events = fields.if_contains("events")) {
    if (!events->is_array()) return fail(ErrorCode::bad_request, "events must be an array");
    s.events.clear();
    for (std::size_t i = 0; i < events->get_array().size(); ++i) {
      auto e = read_event(events->get_array()[i], "events[" + std::to_string(i) + "]", s);
      if (!e) return std::unexpected(e.error());
      s.events.push_back(std::move(*e));
    }
  }
  if (auto ok = core::validate(s); !ok) return std::unexpected(ok.error());
  return s;
}

json::object admission_to_json(const core::AdmissionPolicy& a) {
  return json::object{{"mode", core::to_string(a.mode)},
                      {"rate_per_minute", optional_json(a.rate_per_minute)},
                      {"max_active", optional_json(a.max_active)},
                      {"total_active", optional_json(a.total_active)},
                      {"new_per_minute", optional_json(a.new_per_minute)},
                      {"target_p95_ms", optional_json(a.target_p95_ms)},
                      {"max_error_ratio",
                       a.max_error_ratio ? json::value(*a.max_error_ratio) : json::value(nullptr)},
                      {"min_per_minute", optional_json(a.min_per_minute)},
                      {"max_per_minute", optional_json(a.max_per_minute)},
                      {"compensate_no_shows", a.compensate_no_shows},
                      {"start", optional_time_json(a.start_s)},
                      {"end", optional_time_json(a.end_s)}};
}

json::array events_to_json(const std::vector<core::ScheduledEvent>& events) {
  json::array out;
  for (const core::ScheduledEvent& e : events) {
    json::object overrides;
    if (e.admission) overrides["admission"] = admission_to_json(*e.admission);
    if (e.queueing) overrides["queueing"] = core::to_string(*e.queueing);
    out.push_back(json::object{{"prequeue_start", optional_time_json(e.prequeue_start_s)},
                               {"start", core::format_rfc3339(e.start_s)},
                               {"end", optional_time_json(e.end_s)},
                               {"overrides", std::move(overrides)}});
    if (e.winners) out.back().as_object()["winners"] = *e.winners;
  }
  return out;
}

json::object room_settings_to_json(const core::RoomSettings& s, Secrets secrets) {
  return json::object{
      {"pass_lifetime_s", s.pass_lifetime_s},
      {"algorithm", s.algorithm},
      {"issuer", s.issuer},
      {"audience", s.audience},
      {"target_url", s.target_url},
      {"aws_serving_counter_as_string", s.aws_serving_counter_as_string},
      {"admission", admission_to_json(s.admission)},
      {"queueing", core::to_string(s.queueing)},
      {"lanes", lanes_to_json(s.lanes)},
      {"state", core::to_string(s.state)},
      {"ticket_idle_timeout_s", s.ticket_idle_timeout_s},
      {"claim_timeout_s", s.claim_timeout_s},
      {"recycle_unclaimed", s.recycle_unclaimed},
      {"events", events_to_json(s.events)},
      {"renew_on_activity", s.renew_on_activity},
      {"pass_cookie",
       json::object{{"name", s.pass_cookie.name},
                    {"domain", s.pass_cookie.domain},
                    {"path", s.pass_cookie.path},
                    {"secure", s.pass_cookie.secure ? json::value(*s.pass_cookie.secure)
                                                    : json::value(nullptr)},
                    {"same_site", core::to_string(s.pass_cookie.same_site)}}},
      {"oidc", oidc_to_json(s.oidc, secrets)},
      {"invite_only", s.invitations.invite_only},
      {"invitations", invitations_to_json(s.invitations, secrets)},
      {"login", login_to_json(s.login, secrets)},
      {"max_places_per_identity", s.max_places_per_identity},
      {"max_party_size", s.max_party_size},
      {"reserve_per_session", s.reserve_per_session},
      {"away_max_s", s.away_max_s},
      {"notify_before_s", s.notify_before_s},
      {"notify_ahead", s.notify_ahead},
      {"notify_email_from", s.notify_email_from},
      {"abuse", abuse_to_json(s.abuse)}};
}

}  // namespace waitroom::config
