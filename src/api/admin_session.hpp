#pragma once
// A second way into /admin/v1 besides `Authorization: Bearer <admin key>`: the operator
// dashboard's signed-in session (web/dashboard, docs/dashboard.md). The admin guard asks it only
// when the bearer key is absent or wrong.
#include <string>
#include <vector>

#include "http/message.hpp"
#include "store/operator_tokens.hpp"

namespace waitroom::api {

// Who signed a dashboard session in: the admin key (an admin) or an operator token, whose role
// and rooms the session has; a token's session checks the token again at every use.
struct SessionCaller {
  store::OperatorRole role = store::OperatorRole::admin;
  std::vector<std::string> rooms;  // empty: every room
  std::string name;                // the token's name; "admin key" for the key
  std::string token_id;            // the token's id; empty for the key
};

struct SessionAccess {
  enum class Verdict {
    none,       // no live dashboard session on this request: the bearer key decides (401)
    allowed,    // a live session, and for a state change the right CSRF token from this origin
    forbidden,  // a live session, but a state change without the CSRF token or from elsewhere
    ended,      // the session's token was revoked or expired: the session ended just now (401)
  };
  Verdict verdict = Verdict::none;
  std::string reason;    // for forbidden and ended: why, for the problem's detail and the log
  SessionCaller caller;  // for allowed: who the session acts for
};

class AdminSessionCheck {
 public:
  virtual ~AdminSessionCheck() = default;
  virtual SessionAccess check(const http::Request& req) = 0;
};

}  // namespace waitroom::api
