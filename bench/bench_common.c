/*
 * Code shared by the bench tools; see bench_common.h.
 */
#include "bench_common.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "status.h"

/* Number of regex groups a replacement may use, \0 to \9. */
#define BENCH_SUBST_GROUPS 10

/* Built-in Febrl rule of bench_truth_rule_init (--truth febrl). */
#define BENCH_FEBRL_REGEX       "^(rec-[0-9]+)-dup-[0-9]+$"
#define BENCH_FEBRL_REPLACEMENT "\\1-org"

/* ---- Options ----------------------------------------------------------- */

bool bench_parse_u32(const char *tool, const char *option, const char *text,
                     uint32_t min, uint32_t max, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (text[0] == '\0' || text[0] == '-' || *end != '\0' || errno != 0 ||
        v < min || v > max) {
        fprintf(stderr,
                "%s: invalid %s '%s': expected an integer from %u to %u\n",
                tool, option, text, min, max);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

bool bench_parse_format(const char *tool, const char *text,
                        source_format_t *out)
{
    if (strcmp(text, "csv") == 0) {
        *out = SOURCE_FORMAT_CSV;
        return true;
    }
    if (strcmp(text, "jsonl") == 0) {
        *out = SOURCE_FORMAT_JSONL;
        return true;
    }
    fprintf(stderr, "%s: invalid --format '%s': expected csv or jsonl\n", tool,
            text);
    return false;
}

bool bench_load_mapping(const char *tool, const char *path, mapping_t **out)
{
    *out = NULL;
    if (path == NULL)
        return true;
    char err[512];
    if (mapping_create(out) != ECIF_OK) {
        fprintf(stderr, "%s: out of memory\n", tool);
        return false;
    }
    if (mapping_load_file(*out, path, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "%s: invalid --mapping: %s\n", tool, err);
        mapping_destroy(*out);
        *out = NULL;
        return false;
    }
    return true;
}

/* ---- Query files ------------------------------------------------------- */

void bench_print_warning(void *arg, const char *path, const char *message)
{
    (void)arg;
    fprintf(stderr, "%s: warning: %s\n", path, message);
}

bool bench_read_queries(const char *tool, const char *path,
                        source_format_t format, const mapping_t *mapping,
                        bool print_warnings, bench_query_fn on_query, void *arg,
                        uint64_t *rows_rejected)
{
    source_options_t sopts = {
        .format = format,
        .mapping = mapping,
        .warn = print_warnings ? bench_print_warning : NULL,
    };
    char err[512];
    source_t *src = NULL;
    if (source_open(path, MAPPING_RECORDS, &sopts, &src, err, sizeof(err)) !=
        ECIF_OK) {
        fprintf(stderr, "%s: cannot open the queries: %s\n", tool, err);
        return false;
    }

    bool ok = true;
    for (;;) {
        source_row_t row;
        int rc = source_next(src, &row, err, sizeof(err));
        if (rc == 0)
            break;
        if (rc == ECIF_EINVAL) {
            fprintf(stderr, "%s:%llu: row skipped: %s\n", path,
                    (unsigned long long)row.line, err);
            (*rows_rejected)++;
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "%s: reading %s failed: %s\n", tool, path, err);
            ok = false;
            break;
        }
        if (!on_query(arg, &row)) {
            ok = false;
            break;
        }
    }
    source_close(src);
    return ok;
}

/* ---- Requests ---------------------------------------------------------- */

void bench_record_message_init(Ecif__V1__Record *msg, const ecif_record_t *rec)
{
    ecif__v1__record__init(msg);
    msg->name = (char *)(rec->name ? rec->name : "");
    msg->given_name = (char *)(rec->given_name ? rec->given_name : "");
    msg->family_name = (char *)(rec->family_name ? rec->family_name : "");
    msg->id_type = (char *)(rec->id_type ? rec->id_type : "");
    msg->id_number = (char *)(rec->id_number ? rec->id_number : "");
    msg->dob = (char *)(rec->dob ? rec->dob : "");
    msg->gender = (char *)(rec->gender ? rec->gender : "");
    msg->n_phones = rec->n_phones;
    msg->phones = (char **)rec->phones;
    msg->n_emails = rec->n_emails;
    msg->emails = (char **)rec->emails;
    msg->n_addresses = rec->n_addresses;
    msg->addresses = (char **)rec->addresses;
}

uint8_t *bench_pack_resolve_request(const ecif_record_t *rec,
                                    uint32_t max_candidates, size_t *len)
{
    Ecif__V1__Record record;
    bench_record_message_init(&record, rec);
    Ecif__V1__ResolveRequest req = ECIF__V1__RESOLVE_REQUEST__INIT;
    req.record = &record;
    req.max_candidates = max_candidates;

    *len = protobuf_c_message_get_packed_size(&req.base);
    uint8_t *buf = malloc(*len > 0 ? *len : 1);
    if (buf != NULL)
        protobuf_c_message_pack(&req.base, buf);
    return buf;
}

/* ---- Truth rules ------------------------------------------------------- */

bool bench_subst_split(const char *text, char **regex, char **replacement)
{
    size_t len = strlen(text);
    if (len < 4 || text[0] != 's' || text[1] != '/' || text[len - 1] != '/')
        return false;

    char *parts[2] = {calloc(len, 1), calloc(len, 1)};
    size_t part = 0;
    size_t out = 0;
    bool ok = parts[0] != NULL && parts[1] != NULL;
    for (size_t i = 2; ok && i < len - 1; i++) {
        if (text[i] == '\\' && text[i + 1] == '/' && i + 1 < len - 1) {
            parts[part][out++] = '/';
            i++;
        } else if (text[i] == '/') {
            ok = part == 0; /* a third unescaped '/' is an error */
            part = 1;
            out = 0;
        } else {
            parts[part][out++] = text[i];
        }
    }
    if (!ok || part != 1) {
        free(parts[0]);
        free(parts[1]);
        return false;
    }
    *regex = parts[0];
    *replacement = parts[1];
    return true;
}

bool bench_subst_compile(const char *tool, bench_subst_t *s, const char *regex,
                         const char *replacement)
{
    int rc = regcomp(&s->regex, regex, REG_EXTENDED);
    if (rc != 0) {
        char msg[256];
        regerror(rc, &s->regex, msg, sizeof(msg));
        fprintf(stderr, "%s: invalid truth regex '%s': %s\n", tool, regex, msg);
        return false;
    }
    s->replacement = strdup(replacement);
    if (s->replacement == NULL) {
        regfree(&s->regex);
        fprintf(stderr, "%s: out of memory\n", tool);
        return false;
    }
    return true;
}

bool bench_subst_apply(const bench_subst_t *s, const char *id, char **buf,
                       size_t *cap)
{
    regmatch_t groups[BENCH_SUBST_GROUPS];
    if (regexec(&s->regex, id, BENCH_SUBST_GROUPS, groups, 0) != 0)
        return false;
    size_t id_len = strlen(id);
    if (groups[0].rm_so != 0 || (size_t)groups[0].rm_eo != id_len)
        return false;

    /* A group reference expands to at most the whole id, so size for that. */
    size_t need = strlen(s->replacement) + 1;
    for (const char *p = s->replacement; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '9')
            need += id_len;
    }
    if (need > *cap) {
        char *grown = realloc(*buf, need);
        if (grown == NULL)
            return false;
        *buf = grown;
        *cap = need;
    }

    size_t len = 0;
    for (const char *p = s->replacement; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '9') {
            const regmatch_t *g = &groups[p[1] - '0'];
            if (g->rm_so >= 0) {
                size_t n = (size_t)(g->rm_eo - g->rm_so);
                memcpy(*buf + len, id + g->rm_so, n);
                len += n;
            }
            p++;
        } else {
            (*buf)[len++] = *p;
        }
    }
    (*buf)[len] = '\0';
    return true;
}

void bench_subst_fini(bench_subst_t *s)
{
    if (s->replacement == NULL)
        return;
    regfree(&s->regex);
    free(s->replacement);
    s->replacement = NULL;
}

bool bench_truth_rule_init(const char *tool, bench_truth_rule_t *rule,
                           const char *text)
{
    memset(rule, 0, sizeof(*rule));
    if (strcmp(text, "same") == 0) {
        rule->same = true;
        return true;
    }
    if (strcmp(text, "febrl") == 0)
        return bench_subst_compile(tool, &rule->subst, BENCH_FEBRL_REGEX,
                                   BENCH_FEBRL_REPLACEMENT);

    char *regex = NULL;
    char *replacement = NULL;
    if (!bench_subst_split(text, &regex, &replacement)) {
        fprintf(stderr,
                "%s: invalid --truth '%s': expected febrl, same or "
                "s/REGEX/REPLACEMENT/\n",
                tool, text);
        return false;
    }
    bool ok = bench_subst_compile(tool, &rule->subst, regex, replacement);
    free(regex);
    free(replacement);
    return ok;
}

char *bench_truth_rule_apply(const bench_truth_rule_t *rule, const char *id)
{
    if (rule->same)
        return strdup(id);
    char *buf = NULL;
    size_t cap = 0;
    if (!bench_subst_apply(&rule->subst, id, &buf, &cap)) {
        free(buf);
        return NULL;
    }
    return buf;
}

void bench_truth_rule_fini(bench_truth_rule_t *rule)
{
    bench_subst_fini(&rule->subst);
}

/* ---- Latency ----------------------------------------------------------- */

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int bench_compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

double bench_percentile_us(const uint64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0.0;
    size_t rank = (size_t)ceil(p * (double)n);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)sorted[rank - 1] / 1000.0;
}

bench_latency_t bench_latency_summarize(uint64_t *ns, size_t n)
{
    bench_latency_t sum = {.count = n};
    if (n == 0)
        return sum;
    qsort(ns, n, sizeof(*ns), bench_compare_u64);
    double total = 0.0;
    for (size_t i = 0; i < n; i++)
        total += (double)ns[i];
    sum.p50_us = bench_percentile_us(ns, n, 0.50);
    sum.p90_us = bench_percentile_us(ns, n, 0.90);
    sum.p99_us = bench_percentile_us(ns, n, 0.99);
    sum.max_us = (double)ns[n - 1] / 1000.0;
    sum.mean_us = total / (double)n / 1000.0;
    return sum;
}

double bench_share(uint64_t part, uint64_t whole)
{
    return whole > 0 ? (double)part / (double)whole : 0.0;
}

/* ---- Output ------------------------------------------------------------ */

void bench_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; p != NULL && *p;
         p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

FILE *bench_json_open(const char *tool, const char *path)
{
    FILE *out = fopen(path, "w");
    if (out == NULL)
        fprintf(stderr, "%s: cannot write --json '%s': %s\n", tool, path,
                strerror(errno));
    return out;
}

bool bench_json_close(const char *tool, FILE *out, const char *path)
{
    bool ok = !ferror(out);
    if (fclose(out) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "%s: writing '%s' failed: %s\n", tool, path,
                strerror(errno));
    return ok;
}

void bench_utc_timestamp(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
