// LoadPolicy* / CheckPolicy*: YAML text -> a validated Policy, or every error.
//
// yaml-cpp throws; this file is the module's edge, so its exceptions stop here
// and become PolicyErrors located by the exception's mark.

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "src/event/field_catalog.h"
#include "src/policy/action_sections.h"
#include "src/policy/outcome_roles.h"
#include "src/policy/experiment_sections.h"
#include "src/policy/reading_sections.h"
#include "src/signals/compiled_signals.h"
#include "src/policy/yaml_fields.h"
#include "upfront/policy.h"

namespace upfront {
namespace {

using policy_internal::ErrorCollector;
using policy_internal::ExpectList;
using policy_internal::ExpectMap;
using policy_internal::IsEmpty;
using policy_internal::kOutcomeRoleNames;
using policy_internal::MapEntries;
using policy_internal::MapEntry;
using policy_internal::OutcomeRoleFromName;
using policy_internal::ReadPositiveDuration;
using policy_internal::ReadString;
using policy_internal::ReadStringList;
using policy_internal::ReportUnknownKey;
using policy_internal::RootField;
using policy_internal::YamlField;

constexpr std::string_view kTopLevelKeys[] = {
    "version",   "default_timezone", "sensitive_traits", "events",    "outcomes",   "signals",
    "models",    "segments",         "channels",         "webhooks",  "moderation", "interventions",
    "templates", "experiments",      "targets",          "retention",
};

constexpr std::string_view kEventsKeys[] = {
    "keep_properties", "keep_traits", "hash", "dedup_window", "allowed_lateness", "retention",
};

// Sections accepted now whose content later work validates. Listing them here
// keeps the "must be a map" check in one place.
constexpr std::string_view kNotYetValidatedMapSections[] = {
    "retention",
};

// const char* rather than std::string_view: this absl build's StrCat does not
// take std::string_view.
constexpr char kPropertiesPrefix[] = "properties.";
constexpr char kTraitsPrefix[] = "traits.";

std::string ContentHash(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string hex;
  // 16 hex digits (64 bits) tell policy versions apart; the full digest is
  // not needed for that and would crowd every audit record.
  for (unsigned int i = 0; i < 8 && i < length; ++i) {
    hex += kHexDigits[digest[i] >> 4];
    hex += kHexDigits[digest[i] & 15];
  }
  return hex;
}

bool IsPortableTimeZone(const std::string& name) {
  // absl also loads "localtime" (the host's zone) and zone files by absolute
  // path. Neither means the same thing on every machine, and decisions must
  // replay identically anywhere, so a policy may only name IANA zones.
  if (name == "localtime" || name.starts_with('/') || name.find("..") != std::string::npos) {
    return false;
  }
  absl::TimeZone zone;
  return absl::LoadTimeZone(name, &zone);
}

// A path into an event such as "properties.score" or "traits.plan".
struct EventFieldPath {
  bool is_trait = false;
  // The kept field the path reads: the first segment after the prefix, since
  // events keep whole top-level properties and traits.
  std::string kept_name;
};

std::optional<EventFieldPath> ParseEventFieldPath(std::string_view path) {
  EventFieldPath parsed;
  std::string_view rest;
  if (path.starts_with(kPropertiesPrefix)) {
    rest = path.substr(std::string_view(kPropertiesPrefix).size());
  } else if (path.starts_with(kTraitsPrefix)) {
    parsed.is_trait = true;
    rest = path.substr(std::string_view(kTraitsPrefix).size());
  } else {
    return std::nullopt;
  }
  parsed.kept_name = std::string(rest.substr(0, rest.find('.')));
  if (parsed.kept_name.empty()) return std::nullopt;
  return parsed;
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Fills a Policy from a parsed document, reporting every problem it finds.
class PolicyParser {
 public:
  PolicyParser(Policy* policy, ErrorCollector* errors) : policy_(policy), errors_(errors) {}

  void Parse(const YAML::Node& document) {
    if (IsEmpty(document)) {
      errors_->Add(YAML::Mark::null_mark(), "",
                   "the policy is empty; it needs at least a version, e.g. version: \"v1\"");
      return;
    }
    const YamlField root = RootField(document);
    if (!document.IsMap()) {
      errors_->Add(root.mark, "",
                   absl::StrCat("a policy is a map of sections (version, events, outcomes, ...), "
                                "found ",
                                policy_internal::DescribeNode(document)));
      return;
    }

    std::map<std::string, MapEntry, std::less<>> sections;
    for (MapEntry& entry : MapEntries(root, errors_)) {
      if (std::find(std::begin(kTopLevelKeys), std::end(kTopLevelKeys), entry.name) ==
          std::end(kTopLevelKeys)) {
        ReportUnknownKey(entry, kTopLevelKeys, errors_);
        continue;
      }
      sections.emplace(entry.name, std::move(entry));
    }
    auto find_section = [&](std::string_view name) -> const YamlField* {
      auto it = sections.find(name);
      return it == sections.end() ? nullptr : &it->second.value;
    };

    if (const YamlField* version = find_section("version")) {
      if (std::optional<std::string> text = ReadString(*version, errors_)) {
        policy_->version = *std::move(text);
      }
    } else {
      errors_->Add(root.mark, "version",
                   "is required: a label for this policy, e.g. version: \"checkout-2026-11\"");
    }
    if (const YamlField* zone = find_section("default_timezone")) ParseDefaultTimezone(*zone);
    // Events first whatever the file order: outcomes and channels are checked
    // against the fields events keep.
    if (const YamlField* events = find_section("events")) ParseEvents(*events);
    if (const YamlField* outcomes = find_section("outcomes")) ParseOutcomes(*outcomes);
    // Each reads what the ones before it define: conditions name signals,
    // models and segments; nothing may read a sensitive trait.
    policy_internal::ReadingSections reading(policy_, errors_, keep_lists_valid_);
    if (const YamlField* sensitive = find_section("sensitive_traits")) {
      reading.ParseSensitiveTraits(*sensitive);
    }
    if (const YamlField* signals = find_section("signals")) reading.ParseSignals(*signals);
    if (const YamlField* models = find_section("models")) reading.ParseModels(*models);
    if (const YamlField* segments = find_section("segments")) reading.ParseSegments(*segments);
    policy_internal::ActionSections actions(policy_, errors_, keep_lists_valid_);
    if (const YamlField* channels = find_section("channels")) {
      actions.ParseChannels(*channels, [this](const std::string& channel, const YamlField& consent) {
        return ReadChannelConsent(channel, consent);
      });
    }
    const YamlField* webhooks = find_section("webhooks");
    if (webhooks) actions.ParseWebhooks(*webhooks);
    actions.CheckChannelWebhooks(/*webhooks_declared=*/webhooks != nullptr);
    if (const YamlField* moderation = find_section("moderation")) actions.ParseModeration(*moderation);
    if (const YamlField* templates = find_section("templates")) actions.ParseTemplates(*templates);
    if (const YamlField* interventions = find_section("interventions")) {
      reading.ParseInterventions(*interventions);
    }
    policy_internal::ExperimentSections measurement(policy_, errors_, &reading, &actions);
    if (const YamlField* experiments = find_section("experiments")) measurement.ParseExperiments(*experiments);
    if (const YamlField* targets = find_section("targets")) measurement.ParseTargets(*targets);
    if (errors_->empty()) CheckSignalsCompile(root);
    for (std::string_view name : kNotYetValidatedMapSections) {
      if (const YamlField* section = find_section(name)) {
        ExpectMap(*section, errors_, /*allow_empty=*/true);
      }
    }
  }

 private:
  void ParseDefaultTimezone(const YamlField& field) {
    std::optional<std::string> name = ReadString(field, errors_);
    if (!name) return;
    if (!IsPortableTimeZone(*name)) {
      errors_->Add(field.mark, field.key,
                   absl::StrCat("'", *name,
                                "' is not a known IANA time zone; write one like UTC, "
                                "Europe/Berlin or America/New_York"));
      return;
    }
    policy_->default_timezone = *std::move(name);
  }

  void ParseEvents(const YamlField& section) {
    if (!ExpectMap(section, errors_, /*allow_empty=*/true)) return;
    EventsPolicy& events = policy_->events;
    std::optional<YamlField> hash_field;
    for (const MapEntry& entry : MapEntries(section, errors_)) {
      const YamlField& value = entry.value;
      bool list_valid = true;
      if (entry.name == "keep_properties") {
        events.keep_properties = ReadStringList(value, errors_, &list_valid);
        keep_lists_valid_ = keep_lists_valid_ && list_valid;
      } else if (entry.name == "keep_traits") {
        events.keep_traits = ReadStringList(value, errors_, &list_valid);
        keep_lists_valid_ = keep_lists_valid_ && list_valid;
      } else if (entry.name == "hash") {
        hash_field = value;  // checked below, once both keep lists are known
      } else if (entry.name == "dedup_window") {
        if (auto d = ReadPositiveDuration(value, errors_)) events.dedup_window = *d;
      } else if (entry.name == "allowed_lateness") {
        if (auto d = ReadPositiveDuration(value, errors_)) events.allowed_lateness = *d;
      } else if (entry.name == "retention") {
        if (auto d = ReadPositiveDuration(value, errors_)) events.retention = *d;
      } else {
        ReportUnknownKey(entry, kEventsKeys, errors_);
      }
    }
    if (!hash_field || !ExpectList(*hash_field, errors_)) return;
    for (const YamlField& item : policy_internal::ListItems(*hash_field)) {
      std::optional<std::string> name = ReadString(item, errors_);
      if (!name) continue;
      if (keep_lists_valid_ && !Contains(events.keep_properties, *name) &&
          !Contains(events.keep_traits, *name)) {
        // Hashing applies to what is kept; a field that is dropped at ingest
        // has nothing to hash, so the entry is almost certainly a typo.
        errors_->Add(item.mark, item.key,
                     absl::StrCat("'", *name, "' is not in keep_properties or keep_traits"));
        continue;
      }
      events.hash.push_back(*std::move(name));
    }
  }

  void ParseOutcomes(const YamlField& section) {
    if (!ExpectMap(section, errors_, /*allow_empty=*/true)) return;
    for (const MapEntry& entry : MapEntries(section, errors_)) {
      std::optional<OutcomeRole> role = OutcomeRoleFromName(entry.name);
      if (!role) {
        ReportUnknownKey(entry, kOutcomeRoleNames, errors_);
        continue;
      }
      const YamlField& value = entry.value;
      if (!value.node.IsMap()) {
        errors_->Add(value.mark, value.key,
                     absl::StrCat("must be a map like {event: \"Your Event Name\"}, found ",
                                  policy_internal::DescribeNode(value.node)));
        continue;
      }
      OutcomeRule rule;
      rule.role = *role;
      bool valid = true;
      bool has_event = false;
      for (const MapEntry& field : MapEntries(value, errors_)) {
        if (field.name == "event") {
          has_event = true;
          std::optional<std::string> event = ReadString(field.value, errors_);
          valid = valid && event.has_value();
          if (event) rule.event = *std::move(event);
          continue;
        }
        std::optional<std::string> path = ReadString(field.value, errors_);
        if (!path || !CheckKeptFieldPath(field.value, *path)) {
          valid = false;
          continue;
        }
        rule.fields.emplace(field.name, *std::move(path));
      }
      if (!has_event) {
        errors_->Add(value.mark, value.key,
                     absl::StrCat("needs 'event': the name of your event that means ", entry.name));
        valid = false;
      }
      if (valid) policy_->outcomes.push_back(std::move(rule));
    }
  }

  bool ReadChannelConsent(const std::string& channel, const YamlField& field) {
    std::optional<std::string> path = ReadString(field, errors_);
    if (!path) return false;
    std::optional<EventFieldPath> parsed = ParseEventFieldPath(*path);
    if (!parsed || !parsed->is_trait) {
      errors_->Add(field.mark, field.key,
                   absl::StrCat("'", *path,
                                "' is not a trait; consent is a customer trait, written "
                                "traits.<name>"));
      return false;
    }
    if (!CheckKeptFieldPath(field, *path)) return false;
    auto [it, inserted] = policy_->consent_traits.emplace(parsed->kept_name, channel);
    if (!inserted) {
      // consent_traits maps each trait to one channel; sharing a trait would
      // silently leave the second channel without a consent check.
      errors_->Add(field.mark, field.key,
                   absl::StrCat(*path, " is already the consent of channel '", it->second,
                                "'; give each channel its own consent trait"));
      return false;
    }
    return true;
  }

  // The loader's own checks should leave nothing for CompiledSignals to
  // refuse; this makes sure a policy that loads also runs.
  void CheckSignalsCompile(const YamlField& root) {
    const EventsPolicy& events = policy_->events;
    FieldCatalog catalog(events.keep_properties, events.keep_traits, events.hash, "check");
    absl::StatusOr<CompiledSignals> compiled =
        CompiledSignals::Compile(policy_->signals, policy_->counters, catalog);
    if (!compiled.ok()) errors_->Add(root.mark, "signals", std::string(compiled.status().message()));
  }

  // Checks that `path` reads a property or trait the policy keeps. Reports and
  // returns false otherwise.
  bool CheckKeptFieldPath(const YamlField& field, const std::string& path) {
    std::optional<EventFieldPath> parsed = ParseEventFieldPath(path);
    if (!parsed) {
      errors_->Add(field.mark, field.key,
                   absl::StrCat("'", path,
                                "' is not a field path; write properties.<name> or "
                                "traits.<name>"));
      return false;
    }
    // With a broken keep list every path would look unkept; the list's own
    // error already says what to fix.
    if (!keep_lists_valid_) return true;
    const std::vector<std::string>& kept =
        parsed->is_trait ? policy_->events.keep_traits : policy_->events.keep_properties;
    if (Contains(kept, parsed->kept_name)) return true;
    errors_->Add(
        field.mark, field.key,
        absl::StrCat(parsed->is_trait ? kTraitsPrefix : kPropertiesPrefix, parsed->kept_name,
                     " is not kept; add '", parsed->kept_name, "' to events.",
                     parsed->is_trait ? "keep_traits" : "keep_properties"));
    return false;
  }

  Policy* policy_;
  ErrorCollector* errors_;
  // False when a keep list had errors; "is not kept" checks are then skipped.
  bool keep_lists_valid_ = true;
};

struct ParsedPolicy {
  Policy policy;
  std::vector<PolicyError> errors;
};

ParsedPolicy ParsePolicyText(const std::string& yaml, const std::string& file_name) {
  ErrorCollector errors(file_name);
  Policy policy;
  policy.source_file = file_name;
  policy.content_hash = ContentHash(yaml);
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(yaml);
    // Loading only the first document would silently ignore the rest.
    for (size_t i = 1; i < documents.size(); ++i) {
      errors.Add(documents[i].Mark(), "",
                 "a policy file holds one YAML document; this is another (after a '---' line)");
    }
    PolicyParser(&policy, &errors).Parse(documents.empty() ? YAML::Node() : documents[0]);
  } catch (const YAML::Exception& e) {
    errors.Add(e.mark, "", absl::StrCat("invalid YAML: ", e.msg));
  }
  return ParsedPolicy{std::move(policy), errors.TakeSorted()};
}

// The file's bytes, or a PolicyError saying why they could not be read.
std::optional<std::string> ReadPolicyFile(const std::string& path, PolicyError* error) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    error->file = path;
    error->message = "cannot read the policy file: it is a directory";
    return std::nullopt;
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  if (in) bytes << in.rdbuf();
  // An empty file sets failbit on `bytes`, yet is readable (and reported as
  // an empty policy), so only a failed open or a failed read counts here.
  if (!in.is_open() || in.bad()) {
    const int reason = errno;
    error->file = path;
    error->message = absl::StrCat("cannot read the policy file: ",
                                  reason != 0 ? std::strerror(reason) : "read failed");
    return std::nullopt;
  }
  return std::move(bytes).str();
}

absl::StatusOr<Policy> ToStatusOr(ParsedPolicy parsed) {
  if (parsed.errors.empty()) return std::move(parsed.policy);
  std::vector<std::string> lines;
  lines.reserve(parsed.errors.size());
  for (const PolicyError& error : parsed.errors) lines.push_back(error.ToString());
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

}  // namespace

absl::StatusOr<Policy> LoadPolicyText(const std::string& yaml, const std::string& file_name) {
  return ToStatusOr(ParsePolicyText(yaml, file_name));
}

absl::StatusOr<Policy> LoadPolicyFile(const std::string& path) {
  PolicyError read_error;
  std::optional<std::string> yaml = ReadPolicyFile(path, &read_error);
  if (!yaml) return absl::NotFoundError(read_error.ToString());
  return LoadPolicyText(*yaml, path);
}

std::vector<PolicyError> CheckPolicyText(const std::string& yaml, const std::string& file_name) {
  return ParsePolicyText(yaml, file_name).errors;
}

std::vector<PolicyError> CheckPolicyFile(const std::string& path) {
  PolicyError read_error;
  std::optional<std::string> yaml = ReadPolicyFile(path, &read_error);
  if (!yaml) return {read_error};
  return CheckPolicyText(*yaml, path);
}

}  // namespace upfront
