#include "common/error_space.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kv {
namespace {
constexpr absl::string_view kPayloadUrl = "type.kv/http_detail";
}  // namespace

absl::Status WithHttpDetail(absl::Status status, int http_status, int cf_code) {
  status.SetPayload(kPayloadUrl, absl::Cord(absl::StrCat(http_status, ",", cf_code)));
  return status;
}

std::optional<HttpDetail> GetHttpDetail(const absl::Status& status) {
  auto payload = status.GetPayload(kPayloadUrl);
  if (!payload) return std::nullopt;
  std::pair<std::string, std::string> parts =
      absl::StrSplit(std::string(*payload), absl::MaxSplits(',', 1));
  HttpDetail detail;
  if (!absl::SimpleAtoi(parts.first, &detail.http_status) ||
      !absl::SimpleAtoi(parts.second, &detail.cf_code)) {
    return std::nullopt;
  }
  return detail;
}

}  // namespace kv
