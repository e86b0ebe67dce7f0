#include "core/room_settings.hpp"

#include <cctype>
#include <string>

namespace waitroom::core {

namespace {
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

constexpr std::size_t kMaxTextSettingLength = 2048;
}  // namespace

std::string_view to_string(AdmissionMode mode) {
  switch (mode) {
    case AdmissionMode::manual:
      return "manual";
    case AdmissionMode::rate:
      return "rate";
    case AdmissionMode::max_active:
      return "max_active";
    case AdmissionMode::capacity:
      return "capacity";
    case AdmissionMode::adaptive:
      return "adaptive";
  }
  return "manual";
}

std::string_view to_string(Queueing queueing) {
  switch (queueing) {
    case Queueing::fifo:
      return "fifo";
    case Queueing::random:
      return "random";
    case Queueing::passthrough:
      return "passthrough";
    case Queueing::reject:
      return "reject";
    case Queueing::draw:
      return "draw";
  }
  return "fifo";
}

std::string_view to_string(RoomState state) {
  switch (state) {
    case RoomState::open:
      return "open";
    case RoomState::paused:
      return "paused";
    case RoomState::queue_all:
      return "queue_all";
  }
  return "open";
}

std::string_view to_string(PassBinding binding) {
  switch (binding) {
    case PassBinding::none:
      return "none";
    case PassBinding::ip_prefix:
      return "ip_prefix";
    case PassBinding::cookie:
      return "cookie";
  }
  return "none";
}

std::optional<PassBinding> parse_pass_binding(std::string_view text) {
  for (auto b : {PassBinding::none, PassBinding::ip_prefix, PassBinding::cookie})
    if (to_string(b) == text) return b;
  return std::nullopt;
}

std::vector<IpNetwork> AbuseSettings::default_trusted_proxies() {
  return {*parse_ip_network("127.0.0.1/32")};
}

std::optional<AdmissionMode> parse_admission_mode(std::string_view text) {
  for (auto m : {AdmissionMode::manual, AdmissionMode::rate, AdmissionMode::max_active,
                 AdmissionMode::capacity, AdmissionMode::adaptive})
    if (to_string(m) == text) return m;
  return std::nullopt;
}

std::optional<Queueing> parse_queueing(std::string_view text) {
  for (auto q :
       {Queueing::fifo, Queueing::random, Queueing::passthrough, Queueing::reject, Queueing::draw})
    if (to_string(q) == text) return q;
  return std::nullopt;
}

std::optional<RoomState> parse_room_state(std::string_view text) {
  for (auto s : {RoomState::open, RoomState::paused, RoomState::queue_all})
    if (to_string(s) == text) return s;
  return std::nullopt;
}

bool is_valid_room_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxRoomNameLength) return false;
  if (name[0] == '_' || name[0] == '-') return false;
  for (char c : name)
    if (!is_name_char(c)) return false;
  return true;
}

std::string_view to_string(SameSite same_site) {
  switch (same_site) {
    case SameSite::strict:
      return "Strict";
    case SameSite::none:
      return "None";
    case SameSite::lax:
      break;
  }
  return "Lax";
}

std::optional<SameSite> parse_same_site(std::string_view text) {
  if (text == "Lax") return SameSite::lax;
  if (text == "Strict") return SameSite::strict;
  if (text == "None") return SameSite::none;
  return std::nullopt;
}

namespace {

constexpr std::size_t kMaxCookieAttributeLength = 255;

// RFC 6265 cookie-name (an RFC 7230 token).
bool is_cookie_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxCookieAttributeLength) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos))
      return false;
  return true;
}

// Attribute values end at ';' and must not smuggle other attributes or control characters.
bool is_cookie_attribute(std::string_view value) {
  if (value.size() > kMaxCookieAttributeLength) return false;
  for (char c : value)
    if (static_cast<unsigned char>(c) <= 0x20 || c == ';' || c == ',' || c == 0x7f) return false;
  return true;
}

Result<void> validate(const PassCookie& c) {
  if (!c.name.empty() && !is_cookie_name(c.name))
    return fail(ErrorCode::bad_request,
                "pass_cookie.name must be a cookie name (letters, digits, !#$%&'*+-.^_`|~)");
  if (!is_cookie_attribute(c.domain) || c.domain.find_first_of("/:") != std::string::npos)
    return fail(ErrorCode::bad_request,
                "pass_cookie.domain must be a host name such as \"example.com\"");
  if (c.path.empty() || c.path[0] != '/' || !is_cookie_attribute(c.path))
    return fail(ErrorCode::bad_request, "pass_cookie.path must start with \"/\"");
  if (c.same_site == SameSite::none && c.secure == false)
    return fail(
        ErrorCode::bad_request,
        "pass_cookie.same_site \"None\" needs secure: browsers drop such cookies otherwise");
  return {};
}

inline constexpr std::int64_t kMaxLimitPerPeriod = 1'000'000;
inline constexpr std::size_t kMaxTrustedProxies = 64;

Result<void> validate(const AbuseSettings& a) {
  for (auto [field, value] :
       {std::pair{"abuse.tickets_per_ip_per_minute", a.tickets_per_ip_per_minute},
        std::pair{"abuse.polls_per_ip_per_second", a.polls_per_ip_per_second}})
    if (value < 0 || value > kMaxLimitPerPeriod)
      return fail(ErrorCode::bad_request, std::string(field) +
                                              " must be between 0 (no limit) and " +
                                              std::to_string(kMaxLimitPerPeriod));
  if (a.pow_difficulty_bits < 0 || a.pow_difficulty_bits > kMaxPowDifficultyBits)
    return fail(ErrorCode::bad_request, "abuse.pow_difficulty_bits must be between 0 (off) and " +
                                            std::to_string(kMaxPowDifficultyBits));
  if (a.max_waiting && (*a.max_waiting < 1 || *a.max_waiting > kMaxActiveCap))
    return fail(ErrorCode::bad_request, "abuse.max_waiting must be between 1 and " +
                                            std::to_string(kMaxActiveCap) + ", or null (no cap)");
  if (a.trusted_proxies.size() > kMaxTrustedProxies)
    return fail(ErrorCode::bad_request, "abuse.trusted_proxies: at most " +
                                            std::to_string(kMaxTrustedProxies) + " networks");
  return {};
}

}  // namespace

namespace {
// A drawing's entries are its pre-queue's tickets, one per identity, drawn into one line.
Result<void> validate_drawing(const RoomSettings& s, const ScheduledEvent& e,
                              const std::string& field) {
  const bool draw = e.queueing == Queueing::draw;
  if (!draw && e.winners)
    return fail(ErrorCode::bad_request,
                field + ".winners is for a drawing: set overrides.queueing to \"draw\"");
  if (!draw) return {};
  if (!e.prequeue_start_s)
    return fail(ErrorCode::bad_request,
                field + ": a drawing needs a prequeue_start (visitors register in the pre-queue)");
  if (!e.winners || *e.winners < 1 || static_cast<std::uint64_t>(*e.winners) > kMaxDrawWinners)
    return fail(ErrorCode::bad_request, field + ".winners must be from 1 to " +
                                            std::to_string(kMaxDrawWinners) + " for a drawing");
  if (!s.lanes.empty())
    return fail(ErrorCode::bad_request,
                field +
                    ".overrides.queueing: lanes do not go with a drawing (its line is the "
                    "drawn order)");
  if (s.max_places_per_identity != 1)
    return fail(ErrorCode::bad_request,
                field +
                    ": a drawing takes one entry per identity, so max_places_per_identity "
                    "must be 1");
  return {};
}
}  // namespace

namespace {
// One ASCII address local@domain with nothing a header or an SMTP command could be bent by.
bool is_address(std::string_view a) {
  const std::size_t at = a.find('@');
  if (a.empty() || a.size() > 254 || at == 0 || at == std::string_view::npos ||
      at + 1 >= a.size() || a.find('@', at + 1) != std::string_view::npos)
    return false;
  for (unsigned char c : a)
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == ',' || c == '\\')
      return false;
  return true;
}
}  // namespace

bool is_mailbox(std::string_view text) {
  if (text.size() > 320 || text.find_first_of("\r\n") != std::string_view::npos) return false;
  const std::size_t open = text.rfind('<');
  if (open == std::string_view::npos) return is_address(text);
  return text.ends_with('>') && is_address(text.substr(open + 1, text.size() - open - 2));
}

Result<void> validate(const RoomSettings& s) {
  if (s.pass_lifetime_s < kMinPassLifetimeS || s.pass_lifetime_s > kMaxPassLifetimeS)
    return fail(ErrorCode::bad_request, "pass_lifetime_s must be between " +
                                            std::to_string(kMinPassLifetimeS) + " and " +
                                            std::to_string(kMaxPassLifetimeS) + " seconds");
  if (s.algorithm != "ES256" && s.algorithm != "RS256")
    return fail(ErrorCode::bad_request, "algorithm must be \"ES256\" or \"RS256\"");
  if (s.issuer.empty() || s.issuer.size() > kMaxTextSettingLength)
    return fail(ErrorCode::bad_request, "issuer must be a non-empty string of at most 2048 bytes");
  if (s.audience.size() > kMaxTextSettingLength)
    return fail(ErrorCode::bad_request, "audience must be at most 2048 bytes");
  if (!s.target_url.empty() &&
      (s.target_url.size() > kMaxTextSettingLength ||
       !(starts_with(s.target_url, "http://") || starts_with(s.target_url, "https://"))))
    return fail(ErrorCode::bad_request, "target_url must be an http:// or https:// URL");
  for (auto [field, value] : {std::pair{"ticket_idle_timeout_s", s.ticket_idle_timeout_s},
                              std::pair{"claim_timeout_s", s.claim_timeout_s}})
    if (value < 0 || value > kMaxTimeoutS)
      return fail(ErrorCode::bad_request, std::string(field) + " must be between 0 (off) and " +
                                              std::to_string(kMaxTimeoutS) + " seconds");
  if (auto ok = validate(s.admission); !ok) return ok;
  if (auto ok = validate(s.lanes); !ok) return ok;
  if (!s.lanes.empty() && s.queueing == Queueing::random)
    return fail(ErrorCode::bad_request,
                "lanes serve each lane in line order: they do not go with queueing \"random\"");
  if (s.queueing == Queueing::draw)
    return fail(ErrorCode::bad_request,
                "queueing \"draw\" is for a scheduled event: set it in an event's overrides, with "
                "a prequeue_start and winners");
  if (auto ok = validate(s.pass_cookie); !ok) return ok;
  if (auto ok = validate(s.oidc); !ok) return ok;
  if (auto ok = validate(s.invitations); !ok) return ok;
  if (s.login)
    if (auto ok = validate(*s.login); !ok) return ok;
  if (s.max_party_size < 1 || s.max_party_size > kMaxPartySize)
    return fail(ErrorCode::bad_request,
                "max_party_size must be between 1 and " + std::to_string(kMaxPartySize));
  // A party waits until a step has room for all of it: a cap smaller than a party would hold it
  // (and everyone behind it) forever.
  auto fits = [&](const AdmissionPolicy& a, const std::string& where) -> Result<void> {
    for (auto [name, cap] :
         {std::pair{"max_active", a.max_active}, std::pair{"total_active", a.total_active},
          std::pair{"new_per_minute", a.new_per_minute}})
      if (cap && *cap < s.max_party_size)
        return fail(ErrorCode::bad_request,
                    where + name + " (" + std::to_string(*cap) + ") is below max_party_size (" +
                        std::to_string(s.max_party_size) +
                        "): a party waits until it fits in whole, so it would never go in");
    return {};
  };
  if (auto ok = fits(s.admission, "admission."); !ok) return ok;
  for (std::size_t i = 0; i < s.events.size(); ++i)
    if (s.events[i].admission)
      if (auto ok = fits(*s.events[i].admission,
                         "events[" + std::to_string(i) + "].overrides.admission.");
          !ok)
        return ok;
  if (s.reserve_per_session < 0 || s.reserve_per_session > kMaxReservePerSession)
    return fail(ErrorCode::bad_request, "reserve_per_session must be between 0 (none) and " +
                                            std::to_string(kMaxReservePerSession));
  if (s.away_max_s < 0 || s.away_max_s > kMaxTimeoutS)
    return fail(ErrorCode::bad_request, "away_max_s must be between 0 (no notifications) and " +
                                            std::to_string(kMaxTimeoutS) + " seconds");
  if (s.away_max_s > 0 && s.ticket_idle_timeout_s > 0 && s.away_max_s < s.ticket_idle_timeout_s)
    return fail(ErrorCode::bad_request,
                "away_max_s (" + std::to_string(s.away_max_s) +
                    ") is below ticket_idle_timeout_s: a visitor away would keep the place for "
                    "less than one who stays");
  if (s.notify_before_s < 0 || s.notify_before_s > kMaxTimeoutS)
    return fail(ErrorCode::bad_request, "notify_before_s must be between 0 and " +
                                            std::to_string(kMaxTimeoutS) + " seconds");
  if (s.notify_ahead < 0 || s.notify_ahead > kMaxNotifyAhead)
    return fail(ErrorCode::bad_request,
                "notify_ahead must be between 0 (off) and " + std::to_string(kMaxNotifyAhead));
  if (!s.notify_email_from.empty() && !is_mailbox(s.notify_email_from))
    return fail(ErrorCode::bad_request,
                "notify_email_from must be an address or \"Name <address>\" on one line, such "
                "as \"Shop Queue <queue@shop.example>\"");
  if (s.max_places_per_identity < 1 || s.max_places_per_identity > kMaxPlacesPerIdentity)
    return fail(ErrorCode::bad_request, "max_places_per_identity must be between 1 and " +
                                            std::to_string(kMaxPlacesPerIdentity));
  if (auto ok = validate(s.abuse); !ok) return ok;
  if (s.events.size() > kMaxScheduledEvents)
    return fail(ErrorCode::bad_request,
                "events: at most " + std::to_string(kMaxScheduledEvents) + " per room");
  for (std::size_t i = 0; i < s.events.size(); ++i) {
    const ScheduledEvent& e = s.events[i];
    const std::string field = "events[" + std::to_string(i) + "]";
    if (e.prequeue_start_s && *e.prequeue_start_s > e.start_s)
      return fail(ErrorCode::bad_request, field + ".prequeue_start must not be after its start");
    if (e.end_s && *e.end_s <= e.start_s)
      return fail(ErrorCode::bad_request, field + ".end must be after its start");
    if (e.admission) {
      if (auto ok = validate(*e.admission); !ok)
        return fail(ErrorCode::bad_request, field + ".overrides." + ok.error().detail);
    }
    if (!s.lanes.empty() && e.queueing == Queueing::random)
      return fail(ErrorCode::bad_request,
                  field + ".overrides.queueing: lanes do not go with queueing \"random\"");
    if (auto ok = validate_drawing(s, e, field); !ok) return ok;
    if (i > 0) {
      const ScheduledEvent& prev = s.events[i - 1];
      if (!prev.end_s || *prev.end_s > e.opens_s())
        return fail(ErrorCode::bad_request,
                    field + " overlaps events[" + std::to_string(i - 1) +
                        "]: events must not overlap and must be in time order");
    }
  }
  return {};
}

Result<void> validate(const AdmissionPolicy& a) {
  auto in_range = [](const std::optional<std::int64_t>& v, std::int64_t max) {
    return !v || (*v >= 1 && *v <= max);
  };
  if (!in_range(a.rate_per_minute, kMaxRatePerMinute))
    return fail(ErrorCode::bad_request,
                "admission.rate_per_minute must be from 1 to " + std::to_string(kMaxRatePerMinute));
  for (auto [field, value] : {std::pair{"admission.max_active", a.max_active},
                              std::pair{"admission.total_active", a.total_active},
                              std::pair{"admission.new_per_minute", a.new_per_minute}})
    if (!in_range(value, kMaxActiveCap))
      return fail(ErrorCode::bad_request,
                  std::string(field) + " must be from 1 to " + std::to_string(kMaxActiveCap));
  if (!in_range(a.max_per_minute, kMaxRatePerMinute))
    return fail(ErrorCode::bad_request,
                "admission.max_per_minute must be from 1 to " + std::to_string(kMaxRatePerMinute));
  if (a.min_per_minute && (*a.min_per_minute < 0 || *a.min_per_minute > kMaxRatePerMinute))
    return fail(ErrorCode::bad_request,
                "admission.min_per_minute must be from 0 to " + std::to_string(kMaxRatePerMinute));
  if (!in_range(a.target_p95_ms, kMaxTargetP95Ms))
    return fail(ErrorCode::bad_request,
                "admission.target_p95_ms must be from 1 to " + std::to_string(kMaxTargetP95Ms));
  if (a.max_error_ratio && !(*a.max_error_ratio > 0 && *a.max_error_ratio <= 1))
    return fail(ErrorCode::bad_request,
                "admission.max_error_ratio must be above 0 and at most 1 (a share of requests)");
  switch (a.mode) {
    case AdmissionMode::manual:
      break;
    case AdmissionMode::rate:
      if (!a.rate_per_minute)
        return fail(ErrorCode::bad_request, "admission.rate_per_minute is required in rate mode");
      break;
    case AdmissionMode::max_active:
      if (!a.max_active)
        return fail(ErrorCode::bad_request, "admission.max_active is required in max_active mode");
      break;
    case AdmissionMode::capacity:
      if (!a.total_active || !a.new_per_minute)
        return fail(
            ErrorCode::bad_request,
            "admission.total_active and admission.new_per_minute are required in capacity mode");
      break;
    case AdmissionMode::adaptive:
      if (!a.target_p95_ms || !a.max_per_minute)
        return fail(
            ErrorCode::bad_request,
            "admission.target_p95_ms and admission.max_per_minute are required in adaptive mode");
      if (a.min_per_minute && *a.min_per_minute > *a.max_per_minute)
        return fail(ErrorCode::bad_request,
                    "admission.min_per_minute must not be above admission.max_per_minute");
      break;
  }
  if (a.total_active && a.new_per_minute && *a.new_per_minute > *a.total_active)
    return fail(ErrorCode::bad_request,
                "admission.new_per_minute must not be above admission.total_active");
  if (a.start_s && a.end_s && *a.end_s <= *a.start_s)
    return fail(ErrorCode::bad_request, "admission.end must be after admission.start");
  return {};
}

}  // namespace waitroom::core
