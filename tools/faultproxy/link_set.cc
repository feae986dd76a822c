#include "tools/faultproxy/link_set.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace kv::faultproxy {

absl::Status ValidateLinkName(absl::string_view name) {
  if (name.empty() || name.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("link name is ", name.size(), " characters; it must be 1..64"));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "link name \"", absl::CEscape(name), "\" may contain only A-Z a-z 0-9 _ . -"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Link>> LinkSet::Add(const std::string& name,
                                                   const HostPort& listen,
                                                   std::optional<HostPort> target) {
  if (absl::Status s = ValidateLinkName(name); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  if (links_.count(name) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("link \"", name, "\" exists"));
  }
  LinkOptions options;
  options.listen = listen;
  options.target = std::move(target);
  options.max_queued_bytes = max_queued_bytes_;
  absl::StatusOr<std::unique_ptr<Link>> link = Link::Open(name, std::move(options));
  if (!link.ok()) return link.status();
  std::shared_ptr<Link> shared(std::move(*link));
  links_[name] = shared;
  return shared;
}

absl::StatusOr<std::shared_ptr<Link>> LinkSet::Get(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  auto it = links_.find(name);
  if (it == links_.end()) {
    return absl::NotFoundError(absl::StrCat("no link \"", absl::CEscape(name), "\""));
  }
  return it->second;
}

absl::Status LinkSet::Remove(absl::string_view name) {
  std::shared_ptr<Link> removed;
  {
    absl::MutexLock lock(&mu_);
    auto it = links_.find(name);
    if (it == links_.end()) {
      return absl::NotFoundError(absl::StrCat("no link \"", absl::CEscape(name), "\""));
    }
    removed = std::move(it->second);
    links_.erase(it);
  }
  removed.reset();  // the last owner, unless a request is still using it
  return absl::OkStatus();
}

absl::Status LinkSet::ClearAll() {
  std::vector<std::shared_ptr<Link>> links;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, link] : links_) links.push_back(link);
  }
  absl::Status first;
  for (const auto& link : links) {
    absl::Status s = link->SetFaults(LinkFaults{});
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

nlohmann::json LinkSet::ToJson() const {
  std::vector<std::shared_ptr<Link>> links;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, link] : links_) links.push_back(link);
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& link : links) out.push_back(link->ToJson());
  return nlohmann::json{{"links", out}};
}

}  // namespace kv::faultproxy
