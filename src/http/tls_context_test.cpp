#include "http/tls_context.hpp"

#include <gtest/gtest.h>

#include <ctime>

#include "core/rfc3339.hpp"
#include "testing/temp_dir.hpp"
#include "testing/test_certificates.hpp"

namespace waitroom::http {
namespace {

using testing::make_test_certificate;
using testing::write_file;

struct Files {
  waitroom::testing::TempDir dir;
  std::filesystem::path cert = dir.path() / "cert.pem";
  std::filesystem::path key = dir.path() / "key.pem";
  void write(const testing::TestCertificate& c) {
    write_file(cert, c.cert_pem);
    write_file(key, c.key_pem);
  }
};

TEST(TlsContext, LoadsACertificateAndDescribesIt) {
  Files files;
  files.write(make_test_certificate("queue.example.com", 0x1234));
  auto tls = TlsContext::load(files.cert, files.key);
  ASSERT_TRUE(tls) << tls.error().detail;
  const CertificateInfo& info = (*tls)->certificate();
  EXPECT_EQ(info.subject, "CN=queue.example.com");
  EXPECT_EQ(info.serial, "1234");
  EXPECT_EQ(info.not_after.size(), 20u) << info.not_after;  // 2026-12-01T10:00:00Z
  EXPECT_EQ(core::format_rfc3339(info.not_after_s), info.not_after);
  const std::int64_t in_an_hour = std::time(nullptr) + 3600;
  EXPECT_NEAR(static_cast<double>(info.not_after_s), static_cast<double>(in_an_hour), 60.0);
  EXPECT_FALSE(info.expired);

  files.write(make_test_certificate("old.example.com", 7, -60));
  auto old = TlsContext::load(files.cert, files.key);
  ASSERT_TRUE(old) << old.error().detail;
  EXPECT_TRUE((*old)->certificate().expired);
}

TEST(TlsContext, ErrorsNameTheKeyAndTheFile) {
  Files files;
  const auto a = make_test_certificate("a.example", 1);
  const auto b = make_test_certificate("b.example", 2);
  struct Case {
    std::string cert_pem, key_pem;
    std::string key_named, says;
  };
  const Case cases[] = {
      {"not a certificate\n", a.key_pem, "tls.cert_file", "no PEM certificate"},
      {a.cert_pem, "not a key\n", "tls.key_file", "no unencrypted PEM private key"},
      {a.cert_pem, a.cert_pem, "tls.key_file", "no unencrypted PEM private key"},
      {a.cert_pem, b.key_pem, "tls.key_file", "is not the private key of the certificate"},
  };
  for (const Case& c : cases) {
    write_file(files.cert, c.cert_pem);
    write_file(files.key, c.key_pem);
    auto tls = TlsContext::load(files.cert, files.key);
    ASSERT_FALSE(tls) << c.says;
    const std::string& detail = tls.error().detail;
    EXPECT_NE(detail.find(c.key_named), std::string::npos) << detail;
    EXPECT_NE(detail.find(c.says), std::string::npos) << detail;
  }
  auto missing = TlsContext::load(files.cert, files.dir.path() / "nope.pem");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().detail.find("tls.key_file"), std::string::npos);
  EXPECT_NE(missing.error().detail.find("nope.pem: cannot read: No such file"), std::string::npos)
      << missing.error().detail;
}

TEST(CurrentTlsContext, ReloadSwapsOnlyOnSuccess) {
  Files files;
  files.write(make_test_certificate("first.example", 1));
  auto current = CurrentTlsContext::open(files.cert, files.key);
  ASSERT_TRUE(current) << current.error().detail;
  const std::shared_ptr<TlsContext> first = (*current)->get();

  files.write(make_test_certificate("second.example", 2));
  auto reloaded = (*current)->reload();
  ASSERT_TRUE(reloaded) << reloaded.error().detail;
  EXPECT_EQ(reloaded->subject, "CN=second.example");
  const std::shared_ptr<TlsContext> second = (*current)->get();
  EXPECT_NE(second, first);
  EXPECT_EQ(first->certificate().subject, "CN=first.example") << "the old one lives on while held";

  write_file(files.cert, "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
  auto broken = (*current)->reload();
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().detail.find(files.cert.string()), std::string::npos);
  EXPECT_EQ((*current)->get(), second) << "a failed reload keeps the current certificate";
}

}  // namespace
}  // namespace waitroom::http
