#include "central/peer_set.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/logging.h"

namespace kv::central {
namespace {

absl::Status AddMember(std::map<uint32_t, std::string>& members, absl::string_view id_text,
                       absl::string_view address, absl::string_view where) {
  uint32_t id = 0;
  if (!absl::SimpleAtoi(id_text, &id) || id == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": node id '", id_text, "' is not a positive integer"));
  }
  if (address.empty() || address.find(':') == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": address '", address, "' is not host:port"));
  }
  if (!members.emplace(id, std::string(address)).second) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": node id ", id, " listed twice"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::map<uint32_t, std::string>> PeerSet::ParseFlag(const std::string& text) {
  std::map<uint32_t, std::string> members;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(item, '=');
    absl::Status s = AddMember(members, parts.first, parts.second, absl::StrCat("--peers '", item, "'"));
    if (!s.ok()) return s;
  }
  return members;
}

absl::StatusOr<std::map<uint32_t, std::string>> PeerSet::ParseFile(const std::string& text) {
  std::map<uint32_t, std::string> members;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("peers file line ", line_number, ": expected `<id> <host:port>`"));
    }
    absl::Status s =
        AddMember(members, parts[0], parts[1], absl::StrCat("peers file line ", line_number));
    if (!s.ok()) return s;
  }
  return members;
}

absl::StatusOr<std::unique_ptr<PeerSet>> PeerSet::Create(uint32_t self_id,
                                                         const std::string& peers_flag,
                                                         const std::string& peers_file) {
  if (!peers_flag.empty() && !peers_file.empty()) {
    return absl::InvalidArgumentError("give --peers or --peers_file, not both");
  }
  std::unique_ptr<PeerSet> set(new PeerSet(self_id, peers_file));
  if (!peers_file.empty()) {
    set->Reload();
    return set;
  }
  absl::MutexLock lock(&set->mu_);
  set->known_ = true;
  if (!peers_flag.empty()) {
    absl::StatusOr<std::map<uint32_t, std::string>> members = ParseFlag(peers_flag);
    if (!members.ok()) return members.status();
    if (!members->contains(self_id)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--peers must list every central, this one (node id ", self_id, ") included"));
    }
    set->members_ = std::move(*members);
  }
  return set;
}

void PeerSet::Reload() {
  if (peers_file_.empty()) return;
  struct stat st;
  if (stat(peers_file_.c_str(), &st) != 0) return;
  {
    absl::MutexLock lock(&mu_);
    if (known_ && st.st_mtim.tv_sec == file_mtime_.tv_sec &&
        st.st_mtim.tv_nsec == file_mtime_.tv_nsec)
      return;
  }
  std::ifstream in(peers_file_);
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<std::map<uint32_t, std::string>> members = ParseFile(text.str());
  absl::MutexLock lock(&mu_);
  file_mtime_ = st.st_mtim;
  if (!members.ok()) {
    LOG(WARNING) << peers_file_ << ": " << members.status().message() << "; membership unchanged";
    return;
  }
  if (!members->contains(self_id_)) {
    LOG(WARNING) << peers_file_ << " does not list this central (node id " << self_id_
                 << "); membership unchanged";
    return;
  }
  if (!known_ || *members != members_) {
    LOG(INFO) << "membership: " << members->size() << " centrals from " << peers_file_;
  }
  members_ = std::move(*members);
  known_ = true;
}

size_t PeerSet::cluster_size() const {
  absl::MutexLock lock(&mu_);
  if (!known_) return 0;
  return members_.empty() ? 1 : members_.size();
}

std::vector<Peer> PeerSet::peers() const {
  absl::MutexLock lock(&mu_);
  std::vector<Peer> out;
  for (const auto& [id, address] : members_) {
    if (id != self_id_) out.push_back(Peer{id, address});
  }
  return out;
}

std::string PeerSet::AddressOf(uint32_t id) const {
  absl::MutexLock lock(&mu_);
  auto it = members_.find(id);
  return it == members_.end() ? "" : it->second;
}

}  // namespace kv::central
