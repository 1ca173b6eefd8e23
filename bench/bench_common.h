/*
 * Code shared by the bench tools (resolve_bench, evaluate, loadgen,
 * pg_resolve_bench): option parsing, reading query files, source_id truth
 * rules, request packing and latency summaries.
 *
 * Functions that can fail print their error to stderr themselves, prefixed
 * with the `tool` name the caller passes, and return false. That keeps the
 * messages of every tool in one form: "TOOL: invalid --x 'v': expected ...".
 */
#ifndef ECIF_BENCH_COMMON_H
#define ECIF_BENCH_COMMON_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ecif/v1/customer_index.pb-c.h"
#include "mapping.h"
#include "record.h"
#include "source.h"

/* ---- Options ----------------------------------------------------------- */

/*
 * Parses a decimal integer in [min, max] into *out. Rejects an empty text,
 * a leading '-' and trailing characters. On error prints "TOOL: invalid OPTION
 * 'TEXT': expected an integer from MIN to MAX" and leaves *out unchanged.
 */
bool bench_parse_u32(const char *tool, const char *option, const char *text,
                     uint32_t min, uint32_t max, uint32_t *out);

/* Parses a --format value, "csv" or "jsonl". Other text is an error. */
bool bench_parse_format(const char *tool, const char *text,
                        source_format_t *out);

/*
 * Loads the column mapping at path into *out (the caller destroys it with
 * mapping_destroy). A NULL path sets *out to NULL, which the source
 * reader takes as the canonical layout. Returns false after printing the
 * error, with *out NULL.
 */
bool bench_load_mapping(const char *tool, const char *path, mapping_t **out);

/* ---- Query files ------------------------------------------------------- */

/*
 * A source_options_t.warn callback that prints "PATH: warning: MESSAGE"
 * to stderr.
 */
void bench_print_warning(void *arg, const char *path, const char *message);

/*
 * Callback that receives one query row. It prints its own error and returns
 * false to stop the reading.
 */
typedef bool (*bench_query_fn)(void *arg, const source_row_t *row);

/*
 * Reads every record of the query file at path with the import reader and
 * calls on_query for each. A row the reader rejects is printed as
 * "PATH:LINE: row skipped: REASON", counted in *rows_rejected and skipped.
 * With print_warnings, the reader's per-file warnings (such as unused
 * columns) go to stderr, and without it they are dropped. Returns false when
 * the file cannot be opened or read, or when on_query returns false.
 */
bool bench_read_queries(const char *tool, const char *path,
                        source_format_t format, const mapping_t *mapping,
                        bool print_warnings, bench_query_fn on_query, void *arg,
                        uint64_t *rows_rejected);

/* ---- Requests ---------------------------------------------------------- */

/*
 * Points msg at the fields of rec, without its source_system and
 * source_id, because a source_id such as Febrl's rec_id reveals the true
 * match. msg borrows rec's strings, so it is valid only while rec is.
 */
void bench_record_message_init(Ecif__V1__Record *msg, const ecif_record_t *rec);

/*
 * Packs a ResolveRequest for rec (as bench_record_message_init sends it)
 * asking for max_candidates candidates. Returns the malloc'd bytes and
 * their count in *len, or NULL when memory runs out.
 */
uint8_t *bench_pack_resolve_request(const ecif_record_t *rec,
                                    uint32_t max_candidates, size_t *len);

/* ---- Truth rules ------------------------------------------------------- */

/*
 * Substitution on a source_id: a POSIX extended regex that must match the
 * whole id, and a replacement in which \0 to \9 refer to the regex's groups.
 */
typedef struct bench_subst {
    regex_t regex;
    char *replacement; /* NULL until compiled */
} bench_subst_t;

/*
 * Splits "s/REGEX/REPLACEMENT/" into two malloc'd strings, where "\/" is a '/'
 * in either part. Returns false, with nothing allocated, when text has
 * another form or memory runs out.
 */
bool bench_subst_split(const char *text, char **regex, char **replacement);

/*
 * Compiles regex with REG_EXTENDED and copies replacement into *s. On
 * error prints "TOOL: invalid truth regex 'REGEX': REASON" or "TOOL: out of
 * memory", and leaves *s unset.
 */
bool bench_subst_compile(const char *tool, bench_subst_t *s, const char *regex,
                         const char *replacement);

/*
 * Writes the substitution of id into *buf, a malloc'd buffer of *cap bytes
 * that grows as needed (NULL and 0 to start, freed by the caller). Returns
 * false when the regex does not match the whole id or memory runs out.
 */
bool bench_subst_apply(const bench_subst_t *s, const char *id, char **buf,
                       size_t *cap);

/* Frees a compiled substitution. A zeroed one is left alone. */
void bench_subst_fini(bench_subst_t *s);

/*
 * Rule that maps a query's source_id to the source_id of its true record:
 * the same id ("same"), the Febrl rule ("febrl", which maps rec-N-dup-K to
 * rec-N-org) or a substitution "s/REGEX/REPLACEMENT/".
 */
typedef struct bench_truth_rule {
    bool same;
    bench_subst_t subst;
} bench_truth_rule_t;

/*
 * Parses a --truth rule into *rule. On error prints the reason and
 * returns false, and *rule is then safe to pass to bench_truth_rule_fini.
 */
bool bench_truth_rule_init(const char *tool, bench_truth_rule_t *rule,
                           const char *text);

/*
 * Returns the true source_id for a query's source_id (malloc'd), or NULL
 * when the rule does not match the whole id or memory runs out.
 */
char *bench_truth_rule_apply(const bench_truth_rule_t *rule, const char *id);

/* Frees the rule's compiled substitution, if any. */
void bench_truth_rule_fini(bench_truth_rule_t *rule);

/* ---- Latency ----------------------------------------------------------- */

/* Summary of latency samples, in microseconds. */
typedef struct bench_latency {
    size_t count;
    double p50_us;
    double p90_us;
    double p99_us;
    double max_us;
    double mean_us;
} bench_latency_t;

/* Returns CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* A qsort comparator of uint64_t values, ascending. */
int bench_compare_u64(const void *a, const void *b);

/*
 * Returns the nearest-rank percentile p (0 < p <= 1) of n sorted samples
 * in nanoseconds, converted to microseconds, or 0 when n is 0.
 */
double bench_percentile_us(const uint64_t *sorted, size_t n, double p);

/*
 * Sorts the n samples of ns (nanoseconds) in place and returns their
 * nearest-rank p50, p90 and p99, maximum and mean in microseconds. All
 * figures are 0 when n is 0.
 */
bench_latency_t bench_latency_summarize(uint64_t *ns, size_t n);

/* Returns part / whole, or 0 when whole is 0. */
double bench_share(uint64_t part, uint64_t whole);

/* ---- Output ------------------------------------------------------------ */

/*
 * Writes s as a JSON string: '"' and '\\' escaped, control characters as
 * \u00XX, other bytes (UTF-8 included) as they are. NULL writes "".
 */
void bench_json_string(FILE *out, const char *s);

/*
 * Opens path for writing a --json report. Returns NULL after printing
 * "TOOL: cannot write --json 'PATH': REASON".
 */
FILE *bench_json_open(const char *tool, const char *path);

/*
 * Closes a report opened by bench_json_open. Returns false after printing
 * "TOOL: writing 'PATH' failed: REASON" when a write or the close failed.
 */
bool bench_json_close(const char *tool, FILE *out, const char *path);

/* Writes the current UTC time as YYYY-MM-DDTHH:MM:SSZ into buf. */
void bench_utc_timestamp(char *buf, size_t len);

#endif
