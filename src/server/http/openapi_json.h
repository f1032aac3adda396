// The OpenAPI 3.1 document of the HTTP API (openapi.json in this folder),
// compiled in so the server needs no files at run time.
#pragma once

#include <string_view>

namespace upfront {

extern const std::string_view kOpenApiJson;

}  // namespace upfront
