// rtnetlink over libmnl: dumps and pipelined acked batches.
#include "runtime/linux/netlink.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

namespace netdsl::runtime {

NlRequest::NlRequest(uint16_t type, uint16_t flags) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf_);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
}

void* NlRequest::PutExtra(size_t size) { return mnl_nlmsg_put_extra_header(header(), size); }
void NlRequest::PutU8(uint16_t type, uint8_t v) { mnl_attr_put_u8(header(), type, v); }
void NlRequest::PutU16(uint16_t type, uint16_t v) { mnl_attr_put_u16(header(), type, v); }
void NlRequest::PutU32(uint16_t type, uint32_t v) { mnl_attr_put_u32(header(), type, v); }
void NlRequest::PutStr(uint16_t type, const std::string& s) { mnl_attr_put_strz(header(), type, s.c_str()); }
void NlRequest::Put(uint16_t type, const void* data, size_t len) { mnl_attr_put(header(), type, len, data); }
void* NlRequest::NestStart(uint16_t type) { return mnl_attr_nest_start(header(), type); }
void NlRequest::NestEnd(void* nest) { mnl_attr_nest_end(header(), static_cast<::nlattr*>(nest)); }

Netlink::~Netlink() {
  if (sock_) mnl_socket_close(sock_);
}

bool Netlink::Open(std::string* error) {
  sock_ = mnl_socket_open(NETLINK_ROUTE);
  if (!sock_ || mnl_socket_bind(sock_, 0, MNL_SOCKET_AUTOPID) < 0) {
    *error = fmt::format("cannot open a netlink socket: {}", std::strerror(errno));
    return false;
  }
  portid_ = mnl_socket_get_portid(sock_);
  int one = 1;
  mnl_socket_setsockopt(sock_, NETLINK_CAP_ACK, &one, sizeof one);
  mnl_socket_setsockopt(sock_, NETLINK_EXT_ACK, &one, sizeof one);
  int big = 32 << 20;
  setsockopt(mnl_socket_get_fd(sock_), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  setsockopt(mnl_socket_get_fd(sock_), SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
  return true;
}

bool Netlink::StrictDumps() {
  int one = 1;
  return sock_ && mnl_socket_setsockopt(sock_, NETLINK_GET_STRICT_CHK, &one, sizeof one) == 0;
}

namespace {

/// Walks the attributes in [begin, end) (libmnl's macros do not compile as C++).
template <typename Fn>
void ForEachAttr(const void* begin, const void* end, Fn fn) {
  const char* p = static_cast<const char*>(begin);
  const char* e = static_cast<const char*>(end);
  while (p < e) {
    const auto* a = reinterpret_cast<const nlattr*>(p);
    if (!mnl_attr_ok(a, static_cast<int>(e - p))) break;
    fn(a);
    p += MNL_ALIGN(a->nla_len);
  }
}

struct DumpCtx {
  const std::function<void(const nlmsghdr*)>* fn;
};

int DumpCb(const nlmsghdr* nlh, void* data) {
  (*static_cast<DumpCtx*>(data)->fn)(nlh);
  return MNL_CB_OK;
}

/// Error code and extack message of an NLMSG_ERROR message.
NlResult ReadAck(const nlmsghdr* nlh) {
  NlResult r;
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  r.error = err->error;
  if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
    size_t off = sizeof(nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) off += err->msg.nlmsg_len - sizeof(nlmsghdr);
    ForEachAttr(static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + off, mnl_nlmsg_get_payload_tail(nlh),
                [&](const nlattr* a) {
                  if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG) r.message = mnl_attr_get_str(a);
                });
  }
  return r;
}

}  // namespace

bool Netlink::Dump(NlRequest& req, const std::function<void(const nlmsghdr*)>& fn, std::string* error) {
  nlmsghdr* nlh = req.header();
  nlh->nlmsg_flags |= NLM_F_DUMP;
  nlh->nlmsg_seq = seq_++;
  ++dumps_;
  ++round_trips_;
  if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) < 0) {
    *error = fmt::format("netlink dump request failed: {}", std::strerror(errno));
    return false;
  }
  std::vector<char>& buf = RecvBuffer();
  DumpCtx ctx{&fn};
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = fmt::format("netlink dump failed: {}", std::strerror(errno));
      return false;
    }
    int ret = mnl_cb_run(buf.data(), n, nlh->nlmsg_seq, portid_, DumpCb, &ctx);
    if (ret == MNL_CB_STOP) return true;
    if (ret < 0) {
      *error = fmt::format("netlink dump failed: {}", std::strerror(errno));
      return false;
    }
  }
}

void NlBatch::Add(const NlRequest& r) {
  starts_.push_back(static_cast<uint32_t>(wire_.size()));
  const nlmsghdr* nlh = r.header();
  wire_.append(reinterpret_cast<const char*>(nlh), nlh->nlmsg_len);
}

void NlBatch::AddFrom(const NlBatch& other, size_t i) {
  const size_t begin = other.starts_[i];
  const size_t end = i + 1 < other.starts_.size() ? other.starts_[i + 1] : other.wire_.size();
  starts_.push_back(static_cast<uint32_t>(wire_.size()));
  wire_.append(other.wire_, begin, end - begin);
}

namespace {

uint64_t ClockNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}
uint64_t ThreadCpuNs() { return ClockNs(CLOCK_THREAD_CPUTIME_ID); }
uint64_t WallNs() { return ClockNs(CLOCK_MONOTONIC); }

}  // namespace

size_t Netlink::ChunkEnd(const NlBatch& batch, size_t first) {
  constexpr size_t kMaxChunkBytes = 64 * 1024;
  constexpr size_t kMaxChunkMsgs = 512;
  size_t end = first + 1;  // a request larger than the limit still goes alone
  while (end < batch.size() && end - first < kMaxChunkMsgs &&
         (end + 1 < batch.size() ? batch.starts_[end + 1] : batch.wire_.size()) - batch.starts_[first] <=
             kMaxChunkBytes)
    ++end;
  return end;
}

uint32_t Netlink::SendChunk(NlBatch& batch, size_t first, size_t end, bool ack_last, int* error) {
  const uint32_t base = seq_;
  for (size_t k = first; k < end; ++k) {
    auto* nlh = reinterpret_cast<nlmsghdr*>(batch.wire_.data() + batch.starts_[k]);
    nlh->nlmsg_flags &= ~NLM_F_ACK;
    if (ack_last && k + 1 == end) nlh->nlmsg_flags |= NLM_F_ACK;
    nlh->nlmsg_seq = seq_++;
    nlh->nlmsg_pid = 0;
  }
  size_t from = batch.starts_[first];
  size_t to = end < batch.size() ? batch.starts_[end] : batch.wire_.size();
  ++round_trips_;
  *error = mnl_socket_sendto(sock_, batch.wire_.data() + from, to - from) < 0 ? errno : 0;
  return base;
}

std::vector<NlFailure> Netlink::Execute(NlBatch& batch) {
  // Only the last request of a chunk asks for an ack: the kernel answers a
  // failed request with an error message whether or not it asked for an ack,
  // and handles the messages of one send in order, so once the last ack is
  // in, every request without an error message succeeded. This saves the
  // kernel one ack message per request.
  std::vector<NlFailure> failures;
  std::vector<char>& recv_buf = RecvBuffer();
  for (size_t first = 0; first < batch.size();) {
    const size_t end = ChunkEnd(batch, first);
    const size_t count = end - first;
    mutating_ += count;
    int send_error = 0;
    const uint64_t cpu_before = ThreadCpuNs(), wall_before = WallNs();
    const uint32_t base = SendChunk(batch, first, end, true, &send_error);
    send_cpu_ns_ += ThreadCpuNs() - cpu_before;
    send_wall_ns_ += WallNs() - wall_before;
    const uint32_t last_seq = base + static_cast<uint32_t>(count - 1);
    if (send_error) {
      for (size_t k = first; k < end; ++k) failures.push_back({k, {-send_error, "sending the request failed"}});
      first = end;
      continue;
    }
    const size_t failed_before = failures.size();
    for (bool done = false; !done;) {
      ssize_t n = mnl_socket_recvfrom(sock_, recv_buf.data(), recv_buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        // Which requests ran is unknown: report each one not known to have failed.
        std::vector<bool> known(count, false);
        for (size_t f = failed_before; f < failures.size(); ++f) known[failures[f].index - first] = true;
        for (size_t k = first; k < end; ++k)
          if (!known[k - first]) failures.push_back({k, {-e, "reading the acknowledgement failed"}});
        break;
      }
      int len = static_cast<int>(n);
      for (const nlmsghdr* nlh = reinterpret_cast<const nlmsghdr*>(recv_buf.data()); mnl_nlmsg_ok(nlh, len);
           nlh = mnl_nlmsg_next(nlh, &len)) {
        if (nlh->nlmsg_type != NLMSG_ERROR) continue;
        uint32_t off = nlh->nlmsg_seq - base;
        if (off >= count) continue;
        NlResult r = ReadAck(nlh);
        if (r.error != 0) failures.push_back({first + off, std::move(r)});
        if (nlh->nlmsg_seq == last_seq) done = true;
      }
    }
    first = end;
  }
  std::sort(failures.begin(), failures.end(), [](const NlFailure& a, const NlFailure& b) { return a.index < b.index; });
  return failures;
}

std::vector<int> Netlink::Get(NlBatch& batch, const std::function<void(size_t, const nlmsghdr*)>& fn) {
  std::vector<int> results(batch.size(), 0);
  std::vector<char>& recv_buf = RecvBuffer();
  std::vector<char> answered;
  for (size_t first = 0; first < batch.size();) {
    const size_t end = ChunkEnd(batch, first);
    const size_t count = end - first;
    gets_ += count;
    int send_error = 0;
    const uint32_t base = SendChunk(batch, first, end, false, &send_error);
    if (send_error) {
      for (size_t k = first; k < end; ++k) results[k] = -send_error;
      first = end;
      continue;
    }
    answered.assign(count, 0);
    size_t pending = count;
    while (pending) {
      ssize_t n = mnl_socket_recvfrom(sock_, recv_buf.data(), recv_buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        for (size_t k = 0; k < count; ++k)
          if (!answered[k]) results[first + k] = -e;
        break;
      }
      int len = static_cast<int>(n);
      for (const nlmsghdr* nlh = reinterpret_cast<const nlmsghdr*>(recv_buf.data()); mnl_nlmsg_ok(nlh, len);
           nlh = mnl_nlmsg_next(nlh, &len)) {
        uint32_t off = nlh->nlmsg_seq - base;
        if (off >= count || answered[off]) continue;
        answered[off] = 1;
        --pending;
        if (nlh->nlmsg_type == NLMSG_ERROR) {
          results[first + off] = ReadAck(nlh).error;
          if (results[first + off] == 0) results[first + off] = -ENODATA;
        } else {
          fn(first + off, nlh);
        }
      }
    }
    first = end;
  }
  return results;
}

NlMonitor::~NlMonitor() {
  if (sock_) mnl_socket_close(sock_);
}

bool NlMonitor::Open(std::string* error) {
  sock_ = mnl_socket_open(NETLINK_ROUTE);
  if (!sock_) {
    *error = fmt::format("cannot open a netlink notification socket: {}", std::strerror(errno));
    return false;
  }
  if (mnl_socket_bind(sock_, RTMGRP_NEIGH, MNL_SOCKET_AUTOPID) < 0) {
    *error = fmt::format("cannot subscribe to neighbour notifications: {}", std::strerror(errno));
    return false;
  }
  // Room for a whole bulk step's notifications (~1 KiB of socket memory
  // each) between two drains; an overflow is detected, not silent.
  // NETDSL_MONITOR_RCVBUF (test-only) shrinks it to make the kernel drop some.
  int big = 64 << 20;
  if (const char* test = std::getenv("NETDSL_MONITOR_RCVBUF"); test && *test) big = std::atoi(test);
  setsockopt(mnl_socket_get_fd(sock_), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  open_ = true;
  return true;
}

void NlMonitor::Drain() {
  if (!open_) return;
  // One notification per datagram: receive them in batches of kSlots per
  // system call rather than one recvmsg each.
  constexpr unsigned kSlots = 256;
  constexpr size_t kSlotBytes = 8192;
  std::vector<char>& buf = recv_buf_;  // one Drain at a time (apply never runs two at once)
  if (buf.empty()) buf.resize(kSlots * kSlotBytes);
  mmsghdr msgs[kSlots];
  iovec iov[kSlots];
  sockaddr_nl from[kSlots];
  for (;;) {
    for (unsigned i = 0; i < kSlots; ++i) {
      iov[i] = {buf.data() + i * kSlotBytes, kSlotBytes};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    int n = recvmmsg(mnl_socket_get_fd(sock_), msgs, kSlots, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      lost_ = true;  // ENOBUFS: the kernel dropped notifications
      if (errno == ENOBUFS) continue;
      return;
    }
    for (int i = 0; i < n; ++i) {
      if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) || from[i].nl_pid != 0) {
        lost_ = lost_ || (msgs[i].msg_hdr.msg_flags & MSG_TRUNC);
        continue;  // truncated, or not from the kernel
      }
      int len = static_cast<int>(msgs[i].msg_len);
      for (const nlmsghdr* nlh = reinterpret_cast<const nlmsghdr*>(buf.data() + i * kSlotBytes);
           mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
        const char* p = reinterpret_cast<const char*>(nlh);
        log_.insert(log_.end(), p, p + MNL_ALIGN(nlh->nlmsg_len));
        ++count_;
      }
    }
    if (static_cast<unsigned>(n) < kSlots) return;
  }
}

void NlMonitor::ForEach(const std::function<void(const nlmsghdr*)>& fn) const {
  int len = static_cast<int>(log_.size());
  for (const nlmsghdr* nlh = reinterpret_cast<const nlmsghdr*>(log_.data()); mnl_nlmsg_ok(nlh, len);
       nlh = mnl_nlmsg_next(nlh, &len))
    fn(nlh);
}

void ParseAttrs(const nlmsghdr* nlh, size_t extra, const nlattr** tb, int max) {
  for (int i = 0; i <= max; ++i) tb[i] = nullptr;
  ForEachAttr(static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + MNL_ALIGN(extra), mnl_nlmsg_get_payload_tail(nlh),
              [&](const nlattr* a) {
                int t = mnl_attr_get_type(a);
                if (t <= max) tb[t] = a;
              });
}

void ParseNested(const nlattr* attr, const nlattr** tb, int max) {
  for (int i = 0; i <= max; ++i) tb[i] = nullptr;
  const char* start = static_cast<const char*>(mnl_attr_get_payload(attr));
  ForEachAttr(start, reinterpret_cast<const char*>(attr) + attr->nla_len, [&](const nlattr* a) {
    int t = mnl_attr_get_type(a);
    if (t <= max) tb[t] = a;
  });
}

}  // namespace netdsl::runtime
