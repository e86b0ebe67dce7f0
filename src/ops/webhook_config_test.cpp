#include "ops/webhook_config.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "testing/temp_dir.hpp"

namespace waitroom::ops {
namespace {

core::Result<std::vector<WebhookConfig>> parse(std::string_view text) {
  const toml::table root = toml::parse(text);
  return parse_webhooks(root["webhooks"].as_array());
}

std::string error_of(std::string_view text) {
  auto r = parse(text);
  if (r) return "(accepted)";
  EXPECT_EQ(r.error().code, core::ErrorCode::bad_request);
  return r.error().detail;
}

TEST(WebhookConfig, NoWebhooksIsEmpty) {
  EXPECT_TRUE(parse_webhooks(nullptr).value().empty());
  EXPECT_TRUE(parse("listen = \"127.0.0.1:1\"").value().empty());
}

TEST(WebhookConfig, ReadsEveryKey) {
  auto r = parse(R"(
    [[webhooks]]
    url = "https://hooks.example.com/w?k=1"
    secret = "s3cret"
    types = ["room.reset", "room.paused"]
    max_queue = 50
    timeout_ms = 750
    ca_file = "/etc/ca.pem"

    [[webhooks]]
    url = "http://127.0.0.1:9000/"
    secret = "other"
  )");
  ASSERT_TRUE(r) << r.error().detail;
  ASSERT_EQ(r->size(), 2u);
  const WebhookConfig& a = (*r)[0];
  EXPECT_EQ(a.url, "https://hooks.example.com/w?k=1");
  EXPECT_EQ(a.secret, "s3cret");
  EXPECT_EQ(a.types, (std::vector<std::string>{"room.reset", "room.paused"}));
  EXPECT_EQ(a.max_queue, 50u);
  EXPECT_EQ(a.timeout_ms, 750);
  EXPECT_EQ(a.ca_file, "/etc/ca.pem");
  const WebhookConfig& b = (*r)[1];
  EXPECT_TRUE(b.types.empty());
  EXPECT_EQ(b.max_queue, WebhookConfig{}.max_queue);
  EXPECT_EQ(b.timeout_ms, WebhookConfig{}.timeout_ms);
}

TEST(WebhookConfig, ReadsSecretFileTrimmingTheNewline) {
  testing::TempDir dir;
  const auto file = dir.path() / "secret";
  std::ofstream(file) << "from-file\n";
  auto r = parse("[[webhooks]]\nurl = \"http://h/\"\nsecret_file = \"" + file.string() + "\"\n");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->at(0).secret, "from-file");
}

TEST(WebhookConfig, RefusesBadSecretFiles) {
  testing::TempDir dir;
  const auto empty = dir.path() / "empty";
  std::ofstream(empty) << " \n";
  EXPECT_EQ(error_of("[[webhooks]]\nurl = \"http://h/\"\nsecret_file = \"" + empty.string() + "\""),
            "config: webhooks[0].secret_file: " + empty.string() + " is empty");
  const auto missing = dir.path() / "missing";
  EXPECT_EQ(
      error_of("[[webhooks]]\nurl = \"http://h/\"\nsecret_file = \"" + missing.string() + "\""),
      "config: webhooks[0].secret_file: cannot read " + missing.string());
}

TEST(WebhookConfig, ErrorsNameTheEntryAndKey) {
  const std::string ok = "[[webhooks]]\nurl = \"http://h/\"\nsecret = \"s\"\n";
  EXPECT_EQ(error_of(ok + "[[webhooks]]\nsecret = \"s\""), "config: webhooks[1].url: is required");
  EXPECT_EQ(error_of("[[webhooks]]\nurl = \"http://h/\""),
            "config: webhooks[0].secret: is required (or secret_file)");
  EXPECT_EQ(error_of("[[webhooks]]\nurl = \"http://h/\"\nsecret = \"\""),
            "config: webhooks[0].secret: is required (or secret_file)");
  EXPECT_EQ(error_of(ok + "secret_file = \"/x\""),
            "config: webhooks[0].secret: set secret or secret_file, not both");
  EXPECT_EQ(error_of(ok + "retries = 3"), "config: webhooks[0].retries: unknown key");
  EXPECT_EQ(error_of(ok + "types = \"room.reset\""),
            "config: webhooks[0].types: must be an array of event type strings");
  EXPECT_EQ(error_of(ok + "types = [1]"),
            "config: webhooks[0].types: must be an array of non-empty strings");
  EXPECT_EQ(error_of(ok + "types = [\"\"]"),
            "config: webhooks[0].types: must be an array of non-empty strings");
  EXPECT_EQ(error_of(ok + "max_queue = 0"),
            "config: webhooks[0].max_queue: must be an integer from 1 to 10000000");
  EXPECT_EQ(error_of(ok + "max_queue = \"10\""),
            "config: webhooks[0].max_queue: must be an integer from 1 to 10000000");
  EXPECT_EQ(error_of(ok + "timeout_ms = -5"),
            "config: webhooks[0].timeout_ms: must be a positive integer");
  EXPECT_EQ(error_of(ok + "timeout_ms = 99999999"),
            "config: webhooks[0].timeout_ms: must be between 1 and 600000");
  EXPECT_EQ(error_of("[[webhooks]]\nurl = 5\nsecret = \"s\""),
            "config: webhooks[0].url: must be a string");
  EXPECT_EQ(error_of("webhooks = [1]"), "config: webhooks[0]: must be a table ([[webhooks]])");
}

TEST(WebhookConfig, RefusesBadUrlsAtLoad) {
  auto url_error = [](std::string url) {
    return error_of("[[webhooks]]\nsecret = \"s\"\nurl = \"" + url + "\"");
  };
  EXPECT_EQ(url_error("ftp://h/"), "config: webhooks[0].url: must start with http:// or https://");
  EXPECT_EQ(url_error("http:///path"), "config: webhooks[0].url: has no host");
  EXPECT_EQ(url_error("http://h:99999/"), "config: webhooks[0].url: port must be 1-65535");
  EXPECT_EQ(url_error("http://h/#x"),
            "config: webhooks[0].url: must not have a #fragment (it is never sent)");
  EXPECT_NE(url_error("not a url").find("config: webhooks[0].url: not a valid absolute URL"),
            std::string::npos);
  EXPECT_EQ(url_error(""), "config: webhooks[0].url: is required");
}

}  // namespace
}  // namespace waitroom::ops
