// Socket I/O for scripts/bench.sh: the physical limit of reading statsd lines from a Unix socket
// on this machine (a reader that does nothing but receive the bytes and count newlines), and
// the one sender every target gets its payload from, so slawatch, netdata and the raw reader
// are driven the same way in the same run.
//
//   bench_io read-stream PATH    accept one connection at a time on a stream socket; after each
//                                ends, print "lines N bytes B"
//   bench_io read-dgram PATH     receive datagrams with recvmmsg (64 at a time, as slawatch
//                                does); print "datagrams N lines L" after 0.5 s without any
//   bench_io send-stream PATH FILE [UNTIL]   send FILE on a Unix stream connection, half-close,
//                                read the answer until UNTIL appears (slawatch's "ok bench") or
//                                the peer closes; print "seconds S"
//   bench_io send-tcp HOST PORT FILE         the same over TCP (netdata's statsd), no answer
//   bench_io send-dgram PATH COUNT LINES     send COUNT datagrams of LINES lines
//                                ("bench.sK:1|c", K cycling over 1,000 names), blocking
//
// CPU time is read from /proc/PID/stat by the caller. Build: cc -O2 -o bench_io bench_io.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <time.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int bind_unix(const char *path, int type) {
    int fd = socket(AF_UNIX, type, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("bind"); exit(1); }
    return fd;
}

static long count_lines(const char *p, size_t n) {
    long lines = 0;
    const char *end = p + n;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) { lines++; p++; }
    return lines;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *size) {
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) { perror(path); exit(1); }
    char *p = malloc((size_t)st.st_size + 1);
    size_t off = 0;
    while (off < (size_t)st.st_size) {
        ssize_t n = read(fd, p + off, (size_t)st.st_size - off);
        if (n <= 0) { perror("read"); exit(1); }
        off += (size_t)n;
    }
    close(fd);
    *size = off;
    return p;
}

static void send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) { if (errno == EINTR) continue; perror("write"); exit(1); }
        p += w;
        n -= (size_t)w;
    }
}

static int send_file(int fd, const char *file, const char *until) {
    size_t size;
    char *p = slurp(file, &size);
    double t0 = now();
    send_all(fd, p, size);
    shutdown(fd, SHUT_WR);
    static char answer[1 << 16];
    size_t have = 0;
    ssize_t n;
    while ((n = read(fd, answer + have, sizeof answer - 1 - have)) > 0) {
        have += (size_t)n;
        answer[have] = 0;
        if (until && strstr(answer, until)) break;
        if (have > sizeof answer / 2) { memmove(answer, answer + have / 2, have - have / 2); have -= have / 2; }
    }
    printf("seconds %.6f\n", now() - t0);
    if (until && !strstr(answer, until)) { fprintf(stderr, "no '%s' in the answer: %s\n", until, answer); return 1; }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: see the comment at the top of bench_io.c\n"); return 2; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(argv[1], "send-stream") == 0 && argc >= 4) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strncpy(a.sun_path, argv[2], sizeof a.sun_path - 1);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); return 1; }
        return send_file(fd, argv[3], argc > 4 ? argv[4] : NULL);
    }
    if (strcmp(argv[1], "send-tcp") == 0 && argc >= 5) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
        inet_pton(AF_INET, argv[2], &a.sin_addr);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); return 1; }
        return send_file(fd, argv[4], NULL);
    }
    if (strcmp(argv[1], "send-dgram") == 0 && argc >= 5) {
        int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strncpy(a.sun_path, argv[2], sizeof a.sun_path - 1);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); return 1; }
        long count = atol(argv[3]), lines = atol(argv[4]);
        static char msg[65536];
        size_t len = 0;
        for (long i = 0; i < lines; i++) len += (size_t)snprintf(msg + len, sizeof msg - len, "bench.s%ld:1|c\n", i % 1000);
        double t0 = now();
        for (long i = 0; i < count; i++) {
            while (send(fd, msg, len, 0) < 0) { if (errno != EINTR) { perror("send"); return 1; } }
        }
        printf("seconds %.6f\n", now() - t0);
        return 0;
    }
    if (strcmp(argv[1], "read-stream") == 0) {
        int fd = bind_unix(argv[2], SOCK_STREAM);
        listen(fd, 16);
        static char buf[1 << 16];
        for (;;) {
            int c = accept(fd, NULL, NULL);
            if (c < 0) { if (errno == EINTR) continue; perror("accept"); return 1; }
            long lines = 0, bytes = 0;
            ssize_t n;
            while ((n = read(c, buf, sizeof buf)) > 0) { lines += count_lines(buf, (size_t)n); bytes += n; }
            close(c);
            printf("lines %ld bytes %ld\n", lines, bytes);
        }
    }
    if (strcmp(argv[1], "read-dgram") != 0) { fprintf(stderr, "unknown mode %s\n", argv[1]); return 2; }
    int fd = bind_unix(argv[2], SOCK_DGRAM);
    enum { BATCH = 64, SLOT = 65536 };
    static char bufs[BATCH][SLOT];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    long datagrams = 0, lines = 0, reported = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 500) == 0) {
            if (datagrams != reported) { printf("datagrams %ld lines %ld\n", datagrams, lines); reported = datagrams; }
            continue;
        }
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = SLOT;
            memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) continue;
        for (int i = 0; i < n; i++) {
            datagrams++;
            lines += count_lines(bufs[i], msgs[i].msg_len);
            if (msgs[i].msg_len > 0 && bufs[i][msgs[i].msg_len - 1] != '\n') lines++;
        }
    }
}
