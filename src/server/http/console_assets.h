// The web console's static files (web/console), compiled in so the server
// needs no files at run time and no CDN: `upfront serve` answers /console.
#pragma once

#include <string_view>

namespace upfront {

struct ConsoleAsset {
  std::string_view name;  // file name, e.g. "console.js"
  std::string_view body;
};

// Every file of web/console, as it was when the server was built.
extern const ConsoleAsset kConsoleAssets[];
extern const size_t kConsoleAssetCount;

// The asset named `name` ("" or "index.html" for the page), nullptr if none.
const ConsoleAsset* FindConsoleAsset(std::string_view name);
// The Content-Type for a file name, by its extension.
std::string_view ConsoleContentType(std::string_view name);

}  // namespace upfront
