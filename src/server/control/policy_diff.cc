#include "src/server/control/policy_diff.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"

namespace upfront {
namespace {

constexpr size_t kMaxTableCells = size_t{16} << 20;

// Lines keep their '\n', so a last line without one differs from the same
// text with one, as in diff(1).
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    end = end == std::string_view::npos ? text.size() : end + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

struct Op {
  char kind;  // ' ', '-', '+'
  std::string_view line;
};

// The middle of the edit script: a longest common subsequence of a and b,
// deletions before insertions where there is a choice.
void LcsScript(const std::vector<std::string_view>& a, size_t a_begin, size_t a_end,
               const std::vector<std::string_view>& b, size_t b_begin, size_t b_end,
               std::vector<Op>* ops) {
  const size_t n = a_end - a_begin;
  const size_t m = b_end - b_begin;
  if (n == 0 || m == 0 || n * m > kMaxTableCells) {
    for (size_t i = a_begin; i < a_end; ++i) ops->push_back({'-', a[i]});
    for (size_t j = b_begin; j < b_end; ++j) ops->push_back({'+', b[j]});
    return;
  }
  // length[i][j]: LCS of a[a_begin + i ..] and b[b_begin + j ..].
  const size_t width = m + 1;
  std::vector<uint32_t> length((n + 1) * width, 0);
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      length[i * width + j] = a[a_begin + i] == b[b_begin + j]
                                  ? length[(i + 1) * width + j + 1] + 1
                                  : std::max(length[(i + 1) * width + j], length[i * width + j + 1]);
    }
  }
  size_t i = 0, j = 0;
  while (i < n && j < m) {
    if (a[a_begin + i] == b[b_begin + j]) {
      ops->push_back({' ', a[a_begin + i]});
      ++i;
      ++j;
    } else if (length[(i + 1) * width + j] >= length[i * width + j + 1]) {
      ops->push_back({'-', a[a_begin + i++]});
    } else {
      ops->push_back({'+', b[b_begin + j++]});
    }
  }
  for (; i < n; ++i) ops->push_back({'-', a[a_begin + i]});
  for (; j < m; ++j) ops->push_back({'+', b[b_begin + j]});
}

std::string Range(size_t lines_before, size_t count) {
  // diff(1): "start,count", "start" when count is 1, and an empty range names
  // the line before it.
  size_t start = count == 0 ? lines_before : lines_before + 1;
  return count == 1 ? absl::StrCat(start) : absl::StrCat(start, ",", count);
}

void AppendLine(char kind, std::string_view line, std::string* out) {
  out->push_back(kind);
  if (line.ends_with('\n')) {
    out->append(line);
  } else {
    out->append(line).append("\n\\ No newline at end of file\n");
  }
}

}  // namespace

std::string UnifiedDiff(std::string_view a_text, std::string_view b_text, std::string_view a_name,
                        std::string_view b_name, int context) {
  if (a_text == b_text) return "";
  const std::vector<std::string_view> a = SplitLines(a_text);
  const std::vector<std::string_view> b = SplitLines(b_text);
  size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head &&
         a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) {
    ++tail;
  }
  std::vector<Op> ops;
  ops.reserve(a.size() + b.size());
  for (size_t i = 0; i < head; ++i) ops.push_back({' ', a[i]});
  LcsScript(a, head, a.size() - tail, b, head, b.size() - tail, &ops);
  for (size_t i = a.size() - tail; i < a.size(); ++i) ops.push_back({' ', a[i]});

  const size_t ctx = static_cast<size_t>(std::max(context, 0));
  std::string out = std::string("--- ").append(a_name).append("\n+++ ").append(b_name).append("\n");
  // Lines of a and b before ops[k], so each hunk knows where it starts.
  size_t a_line = 0, b_line = 0, k = 0;
  while (k < ops.size()) {
    // The next change, and the hunk around it and any change near it.
    size_t first = k;
    while (first < ops.size() && ops[first].kind == ' ') ++first;
    if (first == ops.size()) break;
    size_t start = first > ctx ? first - ctx : 0;
    start = std::max(start, k);
    size_t last = first;  // the last change in the hunk
    for (size_t next = first + 1; next < ops.size(); ++next) {
      if (ops[next].kind == ' ') continue;
      if (next - last - 1 > 2 * ctx) break;
      last = next;
    }
    const size_t end = std::min(ops.size(), last + 1 + ctx);
    for (; k < start; ++k) {
      ++a_line;
      ++b_line;
    }
    size_t a_count = 0, b_count = 0;
    for (size_t i = start; i < end; ++i) {
      if (ops[i].kind != '+') ++a_count;
      if (ops[i].kind != '-') ++b_count;
    }
    absl::StrAppend(&out, "@@ -", Range(a_line, a_count), " +", Range(b_line, b_count), " @@\n");
    for (; k < end; ++k) AppendLine(ops[k].kind, ops[k].line, &out);
    a_line += a_count;
    b_line += b_count;
  }
  return out;
}

}  // namespace upfront
