// channels, moderation, templates and the acting half of interventions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "src/policy/action_sections.h"
#include "upfront/policy.h"

namespace upfront {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Errors(const std::string& yaml) {
  std::vector<std::string> lines;
  for (const PolicyError& error : CheckPolicyText(yaml, "p.yaml")) {
    lines.push_back(error.ToString().substr(std::string("p.yaml:").size()));
  }
  return lines;
}

TEST(PolicyActions, TheExampleLoadsChannelsModerationTemplatesAndLadders) {
  absl::StatusOr<Policy> policy =
      LoadPolicyFile(std::string(UPFRONT_SOURCE_DIR) + "/examples/ecommerce/policy.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  const ChannelSpec* in_flow = policy->FindChannel("in_flow");
  ASSERT_NE(in_flow, nullptr);
  EXPECT_TRUE(in_flow->needs_presence);
  EXPECT_TRUE(in_flow->quiet_hours_exempt);
  EXPECT_EQ(policy->FindChannel("email")->consent_trait, "email_opt_in");
  EXPECT_EQ(policy->FindChannel("email")->webhook, "email");
  EXPECT_EQ(policy->FindChannel("agent")->queue, "outreach");
  ASSERT_EQ(policy->webhooks.size(), 1u);
  EXPECT_EQ(policy->webhooks[0].name, "email");
  EXPECT_EQ(policy->webhooks[0].url, "http://127.0.0.1:9000/email");
  EXPECT_EQ(policy->webhooks[0].secret_env, "UPFRONT_EMAIL_SECRET");
  EXPECT_EQ(policy->webhooks[0].secret, "");
  EXPECT_EQ(policy->webhooks[0].timeout, 5 * kMicrosPerSecond);

  const ModerationSpec& m = policy->moderation;
  EXPECT_TRUE(m.has_quiet_hours);
  EXPECT_EQ(m.quiet_start_minute, 21 * 60);
  EXPECT_EQ(m.quiet_end_minute, 8 * 60);
  EXPECT_EQ(m.max_per_day, 2);
  EXPECT_EQ(m.max_per_week, 5);
  EXPECT_EQ(m.cooldown, 2 * kMicrosPerHour);
  EXPECT_EQ(m.dismiss_cooldown, 7 * kMicrosPerDay);
  EXPECT_EQ(m.suppress_after, 2);
  EXPECT_EQ(m.suppress_for, 30 * kMicrosPerDay);
  EXPECT_TRUE(m.pause_on_incident);
  EXPECT_FALSE(m.rolling_windows);

  const TemplateSpec* tip = policy->FindTemplate("checkout_tip");
  ASSERT_NE(tip, nullptr);
  ASSERT_TRUE(tip->base.text.has_value());
  ASSERT_EQ(tip->base.text->parts.size(), 3u);
  EXPECT_TRUE(tip->base.text->parts[1].variable);
  EXPECT_EQ(tip->base.text->parts[1].text, "last.properties.field");

  ASSERT_EQ(policy->interventions.size(), 3u);
  const InterventionSpec& help = policy->interventions[0];
  EXPECT_EQ(help.name, "checkout_help");
  EXPECT_DOUBLE_EQ(help.min_confidence, 0.5);
  EXPECT_EQ(help.low_confidence, LowConfidence::kAskConfirm);
  EXPECT_EQ(help.goal, "Order Completed");
  EXPECT_DOUBLE_EQ(help.priority, 0.8);
  EXPECT_DOUBLE_EQ(help.value, 30);
  EXPECT_EQ(help.cooldown, kMicrosPerDay);
  ASSERT_EQ(help.ladder.size(), 2u);
  EXPECT_EQ(help.ladder[1].channel, "email");
  EXPECT_EQ(help.ladder[1].template_name, "checkout_email");
  EXPECT_EQ(help.ladder[1].after, kMicrosPerHour);
  EXPECT_TRUE(policy->interventions[2].sensitive);
}

TEST(PolicyActions, MistakesInActingSectionsAreLocated) {
  EXPECT_THAT(Errors(R"(version: v1
events: {keep_properties: [field, card]}
signals: {f: {half_life: 1m, inputs: [{event: E}]}}
channels: {in_app: {needs_presence: maybe}, email: {}}
moderation:
  quiet_hours: {start: "21:00", end: "8am"}
  window: weekly
templates:
  tip: {text: "Fix {{last.properties.field}} now; {{evidence.g.count}} issues {{traits.plan}}"}
  ok: {text: "Hi {{evidence.f.count"}
  fine: {text: "Hello", why: "{{evidence.f.window}} ago"}
interventions:
  a:
    when: 'signals.f.score > 0.5'
    ladder:
      - {channel: in_app, template: fine, after: 1h}
      - {channel: sms, template: nope}
      - {channel: email, template: fine}
)"),
              ElementsAre(
                  HasSubstr("4:37: channels.in_app.needs_presence: must be true or false"),
                  HasSubstr("6:38: moderation.quiet_hours.end: '8am' is not a time of day"),
                  HasSubstr("7:11: moderation.window: 'weekly' is not a window"),
                  HasSubstr("9:15: templates.tip.text: {{evidence.g.count}}: unknown signal 'g'"),
                  HasSubstr("9:15: templates.tip.text: {{traits.plan}}: traits.plan is not kept"),
                  HasSubstr("10:14: templates.ok.text: '{{' at character 4 is never closed"),
                  HasSubstr("16:50: interventions.a.ladder[0].after: the first step goes out "
                            "when the condition holds"),
                  HasSubstr("17:9: interventions.a.ladder[1]: a later step needs 'after'"),
                  HasSubstr("17:19: interventions.a.ladder[1].channel: 'sms' is not a channel; "
                            "the channels are: in_app, email"),
                  HasSubstr("17:34: interventions.a.ladder[1].template: 'nope' is not a template"),
                  HasSubstr("18:9: interventions.a.ladder[2]: a later step needs 'after'")));
}

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";  // 24 bytes

TEST(PolicyWebhooks, WebhooksAreReadWithTheirSecretsAndTimeouts) {
  absl::StatusOr<Policy> policy = LoadPolicyText(std::string(R"(version: v1
channels: {email: {webhook: mail}, sms: {webhook: texts}}
webhooks:
  mail: {url: "https://hooks.example.com:8443/upfront/email?tenant=7", secret_env: MAIL_SECRET,
         timeout: 30s, description: "the CRM"}
  texts: {url: "http://[::1]:9000/", secret: ")") + kSecret + R"("}
)",
                                                 "p.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  ASSERT_EQ(policy->webhooks.size(), 2u);
  EXPECT_EQ(policy->webhooks[0].name, "mail");
  EXPECT_EQ(policy->webhooks[0].url, "https://hooks.example.com:8443/upfront/email?tenant=7");
  EXPECT_EQ(policy->webhooks[0].secret_env, "MAIL_SECRET");
  EXPECT_EQ(policy->webhooks[0].timeout, 30 * kMicrosPerSecond);
  EXPECT_EQ(policy->webhooks[1].secret, kSecret);
  EXPECT_EQ(policy->webhooks[1].secret_env, "");
  EXPECT_EQ(policy->webhooks[1].timeout, 5 * kMicrosPerSecond);
}

TEST(PolicyWebhooks, MistakesInWebhooksAreLocated) {
  EXPECT_THAT(Errors(R"(version: v1
webhooks:
  a: {secret_env: A}
  b: {url: "ftp://x/y", secret_env: B}
  c: {url: "http://:80/", secret_env: C}
  d: {url: "http://host:99999/", secret_env: D}
  e: {url: "http://host/x#top", secret: "whsec_abc", secret_env: E}
  f: {url: "http://host/", secret: "sk_live_123"}
  g: {url: "http://host/", secret_env: "my secret"}
  h: {url: "http://host/"}
  i: {url: "http://host/", secret_env: I, timout: 3s}
  j: {url: "http://host/", secret_env: J, timeout: soon}
  k: "http://host/"
)"),
              ElementsAre(
                  HasSubstr("3:6: webhooks.a: needs 'url', where requests are POSTed"),
                  HasSubstr("4:12: webhooks.b.url: 'ftp://x/y' must start with http:// or "
                            "https://"),
                  HasSubstr("5:12: webhooks.c.url: 'http://:80/' has no host"),
                  HasSubstr("6:12: webhooks.d.url: 'http://host:99999/' has an invalid port "
                            "'99999'"),
                  HasSubstr("7:12: webhooks.e.url: 'http://host/x#top' has a #fragment"),
                  HasSubstr("7:41: webhooks.e.secret: is not valid base64 after whsec_"),
                  HasSubstr("7:41: webhooks.e.secret: give either secret_env or secret, not "
                            "both"),
                  HasSubstr("8:36: webhooks.f.secret: is not a webhook secret; write whsec_"),
                  HasSubstr("9:40: webhooks.g.secret_env: 'my secret' is not an environment "
                            "variable name"),
                  HasSubstr("10:6: webhooks.h: needs secret_env"),
                  HasSubstr("11:43: webhooks.i.timout: unknown key 'timout'; did you mean "
                            "'timeout'"),
                  HasSubstr("12:52: webhooks.j.timeout: 'soon' is not a duration"),
                  HasSubstr("13:6: webhooks.k: must be a map")));
}

TEST(PolicyWebhooks, UrlsAndSecretsAreCheckedPartByPart) {
  using policy_internal::CheckWebhookSecret;
  using policy_internal::CheckWebhookUrl;
  EXPECT_EQ(CheckWebhookUrl("http://127.0.0.1:9000/email"), "");
  EXPECT_EQ(CheckWebhookUrl("https://hooks.example.com"), "");
  EXPECT_EQ(CheckWebhookUrl("http://host?x=1"), "");
  EXPECT_EQ(CheckWebhookUrl("http://[::1]/"), "");
  EXPECT_THAT(CheckWebhookUrl("HTTP://host/"), HasSubstr("must start with http://"));
  EXPECT_THAT(CheckWebhookUrl("http://user:pw@host/"), HasSubstr("credentials"));
  EXPECT_THAT(CheckWebhookUrl("http://host:/"), HasSubstr("invalid port ''"));
  EXPECT_THAT(CheckWebhookUrl("http://host:0/"), HasSubstr("invalid port '0'"));
  EXPECT_THAT(CheckWebhookUrl("http://[::1/"), HasSubstr("closing ']'"));
  EXPECT_THAT(CheckWebhookUrl("http://ho st/"), HasSubstr("space"));
  EXPECT_THAT(CheckWebhookUrl("http://h%t/"), HasSubstr("invalid host 'h%t'"));
  EXPECT_EQ(CheckWebhookSecret(kSecret), "");
  EXPECT_THAT(CheckWebhookSecret("whsec_YWJj"), HasSubstr("holds 3 bytes"));
  EXPECT_THAT(CheckWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS="),
              HasSubstr("holds 23 bytes"));
  EXPECT_THAT(CheckWebhookSecret("whsec_MfKQ9r8G=YqrTwjUPD8ILPZIo2LaLaSw"),
              HasSubstr("not valid base64"));
}

TEST(PolicyWebhooks, AChannelMustNameADefinedWebhook) {
  EXPECT_THAT(Errors(R"(version: v1
channels:
  email: {webhook: mail}
  sms: {webhook: texts}
  push: {webhook: broken}
webhooks:
  texts: {url: "http://host/", secret_env: T}
  broken: {url: "http://host:x/", secret_env: B}
)"),
              ElementsAre(HasSubstr("3:20: channels.email.webhook: 'mail' is not a webhook; the "
                                    "webhooks are: texts, broken"),
                          HasSubstr("8:17: webhooks.broken.url: 'http://host:x/' has an invalid "
                                    "port 'x'")));
  EXPECT_THAT(Errors("version: v1\nchannels: {email: {webhook: mail}}\nwebhooks: {}\n"),
              ElementsAre(HasSubstr("2:29: channels.email.webhook: 'mail' is not a webhook; the "
                                    "webhooks section defines none")));
  // Without a webhooks section the endpoints are configured elsewhere (the
  // telecom example); the server checks them when it starts.
  EXPECT_THAT(Errors("version: v1\nchannels: {email: {webhook: mail}}\n"), ElementsAre());
}

}  // namespace
}  // namespace upfront
