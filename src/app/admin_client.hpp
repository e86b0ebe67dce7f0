#pragma once
// `waitroom admin …`: a small client of the admin API, for scripts and operators.
#include <string>

namespace waitroom::app {

struct AdminCall {
  std::string url = "http://127.0.0.1:8080";  // the server's base URL
  std::string method;
  std::string path;
  std::string body;
};

// Sends the call with the key from WAITROOM_ADMIN_KEY, prints the JSON answer; exit code 0 on 2xx.
int admin_call(const AdminCall& call);

}  // namespace waitroom::app
