// Line-based unified diff, as `diff -u` prints it, for showing what a new
// policy version changes.
//
//   std::string d = UnifiedDiff(old_text, new_text, "policy v1.yaml", "policy v2.yaml");
//   // --- policy v1.yaml
//   // +++ policy v2.yaml
//   // @@ -4,7 +4,7 @@
//   // ...
#pragma once

#include <string>
#include <string_view>

namespace upfront {

// The edit script is a longest common subsequence of the lines (after the
// common head and tail are set aside). Changes closer than 2 * context lines
// share a hunk. A last line without a newline is marked "\ No newline at end
// of file". Returns "" when the texts are equal. When the changed middles are
// too large for the LCS table (over 16 M line pairs), it reports them as
// wholly replaced: still a correct diff, only not a minimal one.
std::string UnifiedDiff(std::string_view a, std::string_view b, std::string_view a_name,
                        std::string_view b_name, int context = 3);

}  // namespace upfront
