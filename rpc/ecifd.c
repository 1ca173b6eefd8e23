/*
 * ecifd: loads a snapshot and serves the customer index over gRPC until
 * SIGINT or SIGTERM.
 *
 * stdout carries exactly one line, "ecifd: serving on HOST:PORT", once the
 * server accepts calls, so scripts can read the real port when the listen
 * port is 0. Everything else is a log line on stderr: UTC timestamp, level,
 * event. Log lines never carry customer data, and nothing is logged per
 * request there: the audit log of --audit-log (rpc/ACCESS.md) has one line
 * per call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>

#include <grpc/support/log.h>

#include "corrections.h"
#include "journal.h"
#include "resolve.h"
#include "server.h"
#include "service.h"
#include "status.h"
#include "store.h"
#include "survivorship.h"

/* Time calls in flight may take to finish after a stop signal. */
#define ECIFD_GRACE_MS 2000

typedef struct ecifd_args {
    const char *snapshot;
    const char *journal; /* NULL means the snapshot path plus ".journal" */
    const char *listen;
    uint32_t threads;
    uint32_t max_message_bytes;
    uint32_t max_candidates;
    /* --source-trust, split in place into trusted_sources. */
    const char *trusted_sources[ECIF_GOLDEN_MAX_TRUSTED];
    size_t n_trusted_sources;
    ecif_load_mode_t load_mode; /* --load */
    const char *access;         /* --access: the callers and their scopes */
    const char *audit_log;      /* --audit-log */
    ecif_tls_files_t tls;       /* --tls-cert, --tls-key, --tls-client-ca */
    bool allow_plaintext;       /* --allow-plaintext */
    const char *metrics_listen; /* --metrics-listen */
    uint32_t application_window_days; /* --application-window-days */
    uint32_t application_threshold;   /* --application-threshold */
    bool allow_core_dumps;            /* --allow-core-dumps */
} ecifd_args_t;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_line(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes one log line: ISO-8601 UTC time with milliseconds, level, text. */
static void log_line(const char *level, const char *fmt, ...)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "%s.%03ldZ %-5s ", stamp, ts.tv_nsec / 1000000, level);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

static void log_server_error(const char *message)
{
    log_line("ERROR", "%s", message);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ecifd --snapshot PATH --listen HOST:PORT [OPTIONS]\n"
            "\n"
            "Serves the customer index of a snapshot over gRPC.\n"
            "\n"
            "  --snapshot PATH          snapshot written by 'ecifctl "
            "import'\n"
            "  --journal PATH           corrections journal, created when "
            "missing\n"
            "                           (default: the snapshot path and "
            "\".journal\")\n"
            "  --listen HOST:PORT       address to serve on; port 0 picks "
            "a free port\n"
            "  --load copy|map          copy the snapshot into memory of "
            "ecifd's own\n"
            "                           (default), or serve the file's "
            "pages mapped\n"
            "                           read-only: faster to load, but a "
            "write into\n"
            "                           the file would reach the served "
            "data\n"
            "  --threads N              worker threads, 1 to 1024 (default: "
            "online CPUs)\n"
            "  --max-message-bytes N    largest request or response in "
            "bytes\n"
            "                           (default 1048576)\n"
            "  --max-candidates N       cap on Resolve's max_candidates, "
            "1 to %d\n"
            "                           (default %d)\n"
            "  --source-trust A,B,...   source systems whose values the "
            "golden record\n"
            "                           prefers, most trusted first (at "
            "most %d)\n"
            "  --access FILE            callers, their scopes and token "
            "digests\n"
            "                           (rpc/ACCESS.md); required to "
            "listen beyond\n"
            "                           loopback; read again on SIGHUP\n"
            "  --audit-log FILE         append one line per call: "
            "principal, method,\n"
            "                           status, customer numbers; "
            "reopened on SIGHUP\n"
            "  --tls-cert FILE          serve TLS with this certificate "
            "chain (PEM);\n"
            "                           read again on SIGHUP "
            "(rpc/TLS.md)\n"
            "  --tls-key FILE           the certificate's private key "
            "(PEM, mode 600)\n"
            "  --tls-client-ca FILE     require client certificates "
            "signed by these\n"
            "                           CAs (PEM)\n"
            "  --allow-plaintext        serve plain HTTP/2 beyond "
            "loopback, behind a\n"
            "                           proxy that terminates TLS\n"
            "  --application-window-days N  days of updates that count "
            "toward\n"
            "                           duplicate applications, 1 to 3650 "
            "(default %d)\n"
            "  --application-threshold N  records sharing an ID or phone "
            "in the\n"
            "                           window that make a signal, 2 to "
            "1000 (default %d)\n"
            "  --allow-core-dumps       let a crash write a core file, "
            "which holds\n"
            "                           every loaded record and the TLS "
            "key\n"
            "  --metrics-listen HOST:PORT  serve Prometheus metrics at "
            "GET /metrics\n"
            "                           (rpc/METRICS.md); loopback "
            "unless --access\n"
            "  --help                   show this text\n",
            ECIF_MAX_CANDIDATES, ECIF_MAX_CANDIDATES, ECIF_GOLDEN_MAX_TRUSTED,
            ECIF_APPLICATION_WINDOW_DAYS, ECIF_APPLICATION_THRESHOLD);
}

/* Parses an unsigned decimal in [min, max]; false when invalid. */
static bool parse_u32(const char *option, const char *text, uint32_t min,
                      uint32_t max, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (text[0] == '\0' || text[0] == '-' || *end != '\0' || errno != 0 ||
        v < min || v > max) {
        fprintf(stderr, "ecifd: invalid %s '%s': expected %u to %u\n", option,
                text, min, max);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* Parses --load. Returns false after printing the error. */
static bool parse_load_mode(const char *text, ecif_load_mode_t *mode)
{
    if (strcmp(text, "copy") == 0) {
        *mode = ECIF_LOAD_COPY;
        return true;
    }
    if (strcmp(text, "map") == 0) {
        *mode = ECIF_LOAD_MAP;
        return true;
    }
    fprintf(stderr, "ecifd: invalid --load '%s': expected copy or map\n", text);
    return false;
}

/* Splits --source-trust into args; false after printing why. */
static bool parse_source_trust(char *text, ecifd_args_t *args)
{
    char err[128];
    if (ecif_golden_parse_trust(
            text, args->trusted_sources, ECIF_GOLDEN_MAX_TRUSTED,
            &args->n_trusted_sources, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "ecifd: invalid --source-trust: %s\n", err);
        return false;
    }
    return true;
}

/* Returns 0 on success, or the exit code (0 for --help, 2 on error). */
/*
 * Checks that a listen address ends in ":PORT" with a port from 0 to
 * 65535; gRPC would otherwise take 99999 modulo 65536 and serve on an
 * unexpected port. Returns 0 or the usage exit code 2.
 */
static int check_listen(const char *listen)
{
    const char *colon = strrchr(listen, ':');
    char *end;
    long port;

    if (colon == NULL || colon[1] == '\0') {
        fprintf(stderr,
                "ecifd: invalid --listen '%s' (expected HOST:PORT, such as "
                "127.0.0.1:50051)\n",
                listen);
        return 2;
    }
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || port < 0 || port > 65535) {
        fprintf(stderr,
                "ecifd: invalid port '%s' in --listen '%s' (expected 0 to "
                "65535; 0 picks a free port)\n",
                colon + 1, listen);
        return 2;
    }
    return 0;
}

/*
 * Returns whether a listen address (HOST:PORT, checked) is reachable from
 * this host only: a loopback IPv4 or IPv6 address, localhost, or a Unix
 * socket.
 */
static bool is_local_address(const char *listen)
{
    const char *colon = strrchr(listen, ':');
    size_t host_len = (size_t)(colon - listen);
    char host[256];

    if (strncmp(listen, "unix:", 5) == 0 ||
        strncmp(listen, "unix-abstract:", 14) == 0)
        return true;
    if (host_len >= sizeof(host))
        return false;
    memcpy(host, listen, host_len);
    host[host_len] = '\0';
    if (strncmp(host, "ipv4:", 5) == 0)
        memmove(host, host + 5, strlen(host + 5) + 1);
    if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
        strcmp(host, "ipv6:[::1]") == 0)
        return true;
    struct in_addr addr;
    return inet_pton(AF_INET, host, &addr) == 1 &&
           (ntohl(addr.s_addr) >> 24) == 127;
}

/*
 * Checks the TLS options and where ecifd may listen (rpc/TLS.md, "Where
 * ecifd may listen"). Returns 0 or the usage exit code 2.
 */
static int check_exposure(const ecifd_args_t *args)
{
    bool tls = args->tls.cert != NULL || args->tls.key != NULL;

    if (tls && (args->tls.cert == NULL || args->tls.key == NULL)) {
        fprintf(stderr,
                "ecifd: --tls-cert and --tls-key come together; "
                "only %s was given\n",
                args->tls.cert != NULL ? "--tls-cert" : "--tls-key");
        return 2;
    }
    if (!tls && args->tls.client_ca != NULL) {
        fprintf(stderr, "ecifd: --tls-client-ca needs --tls-cert and "
                        "--tls-key: client certificates are checked in the "
                        "TLS handshake\n");
        return 2;
    }
    if (tls && args->allow_plaintext) {
        fprintf(stderr, "ecifd: --allow-plaintext and --tls-cert exclude "
                        "each other\n");
        return 2;
    }
    if (args->metrics_listen != NULL &&
        strrchr(args->metrics_listen, ':') == NULL) {
        fprintf(stderr,
                "ecifd: invalid --metrics-listen '%s' (expected HOST:PORT, "
                "such as 127.0.0.1:9464)\n",
                args->metrics_listen);
        return 2;
    }
    if (args->metrics_listen != NULL && args->access == NULL &&
        !is_local_address(args->metrics_listen)) {
        fprintf(stderr,
                "ecifd: --metrics-listen '%s' is not a loopback address; "
                "without --access the call counts stay on this host "
                "(rpc/METRICS.md)\n",
                args->metrics_listen);
        return 2;
    }
    if (is_local_address(args->listen))
        return 0;
    if (args->access == NULL) {
        fprintf(stderr,
                "ecifd: --listen '%s' is not a loopback address, and "
                "without --access FILE any caller that reaches it could "
                "read every customer; give --access (rpc/ACCESS.md) or "
                "listen on 127.0.0.1\n",
                args->listen);
        return 2;
    }
    if (!tls && !args->allow_plaintext) {
        fprintf(stderr,
                "ecifd: --listen '%s' is not a loopback address, and "
                "without TLS the bearer tokens and customer records would "
                "cross the network in clear text; give --tls-cert and "
                "--tls-key (rpc/TLS.md), or --allow-plaintext behind a "
                "proxy that terminates TLS\n",
                args->listen);
        return 2;
    }
    return 0;
}

static int parse_args(int argc, char **argv, ecifd_args_t *args, bool *done)
{
    static const struct option options[] = {
        {"snapshot", required_argument, NULL, 's'},
        {"journal", required_argument, NULL, 'j'},
        {"listen", required_argument, NULL, 'l'},
        {"load", required_argument, NULL, 'L'},
        {"threads", required_argument, NULL, 't'},
        {"max-message-bytes", required_argument, NULL, 'm'},
        {"max-candidates", required_argument, NULL, 'c'},
        {"source-trust", required_argument, NULL, 'r'},
        {"access", required_argument, NULL, 'a'},
        {"audit-log", required_argument, NULL, 'A'},
        {"tls-cert", required_argument, NULL, 'C'},
        {"tls-key", required_argument, NULL, 'K'},
        {"tls-client-ca", required_argument, NULL, 'V'},
        {"allow-plaintext", no_argument, NULL, 'P'},
        {"metrics-listen", required_argument, NULL, 'M'},
        {"application-window-days", required_argument, NULL, 'W'},
        {"application-threshold", required_argument, NULL, 'T'},
        {"allow-core-dumps", no_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *done = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        bool ok = true;
        switch (opt) {
        case 's':
            args->snapshot = optarg;
            break;
        case 'j':
            args->journal = optarg;
            break;
        case 'l':
            args->listen = optarg;
            break;
        case 'L':
            ok = parse_load_mode(optarg, &args->load_mode);
            break;
        case 't':
            ok = parse_u32("--threads", optarg, 1, 1024, &args->threads);
            break;
        case 'm':
            ok = parse_u32("--max-message-bytes", optarg, 1024, INT32_MAX,
                           &args->max_message_bytes);
            break;
        case 'c':
            ok = parse_u32("--max-candidates", optarg, 1, ECIF_MAX_CANDIDATES,
                           &args->max_candidates);
            break;
        case 'r':
            ok = parse_source_trust(optarg, args);
            break;
        case 'a':
            args->access = optarg;
            break;
        case 'A':
            args->audit_log = optarg;
            break;
        case 'C':
            args->tls.cert = optarg;
            break;
        case 'K':
            args->tls.key = optarg;
            break;
        case 'V':
            args->tls.client_ca = optarg;
            break;
        case 'P':
            args->allow_plaintext = true;
            break;
        case 'M':
            args->metrics_listen = optarg;
            break;
        case 'W':
            ok = parse_u32("--application-window-days", optarg, 1, 3650,
                           &args->application_window_days);
            break;
        case 'T':
            ok = parse_u32("--application-threshold", optarg, 2, 1000,
                           &args->application_threshold);
            break;
        case 'D':
            args->allow_core_dumps = true;
            break;
        case 'h':
            usage(stdout);
            *done = true;
            return 0;
        default:
            ok = false;
            break;
        }
        if (!ok) {
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ecifd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (args->snapshot == NULL || args->listen == NULL) {
        fprintf(stderr, "ecifd: --snapshot and --listen are required\n");
        usage(stderr);
        return 2;
    }
    if (check_listen(args->listen) != 0)
        return 2;
    return check_exposure(args);
}

static double elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 +
           (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/*
 * Warns when the file at path, a snapshot or a journal (kind), is open to
 * group or others, because it contains personal data (contents). The
 * line names the file and its mode, never what it contains.
 */
static void check_private_mode(const char *kind, const char *path,
                               const char *contents)
{
    struct stat st;

    if (stat(path, &st) != 0 || (st.st_mode & 077) == 0)
        return;
    log_line("WARN",
             "%s '%s' is readable or writable by group or others "
             "(mode %04o) but contains %s, which are personal "
             "data: run chmod 600 '%s'",
             kind, path, (unsigned)(st.st_mode & 07777), contents, path);
}

static int load_store(const char *path, ecif_load_mode_t mode,
                      ecif_store_t **store)
{
    char err[512];
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status = ecif_store_open_mode(path, mode, store, err, sizeof(err));
    if (status != ECIF_OK) {
        log_line("ERROR", "cannot load snapshot '%s': %s (%s)", path, err,
                 ecif_status_str(status));
        return status;
    }

    ecif_store_info_t info;
    ecif_store_get_info(*store, &info);
    const char *how = "copied";
    if (info.mapped && info.pinned)
        how = "mapped and locked in memory";
    else if (info.mapped)
        how = "mapped";
    log_line("INFO",
             "loaded snapshot '%s': %" PRIu64 " bytes, %" PRIu32
             " records, %" PRIu32 " customers, %" PRIu32
             " accounts, format %" PRIu32 ", %s, %.1f ms",
             path, info.snapshot_bytes, info.record_count, info.customer_count,
             info.account_count, info.format_version, how, elapsed_ms(&start));
    if (info.mapped && !info.pinned)
        log_line("WARN",
                 "snapshot '%s' is mapped but not locked in memory (the "
                 "limit on locked memory is too low): the kernel may drop "
                 "its pages under memory pressure and slow the queries "
                 "that read them back; raise the limit (ulimit -l) or "
                 "use --load copy",
                 path);
    check_private_mode("snapshot", path, "customer records");
    return ECIF_OK;
}

/*
 * Lines of one kind logged at most LINES_PER_SECOND a second, so that a
 * client sending bad requests or failing handshakes in a loop cannot fill
 * the disk with the log. The lines left out are counted.
 */
#define LINES_PER_SECOND 20

typedef struct line_limit {
    pthread_mutex_t lock;
    time_t second;
    unsigned in_second;
    uint64_t suppressed;
    const char *label; /* "rejected writes", for the count's line */
} line_limit_t;

#define LINE_LIMIT(label)                                                      \
    {                                                                          \
        PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, label                              \
    }

static line_limit_t rejected_lines = LINE_LIMIT("rejected writes");
static line_limit_t grpc_lines = LINE_LIMIT("gRPC log lines");

static void log_suppressed(const line_limit_t *limit, uint64_t suppressed)
{
    if (suppressed > 0)
        log_line("WARN",
                 "%" PRIu64 " %s were not logged (more than %d a "
                 "second)",
                 suppressed, limit->label, LINES_PER_SECOND);
}

/*
 * Returns whether one more line of limit may be logged now. When it may,
 * logs first how many were left out since the last one.
 */
static bool line_limit_take(line_limit_t *limit)
{
    time_t now = time(NULL);
    uint64_t suppressed = 0;
    bool show;

    pthread_mutex_lock(&limit->lock);
    if (now != limit->second) {
        limit->second = now;
        limit->in_second = 0;
    }
    show = limit->in_second < LINES_PER_SECOND;
    if (show) {
        limit->in_second++;
        suppressed = limit->suppressed;
        limit->suppressed = 0;
    } else {
        limit->suppressed++;
    }
    pthread_mutex_unlock(&limit->lock);
    log_suppressed(limit, suppressed);
    return show;
}

/* Logs how many lines of limit were left out since the last one. */
static void line_limit_report(line_limit_t *limit)
{
    pthread_mutex_lock(&limit->lock);
    uint64_t suppressed = limit->suppressed;
    limit->suppressed = 0;
    pthread_mutex_unlock(&limit->lock);
    log_suppressed(limit, suppressed);
}

/* Logs an applied correction or add, and a rejected write within the
 * limit of rejected_lines. */
static void log_correction(const char *line)
{
    if (strstr(line, " rejected: ") == NULL || line_limit_take(&rejected_lines))
        log_line("INFO", "%s", line);
}

/*
 * Writes gRPC's own log lines (failed TLS handshakes, for one) as ecifd's,
 * within the limit of grpc_lines: anyone who reaches the port can make
 * gRPC log. A failed assertion, which aborts right after, always passes.
 */
static void log_grpc(gpr_log_func_args *args)
{
    const char *level = args->severity == GPR_LOG_SEVERITY_ERROR  ? "ERROR"
                        : args->severity == GPR_LOG_SEVERITY_INFO ? "INFO"
                                                                  : "DEBUG";
    const char *file = strrchr(args->file, '/');

    bool assertion = strncmp(args->message, "assertion failed", 16) == 0;
    /* A refused TLS file is reported by ecifd, naming the file. */
    if (!assertion && ecif_tls_probing()) {
        ecif_tls_probe_note(args->message);
        return;
    }
    if (!assertion && !line_limit_take(&grpc_lines))
        return;
    log_line(level, "gRPC: %s (%s:%d)", args->message,
             file != NULL ? file + 1 : args->file, args->line);
}

/*
 * Logs why the journal at path could not be loaded and what the operator
 * can do about it. The message blames the journal, not the snapshot.
 */
static void log_journal_error(const char *path, int status, const char *err)
{
    const char *cause, *action;

    if (status == ECIF_ECORRUPT && strstr(err, "another snapshot") != NULL) {
        cause = "The journal was written over another snapshot";
        action = "start ecifd on that snapshot, or fold the journal into "
                 "a new one with 'ecifctl import --previous SNAPSHOT "
                 "--journal JOURNAL', or";
    } else if (status == ECIF_ECORRUPT) {
        cause = "The journal is damaged, and the file was left unchanged";
        action = "copy it away for examination and restore it from a "
                 "backup, or";
    } else if (status == ECIF_EVERSION) {
        cause = "The journal was written by a newer build";
        action = "run that build, or";
    } else if (status == ECIF_EBUSY) {
        log_line("ERROR",
                 "cannot load the journal: %s. Two servers on one journal "
                 "would issue the same customer numbers and overwrite each "
                 "other's entries: stop the other process, or serve through "
                 "it",
                 err);
        return;
    } else if (status == ECIF_EIO || status == ECIF_ENOMEM) {
        log_line("ERROR", "cannot load the journal: %s (%s)", err,
                 ecif_status_str(status));
        return;
    } else {
        cause = "An entry of the journal does not apply to this snapshot";
        action = "start ecifd on the snapshot the journal was written "
                 "over, or";
    }
    log_line("ERROR",
             "cannot load the journal: %s. %s: %s move '%s' away to start "
             "with an empty journal (its entries are then not applied), or "
             "name another file with --journal",
             err, cause, action, path);
}

/*
 * Opens the corrections journal of the snapshot (creating it when
 * missing), replays it over store and keeps it open for new corrections.
 * A torn last entry is cut away with a warning. Any other damage stops
 * the start.
 */
static int load_corrections(const char *path, const ecif_store_t *store,
                            ecif_corrections_t **out)
{
    char err[768];
    ecif_journal_identity_t id;
    ecif_journal_t *journal = NULL;
    uint64_t applied = 0, torn = 0;

    ecif_journal_identity_of(store, &id);
    int status = ecif_corrections_create(store, out, err, sizeof(err));
    if (status == ECIF_OK)
        status = ecif_journal_open(path, &id, &journal, err, sizeof(err));
    if (status == ECIF_OK)
        check_private_mode("journal", path, "added records once any is added");
    if (status == ECIF_OK)
        status = ecif_corrections_replay(*out, journal, &applied, &torn, err,
                                         sizeof(err));
    if (torn > 0)
        log_line("WARN",
                 "journal '%s': cut away a torn last entry of %" PRIu64
                 " bytes, written when a correction or an add was "
                 "interrupted",
                 path, torn);
    if (status != ECIF_OK) {
        log_journal_error(path, status, err);
        ecif_journal_close(journal);
        ecif_corrections_destroy(*out);
        *out = NULL;
        return status;
    }
    ecif_corrections_attach_journal(*out, journal);
    uint32_t added = ecif_corrections_added_count(*out);
    log_line("INFO",
             "replayed %" PRIu64 " corrections and %u added records from "
             "journal '%s'",
             applied - added, added, path);
    return ECIF_OK;
}

/* Prints the host part of the listen address with the bound port. */
static void announce(const char *listen, int port)
{
    const char *colon = strrchr(listen, ':');
    int host_len = colon != NULL ? (int)(colon - listen) : (int)strlen(listen);
    printf("ecifd: serving on %.*s:%d\n", host_len, listen, port);
    fflush(stdout);
    log_line("INFO", "listening on %.*s:%d", host_len, listen, port);
}

/* Logs how many audit lines could not be written since the last report. */
static void report_audit_failures(ecif_audit_t *audit)
{
    uint64_t failed = audit != NULL ? ecif_audit_take_failures(audit) : 0;

    if (failed > 0)
        log_line("ERROR",
                 "%" PRIu64 " audit log lines could not be written; the "
                 "calls were answered",
                 failed);
}

/* What ecifd checks callers against and writes calls to; either may be
 * NULL. */
typedef struct ecifd_access {
    const char *path;        /* --access, read again on SIGHUP */
    ecif_access_t *callers;  /* in force */
    ecif_access_t **retired; /* replaced lists, freed at exit */
    size_t n_retired;
    ecif_audit_t *audit;
    ecif_tls_server_t *tls;  /* NULL without --tls-cert */
    ecif_metrics_t *metrics; /* counts reloads; NULL before serving */
} ecifd_access_t;

static void access_fini(ecifd_access_t *access)
{
    for (size_t i = 0; i < access->n_retired; i++)
        ecif_access_free(access->retired[i]);
    free(access->retired);
    ecif_access_free(access->callers);
    ecif_audit_close(access->audit);
    ecif_tls_server_free(access->tls);
}

/* Counts a reload in the metrics, once they exist. */
static void count_reload(ecifd_access_t *access, ecif_metrics_reload_t kind,
                         bool ok)
{
    if (access->metrics != NULL)
        ecif_metrics_reloaded(access->metrics, kind, ok);
}

/*
 * Reads the access file again and puts it in force. The list it replaces
 * stays allocated, because calls in flight may hold its principals. A file
 * that no longer loads leaves the old list in force.
 */
static void reload_access(ecif_server_t *server, ecifd_access_t *access)
{
    char err[640];
    ecif_access_t *fresh = NULL;

    if (access->path == NULL)
        return;
    ecif_access_t **grown =
        realloc(access->retired, (access->n_retired + 1) * sizeof(*grown));
    if (grown == NULL) {
        log_line("ERROR", "out of memory reloading the access file; the "
                          "previous callers stay in force");
        return;
    }
    access->retired = grown;
    if (ecif_access_load(access->path, &fresh, err, sizeof(err)) != ECIF_OK) {
        log_line("ERROR", "%s; the previous callers stay in force", err);
        count_reload(access, ECIF_RELOAD_ACCESS, false);
        return;
    }
    count_reload(access, ECIF_RELOAD_ACCESS, true);
    ecif_server_set_access(server, fresh);
    access->retired[access->n_retired++] = access->callers;
    access->callers = fresh;
    log_line("INFO", "reloaded the access file: %zu principals",
             ecif_access_count(fresh));
    if (ecif_access_count(fresh) == 0)
        log_line("WARN", "the access file lists no principal: every call "
                         "but Health/Check is refused");
}

/* Writes t (Unix seconds, before 1970 too) as YYYY-MM-DDTHH:MM:SSZ. */
static void format_utc(int64_t t, char *buf, size_t len)
{
    time_t seconds = (time_t)t;
    struct tm tm;
    if (gmtime_r(&seconds, &tm) == NULL ||
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%lld", (long long)t);
}

/* Days before notAfter from which ecifd warns of the certificate. */
#define CERT_WARN_DAYS 30

/*
 * Logs the dates of the certificate just loaded, with a WARN line when it
 * is not valid yet, has expired or expires within CERT_WARN_DAYS: clients
 * would fail their handshakes, and the TLS library does not say why in
 * ecifd's log. Sets the expiry metric when the metrics exist.
 */
static void check_certificate_dates(ecifd_access_t *access)
{
    ecif_tls_validity_t v = ecif_tls_server_validity(access->tls);
    char from[32], to[32];
    int64_t now = (int64_t)time(NULL);

    if (!v.known) {
        log_line("WARN", "cannot read the dates of the TLS certificate; "
                         "check them with openssl x509 -noout -dates");
        return;
    }
    if (access->metrics != NULL)
        ecif_metrics_set_tls_expiry(access->metrics, v.not_after);
    format_utc(v.not_before, from, sizeof(from));
    format_utc(v.not_after, to, sizeof(to));
    if (now < v.not_before)
        log_line("WARN",
                 "the TLS certificate is not valid before %s: "
                 "clients refuse it until then",
                 from);
    else if (now > v.not_after)
        log_line("WARN",
                 "the TLS certificate expired at %s: clients refuse "
                 "it; install a renewed one and send SIGHUP",
                 to);
    else if (v.not_after - now < 86400)
        log_line("WARN",
                 "the TLS certificate expires at %s, within a day: "
                 "install a renewed one and send SIGHUP",
                 to);
    else if (v.not_after - now < (int64_t)CERT_WARN_DAYS * 86400)
        log_line("WARN",
                 "the TLS certificate expires at %s, in %lld days: "
                 "install a renewed one and send SIGHUP",
                 to, (long long)((v.not_after - now + 86399) / 86400));
    else
        log_line("INFO", "the TLS certificate is valid from %s to %s", from,
                 to);
}

/*
 * Reads the TLS files again for connections that start from now on. Files
 * that no longer pass the checks leave the previous ones in force.
 */
static void reload_tls(ecifd_access_t *access)
{
    char err[640];

    if (access->tls == NULL)
        return;
    bool ok = ecif_tls_server_reload(access->tls, err, sizeof(err)) == ECIF_OK;
    if (!ok)
        log_line("ERROR", "%s; the previous TLS certificate stays in force",
                 err);
    else if (ecif_tls_server_requires_client_cert(access->tls))
        log_line("INFO", "reloaded the TLS certificate, key and client CA "
                         "for new connections");
    else
        log_line("INFO", "reloaded the TLS certificate and key for new "
                         "connections");
    count_reload(access, ECIF_RELOAD_TLS, ok);
    if (ok)
        check_certificate_dates(access);
}

/*
 * Waits for SIGINT or SIGTERM and returns it. Meanwhile, on SIGHUP, reads
 * the access file and the TLS files again and reopens the audit log, and
 * reports failed audit writes once a minute at most.
 */
static int wait_for_stop_signal(const sigset_t *signals, ecif_server_t *server,
                                ecifd_access_t *access)
{
    ecif_audit_t *audit = access->audit;

    for (;;) {
        struct timespec minute = {60, 0};
        int sig = sigtimedwait(signals, NULL, &minute);
        if (sig < 0) {
            if (audit != NULL)
                ecif_audit_report_suppressed(audit);
            report_audit_failures(audit);
            line_limit_report(&rejected_lines);
            line_limit_report(&grpc_lines);
            continue;
        }
        if (sig != SIGHUP)
            return sig;
        reload_access(server, access);
        reload_tls(access);
        char err[512];
        if (audit == NULL) {
            log_line("INFO", "received SIGHUP; no audit log to reopen");
        } else if (ecif_audit_reopen(audit, err, sizeof(err)) != ECIF_OK) {
            log_line("ERROR", "%s; audit lines still go to the old file", err);
            count_reload(access, ECIF_RELOAD_AUDIT_LOG, false);
        } else {
            log_line("INFO", "received SIGHUP, reopened the audit log");
            count_reload(access, ECIF_RELOAD_AUDIT_LOG, true);
        }
    }
}

/* Reads the metrics gauges from the current view of corrections. */
static void store_gauges(void *arg, ecif_metrics_gauges_t *out)
{
    ecif_corrections_t *corrections = arg;
    const ecif_store_t *view = ecif_corrections_acquire(corrections);
    ecif_store_info_t info;

    ecif_store_get_info(view, &info);
    out->records = info.record_count;
    out->customers = info.customer_count;
    ecif_corrections_release(corrections, view);
    out->added_records = ecif_corrections_added_count(corrections);
}

/* Starts the metrics server of --metrics-listen, if any. Returns ECIF_OK
 * or logs why not. */
static int start_metrics(const ecifd_args_t *args, ecif_metrics_t *metrics,
                         ecif_metrics_http_t **http)
{
    char err[512];
    int port = 0;

    *http = NULL;
    if (args->metrics_listen == NULL)
        return ECIF_OK;
    if (ecif_metrics_http_start(args->metrics_listen, metrics, http, &port, err,
                                sizeof(err)) != ECIF_OK) {
        log_line("ERROR", "%s", err);
        return ECIF_EINVAL;
    }
    const char *colon = strrchr(args->metrics_listen, ':');
    log_line("INFO", "serving metrics on http://%.*s:%d/metrics",
             (int)(colon - args->metrics_listen), args->metrics_listen, port);
    return ECIF_OK;
}

static int serve(const ecifd_args_t *args, const ecif_store_t *store,
                 ecif_corrections_t *corrections, ecifd_access_t *access,
                 const sigset_t *stop_signals)
{
    ecif_service_t service = {
        .store = store,
        .corrections = corrections,
        .log_correction = log_correction,
        .max_candidates = args->max_candidates,
        .application_window_days = args->application_window_days,
        .application_threshold = args->application_threshold,
        .survivorship =
            {
                .trusted_sources = args->trusted_sources,
                .n_trusted_sources = args->n_trusted_sources,
            },
    };
    ecif_server_options_t opts;
    ecif_server_options_default(&opts);
    opts.listen = args->listen;
    opts.threads = args->threads;
    if (args->max_message_bytes != 0)
        opts.max_message_bytes = args->max_message_bytes;
    opts.log_error = log_server_error;
    opts.access = access->callers;
    opts.audit = access->audit;
    opts.tls = access->tls;

    ecif_metrics_t *metrics = NULL;
    ecif_metrics_http_t *metrics_http = NULL;
    if (ecif_metrics_create(store_gauges, corrections, &metrics) != ECIF_OK) {
        log_line("ERROR", "out of memory creating the metrics");
        return 1;
    }
    opts.metrics = metrics;
    access->metrics = metrics;
    if (access->tls != NULL)
        check_certificate_dates(access);

    char err[512];
    ecif_server_t *server = NULL;
    int status = ecif_server_create(&opts, &service, &server, err, sizeof(err));
    if (status == ECIF_OK)
        status = ecif_server_start(server, err, sizeof(err));
    if (status != ECIF_OK) {
        log_line("ERROR", "cannot start the server: %s", err);
        ecif_server_destroy(server);
        ecif_metrics_free(metrics);
        return 1;
    }
    ecif_metrics_set_start_time(metrics, (int64_t)time(NULL));
    if (start_metrics(args, metrics, &metrics_http) != ECIF_OK) {
        ecif_server_stop(server, 0);
        ecif_server_destroy(server);
        ecif_metrics_free(metrics);
        return 1;
    }
    log_line("INFO", "started %" PRIu32 " worker threads",
             ecif_server_thread_count(server));
    announce(args->listen, ecif_server_port(server));

    int sig = wait_for_stop_signal(stop_signals, server, access);
    log_line("INFO", "received %s, stopping", strsignal(sig));
    if (ecif_server_stop(server, ECIFD_GRACE_MS) != 0)
        log_line("WARN", "cancelled calls still running after %d ms",
                 ECIFD_GRACE_MS);
    ecif_server_destroy(server);
    ecif_metrics_http_stop(metrics_http);
    access->metrics = NULL;
    ecif_metrics_free(metrics);
    report_audit_failures(access->audit);
    line_limit_report(&rejected_lines);
    line_limit_report(&grpc_lines);
    return 0;
}

/* Loads --access and opens --audit-log. Returns ECIF_OK or logs why not. */
static int open_access(const ecifd_args_t *args, ecif_access_t **callers,
                       ecif_audit_t **audit)
{
    char err[640];

    *callers = NULL;
    *audit = NULL;
    if (args->access == NULL) {
        log_line("WARN", "no --access file: every caller on this host may "
                         "call every method");
    } else if (ecif_access_load(args->access, callers, err, sizeof(err)) !=
               ECIF_OK) {
        log_line("ERROR", "%s", err);
        return ECIF_EINVAL;
    } else {
        log_line("INFO", "access control on: %zu principals",
                 ecif_access_count(*callers));
        if (ecif_access_count(*callers) == 0)
            log_line("WARN", "the access file lists no principal: every call "
                             "but Health/Check is refused");
    }
    if (args->audit_log != NULL &&
        ecif_audit_open(args->audit_log, audit, err, sizeof(err)) != ECIF_OK) {
        log_line("ERROR", "%s", err);
        ecif_access_free(*callers);
        *callers = NULL;
        return ECIF_EIO;
    }
    if (*audit != NULL && !ecif_audit_private(*audit))
        log_line("WARN",
                 "audit log '%s' is readable or writable by group or "
                 "others, but its customer numbers lead to people: run "
                 "chmod 600 '%s'",
                 args->audit_log, args->audit_log);
    return ECIF_OK;
}

/* Loads the TLS files of args, or leaves *tls NULL without them. Returns
 * ECIF_OK or logs why not. */
static int open_tls(const ecifd_args_t *args, ecif_tls_server_t **tls)
{
    char err[640];

    *tls = NULL;
    if (args->tls.cert == NULL) {
        if (args->allow_plaintext)
            log_line("WARN", "--allow-plaintext: bearer tokens and customer "
                             "records cross the network in clear text up "
                             "to the proxy that terminates TLS");
        return ECIF_OK;
    }
    if (ecif_tls_server_open(&args->tls, tls, err, sizeof(err)) != ECIF_OK) {
        log_line("ERROR", "%s", err);
        return ECIF_EINVAL;
    }
    if (ecif_tls_server_requires_client_cert(*tls))
        log_line("INFO",
                 "TLS on, with certificate '%s'; clients must "
                 "present a certificate signed by a CA of '%s'",
                 args->tls.cert, args->tls.client_ca);
    else
        log_line("INFO",
                 "TLS on, with certificate '%s'; no client "
                 "certificate asked for",
                 args->tls.cert);
    return ECIF_OK;
}

int main(int argc, char **argv)
{
    ecifd_args_t args = {.max_candidates = ECIF_MAX_CANDIDATES};
    bool done = false;
    int rc = parse_args(argc, argv, &args, &done);
    if (rc != 0 || done)
        return rc;
    /* A core file of ecifd would hold every loaded record and the TLS
     * key; the process is also closed to ptrace by other users. */
    if (!args.allow_core_dumps && prctl(PR_SET_DUMPABLE, 0) != 0)
        log_line("WARN", "cannot turn core dumps off: %s", strerror(errno));

    /*
     * Block the stop signals before any thread starts, so every thread
     * inherits the mask and only sigwait in the main thread receives them.
     */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    gpr_set_log_function(log_grpc);

    ecif_access_t *callers = NULL;
    ecif_audit_t *audit = NULL;
    if (open_access(&args, &callers, &audit) != ECIF_OK)
        return 1;
    ecifd_access_t access = {
        .path = args.access, .callers = callers, .audit = audit};
    if (open_tls(&args, &access.tls) != ECIF_OK) {
        access_fini(&access);
        return 1;
    }

    ecif_store_t *store = NULL;
    if (load_store(args.snapshot, args.load_mode, &store) != ECIF_OK) {
        access_fini(&access);
        return 1;
    }
    char journal[4096];
    if (args.journal != NULL)
        snprintf(journal, sizeof(journal), "%s", args.journal);
    else if (ecif_journal_path_for(args.snapshot, journal, sizeof(journal)) !=
             ECIF_OK) {
        log_line("ERROR", "snapshot path is too long to append \".journal\": "
                          "name the journal with --journal PATH");
        rc = 1;
    }
    ecif_corrections_t *corrections = NULL;
    if (rc == 0 && load_corrections(journal, store, &corrections) != ECIF_OK)
        rc = 1;
    if (rc == 0)
        rc = serve(&args, store, corrections, &access, &stop_signals);
    ecif_corrections_destroy(corrections);
    ecif_store_close(store);
    access_fini(&access);
    log_line("INFO", "stopped");
    return rc;
}
