#define _GNU_SOURCE
#include "clinux.h"
#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define CLINUX_MAX_BATCH 128

int clinux_recv_datagrams(int fd, unsigned char *buffers, size_t buffer_size, clinux_datagram *info, int count) {
    if (count > CLINUX_MAX_BATCH) count = CLINUX_MAX_BATCH;
    struct mmsghdr msgs[CLINUX_MAX_BATCH];
    struct iovec iovs[CLINUX_MAX_BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } control[CLINUX_MAX_BATCH];
    memset(msgs, 0, sizeof(struct mmsghdr) * (size_t)count);
    for (int i = 0; i < count; i++) {
        iovs[i].iov_base = buffers + (size_t)i * buffer_size;
        iovs[i].iov_len = buffer_size;
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = control[i].buf;
        msgs[i].msg_hdr.msg_controllen = sizeof(control[i].buf);
    }
    int n = recvmmsg(fd, msgs, (unsigned int)count, MSG_WAITFORONE, NULL);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) {
        info[i].pid = -1;
        info[i].uid = (uint32_t)-1;
        info[i].gid = (uint32_t)-1;
        info[i].length = msgs[i].msg_len;
        info[i].truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != NULL; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                struct ucred cred;
                memcpy(&cred, CMSG_DATA(c), sizeof(cred));
                info[i].pid = cred.pid;
                info[i].uid = cred.uid;
                info[i].gid = cred.gid;
            }
        }
    }
    return n;
}

int clinux_enable_passcred(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == 0 ? 0 : -errno;
}

int clinux_peer_credentials(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid) {
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -errno;
    *pid = cred.pid;
    *uid = cred.uid;
    *gid = cred.gid;
    return 0;
}

int clinux_socket_type(int fd) {
    int type = 0;
    socklen_t len = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return -errno;
    return type;
}

int clinux_user_groups(const char *user, uint32_t gid, uint32_t *groups, int capacity) {
    int n = capacity;
    if (getgrouplist(user, (gid_t)gid, (gid_t *)groups, &n) < 0) return -1;
    return n;
}

int clinux_keep_allocations_on_heap(int bytes) {
    if (mallopt(M_MMAP_THRESHOLD, bytes) != 1) return -1;
    return mallopt(M_TRIM_THRESHOLD, bytes * 2) == 1 ? 0 : -1;
}

#include <signal.h>
// Runs before main: a SIGHUP (systemctl reload) that arrives while the daemon is still starting
// must not kill it (its default action is to terminate). The daemon installs its reload handler
// once it runs; until then the signal is ignored.
__attribute__((constructor)) static void clinux_ignore_early_sighup(void) { signal(SIGHUP, SIG_IGN); }
