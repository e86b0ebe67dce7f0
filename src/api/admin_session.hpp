#pragma once
// A second way into /admin/v1 besides `Authorization: Bearer <admin key>`: the operator
// dashboard's signed-in session (web/dashboard, docs/dashboard.md). The admin guard asks it only
// when the bearer key is absent or wrong.
#include <string>

#include "http/message.hpp"

namespace waitroom::api {

struct SessionAccess {
  enum class Verdict {
    none,       // no live dashboard session on this request: the bearer key decides (401)
    allowed,    // a live session, and for a state change the right CSRF token from this origin
    forbidden,  // a live session, but a state change without the CSRF token or from elsewhere
  };
  Verdict verdict = Verdict::none;
  std::string reason;  // for forbidden: why, for the problem's detail
};

class AdminSessionCheck {
 public:
  virtual ~AdminSessionCheck() = default;
  virtual SessionAccess check(const http::Request& req) = 0;
};

}  // namespace waitroom::api
