// verify_pass: check one Waitroom pass with libwaitroom_verify.
//
//   verify_pass --jwks URL_OR_FILE --room ROOM --issuer ISS [--ca-file PEM] [--leeway SECONDS] PASS
//
// PASS "-" reads the pass from standard input. Prints the claims and exits 0 for a valid pass;
// prints the error code and why, and exits 1, for a refused pass or keys that cannot be loaded;
// exits 2 for a bad command line. Written in C++17 against the public header only.
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <waitroom/verify.hpp>

namespace {

int usage(const char* why) {
  std::cerr << "verify_pass: " << why << "\n"
            << "usage: verify_pass --jwks URL_OR_FILE --room ROOM --issuer ISS"
               " [--ca-file PEM] [--leeway SECONDS] PASS|-\n";
  return 2;
}

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace

int main(int argc, char** argv) {
  waitroom::verify::Options options;
  options.refresh_interval = std::chrono::seconds(0);  // one check: no refresh thread needed
  waitroom::verify::Expectation expect;
  std::string pass;
  bool have_pass = false;

  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--jwks" || arg == "--room" || arg == "--issuer" || arg == "--ca-file" ||
        arg == "--leeway") {
      if (i + 1 >= argc) return usage((arg + " needs a value").c_str());
      const char* v = argv[++i];
      if (arg == "--jwks") options.jwks = v;
      if (arg == "--room") expect.audience = v;
      if (arg == "--issuer") expect.issuer = v;
      if (arg == "--ca-file") options.ca_file = v;
      if (arg == "--leeway") expect.leeway = std::chrono::seconds(std::atoi(v));
    } else if (arg == "-h" || arg == "--help") {
      usage("check a Waitroom pass");
      return 0;
    } else if (!have_pass && (arg == "-" || arg.rfind("--", 0) != 0)) {
      pass = arg;
      have_pass = true;
    } else {
      return usage(("unexpected argument " + arg).c_str());
    }
  }
  if (options.jwks.empty() || expect.audience.empty() || expect.issuer.empty() || !have_pass)
    return usage("--jwks, --room, --issuer and PASS are required");
  if (pass == "-") {
    pass.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  pass = trim(pass);

  std::string error;
  const auto verifier = waitroom::verify::Verifier::create(options, &error);
  if (!verifier) {
    std::cerr << "verify_pass: cannot load keys: " << error << "\n";
    return 1;
  }
  const waitroom::verify::Result result = verifier->verify(pass, expect);
  if (!result) {
    std::cout << "refused: " << waitroom::verify::to_string(result.code) << ": " << result.message
              << "\n";
    return 1;
  }
  const waitroom::verify::Claims& c = *result.claims;
  std::cout << "valid pass\n"
            << "  ticket (sub):    " << c.ticket << "\n"
            << "  room (aud):      " << c.room << "\n"
            << "  issuer (iss):    " << c.issuer << "\n"
            << "  queue_position:  " << c.queue_position << "\n"
            << "  party_size:      " << c.party_size << "\n"
            << "  issued (iat):    " << c.iat << "\n"
            << "  not before:      " << c.nbf << "\n"
            << "  expires (exp):   " << c.exp << "\n"
            << "  jti:             " << c.jti << "\n"
            << "  key:             " << c.kid << " (" << waitroom::verify::to_string(c.algorithm)
            << ")\n";
  return 0;
}
