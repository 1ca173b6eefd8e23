/*
 * Metrics: lock-free counters that the workers add to, rendered in the
 * Prometheus text format, and a one-thread HTTP/1.1 server for scrapes.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "service.h"
#include "status.h"

/* gRPC status codes, OK (0) to UNAUTHENTICATED (16). */
#define METRICS_CODES 17

/* Upper bounds of the latency buckets in microseconds; +Inf follows. */
static const uint64_t bucket_us[] = {100,  250,   500,   1000,   2500,
                                     5000, 10000, 25000, 100000, 1000000};
#define METRICS_BUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

/* The counters of one method. */
struct method_metrics {
    atomic_uint_fast64_t calls[METRICS_CODES];
    /* Calls per bucket, not cumulative; the last is above every bound. */
    atomic_uint_fast64_t buckets[METRICS_BUCKETS + 1];
    atomic_uint_fast64_t sum_us;
};

struct ecif_metrics {
    size_t method_count; /* the service's methods, then "unknown" */
    struct method_metrics *methods;
    atomic_uint_fast64_t reloads[ECIF_RELOAD_KINDS][2]; /* failed, ok */
    _Atomic int64_t start_time;
    _Atomic int64_t tls_expiry;
    atomic_bool tls_expiry_known; /* false without a readable certificate */
    ecif_metrics_gauges_fn gauges;
    void *gauges_arg;
};

static const char *const reload_names[ECIF_RELOAD_KINDS] = {
    [ECIF_RELOAD_ACCESS] = "access",
    [ECIF_RELOAD_TLS] = "tls",
    [ECIF_RELOAD_AUDIT_LOG] = "audit_log",
};

int ecif_metrics_create(ecif_metrics_gauges_fn gauges, void *arg,
                        ecif_metrics_t **out)
{
    *out = NULL;
    ecif_metrics_t *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return ECIF_ENOMEM;
    m->method_count = ecif_service_method_count() + 1;
    m->methods = calloc(m->method_count, sizeof(*m->methods));
    if (m->methods == NULL) {
        free(m);
        return ECIF_ENOMEM;
    }
    m->gauges = gauges;
    m->gauges_arg = arg;
    *out = m;
    return ECIF_OK;
}

void ecif_metrics_free(ecif_metrics_t *m)
{
    if (m == NULL)
        return;
    free(m->methods);
    free(m);
}

void ecif_metrics_observe(ecif_metrics_t *m, size_t method,
                          grpc_status_code code, uint64_t us)
{
    if (method >= m->method_count)
        method = m->method_count - 1;
    if ((unsigned)code >= METRICS_CODES)
        code = GRPC_STATUS_UNKNOWN;
    struct method_metrics *mm = &m->methods[method];
    size_t b = 0;
    while (b < METRICS_BUCKETS && us > bucket_us[b])
        b++;
    atomic_fetch_add_explicit(&mm->calls[code], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&mm->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&mm->sum_us, us, memory_order_relaxed);
}

void ecif_metrics_reloaded(ecif_metrics_t *m, ecif_metrics_reload_t what,
                           bool ok)
{
    atomic_fetch_add_explicit(&m->reloads[what][ok ? 1 : 0], 1,
                              memory_order_relaxed);
}

void ecif_metrics_set_tls_expiry(ecif_metrics_t *m, int64_t not_after)
{
    atomic_store(&m->tls_expiry, not_after);
    atomic_store(&m->tls_expiry_known, true);
}

void ecif_metrics_set_start_time(ecif_metrics_t *m, int64_t unix_seconds)
{
    atomic_store(&m->start_time, unix_seconds);
}

static const char *method_label(const ecif_metrics_t *m, size_t i)
{
    return i + 1 < m->method_count ? ecif_service_method_name_at(i) : "unknown";
}

static void render_calls(const ecif_metrics_t *m, FILE *f)
{
    fputs("# HELP ecif_calls_total Calls answered, by method and gRPC "
          "status.\n# TYPE ecif_calls_total counter\n",
          f);
    for (size_t i = 0; i < m->method_count; i++) {
        for (int code = 0; code < METRICS_CODES; code++) {
            uint64_t n = atomic_load_explicit(&m->methods[i].calls[code],
                                              memory_order_relaxed);
            /* OK is always listed, so that every method has a series. */
            if (n == 0 && code != GRPC_STATUS_OK)
                continue;
            fprintf(f, "ecif_calls_total{method=\"%s\",code=\"%s\"} %llu\n",
                    method_label(m, i),
                    ecif_service_status_name((grpc_status_code)code),
                    (unsigned long long)n);
        }
    }
}

static void render_durations(const ecif_metrics_t *m, FILE *f)
{
    fputs("# HELP ecif_call_duration_seconds Server time of a call.\n"
          "# TYPE ecif_call_duration_seconds histogram\n",
          f);
    for (size_t i = 0; i < m->method_count; i++) {
        const struct method_metrics *mm = &m->methods[i];
        const char *name = method_label(m, i);
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= METRICS_BUCKETS; b++) {
            cumulative +=
                atomic_load_explicit(&mm->buckets[b], memory_order_relaxed);
            if (b < METRICS_BUCKETS)
                fprintf(f,
                        "ecif_call_duration_seconds_bucket{method=\"%s\","
                        "le=\"%g\"} %llu\n",
                        name, (double)bucket_us[b] / 1e6,
                        (unsigned long long)cumulative);
            else
                fprintf(f,
                        "ecif_call_duration_seconds_bucket{method=\"%s\","
                        "le=\"+Inf\"} %llu\n",
                        name, (unsigned long long)cumulative);
        }
        uint64_t sum = atomic_load_explicit(&mm->sum_us, memory_order_relaxed);
        fprintf(f, "ecif_call_duration_seconds_sum{method=\"%s\"} %.6f\n", name,
                (double)sum / 1e6);
        fprintf(f, "ecif_call_duration_seconds_count{method=\"%s\"} %llu\n",
                name, (unsigned long long)cumulative);
    }
}

static void render_state(ecif_metrics_t *m, FILE *f)
{
    ecif_metrics_gauges_t g = {0};
    if (m->gauges != NULL)
        m->gauges(m->gauges_arg, &g);
    fprintf(f,
            "# HELP ecif_records Records of the current view.\n"
            "# TYPE ecif_records gauge\necif_records %llu\n"
            "# HELP ecif_customers Customers of the current view.\n"
            "# TYPE ecif_customers gauge\necif_customers %llu\n"
            "# HELP ecif_added_records Records added since the snapshot "
            "loaded.\n"
            "# TYPE ecif_added_records gauge\necif_added_records %llu\n",
            (unsigned long long)g.records, (unsigned long long)g.customers,
            (unsigned long long)g.added_records);
    fputs("# HELP ecif_reloads_total Reloads on SIGHUP, by file and "
          "result.\n# TYPE ecif_reloads_total counter\n",
          f);
    for (int w = 0; w < ECIF_RELOAD_KINDS; w++)
        for (int ok = 1; ok >= 0; ok--)
            fprintf(f, "ecif_reloads_total{what=\"%s\",result=\"%s\"} %llu\n",
                    reload_names[w], ok ? "ok" : "failed",
                    (unsigned long long)atomic_load_explicit(
                        &m->reloads[w][ok], memory_order_relaxed));
    fprintf(f,
            "# HELP ecif_start_time_seconds When ecifd started serving.\n"
            "# TYPE ecif_start_time_seconds gauge\n"
            "ecif_start_time_seconds %lld\n",
            (long long)atomic_load(&m->start_time));
    int64_t expiry = atomic_load(&m->tls_expiry);
    if (atomic_load(&m->tls_expiry_known))
        fprintf(f,
                "# HELP ecif_tls_certificate_expiry_seconds When the "
                "served TLS certificate expires (notAfter).\n"
                "# TYPE ecif_tls_certificate_expiry_seconds gauge\n"
                "ecif_tls_certificate_expiry_seconds %lld\n",
                (long long)expiry);
}

int ecif_metrics_render(ecif_metrics_t *m, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *f = open_memstream(out, len);
    if (f == NULL)
        return ECIF_ENOMEM;
    render_calls(m, f);
    render_durations(m, f);
    render_state(m, f);
    if (fclose(f) != 0) {
        free(*out);
        *out = NULL;
        return ECIF_ENOMEM;
    }
    return ECIF_OK;
}

/* ---- HTTP -------------------------------------------------------------- */

/* Maximum bytes of a request head read; scrapers send a few hundred. */
#define HTTP_HEAD_MAX 4096
/* Milliseconds a connection may take to send its request line. */
#define HTTP_TIMEOUT_MS 2000
/* Seconds a reply may take to leave. */
#define HTTP_SEND_TIMEOUT_S 2
/* Connections read at once; a newer one closes the oldest. */
#define HTTP_CONNECTIONS 16

/* A connection whose request line is still arriving. */
struct http_conn {
    int fd; /* -1 when the slot is free */
    size_t got;
    int64_t deadline_ms;
    char buf[HTTP_HEAD_MAX];
};

struct ecif_metrics_http {
    ecif_metrics_t *metrics;
    int fd;
    int wake[2]; /* a byte on wake[1] stops the thread */
    pthread_t thread;
    struct http_conn conns[HTTP_CONNECTIONS];
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes all of buf, or gives up on the first error or timeout. */
static void send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

/* Sends a reply on a connection made blocking with a send timeout. */
static void send_response(int fd, const char *status, const char *type,
                          const char *body, size_t len)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    struct timeval timeout = {HTTP_SEND_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));

    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, type, len);
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

static void send_text(int fd, const char *status, const char *body)
{
    send_response(fd, status, "text/plain; charset=utf-8", body, strlen(body));
}

/* Sends the reply to request line line (NUL-terminated, without CRLF). */
static void send_reply(ecif_metrics_http_t *h, int fd, char *line)
{
    char *target = strchr(line, ' ');
    char *version = target != NULL ? strchr(target + 1, ' ') : NULL;
    if (target == NULL || version == NULL ||
        strncmp(version + 1, "HTTP/1.", 7) != 0) {
        send_text(fd, "400 Bad Request", "expected 'GET /metrics HTTP/1.1'\n");
        return;
    }
    *target++ = '\0';
    *version = '\0';
    if (strcmp(line, "GET") != 0) {
        send_text(fd, "405 Method Not Allowed", "only GET is served\n");
        return;
    }
    size_t path_len = strcspn(target, "?");
    if (path_len != 8 || strncmp(target, "/metrics", 8) != 0) {
        send_text(fd, "404 Not Found", "only /metrics is served\n");
        return;
    }
    char *body = NULL;
    size_t body_len = 0;
    if (ecif_metrics_render(h->metrics, &body, &body_len) != ECIF_OK) {
        send_text(fd, "500 Internal Server Error", "out of memory\n");
        return;
    }
    send_response(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
                  body, body_len);
    free(body);
}

static void conn_close(struct http_conn *c)
{
    close(c->fd);
    c->fd = -1;
}

/*
 * Reads what a connection sent. Once its request line is whole, sends
 * the reply and closes it. It is closed when the peer is gone, and a
 * line over HTTP_HEAD_MAX bytes gets 400.
 */
static void conn_read(ecif_metrics_http_t *h, struct http_conn *c)
{
    ssize_t n = recv(c->fd, c->buf + c->got, HTTP_HEAD_MAX - c->got, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        conn_close(c);
        return;
    }
    char *end = memchr(c->buf + c->got, '\n', (size_t)n);
    c->got += (size_t)n;
    if (end == NULL) {
        if (c->got == HTTP_HEAD_MAX) {
            send_text(c->fd, "400 Bad Request", "request line too long\n");
            conn_close(c);
        }
        return;
    }
    if (end > c->buf && end[-1] == '\r')
        end--;
    *end = '\0';
    send_reply(h, c->fd, c->buf);
    conn_close(c);
}

/* Takes a new connection into a free slot, or the oldest one's. */
static void conn_accept(ecif_metrics_http_t *h)
{
    int fd = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    struct http_conn *slot = NULL;
    for (int i = 0; i < HTTP_CONNECTIONS; i++) {
        struct http_conn *c = &h->conns[i];
        if (c->fd < 0) {
            slot = c;
            break;
        }
        if (slot == NULL || c->deadline_ms < slot->deadline_ms)
            slot = c;
    }
    if (slot->fd >= 0)
        conn_close(slot); /* the oldest waits no longer */
    slot->fd = fd;
    slot->got = 0;
    slot->deadline_ms = now_ms() + HTTP_TIMEOUT_MS;
}

/*
 * Serves scrapes until a byte arrives on the wake pipe. Connections are
 * read side by side, each with its own deadline for the request line,
 * so a client that sends slowly or not at all delays no other.
 */
static void *http_thread(void *arg)
{
    ecif_metrics_http_t *h = arg;
    struct pollfd fds[2 + HTTP_CONNECTIONS];
    int slot_of[2 + HTTP_CONNECTIONS];

    for (;;) {
        int64_t now = now_ms();
        int timeout = -1;
        nfds_t n = 2;
        fds[0] = (struct pollfd){.fd = h->fd, .events = POLLIN};
        fds[1] = (struct pollfd){.fd = h->wake[0], .events = POLLIN};
        for (int i = 0; i < HTTP_CONNECTIONS; i++) {
            struct http_conn *c = &h->conns[i];
            if (c->fd < 0)
                continue;
            if (c->deadline_ms <= now) {
                send_text(c->fd, "400 Bad Request",
                          "no request line within 2 seconds\n");
                conn_close(c);
                continue;
            }
            int left = (int)(c->deadline_ms - now);
            if (timeout < 0 || left < timeout)
                timeout = left;
            slot_of[n] = i;
            fds[n++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
        }
        if (poll(fds, n, timeout) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[1].revents != 0)
            break;
        for (nfds_t k = 2; k < n; k++) {
            if (fds[k].revents != 0)
                conn_read(h, &h->conns[slot_of[k]]);
        }
        if (fds[0].revents & POLLIN)
            conn_accept(h);
    }
    for (int i = 0; i < HTTP_CONNECTIONS; i++) {
        if (h->conns[i].fd >= 0)
            conn_close(&h->conns[i]);
    }
    return NULL;
}

/* Splits HOST:PORT (HOST may be [IPv6]) into host and port. */
static int split_listen(const char *address, char *host, size_t host_len,
                        const char **port, char *err, size_t errlen)
{
    const char *colon = strrchr(address, ':');
    if (colon == NULL || colon[1] == '\0' ||
        (size_t)(colon - address) >= host_len)
        return ecif_fail(ECIF_EINVAL, err, errlen,
                         "invalid --metrics-listen '%s' (expected HOST:PORT, "
                         "such as 127.0.0.1:9464)",
                         address);
    size_t n = (size_t)(colon - address);
    if (n >= 2 && address[0] == '[' && address[n - 1] == ']') {
        memcpy(host, address + 1, n - 2);
        host[n - 2] = '\0';
    } else {
        memcpy(host, address, n);
        host[n] = '\0';
    }
    *port = colon + 1;
    return ECIF_OK;
}

/* Binds and listens on address; returns the socket or -1 with err set. */
static int bind_listen(const char *address, int *port, char *err, size_t errlen)
{
    char host[256];
    const char *service = NULL;
    if (split_listen(address, host, sizeof(host), &service, err, errlen) !=
        ECIF_OK)
        return -1;

    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *list = NULL;
    int rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) {
        ecif_fail(ECIF_EINVAL, err, errlen, "invalid --metrics-listen '%s': %s",
                  address, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *a = list; a != NULL && fd < 0; a = a->ai_next) {
        fd =
            socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        int enable = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &enable, sizeof(enable));
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 16) != 0) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    if (fd < 0) {
        ecif_fail(ECIF_EINVAL, err, errlen,
                  "cannot listen on --metrics-listen '%s': %s", address,
                  strerror(saved != 0 ? saved : EADDRNOTAVAIL));
        return -1;
    }
    struct sockaddr_storage addr;
    socklen_t addr_len = sizeof(addr);
    *port = 0;
    if (getsockname(fd, (struct sockaddr *)&addr, &addr_len) == 0) {
        char unused[NI_MAXHOST], port_text[NI_MAXSERV];
        if (getnameinfo((struct sockaddr *)&addr, addr_len, unused,
                        sizeof(unused), port_text, sizeof(port_text),
                        NI_NUMERICHOST | NI_NUMERICSERV) == 0)
            *port = atoi(port_text);
    }
    return fd;
}

int ecif_metrics_http_start(const char *address, ecif_metrics_t *m,
                            ecif_metrics_http_t **out, int *port, char *err,
                            size_t errlen)
{
    *out = NULL;
    ecif_metrics_http_t *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return ecif_fail(ECIF_ENOMEM, err, errlen, "out of memory");
    h->metrics = m;
    for (int i = 0; i < HTTP_CONNECTIONS; i++)
        h->conns[i].fd = -1;
    h->fd = bind_listen(address, port, err, errlen);
    if (h->fd < 0) {
        free(h);
        return ECIF_EINVAL;
    }
    if (pipe2(h->wake, O_CLOEXEC) != 0) {
        close(h->fd);
        free(h);
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "cannot create the metrics thread's pipe: %s",
                         strerror(errno));
    }
    if (pthread_create(&h->thread, NULL, http_thread, h) != 0) {
        close(h->wake[0]);
        close(h->wake[1]);
        close(h->fd);
        free(h);
        return ecif_fail(ECIF_ENOMEM, err, errlen,
                         "cannot start the metrics thread");
    }
    *out = h;
    return ECIF_OK;
}

void ecif_metrics_http_stop(ecif_metrics_http_t *h)
{
    if (h == NULL)
        return;
    char byte = 0;
    while (write(h->wake[1], &byte, 1) < 0 && errno == EINTR)
        ;
    pthread_join(h->thread, NULL);
    close(h->wake[0]);
    close(h->wake[1]);
    close(h->fd);
    free(h);
}
