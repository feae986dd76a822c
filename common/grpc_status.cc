#include "common/grpc_status.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/error_space.h"

namespace kv {
namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;
using google::protobuf::io::StringOutputStream;

constexpr char kDetailType[] = "type.kv/http_detail";

// Wire format of google.rpc.Status {1: code, 2: message, 3: repeated Any}
// and google.protobuf.Any {1: type_url, 2: value}, written by hand so no
// googleapis protos are needed.
std::string EncodeDetails(const absl::Status& status, const HttpDetail& detail) {
  const std::string value = absl::StrCat(detail.http_status, ",", detail.cf_code);
  std::string any;
  {
    StringOutputStream raw(&any);
    CodedOutputStream out(&raw);
    out.WriteTag(0x0a);
    out.WriteVarint32(sizeof(kDetailType) - 1);
    out.WriteString(kDetailType);
    out.WriteTag(0x12);
    out.WriteVarint32(static_cast<uint32_t>(value.size()));
    out.WriteString(value);
  }
  std::string encoded;
  {
    StringOutputStream raw(&encoded);
    CodedOutputStream out(&raw);
    out.WriteTag(0x08);
    out.WriteVarint32(static_cast<uint32_t>(status.code()));
    out.WriteTag(0x12);
    out.WriteVarint32(static_cast<uint32_t>(status.message().size()));
    out.WriteRaw(status.message().data(), static_cast<int>(status.message().size()));
    out.WriteTag(0x1a);
    out.WriteVarint32(static_cast<uint32_t>(any.size()));
    out.WriteString(any);
  }
  return encoded;
}

// The detail in `details`, if it is ours; anything else is ignored.
std::optional<HttpDetail> DecodeDetails(const std::string& details) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(details.data()),
                      static_cast<int>(details.size()));
  while (uint32_t tag = in.ReadTag()) {
    if (tag == 0x08) {
      uint32_t ignored;
      if (!in.ReadVarint32(&ignored)) return std::nullopt;
    } else if (tag == 0x12 || tag == 0x1a) {
      uint32_t length;
      std::string bytes;
      if (!in.ReadVarint32(&length) || !in.ReadString(&bytes, static_cast<int>(length))) {
        return std::nullopt;
      }
      if (tag != 0x1a) continue;
      CodedInputStream any(reinterpret_cast<const uint8_t*>(bytes.data()),
                           static_cast<int>(bytes.size()));
      std::string type_url, value;
      while (uint32_t any_tag = any.ReadTag()) {
        uint32_t len;
        std::string field;
        if ((any_tag != 0x0a && any_tag != 0x12) || !any.ReadVarint32(&len) ||
            !any.ReadString(&field, static_cast<int>(len))) {
          return std::nullopt;
        }
        (any_tag == 0x0a ? type_url : value) = std::move(field);
      }
      if (type_url != kDetailType) continue;
      std::pair<std::string, std::string> parts = absl::StrSplit(value, absl::MaxSplits(',', 1));
      HttpDetail detail;
      if (!absl::SimpleAtoi(parts.first, &detail.http_status) ||
          !absl::SimpleAtoi(parts.second, &detail.cf_code)) {
        return std::nullopt;
      }
      return detail;
    } else {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::string message(status.message());
  if (std::optional<HttpDetail> detail = GetHttpDetail(status)) {
    return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::move(message),
                        EncodeDetails(status, *detail));
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::move(message));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  if (!status.error_details().empty()) {
    if (std::optional<HttpDetail> detail = DecodeDetails(status.error_details())) {
      return WithHttpDetail(std::move(out), detail->http_status, detail->cf_code);
    }
  }
  return out;
}

}  // namespace kv
