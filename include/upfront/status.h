// Upfront reports errors as values: absl::Status and absl::StatusOr<T>.
// Exceptions are reserved for programmer errors. Messages name the place
// (file:line, field, event index) and the reason, in a user's words.
//
//   absl::StatusOr<Policy> policy = LoadPolicy(path);
//   if (!policy.ok()) std::cerr << policy.status().message();
//
// Inside functions that return Status or StatusOr:
//   UPFRONT_RETURN_IF_ERROR(store.Put(key, value));
//   UPFRONT_ASSIGN_OR_RETURN(auto policy, LoadPolicy(path));
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define UPFRONT_CONCAT_INNER_(a, b) a##b
#define UPFRONT_CONCAT_(a, b) UPFRONT_CONCAT_INNER_(a, b)

#define UPFRONT_RETURN_IF_ERROR(expr)            \
  do {                                           \
    if (::absl::Status upfront_status_ = (expr); \
        !upfront_status_.ok()) {                 \
      return upfront_status_;                    \
    }                                            \
  } while (0)

#define UPFRONT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return std::move(tmp).status();       \
  lhs = std::move(tmp).value()

#define UPFRONT_ASSIGN_OR_RETURN(lhs, expr) \
  UPFRONT_ASSIGN_OR_RETURN_IMPL_(UPFRONT_CONCAT_(upfront_statusor_, __LINE__), lhs, expr)
