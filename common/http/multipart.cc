#include "common/http/multipart.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kv::http {
namespace {

absl::Status Malformed(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("Malformed multipart/form-data body: ", why));
}

// The value of parameter `name` in a header value like
// `form-data; name="value"; filename="x"`; nullopt when absent.
std::optional<std::string> HeaderParam(absl::string_view header, absl::string_view name) {
  for (absl::string_view piece : absl::StrSplit(header, ';')) {
    piece = absl::StripAsciiWhitespace(piece);
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(piece, absl::MaxSplits('=', 1));
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(kv.first), name)) continue;
    absl::string_view value = absl::StripAsciiWhitespace(kv.second);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      std::string out;
      for (size_t i = 1; i + 1 < value.size(); ++i) {
        if (value[i] == '\\' && i + 2 < value.size()) ++i;
        out.push_back(value[i]);
      }
      return out;
    }
    return std::string(value);
  }
  return std::nullopt;
}

}  // namespace

bool IsMultipartFormData(absl::string_view content_type) {
  return absl::StartsWithIgnoreCase(absl::StripLeadingAsciiWhitespace(content_type),
                                    "multipart/form-data");
}

absl::StatusOr<std::vector<FormPart>> ParseMultipartFormData(absl::string_view content_type,
                                                             absl::string_view body) {
  std::optional<std::string> boundary = HeaderParam(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 200) {
    return Malformed("Content-Type has no boundary parameter");
  }
  const std::string delimiter = absl::StrCat("--", *boundary);
  const std::string separator = absl::StrCat("\r\n", delimiter);
  size_t pos = body.find(delimiter);
  if (pos == absl::string_view::npos) return Malformed("no boundary delimiter in the body");
  pos += delimiter.size();
  std::vector<FormPart> parts;
  while (true) {
    absl::string_view rest = body.substr(pos);
    if (absl::StartsWith(rest, "--")) return parts;  // the close delimiter
    // Transport padding, then CRLF.
    const size_t eol = rest.find("\r\n");
    if (eol == absl::string_view::npos) return Malformed("truncated after a boundary");
    pos += eol + 2;
    const size_t head_end = body.find("\r\n\r\n", pos);
    const size_t data_end_probe = body.find(separator, pos);
    FormPart part;
    if (head_end == absl::string_view::npos ||
        (data_end_probe != absl::string_view::npos && head_end > data_end_probe)) {
      return Malformed("a part has no header block");
    }
    for (absl::string_view line :
         absl::StrSplit(body.substr(pos, head_end - pos), "\r\n", absl::SkipEmpty())) {
      std::pair<absl::string_view, absl::string_view> kv =
          absl::StrSplit(line, absl::MaxSplits(':', 1));
      const absl::string_view name = absl::StripAsciiWhitespace(kv.first);
      const absl::string_view value = absl::StripAsciiWhitespace(kv.second);
      if (absl::EqualsIgnoreCase(name, "content-disposition")) {
        if (!absl::StartsWithIgnoreCase(value, "form-data")) {
          return Malformed("a part's Content-Disposition is not form-data");
        }
        std::optional<std::string> field = HeaderParam(value, "name");
        if (!field) return Malformed("a part has no name");
        part.name = std::move(*field);
        part.filename = HeaderParam(value, "filename");
      } else if (absl::EqualsIgnoreCase(name, "content-type")) {
        part.content_type = std::string(value);
      }
    }
    if (part.name.empty()) return Malformed("a part has no Content-Disposition name");
    pos = head_end + 4;
    const size_t data_end = body.find(separator, pos);
    if (data_end == absl::string_view::npos) {
      return Malformed(absl::StrCat("part \"", part.name.substr(0, 64),
                                    "\" is not closed by the boundary (truncated body?)"));
    }
    part.data = std::string(body.substr(pos, data_end - pos));
    parts.push_back(std::move(part));
    pos = data_end + separator.size();
  }
}

}  // namespace kv::http
