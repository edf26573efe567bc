// A small rtnetlink client over libmnl: dumps, and pipelined batches of
// requests with one ack each (many requests per send, acks collected after).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

struct nlmsghdr;
struct nlattr;
struct mnl_socket;

namespace netdsl::runtime {

/// A request being built: a netlink message in its own buffer.
class NlRequest {
 public:
  NlRequest(uint16_t type, uint16_t flags);
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_); }
  const nlmsghdr* header() const { return reinterpret_cast<const nlmsghdr*>(buf_); }
  /// Appends the family header (ifinfomsg, ifaddrmsg, ...) and returns it zeroed.
  void* PutExtra(size_t size);
  void PutU8(uint16_t type, uint8_t v);
  void PutU16(uint16_t type, uint16_t v);
  void PutU32(uint16_t type, uint32_t v);
  void PutStr(uint16_t type, const std::string& s);
  void Put(uint16_t type, const void* data, size_t len);
  void* NestStart(uint16_t type);
  void NestEnd(void* nest);

 private:
  // On the stack, not zeroed: libmnl initialises what it writes. Large
  // enough for every request netdsl builds (a veth create is ~200 bytes).
  alignas(4) char buf_[2048];
};

/// Requests laid out back to back in one buffer, as they are sent (no
/// allocation per request).
class NlBatch {
 public:
  void Add(const NlRequest& r);
  /// Appends a copy of request `i` of `other`.
  void AddFrom(const NlBatch& other, size_t i);
  size_t size() const { return starts_.size(); }
  bool empty() const { return starts_.empty(); }

 private:
  friend class Netlink;
  std::string wire_;
  std::vector<uint32_t> starts_;  ///< offset of each request in `wire_`
};

/// Outcome of one request in a batch: 0 or a negative errno, with the
/// kernel's extended-ack message when it gave one.
struct NlResult {
  int error = 0;
  std::string message;
};

/// A request of a batch that failed.
struct NlFailure {
  size_t index = 0;
  NlResult result;
};

class Netlink {
 public:
  Netlink() = default;
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  /// Opens a NETLINK_ROUTE socket in the current network namespace.
  bool Open(std::string* error);
  /// Asks the kernel to check dump requests strictly and honour their
  /// filters (NETLINK_GET_STRICT_CHK, Linux 4.20+), e.g. a route dump of one
  /// table (rtm_table + RTA_TABLE). False when the kernel cannot: it then
  /// dumps everything, so callers filter the answer themselves too.
  bool StrictDumps();
  /// Sends a dump request and calls `fn` for every message of the answer
  /// (`fn` must not use this Netlink: the answer sits in its receive buffer).
  bool Dump(NlRequest& req, const std::function<void(const nlmsghdr*)>& fn, std::string* error);
  /// Sends every request in pipelined chunks and returns the ones that
  /// failed, in order (sequence numbers and flags are set in `batch`).
  /// Counts them as mutating requests.
  std::vector<NlFailure> Execute(NlBatch& batch);
  /// Sends get requests (no dump, no ack) pipelined in chunks on this socket
  /// and calls `fn(i, reply)` for the answer to request i. Returns one value
  /// per request: 0 when the kernel answered with a message, else the
  /// negative errno of its error answer (e.g. -ENOENT).
  std::vector<int> Get(NlBatch& batch, const std::function<void(size_t, const nlmsghdr*)>& fn);
  uint64_t get_requests() const { return gets_; }
  /// Number of mutating requests sent so far (for `--stats` and tests).
  uint64_t mutating_requests() const { return mutating_; }
  uint64_t dumps() const { return dumps_; }
  uint64_t round_trips() const { return round_trips_; }
  /// CPU time this thread spent inside the sends of mutating requests: the
  /// kernel's own work for them, for `--stats`.
  double send_cpu_seconds() const { return send_cpu_ns_ / 1e9; }
  /// Wall time inside those sends: also the kernel work deferred to this
  /// CPU's workqueue, which preempts the sender when the system call
  /// returns (for vxlan FDB entries: the per-CPU allocator refilling). The
  /// floor any client pays, in wall time.
  double send_wall_seconds() const { return send_wall_ns_ / 1e9; }

 private:
  mnl_socket* sock_ = nullptr;
  uint32_t portid_ = 0;
  uint32_t seq_ = 1;
  uint64_t mutating_ = 0;
  uint64_t dumps_ = 0;
  uint64_t round_trips_ = 0;
  uint64_t gets_ = 0;
  uint64_t send_cpu_ns_ = 0;
  uint64_t send_wall_ns_ = 0;
  /// Receive buffer of dumps, acks and get answers, allocated once: a fresh
  /// zeroed 1 MiB per dump and per step cost a memset and page faults each.
  std::vector<char> recv_buf_;
  std::vector<char>& RecvBuffer() {
    if (recv_buf_.empty()) recv_buf_.resize(1 << 20);
    return recv_buf_;
  }

  /// Sends requests [first, end) of `batch` (one chunk) with the last one
  /// acked or, for gets, none; returns the first sequence number used.
  uint32_t SendChunk(NlBatch& batch, size_t first, size_t end, bool ack_last, int* error);
  static size_t ChunkEnd(const NlBatch& batch, size_t first);
};

/// A NETLINK_ROUTE socket subscribed to the kernel's change notifications
/// for neighbours and bridge/vxlan FDB entries (RTNLGRP_NEIGH). The kernel
/// builds a notification for every such object it creates, replaces or
/// deletes, filled from the object as it now holds it, whether or not anyone
/// listens; apply logs them (on its second thread) to confirm its
/// operations instead of reading 100k objects back on the critical path
/// (docs/runtime.md, "Read back and verify"). Routes are not subscribed:
/// delivering their notifications costs the sender as much as a dump.
class NlMonitor {
 public:
  NlMonitor() = default;
  ~NlMonitor();
  NlMonitor(const NlMonitor&) = delete;
  NlMonitor& operator=(const NlMonitor&) = delete;

  /// Opens and subscribes the socket in the current network namespace.
  bool Open(std::string* error);
  /// Moves every queued notification into the log without blocking; not to be
  /// called from two threads at once. Once the
  /// socket overflowed (the kernel dropped notifications) the log is
  /// incomplete for good: `complete()` turns false.
  void Drain();
  bool complete() const { return open_ && !lost_; }
  /// Calls `fn` for every logged notification, in the kernel's order.
  void ForEach(const std::function<void(const nlmsghdr*)>& fn) const;
  size_t notifications() const { return count_; }

 private:
  mnl_socket* sock_ = nullptr;
  bool open_ = false;
  bool lost_ = false;
  size_t count_ = 0;
  std::vector<char> log_;  ///< the notifications back to back, each NLMSG_ALIGNed
  std::vector<char> recv_buf_;  ///< recvmmsg slots, kept across drains (not per thread: apply's
                                ///< second thread is a new one per step)
};

/// Parses the attributes of `nlh` after a family header of `extra` bytes into
/// `tb` (indexed by type, max `max`); later duplicates win.
void ParseAttrs(const nlmsghdr* nlh, size_t extra, const ::nlattr** tb, int max);
/// Parses the attributes nested in `attr`.
void ParseNested(const ::nlattr* attr, const ::nlattr** tb, int max);

}  // namespace netdsl::runtime
