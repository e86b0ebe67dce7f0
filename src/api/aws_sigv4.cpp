#include "api/aws_sigv4.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>

namespace waitroom::api {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kScopeTerminator = "aws4_request";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr std::size_t kSha256Bytes = 32;
constexpr std::size_t kSignatureHexChars = 2 * kSha256Bytes;
constexpr std::size_t kAmzDateChars = 16;   // YYYYMMDDTHHMMSSZ
constexpr std::size_t kScopeDateChars = 8;  // YYYYMMDD

using Digest = std::array<unsigned char, kSha256Bytes>;

// Wipes derived key material on scope exit; the signing key is as good as the secret for a day.
struct Cleanse {
  void* data;
  std::size_t size;
  ~Cleanse() { OPENSSL_cleanse(data, size); }
};

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Trimmed, with every inner run of spaces/tabs reduced to one space.
std::string normalize_header_value(std::string_view value) {
  value = trim(value);
  std::string out;
  out.reserve(value.size());
  bool in_space = false;
  for (char c : value) {
    if (is_space(c)) {
      in_space = true;
      continue;
    }
    if (in_space) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

// RFC 3986 percent-encoding with uppercase hex, as SigV4 requires.
void append_uri_encoded(std::string& out, std::string_view in, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding, as aws4fetch's URLSearchParams reads the query;
// a malformed escape stays literal (URLSearchParams does the same).
std::string form_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
               hex_value(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// Dot segments and empty segments removed (botocore's remove_dot_segments; aws4fetch gets the
// same from the URL parser plus its slash collapsing), leading and trailing '/' kept, then
// encoded once more: the wire path is already encoded once, so this is AWS's "twice".
std::string canonical_uri(std::string_view raw_path) {
  if (raw_path.empty()) return "/";
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= raw_path.size()) {
    std::size_t end = raw_path.find('/', start);
    if (end == std::string_view::npos) end = raw_path.size();
    const std::string_view segment = raw_path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string out;
  out.reserve(raw_path.size() + 16);
  if (raw_path.front() == '/') out.push_back('/');
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    append_uri_encoded(out, segments[i], false);
  }
  if (raw_path.back() == '/' && !segments.empty()) out.push_back('/');
  return out;
}

std::string canonical_query(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t start = 0;
  while (start <= raw_query.size() && !raw_query.empty()) {
    std::size_t end = raw_query.find('&', start);
    if (end == std::string_view::npos) end = raw_query.size();
    const std::string_view pair = raw_query.substr(start, end - start);
    const std::size_t eq = pair.find('=');
    const std::string name = form_decode(pair.substr(0, eq));
    if (!name.empty()) {
      const std::string value =
          eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
      std::string encoded_name;
      std::string encoded_value;
      append_uri_encoded(encoded_name, name, false);
      append_uri_encoded(encoded_value, value, false);
      pairs.emplace_back(std::move(encoded_name), std::move(encoded_value));
    }
    start = end + 1;
  }
  // Byte order of the encoded forms (all ASCII), name first, then value for repeated names.
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::optional<Digest> sha256(std::string_view data) {
  Digest digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != kSha256Bytes) {
    return std::nullopt;
  }
  return digest;
}

bool hmac_sha256(std::span<const unsigned char> key, std::string_view message, Digest& out) {
  unsigned int size = 0;
  return HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
              &size) != nullptr &&
         size == kSha256Bytes;
}

std::string to_hex(std::span<const unsigned char> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0f]);
  }
  return out;
}

// Either case of hex digit is accepted; the comparison is on the decoded bytes.
std::optional<Digest> from_hex(std::string_view hex) {
  if (hex.size() != kSignatureHexChars) return std::nullopt;
  Digest out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return out;
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int parse_int(std::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

// Basic ISO 8601 "YYYYMMDDTHHMMSSZ" to Unix seconds.
std::optional<std::int64_t> parse_amz_date(std::string_view s) {
  if (s.size() != kAmzDateChars || s[8] != 'T' || s[15] != 'Z' || !all_digits(s.substr(0, 8)) ||
      !all_digits(s.substr(9, 6))) {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day date{year{parse_int(s.substr(0, 4))},
                            month{static_cast<unsigned>(parse_int(s.substr(4, 2)))},
                            day{static_cast<unsigned>(parse_int(s.substr(6, 2)))}};
  const int hours = parse_int(s.substr(9, 2));
  const int minutes = parse_int(s.substr(11, 2));
  const int seconds = parse_int(s.substr(13, 2));
  if (!date.ok() || hours > 23 || minutes > 59 || seconds > 59) return std::nullopt;
  const std::int64_t days = sys_days{date}.time_since_epoch().count();
  return days * 86'400 + hours * 3'600 + minutes * 60 + seconds;
}

struct AuthorizationHeader {
  std::string_view access_key_id;
  std::string_view scope_date;
  std::string_view region;
  std::string_view service;
  std::string_view terminator;
  std::string_view signed_headers;
  std::string_view signature;
};

core::Result<AuthorizationHeader> parse_authorization(std::string_view value) {
  value = trim(value);
  if (!value.starts_with(kAlgorithm) || value.size() == kAlgorithm.size() ||
      !is_space(value[kAlgorithm.size()])) {
    return core::fail(core::ErrorCode::unauthorized, "Authorization is not AWS4-HMAC-SHA256");
  }
  value.remove_prefix(kAlgorithm.size());
  std::optional<std::string_view> credential;
  std::optional<std::string_view> signed_headers;
  std::optional<std::string_view> signature;
  // Components are comma-separated; botocore and aws4fetch put a space after each comma.
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view component = trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    const std::size_t eq = component.find('=');
    if (eq == std::string_view::npos) {
      return core::fail(core::ErrorCode::unauthorized, "malformed Authorization component");
    }
    const std::string_view key = component.substr(0, eq);
    std::optional<std::string_view>* slot = key == "Credential"      ? &credential
                                            : key == "SignedHeaders" ? &signed_headers
                                            : key == "Signature"     ? &signature
                                                                     : nullptr;
    if (slot == nullptr || slot->has_value()) {
      return core::fail(core::ErrorCode::unauthorized,
                        "unknown or repeated Authorization component");
    }
    *slot = component.substr(eq + 1);
  }
  if (!credential || !signed_headers || !signature) {
    return core::fail(core::ErrorCode::unauthorized,
                      "Authorization lacks Credential, SignedHeaders or Signature");
  }

  // Credential=AKID/YYYYMMDD/region/service/aws4_request
  std::array<std::string_view, 5> parts;
  std::string_view rest = *credential;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::size_t slash = rest.find('/');
    if ((slash == std::string_view::npos) != (i + 1 == parts.size())) {
      return core::fail(core::ErrorCode::unauthorized, "malformed credential scope");
    }
    parts[i] = rest.substr(0, slash);
    if (parts[i].empty())
      return core::fail(core::ErrorCode::unauthorized, "malformed credential scope");
    if (slash != std::string_view::npos) rest.remove_prefix(slash + 1);
  }
  return AuthorizationHeader{parts[0], parts[1],        parts[2],  parts[3],
                             parts[4], *signed_headers, *signature};
}

// Lowercase name -> values normalized and joined by ',' in arrival order, with a count so single
// headers (Authorization, X-Amz-Date) can refuse repeats.
struct HeaderValue {
  std::string value;
  int count = 0;
};
using HeaderMap = std::map<std::string, HeaderValue, std::less<>>;

HeaderMap collect_headers(const SignedRequest& request) {
  HeaderMap headers;
  for (const auto& [name, value] : request.headers) {
    HeaderValue& entry = headers[to_lower(name)];
    if (entry.count++ > 0) entry.value.push_back(',');
    entry.value += normalize_header_value(value);
  }
  return headers;
}

core::Result<const HeaderValue*> single_header(const HeaderMap& headers, std::string_view name,
                                               std::string_view display_name) {
  const auto it = headers.find(name);
  if (it == headers.end()) {
    return core::fail(core::ErrorCode::unauthorized,
                      "missing " + std::string(display_name) + " header");
  }
  if (it->second.count != 1) {
    return core::fail(core::ErrorCode::unauthorized,
                      "repeated " + std::string(display_name) + " header");
  }
  return &it->second;
}

// Lowercase, sorted, unique (AWS rejects anything else; both clients emit exactly this).
core::Result<std::vector<std::string_view>> parse_signed_headers(std::string_view list) {
  std::vector<std::string_view> names;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(';', start);
    if (end == std::string_view::npos) end = list.size();
    const std::string_view name = list.substr(start, end - start);
    const bool lowercase_token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return c > ' ' && c < 0x7f && !(c >= 'A' && c <= 'Z') && c != ':' && c != ';' && c != ',';
    });
    if (!lowercase_token || (!names.empty() && !(names.back() < name))) {
      return core::fail(core::ErrorCode::unauthorized,
                        "SignedHeaders must be lowercase, sorted and unique");
    }
    names.push_back(name);
    start = end + 1;
  }
  return names;
}

}  // namespace

std::optional<std::string> signing_access_key_id(std::string_view authorization) {
  auto auth = parse_authorization(authorization);
  if (!auth) return std::nullopt;
  return std::string(auth->access_key_id);
}

SigV4Verifier::SigV4Verifier(std::vector<AwsCredential> credentials, std::string service,
                             const core::Clock& clock, std::int64_t max_skew_s)
    : credentials_(std::move(credentials)),
      service_(std::move(service)),
      clock_(clock),
      max_skew_s_(max_skew_s) {}

const AwsCredential* SigV4Verifier::find_credential(std::string_view access_key_id) const {
  const auto it =
      std::find_if(credentials_.begin(), credentials_.end(),
                   [&](const AwsCredential& c) { return c.access_key_id == access_key_id; });
  return it == credentials_.end() ? nullptr : &*it;
}

core::Result<SigV4Identity> SigV4Verifier::verify(const SignedRequest& request) const {
  using core::ErrorCode;
  const HeaderMap headers = collect_headers(request);

  const auto authorization = single_header(headers, "authorization", "Authorization");
  if (!authorization) return std::unexpected(authorization.error());
  const auto auth = parse_authorization((*authorization)->value);
  if (!auth) return std::unexpected(auth.error());

  const AwsCredential* credential = find_credential(auth->access_key_id);
  if (credential == nullptr) return core::fail(ErrorCode::unauthorized, "unknown access key");
  if (auth->terminator != kScopeTerminator) {
    return core::fail(ErrorCode::unauthorized, "credential scope does not end in aws4_request");
  }
  if (auth->service != service_) {
    return core::fail(ErrorCode::unauthorized, "credential scope names the wrong service");
  }

  // X-Amz-Date only: the Date-header fallback is not supported (see the header comment).
  const auto amz_date_header = single_header(headers, "x-amz-date", "X-Amz-Date");
  if (!amz_date_header) return std::unexpected(amz_date_header.error());
  const std::string_view amz_date = (*amz_date_header)->value;
  const std::optional<std::int64_t> signed_at_s = parse_amz_date(amz_date);
  if (!signed_at_s) return core::fail(ErrorCode::unauthorized, "malformed X-Amz-Date");
  if (auth->scope_date != amz_date.substr(0, kScopeDateChars)) {
    return core::fail(ErrorCode::unauthorized, "credential scope date does not match X-Amz-Date");
  }
  const std::int64_t now_s = clock_.now_s();
  if (*signed_at_s < now_s - max_skew_s_)
    return core::fail(ErrorCode::unauthorized, "request too old");
  if (*signed_at_s > now_s + max_skew_s_) {
    return core::fail(ErrorCode::unauthorized, "request too new (X-Amz-Date in the future)");
  }

  const std::optional<Digest> claimed = from_hex(auth->signature);
  if (!claimed) return core::fail(ErrorCode::unauthorized, "signature must be 64 hex digits");

  const auto signed_names = parse_signed_headers(auth->signed_headers);
  if (!signed_names) return std::unexpected(signed_names.error());
  const auto is_signed = [&](std::string_view name) {
    return std::binary_search(signed_names->begin(), signed_names->end(), name);
  };
  if (!is_signed("host")) return core::fail(ErrorCode::unauthorized, "host header not signed");
  // An unsigned x-amz-* header (security token, content hash, ...) could be swapped in transit.
  for (const auto& [name, value] : headers) {
    if (name.starts_with("x-amz-") && !is_signed(name)) {
      return core::fail(ErrorCode::unauthorized, "header " + name + " not signed");
    }
  }

  const std::optional<Digest> body_digest = sha256(request.body);
  if (!body_digest) return core::fail(ErrorCode::internal, "SHA-256 failed");
  std::string payload_hash = to_hex(*body_digest);
  if (const auto it = headers.find("x-amz-content-sha256"); it != headers.end()) {
    if (it->second.value == kUnsignedPayload) {
      payload_hash = kUnsignedPayload;
    } else if (it->second.value != payload_hash) {
      return core::fail(ErrorCode::unauthorized, "X-Amz-Content-Sha256 does not match the body");
    }
  }

  std::string canonical;
  canonical.reserve(512);
  canonical.append(request.method).push_back('\n');
  canonical.append(canonical_uri(request.path)).push_back('\n');
  canonical.append(canonical_query(request.query)).push_back('\n');
  for (std::string_view name : *signed_names) {
    const auto it = headers.find(name);
    if (it == headers.end()) {
      return core::fail(ErrorCode::unauthorized, "signed header " + std::string(name) + " missing");
    }
    canonical.append(name).push_back(':');
    canonical.append(it->second.value).push_back('\n');
  }
  canonical.push_back('\n');
  canonical.append(auth->signed_headers).push_back('\n');
  canonical.append(payload_hash);

  const std::optional<Digest> canonical_digest = sha256(canonical);
  if (!canonical_digest) return core::fail(ErrorCode::internal, "SHA-256 failed");
  std::string string_to_sign;
  string_to_sign.reserve(160);
  string_to_sign.append(kAlgorithm).push_back('\n');
  string_to_sign.append(amz_date).push_back('\n');
  string_to_sign.append(auth->scope_date).push_back('/');
  string_to_sign.append(auth->region).push_back('/');
  string_to_sign.append(auth->service).push_back('/');
  string_to_sign.append(kScopeTerminator).push_back('\n');
  string_to_sign.append(to_hex(*canonical_digest));

  // kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
  std::string secret_key = "AWS4" + credential->secret_access_key;
  const Cleanse wipe_secret{secret_key.data(), secret_key.size()};
  Digest key{};
  Digest next{};
  const Cleanse wipe_key{key.data(), key.size()};
  const Cleanse wipe_next{next.data(), next.size()};
  bool ok = hmac_sha256(
      std::span(reinterpret_cast<const unsigned char*>(secret_key.data()), secret_key.size()),
      auth->scope_date, key);
  for (const std::string_view step : {auth->region, auth->service, kScopeTerminator}) {
    ok = ok && hmac_sha256(key, step, next);
    key = next;
  }
  Digest computed{};
  if (!ok || !hmac_sha256(key, string_to_sign, computed)) {
    return core::fail(ErrorCode::internal, "HMAC-SHA256 failed");
  }
  if (CRYPTO_memcmp(computed.data(), claimed->data(), computed.size()) != 0) {
    return core::fail(ErrorCode::unauthorized, "signature mismatch");
  }
  return SigV4Identity{std::string(auth->access_key_id), std::string(auth->region),
                       std::string(auth->service)};
}

}  // namespace waitroom::api
