#include "common/http/url_codec.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kv::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> Decode(absl::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> PercentDecode(absl::string_view in) { return Decode(in, false); }

absl::StatusOr<QueryParams> ParseQuery(absl::string_view query) {
  QueryParams params;
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    std::optional<std::string> name = Decode(kv.first, true);
    std::optional<std::string> value = Decode(kv.second, true);
    if (!name || !value) {
      return absl::InvalidArgumentError(
          absl::StrCat("Could not URL-decode query parameter \"", kv.first.substr(0, 64), "\""));
    }
    params.emplace_back(std::move(*name), std::move(*value));
  }
  return params;
}

const std::string* FindParam(const QueryParams& params, absl::string_view name) {
  for (const auto& [n, v] : params) {
    if (n == name) return &v;
  }
  return nullptr;
}

absl::StatusOr<std::optional<int64_t>> IntParam(const QueryParams& params,
                                                absl::string_view name) {
  const std::string* value = FindParam(params, name);
  if (value == nullptr) return std::optional<int64_t>();
  int64_t n = 0;
  if (!absl::SimpleAtoi(*value, &n)) {
    return absl::InvalidArgumentError(absl::StrCat("Invalid ", name, " of ",
                                                   value->substr(0, 64),
                                                   ". Please specify an integer."));
  }
  return std::optional<int64_t>(n);
}

}  // namespace kv::http
