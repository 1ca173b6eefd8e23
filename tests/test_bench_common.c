/*
 * Tests of the code shared by the bench tools (bench/bench_common.c):
 * option parsing, source_id truth rules, request packing, nearest-rank
 * percentiles and JSON strings. Error cases print their message to
 * stderr, as the tools do.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "unit.h"

static void test_parse_u32_accepts_range(void)
{
    uint32_t v = 0;
    CHECK(bench_parse_u32("test", "--k", "1", 1, 64, &v));
    CHECK_INT(v, 1);
    CHECK(bench_parse_u32("test", "--k", "64", 1, 64, &v));
    CHECK_INT(v, 64);
    CHECK(bench_parse_u32("test", "--k", "4294967295", 0, UINT32_MAX, &v));
    CHECK_INT(v, UINT32_MAX);
}

static void test_parse_u32_rejects_invalid(void)
{
    static const char *const bad[] = {
        "", "0", "65", "-1", "5x", "x5", "1.5", "99999999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t v = 7;
        bool ok = bench_parse_u32("test", "--k", bad[i], 1, 64, &v);
        if (ok)
            fprintf(stderr, "invalid text '%s' was accepted\n", bad[i]);
        CHECK(!ok);
        CHECK_INT(v, 7);
    }
}

static void test_parse_format_values(void)
{
    source_format_t f = SOURCE_FORMAT_AUTO;
    CHECK(bench_parse_format("test", "csv", &f));
    CHECK_INT(f, SOURCE_FORMAT_CSV);
    CHECK(bench_parse_format("test", "jsonl", &f));
    CHECK_INT(f, SOURCE_FORMAT_JSONL);
    CHECK(!bench_parse_format("test", "CSV", &f));
    CHECK(!bench_parse_format("test", "xml", &f));
    CHECK_INT(f, SOURCE_FORMAT_JSONL);
}

static void test_subst_split_forms(void)
{
    char *regex = NULL;
    char *replacement = NULL;
    CHECK(bench_subst_split("s/a(b)/x\\1/", &regex, &replacement));
    CHECK_STR(regex, "a(b)");
    CHECK_STR(replacement, "x\\1");
    free(regex);
    free(replacement);

    CHECK(bench_subst_split("s/a\\/b/c\\/d/", &regex, &replacement));
    CHECK_STR(regex, "a/b");
    CHECK_STR(replacement, "c/d");
    free(regex);
    free(replacement);

    CHECK(bench_subst_split("s/x//", &regex, &replacement));
    CHECK_STR(regex, "x");
    CHECK_STR(replacement, "");
    free(regex);
    free(replacement);
}

static void test_subst_split_rejects(void)
{
    static const char *const bad[] = {
        "", "s//", "s/a/", "s/a/b", "x/a/b/", "s/a/b/c/", "febrl",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *regex = NULL;
        char *replacement = NULL;
        CHECK(!bench_subst_split(bad[i], &regex, &replacement));
        CHECK(regex == NULL);
        CHECK(replacement == NULL);
    }
}

static void test_truth_rule_febrl(void)
{
    bench_truth_rule_t rule;
    CHECK(bench_truth_rule_init("test", &rule, "febrl"));
    char *id = bench_truth_rule_apply(&rule, "rec-123-dup-4");
    CHECK_STR(id, "rec-123-org");
    free(id);
    /* The rule must match the whole id. */
    CHECK(bench_truth_rule_apply(&rule, "rec-123-org") == NULL);
    CHECK(bench_truth_rule_apply(&rule, "xrec-1-dup-0") == NULL);
    CHECK(bench_truth_rule_apply(&rule, "rec-1-dup-0x") == NULL);
    bench_truth_rule_fini(&rule);
}

static void test_truth_rule_same(void)
{
    bench_truth_rule_t rule;
    CHECK(bench_truth_rule_init("test", &rule, "same"));
    char *id = bench_truth_rule_apply(&rule, "C-42");
    CHECK_STR(id, "C-42");
    free(id);
    bench_truth_rule_fini(&rule);
}

static void test_truth_rule_groups(void)
{
    bench_truth_rule_t rule;
    CHECK(bench_truth_rule_init("test", &rule,
                                "s/^(a+)(b+)(c)?$/\\2-\\1-\\3-\\0/"));
    char *id = bench_truth_rule_apply(&rule, "aabbb");
    /* Group 3 did not take part in the match, so it expands to nothing. */
    CHECK_STR(id, "bbb-aa--aabbb");
    free(id);
    id = bench_truth_rule_apply(&rule, "abc");
    CHECK_STR(id, "b-a-c-abc");
    free(id);
    bench_truth_rule_fini(&rule);
}

static void test_truth_rule_rejects(void)
{
    bench_truth_rule_t rule;
    CHECK(!bench_truth_rule_init("test", &rule, "nope"));
    bench_truth_rule_fini(&rule);
    CHECK(!bench_truth_rule_init("test", &rule, "s/a(/x/"));
    bench_truth_rule_fini(&rule);
}

static void test_subst_apply_grows_buffer(void)
{
    bench_subst_t s = {0};
    CHECK(bench_subst_compile("test", &s, "^(.*)$", "\\1\\1"));
    char *buf = NULL;
    size_t cap = 0;
    CHECK(bench_subst_apply(&s, "ab", &buf, &cap));
    CHECK_STR(buf, "abab");
    char long_id[301];
    memset(long_id, 'z', 300);
    long_id[300] = '\0';
    CHECK(bench_subst_apply(&s, long_id, &buf, &cap));
    CHECK_INT(strlen(buf), 600);
    CHECK(cap >= 601);
    CHECK(bench_subst_apply(&s, "c", &buf, &cap));
    CHECK_STR(buf, "cc");
    free(buf);
    bench_subst_fini(&s);
    /* A second fini of the same substitution does nothing. */
    bench_subst_fini(&s);
}

static void test_pack_leaves_out_source_keys(void)
{
    ecif_record_t rec = {
        .source_system = "CRM",
        .source_id = "rec-1-dup-0",
        .given_name = "Ann",
        .family_name = "Lee",
        .dob = "19800102",
        .phones = {"0412", "0413"},
        .n_phones = 2,
    };
    size_t len = 0;
    uint8_t *bytes = bench_pack_resolve_request(&rec, 7, &len);
    CHECK(bytes != NULL);
    Ecif__V1__ResolveRequest *req =
        ecif__v1__resolve_request__unpack(NULL, len, bytes);
    CHECK(req != NULL);
    if (req != NULL) {
        CHECK_INT(req->max_candidates, 7);
        CHECK(req->record != NULL);
        CHECK_STR(req->record->given_name, "Ann");
        CHECK_STR(req->record->family_name, "Lee");
        CHECK_STR(req->record->dob, "19800102");
        CHECK_STR(req->record->name, "");
        CHECK_STR(req->record->source_system, "");
        CHECK_STR(req->record->source_id, "");
        CHECK_INT(req->record->n_phones, 2);
        CHECK_STR(req->record->phones[1], "0413");
        ecif__v1__resolve_request__free_unpacked(req, NULL);
    }
    free(bytes);
}

static void test_percentile_nearest_rank(void)
{
    uint64_t ns[100];
    for (size_t i = 0; i < 100; i++)
        ns[i] = (uint64_t)(i + 1) * 1000; /* 1 to 100 us */
    CHECK(bench_percentile_us(ns, 100, 0.50) == 50.0);
    CHECK(bench_percentile_us(ns, 100, 0.90) == 90.0);
    CHECK(bench_percentile_us(ns, 100, 0.99) == 99.0);
    CHECK(bench_percentile_us(ns, 100, 1.0) == 100.0);
    CHECK(bench_percentile_us(ns, 100, 0.001) == 1.0);
    /* Nearest rank of 3 samples at p50 is the 2nd, at p90 the 3rd. */
    CHECK(bench_percentile_us(ns, 3, 0.50) == 2.0);
    CHECK(bench_percentile_us(ns, 3, 0.90) == 3.0);
    CHECK(bench_percentile_us(ns, 0, 0.50) == 0.0);
}

static void test_latency_summarize_sorts(void)
{
    uint64_t ns[] = {4000, 1000, 3000, 2000};
    bench_latency_t s = bench_latency_summarize(ns, 4);
    CHECK_INT(s.count, 4);
    CHECK_INT(ns[0], 1000);
    CHECK_INT(ns[3], 4000);
    CHECK(s.p50_us == 2.0);
    CHECK(s.p90_us == 4.0);
    CHECK(s.p99_us == 4.0);
    CHECK(s.max_us == 4.0);
    CHECK(s.mean_us == 2.5);

    bench_latency_t empty = bench_latency_summarize(ns, 0);
    CHECK_INT(empty.count, 0);
    CHECK(empty.p50_us == 0.0);
    CHECK(empty.max_us == 0.0);
    CHECK(empty.mean_us == 0.0);
}

static void test_share_zero_whole(void)
{
    CHECK(bench_share(1, 4) == 0.25);
    CHECK(bench_share(0, 0) == 0.0);
    CHECK(bench_share(3, 0) == 0.0);
}

/* Returns what bench_json_string writes for s (malloc'd). */
static char *json_of(const char *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (out == NULL)
        return NULL;
    bench_json_string(out, s);
    fclose(out);
    return text;
}

static void test_json_string_escapes(void)
{
    char *text = json_of("a\"b\\c\nd\x01");
    CHECK_STR(text, "\"a\\\"b\\\\c\\u000ad\\u0001\"");
    free(text);
    text = json_of("\xe5\xbc\xa0 ok");
    CHECK_STR(text, "\"\xe5\xbc\xa0 ok\"");
    free(text);
    text = json_of(NULL);
    CHECK_STR(text, "\"\"");
    free(text);
}

int main(void)
{
    RUN(test_parse_u32_accepts_range);
    RUN(test_parse_u32_rejects_invalid);
    RUN(test_parse_format_values);
    RUN(test_subst_split_forms);
    RUN(test_subst_split_rejects);
    RUN(test_truth_rule_febrl);
    RUN(test_truth_rule_same);
    RUN(test_truth_rule_groups);
    RUN(test_truth_rule_rejects);
    RUN(test_subst_apply_grows_buffer);
    RUN(test_pack_leaves_out_source_keys);
    RUN(test_percentile_nearest_rank);
    RUN(test_latency_summarize_sorts);
    RUN(test_share_zero_whole);
    RUN(test_json_string_escapes);
    return unit_report();
}
