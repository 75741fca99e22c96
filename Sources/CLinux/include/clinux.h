// Linux socket calls that Swift cannot reach through Glibc without _GNU_SOURCE: recvmmsg(2)
// with SCM_CREDENTIALS (unix(7)), SO_PEERCRED, SO_PASSCRED.
#ifndef SLAWATCH_CLINUX_H
#define SLAWATCH_CLINUX_H
#include <stddef.h>
#include <stdint.h>

/// What is known about one received datagram.
typedef struct {
    int32_t pid;        ///< sender pid from SCM_CREDENTIALS, -1 when absent
    uint32_t uid;       ///< sender uid
    uint32_t gid;       ///< sender gid
    uint32_t length;    ///< bytes stored in the buffer
    int32_t truncated;  ///< 1 when the datagram was longer than the buffer (MSG_TRUNC)
} clinux_datagram;

/// Receives up to `count` datagrams with one recvmmsg(2) call (MSG_WAITFORONE: blocks for the
/// first, then takes what is queued). Datagram i goes to buffers + i * buffer_size.
/// Returns the number received, or -errno.
int clinux_recv_datagrams(int fd, unsigned char *buffers, size_t buffer_size, clinux_datagram *info, int count);

/// setsockopt(SO_PASSCRED, 1): the kernel attaches SCM_CREDENTIALS to every datagram.
int clinux_enable_passcred(int fd);

/// getsockopt(SO_PEERCRED) of a connected Unix socket. Returns 0 or -errno.
int clinux_peer_credentials(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid);

/// getsockopt(SO_TYPE): SOCK_STREAM (1) or SOCK_DGRAM (2), or -errno.
int clinux_socket_type(int fd);

/// getgrouplist(3) for a user name: fills up to `capacity` gids, returns how many, -1 on error.
int clinux_user_groups(const char *user, uint32_t gid, uint32_t *groups, int capacity);
/// mallopt(3): keep allocations up to `bytes` on the heap instead of fresh mmap/munmap pairs
/// (glibc's default threshold is 128 KiB), and give free heap memory back to the system above
/// 2× that.
int clinux_keep_allocations_on_heap(int bytes);
#endif
