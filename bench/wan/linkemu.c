/* linkemu: an emulated WAN link between two TUN devices (bench/wan, issue 27).
 *
 *   linkemu [-g] [-s SEED] TUN_A TUN_B DELAY_MS LOSS RATE_BPS [BUFFER_BYTES]
 *
 * Creates TUN_A and TUN_B (IFF_TUN | IFF_NO_PI, not persistent: they vanish when this process exits,
 * in whatever network namespace they were moved to), prints "ready" on stdout, then forwards every
 * packet read from one to the other. Each direction on its own applies, in this order:
 *   - random loss: the packet is dropped with probability LOSS (0..1);
 *   - a rate limit (RATE_BPS bits/s, 0 = unlimited): a FIFO drained at the link rate; a packet that
 *     finds more than BUFFER_BYTES still waiting to be serialised is dropped (tail drop). The default
 *     buffer is one bandwidth-delay product, RATE * 2 * DELAY;
 *   - a one-way propagation delay of DELAY_MS (fractional ms allowed).
 * As the delay is constant and the queue is FIFO, delivery times only grow within a direction, so each
 * direction is one time-ordered list and the earliest of the two heads sets the ppoll timeout (ns).
 *
 * -g: IFF_VNET_HDR with TSO/checksum offloads: the kernel hands over GSO packets of up to 64 KiB with
 * a virtio-net header, passed through unchanged. Far fewer packets per second; loss then drops a whole
 * GSO packet (a burst), so use it only without loss. SIGINT/SIGTERM: print counters on stderr, exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAXPKT (256 * 1024)
#define MAX_QUEUED (512LL * 1024 * 1024) /* memory guard for the delay line, per direction */
#define BURST 64                         /* reads per fd per wake-up before looking at timers again */

struct pkt {
    struct pkt *next;
    int64_t due; /* ns, CLOCK_MONOTONIC */
    size_t len;
    unsigned char data[];
};

struct dir {
    const char *name;
    int in, out;
    struct pkt *head, *tail;
    int64_t tx_free; /* when the link finishes serialising what is queued (ns) */
    long long queued, fwd, lost, dropped, bytes;
};

static volatile sig_atomic_t stop;
static double loss;
static int64_t delay_ns;
static double rate_bps, buffer_bytes;
static uint64_t rng;

static void on_signal(int sig) { (void)sig; stop = 1; }

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double uniform(void) { /* xorshift64*, [0, 1) */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static int tun_open(const char *name, int vnet) {
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) { perror("/dev/net/tun"); exit(1); }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) { perror("TUNSETIFF"); exit(1); }
    if (vnet) {
        int hdr = 12; /* struct virtio_net_hdr_v1 */
        if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) { perror("TUNSETVNETHDRSZ"); exit(1); }
        if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
            perror("TUNSETOFFLOAD");
            exit(1);
        }
    }
    return fd;
}

/* Take one packet in: loss, then the rate-limited FIFO, then the delay line. */
static void admit(struct dir *d, const unsigned char *buf, size_t len, int64_t now) {
    int64_t start, due;
    if (loss > 0 && uniform() < loss) { d->lost++; return; }
    start = d->tx_free > now ? d->tx_free : now;
    if (rate_bps > 0) {
        double backlog = (double)(start - now) * rate_bps / 8e9; /* bytes not yet serialised */
        if (backlog + (double)len > buffer_bytes) { d->dropped++; return; }
        d->tx_free = start + (int64_t)((double)len * 8e9 / rate_bps);
        due = d->tx_free + delay_ns;
    } else {
        due = now + delay_ns;
    }
    if (d->queued + (long long)len > MAX_QUEUED) { d->dropped++; return; }
    struct pkt *p = malloc(sizeof *p + len);
    if (!p) { d->dropped++; return; }
    p->next = NULL;
    p->due = due;
    p->len = len;
    memcpy(p->data, buf, len);
    if (d->tail) d->tail->next = p; else d->head = p;
    d->tail = p;
    d->queued += (long long)len;
}

/* Write out every packet that is due. */
static void deliver(struct dir *d, int64_t now) {
    while (d->head && d->head->due <= now) {
        struct pkt *p = d->head;
        ssize_t n = write(d->out, p->data, p->len);
        if (n < 0 && errno == EAGAIN) return; /* retry on the next wake-up */
        if (n < 0) d->dropped++; else { d->fwd++; d->bytes += (long long)p->len; }
        d->head = p->next;
        if (!d->head) d->tail = NULL;
        d->queued -= (long long)p->len;
        free(p);
    }
}

static void usage(void) {
    fprintf(stderr, "usage: linkemu [-g] [-s SEED] TUN_A TUN_B DELAY_MS LOSS RATE_BPS [BUFFER_BYTES]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int vnet = 0, opt;
    rng = 0x9E3779B97F4A7C15ULL;
    while ((opt = getopt(argc, argv, "gs:")) != -1) {
        if (opt == 'g') vnet = 1;
        else if (opt == 's') rng ^= strtoull(optarg, NULL, 0) * 0xBF58476D1CE4E5B9ULL;
        else usage();
    }
    if (argc - optind < 5 || argc - optind > 6) usage();
    char **a = argv + optind;
    double delay_ms = atof(a[2]);
    loss = atof(a[3]);
    rate_bps = atof(a[4]);
    delay_ns = (int64_t)(delay_ms * 1e6);
    buffer_bytes = argc - optind == 6 ? atof(a[5]) : rate_bps / 8 * 2 * delay_ms / 1000;
    if (rate_bps > 0 && buffer_bytes < 64 * 1024) buffer_bytes = 64 * 1024; /* at least a GSO packet */
    if (!rng) rng = 1;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t block, none; /* the signals arrive only inside ppoll: no lost wake-up */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, NULL);
    sigemptyset(&none);

    int fa = tun_open(a[0], vnet), fb = tun_open(a[1], vnet);
    struct dir dirs[2] = {
        {.name = "a->b", .in = fa, .out = fb},
        {.name = "b->a", .in = fb, .out = fa},
    };
    printf("ready delay_ms=%g loss=%g rate_bps=%.0f buffer_bytes=%.0f vnet=%d\n", delay_ms, loss,
           rate_bps, buffer_bytes, vnet);
    fflush(stdout);

    static unsigned char buf[MAXPKT];
    struct pollfd pfd[2] = {{.fd = fa, .events = POLLIN}, {.fd = fb, .events = POLLIN}};
    while (!stop) {
        int64_t now = now_ns(), next = -1;
        for (int i = 0; i < 2; i++) {
            deliver(&dirs[i], now);
            if (dirs[i].head && (next < 0 || dirs[i].head->due < next)) next = dirs[i].head->due;
        }
        struct timespec ts, *tsp = NULL;
        if (next >= 0) {
            int64_t wait = next > now ? next - now : 0;
            ts.tv_sec = wait / 1000000000LL;
            ts.tv_nsec = wait % 1000000000LL;
            tsp = &ts;
        }
        int r = ppoll(pfd, 2, tsp, &none);
        if (r < 0) {
            if (errno == EINTR) continue;
            perror("ppoll");
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (!(pfd[i].revents & POLLIN)) continue;
            for (int k = 0; k < BURST; k++) {
                ssize_t n = read(pfd[i].fd, buf, sizeof buf);
                if (n <= 0) break;
                admit(&dirs[i], buf, (size_t)n, now_ns());
            }
        }
    }
    for (int i = 0; i < 2; i++)
        fprintf(stderr, "linkemu %s: forwarded %lld (%lld bytes), lost %lld, dropped %lld\n",
                dirs[i].name, dirs[i].fwd, dirs[i].bytes, dirs[i].lost, dirs[i].dropped);
    return 0;
}
