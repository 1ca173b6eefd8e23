/*
 * Unit tests of the matching model: the text format (round trip, errors
 * that name their line and value), the clustering threshold, the
 * built-in weights, the probability formula, and the hard conflicts as
 * ecif_compare scores them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "resolve.h"
#include "status.h"
#include "unit.h"

/* Returns the default model as text; the caller frees it. */
static char *default_text(size_t *len)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, len);

    CHECK(out != NULL);
    CHECK_INT(model_write(model_default(), out), ECIF_OK);
    fclose(out);
    return text;
}

static bool contains(const char *haystack, const char *needle)
{
    return strstr(haystack, needle) != NULL;
}

static void test_model_round_trip(void)
{
    size_t len = 0, len2 = 0;
    char *text = default_text(&len);
    ecif_model_t parsed;
    char err[256] = "";

    CHECK_INT(model_parse(text, len, &parsed, err, sizeof(err)), ECIF_OK);
    CHECK_STR(err, "");
    CHECK(memcmp(&parsed, model_default(), sizeof(parsed)) == 0);

    char *again = NULL;
    FILE *out = open_memstream(&again, &len2);
    CHECK_INT(model_write(&parsed, out), ECIF_OK);
    fclose(out);
    CHECK_STR(again, text);
    free(again);
    free(text);
}

static void test_model_round_trip_trained_values(void)
{
    ecif_model_t m = *model_default();
    char err[256];

    /* Values with no short decimal form must survive the text. */
    m.prior = 1.0 / 300.0;
    m.fields[ECIF_FIELD_PHONE].levels[MODEL_PHONE_EXACT].m = 0.1 + 0.2;
    m.fields[ECIF_FIELD_PHONE].levels[MODEL_PHONE_EXACT].u = 1e-3 / 3.0;
    snprintf(m.label, sizeof(m.label), "trained, seed 7");
    CHECK_INT(model_derive(&m, err, sizeof(err)), ECIF_OK);

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    CHECK_INT(model_write(&m, out), ECIF_OK);
    fclose(out);
    ecif_model_t back;
    CHECK_INT(model_parse(text, len, &back, err, sizeof(err)), ECIF_OK);
    CHECK(memcmp(&back, &m, sizeof(m)) == 0);
    CHECK_STR(back.label, "trained, seed 7");
    free(text);
}

/* Replaces the first occurrence of from in the default text with to,
 * parses the result and checks that the error names what it should. */
static void check_error(const char *from, const char *to, const char *want_line,
                        const char *want_value)
{
    size_t len = 0;
    char *text = default_text(&len);
    char *at = strstr(text, from);
    char edited[16384];
    char err[256] = "";
    ecif_model_t m;

    CHECK(at != NULL);
    if (at == NULL) {
        free(text);
        return;
    }
    snprintf(edited, sizeof(edited), "%.*s%s%s", (int)(at - text), text, to,
             at + strlen(from));
    CHECK_INT(model_parse(edited, strlen(edited), &m, err, sizeof(err)),
              ECIF_EINVAL);
    if (!contains(err, want_line) || !contains(err, want_value))
        fprintf(stderr, "error '%s' lacks '%s' or '%s'\n", err, want_line,
                want_value);
    CHECK(contains(err, want_line));
    CHECK(contains(err, want_value));
    free(text);
}

static void test_model_errors_name_line_and_value(void)
{
    /* The default text: line 1 a comment, 2 format, 3 label, 4 prior,
     * 5 match_probability, 6 possible_probability, 7-9 the rules, 10 the
     * first name level, 53 the last level. */
    check_error("format 1", "format 2", "line 2", "'2'");
    check_error("prior 0.0078125", "prior 1.5", "line 4", "'1.5'");
    check_error("prior 0.0078125", "prior abc", "line 4", "prior: 'abc'");
    check_error("hard_conflict_weight -40", "hard_conflict_weight x", "line 7",
                "hard_conflict_weight: 'x'");
    check_error("level name exact exact", "level nom exact exact", "line 10",
                "'nom'");
    check_error("level name exact exact", "level name exakt exact", "line 10",
                "'exakt'");
    check_error("level name exact exact", "level name exact loose", "line 10",
                "'loose'");
    check_error("level name suffix_conflict mismatch weight -40",
                "level name suffix_conflict mismatch m 0.5 u 0.5", "line 26",
                "'m'");
    check_error("level gender mismatch mismatch m 0.125",
                "level gender mismatch mismatch m 0", "line 53", "'0'");
    check_error("label default", "colour blue", "line 3", "'colour'");
    check_error("label default", "prior 0.5", "line 4", "given twice");
    check_error("level gender mismatch mismatch m 0.125 u 0.5\n", "",
                "end of text", "gender.mismatch");
}

static void test_model_thresholds_ordered(void)
{
    size_t len = 0;
    char *text = default_text(&len);
    char *at = strstr(text, "possible_probability ");
    ecif_model_t m;
    char err[256] = "";

    CHECK(at != NULL);
    /* Overwrite the value with one above match_probability. */
    memcpy(at + strlen("possible_probability "), "0.99990000000000000", 19);
    CHECK_INT(model_parse(text, len, &m, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "possible_probability"));
    CHECK(contains(err, "not below"));
    free(text);

    ecif_model_t d = *model_default();
    d.possible_probability = d.match_probability;
    CHECK_INT(model_derive(&d, err, sizeof(err)), ECIF_EINVAL);
}

/* Returns the default text with line inserted after the
 * possible_probability line; the caller frees it. */
static char *default_text_with(const char *line, size_t *len)
{
    char *text = default_text(len);
    char *at = strstr(text, "possible_probability ");
    char *out = NULL;

    CHECK(at != NULL);
    if (at == NULL)
        return text;
    char *eol = strchr(at, '\n') + 1;
    size_t head = (size_t)(eol - text);
    if (asprintf(&out, "%.*s%s\n%s", (int)head, text, line, eol) < 0)
        abort();
    free(text);
    *len = strlen(out);
    return out;
}

static void test_model_cluster_default_is_match(void)
{
    const ecif_model_t *d = model_default();
    size_t len = 0;
    char *text = default_text(&len);

    /* The built-in model is not calibrated, so it clusters at MATCH and
     * its text has no cluster_probability line. */
    CHECK(d->cluster_probability == d->match_probability);
    CHECK(d->cluster_weight == 13.0);
    CHECK(d->cluster_weight == d->match_weight);
    CHECK(!contains(text, "cluster_probability"));
    free(text);
}

static void test_model_cluster_probability_round_trip(void)
{
    size_t len = 0, len2 = 0;
    char *text = default_text_with("cluster_probability 0.5", &len);
    ecif_model_t m;
    char err[256] = "";

    CHECK_INT(model_parse(text, len, &m, err, sizeof(err)), ECIF_OK);
    CHECK_STR(err, "");
    CHECK(m.cluster_probability == 0.5);
    /* P = 0.5 is odds 1, so the weight is minus the prior's log2 odds. */
    CHECK(fabs(m.cluster_weight - log2(127.0)) < 1e-9);
    CHECK(m.cluster_weight < m.possible_weight);
    CHECK(m.match_weight == 13.0);
    CHECK_INT(model_verdict(&m, m.cluster_weight), ECIF_NO_MATCH);

    char *again = NULL;
    FILE *out = open_memstream(&again, &len2);
    CHECK_INT(model_write(&m, out), ECIF_OK);
    fclose(out);
    CHECK(contains(again, "\ncluster_probability 0.5\n"));
    ecif_model_t back;
    CHECK_INT(model_parse(again, len2, &back, err, sizeof(err)), ECIF_OK);
    CHECK(memcmp(&back, &m, sizeof(m)) == 0);
    free(again);
    free(text);
}

static void test_model_cluster_probability_errors(void)
{
    size_t len = 0;
    ecif_model_t m;
    char err[256] = "";

    /* Line 7 is the inserted one. */
    char *text = default_text_with("cluster_probability 2", &len);
    CHECK_INT(model_parse(text, len, &m, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "line 7"));
    CHECK(contains(err, "cluster_probability: '2'"));
    free(text);

    text = default_text_with("cluster_probability 0.5\ncluster_probability 0.6",
                             &len);
    CHECK_INT(model_parse(text, len, &m, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "line 8"));
    CHECK(contains(err, "given twice"));
    free(text);

    /* Clustering above MATCH would leave MATCH pairs in two customers. */
    text = default_text_with("cluster_probability 0.999", &len);
    CHECK_INT(model_parse(text, len, &m, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "cluster_probability 0.999"));
    CHECK(contains(err, "above match_probability"));
    free(text);
}

static void test_model_cluster_threshold_order(void)
{
    ecif_model_t d = *model_default();
    char err[256] = "";

    /* Equal to MATCH and below POSSIBLE_MATCH are both allowed. */
    d.cluster_probability = d.match_probability;
    CHECK_INT(model_derive(&d, err, sizeof(err)), ECIF_OK);
    CHECK(d.cluster_weight == d.match_weight);
    d.cluster_probability = 0.1;
    CHECK_INT(model_derive(&d, err, sizeof(err)), ECIF_OK);
    CHECK(d.cluster_weight < d.possible_weight);
    CHECK(model_lowest_threshold(&d) == d.cluster_weight);

    d.cluster_probability = nextafter(d.match_probability, 1.0);
    CHECK_INT(model_derive(&d, err, sizeof(err)), ECIF_EINVAL);
    d.cluster_probability = 0.0;
    CHECK_INT(model_derive(&d, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "outside (0, 1)"));

    /* A hard conflict must stay below the clustering threshold too: at
     * 1e-4 the threshold is weight -6.3, and a suffix conflict (-40) with
     * every other field agreeing (+36) reaches -4. */
    d.cluster_probability = 1e-4;
    CHECK_INT(model_derive(&d, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "does not outweigh"));
}

static double weight_of(ecif_field_t field, uint32_t level)
{
    return model_default()->fields[field].levels[level].weight;
}

static void test_model_default_weights(void)
{
    const ecif_model_t *m = model_default();

    CHECK(m->match_weight == 13.0);
    CHECK(m->possible_weight == 7.0);
    CHECK(m->hard_conflict_weight == -40.0);
    CHECK(m->frequent_agreement_weight == 0.5);
    CHECK(m->household_contact_weight == 1.0);
    for (int f = 0; f < ECIF_FIELD_COUNT; f++)
        CHECK(weight_of((ecif_field_t)f, 0) == 0.0);

    CHECK(weight_of(ECIF_FIELD_NAME, MODEL_NAME_EXACT) == 7.5);
    CHECK(weight_of(ECIF_FIELD_NAME, MODEL_NAME_HOMOPHONE_SAME_FAMILY) == 6.0);
    CHECK(weight_of(ECIF_FIELD_NAME, MODEL_NAME_HOMOPHONE_OTHER_FAMILY) == 2.0);
    CHECK(weight_of(ECIF_FIELD_NAME, MODEL_NAME_PINYIN_KEY) == 7.0);
    CHECK(weight_of(ECIF_FIELD_NAME, MODEL_NAME_GIVEN_DIFFERS) == -3.5);
    CHECK(weight_of(ECIF_FIELD_NAME, MODEL_NAME_MISMATCH) == -5.5);
    CHECK(weight_of(ECIF_FIELD_NAME, MODEL_NAME_SUFFIX_CONFLICT) == -40.0);
    CHECK(weight_of(ECIF_FIELD_ID_NUMBER, MODEL_ID_EXACT_VALID_RESIDENT) ==
          12.0);
    CHECK(weight_of(ECIF_FIELD_ID_NUMBER, MODEL_ID_EXACT) == 10.0);
    CHECK(weight_of(ECIF_FIELD_ID_NUMBER, MODEL_ID_EXACT_SUSPECT) == 2.0);
    CHECK(weight_of(ECIF_FIELD_ID_NUMBER, MODEL_ID_ONE_EDIT) == 4.0);
    CHECK(weight_of(ECIF_FIELD_ID_NUMBER, MODEL_ID_MISMATCH) == -6.0);
    CHECK(weight_of(ECIF_FIELD_ID_NUMBER, MODEL_ID_CONFLICT) == -40.0);
    CHECK(weight_of(ECIF_FIELD_PHONE, MODEL_PHONE_EXACT) == 6.0);
    CHECK(weight_of(ECIF_FIELD_PHONE, MODEL_PHONE_LAST_8_DIGITS) == 2.0);
    CHECK(weight_of(ECIF_FIELD_EMAIL, MODEL_EMAIL_MISMATCH) == -0.5);
    CHECK(weight_of(ECIF_FIELD_ADDRESS, MODEL_ADDRESS_PARTIAL) == 0.5);
    CHECK(weight_of(ECIF_FIELD_DOB, MODEL_DOB_EXACT) == 6.5);
    CHECK(weight_of(ECIF_FIELD_DOB, MODEL_DOB_SAME_YEAR) == -2.5);
    CHECK(weight_of(ECIF_FIELD_DOB, MODEL_DOB_TWO_PARTS) == -2.5);
    CHECK(weight_of(ECIF_FIELD_DOB, MODEL_DOB_MISMATCH) == -4.0);
    CHECK(weight_of(ECIF_FIELD_GENDER, MODEL_GENDER_MISMATCH) == -2.0);
}

static void test_model_probability_formula(void)
{
    const ecif_model_t *m = model_default();

    /* prior 1/128: odds 1/127, so P(w) = 2^w / (2^w + 127). */
    CHECK(fabs(model_probability(m, 0.0) - 1.0 / 128.0) < 1e-15);
    CHECK(fabs(model_probability(m, 7.0) - 128.0 / 255.0) < 1e-15);
    CHECK(fabs(model_probability(m, 13.0) - 8192.0 / 8319.0) < 1e-15);
    CHECK(fabs(m->possible_probability - 128.0 / 255.0) < 1e-15);

    double last = 0.0;
    for (double w = -60.0; w <= 60.0; w += 0.25) {
        double p = model_probability(m, w);
        CHECK(p >= last);
        CHECK(p >= 0.0);
        CHECK(p <= 1.0);
        last = p;
    }
    CHECK_INT(model_verdict(m, 13.0), ECIF_MATCH);
    CHECK_INT(model_verdict(m, 12.999), ECIF_POSSIBLE_MATCH);
    CHECK_INT(model_verdict(m, 7.0), ECIF_POSSIBLE_MATCH);
    CHECK_INT(model_verdict(m, 6.999), ECIF_NO_MATCH);
}

static void test_model_rejects_weak_conflict(void)
{
    ecif_model_t m = *model_default();
    char err[256] = "";

    /* A fixed level above hard_conflict_weight is no hard conflict. */
    m.fields[ECIF_FIELD_ID_NUMBER].levels[MODEL_ID_CONFLICT].weight = -10.0;
    CHECK_INT(model_derive(&m, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "id_number.conflict"));

    /* A hard conflict that agreement elsewhere can outweigh. */
    m = *model_default();
    m.hard_conflict_weight = -20.0;
    m.fields[ECIF_FIELD_ID_NUMBER].levels[MODEL_ID_CONFLICT].weight = -20.0;
    m.fields[ECIF_FIELD_NAME].levels[MODEL_NAME_SUFFIX_CONFLICT].weight = -20.0;
    CHECK_INT(model_derive(&m, err, sizeof(err)), ECIF_EINVAL);
    CHECK(contains(err, "does not outweigh"));
}

static void compare(const ecif_record_t *a, const ecif_record_t *b,
                    double *score, ecif_verdict_t *verdict,
                    ecif_evidence_t ev[ECIF_FIELD_COUNT])
{
    ecif_compare(model_default(), a, b, score, verdict, ev);
}

static void test_conflict_suffix(void)
{
    ecif_record_t jr = {.name = "John Smith Jr",
                        .dob = "1980-01-02",
                        .phones = {"+1 415 555 0100"},
                        .n_phones = 1};
    ecif_record_t sr = jr;
    sr.name = "John Smith Sr";
    ecif_evidence_t ev[ECIF_FIELD_COUNT];
    double score;
    ecif_verdict_t verdict;

    compare(&jr, &sr, &score, &verdict, ev);
    CHECK_STR(ev[ECIF_FIELD_NAME].detail, "suffix_conflict");
    CHECK(ev[ECIF_FIELD_NAME].weight == -40.0);
    CHECK_INT(verdict, ECIF_NO_MATCH);
}

static void test_conflict_two_valid_resident_ids(void)
{
    ecif_record_t a = {.name = "张伟",
                       .id_type = "resident_id",
                       .id_number = "110105198001020011",
                       .dob = "1980-01-02"};
    ecif_record_t b = a;
    b.id_number = "11010519800102002X";
    ecif_evidence_t ev[ECIF_FIELD_COUNT];
    double score;
    ecif_verdict_t verdict;

    compare(&a, &b, &score, &verdict, ev);
    CHECK_STR(ev[ECIF_FIELD_ID_NUMBER].detail, "conflict");
    CHECK(ev[ECIF_FIELD_ID_NUMBER].weight == -40.0);
    CHECK_INT(verdict, ECIF_NO_MATCH);

    compare(&a, &a, &score, &verdict, ev);
    CHECK_STR(ev[ECIF_FIELD_ID_NUMBER].detail, "exact_valid_resident");
    CHECK_INT(verdict, ECIF_MATCH);
}

static void test_dob_impossible_gap(void)
{
    ecif_record_t a = {
        .given_name = "Mary", .family_name = "Jones", .dob = "1950-03-04"};
    ecif_record_t b = a;
    ecif_evidence_t ev[ECIF_FIELD_COUNT];
    double score;
    ecif_verdict_t verdict;

    b.dob = "1978-11-20"; /* 28 years apart, no typing slip */
    compare(&a, &b, &score, &verdict, ev);
    CHECK_STR(ev[ECIF_FIELD_DOB].detail, "impossible_gap");
    CHECK(ev[ECIF_FIELD_DOB].weight ==
          weight_of(ECIF_FIELD_DOB, MODEL_DOB_IMPOSSIBLE_GAP));

    b.dob = "1960-11-20"; /* ten years apart: an ordinary mismatch */
    compare(&a, &b, &score, &verdict, ev);
    CHECK_STR(ev[ECIF_FIELD_DOB].detail, "mismatch");

    b.dob = "1980-03-04"; /* one digit of the year: a typing slip */
    compare(&a, &b, &score, &verdict, ev);
    CHECK_STR(ev[ECIF_FIELD_DOB].detail, "one_digit");

    /* A trained model may weigh the gap apart from a mismatch. */
    ecif_model_t trained = *model_default();
    char err[256];
    model_level_t *gap =
        &trained.fields[ECIF_FIELD_DOB].levels[MODEL_DOB_IMPOSSIBLE_GAP];
    gap->m = 0.001;
    gap->u = 0.256;
    CHECK_INT(model_derive(&trained, err, sizeof(err)), ECIF_OK);
    CHECK(gap->weight == -8.0);
    b.dob = "1978-11-20";
    ecif_compare(&trained, &a, &b, &score, &verdict, ev);
    CHECK(ev[ECIF_FIELD_DOB].weight == -8.0);
}

/* A father and a son of one name at one phone and address: the contacts
 * count as a household's, so the pair is not a MATCH. */
static void test_generation_gap_household(void)
{
    ecif_record_t a = {.given_name = "Jianguo",
                       .family_name = "Wang",
                       .phones = {"13912345678"},
                       .n_phones = 1,
                       .addresses = {"88 Jianguo Road"},
                       .n_addresses = 1,
                       .dob = "1960-03-15",
                       .gender = "M"};
    ecif_record_t b = a;
    ecif_evidence_t ev[ECIF_FIELD_COUNT];
    double score;
    ecif_verdict_t verdict;

    b.dob = "1988-07-22";
    compare(&a, &b, &score, &verdict, ev);
    CHECK_STR(ev[ECIF_FIELD_DOB].detail, "impossible_gap");
    CHECK(ev[ECIF_FIELD_PHONE].weight == 1.0);
    CHECK(ev[ECIF_FIELD_ADDRESS].weight == 1.0);
    CHECK(verdict != ECIF_MATCH);

    b.dob = "1988-01-01"; /* with a default birthday on both */
    a.dob = "1960-01-01";
    compare(&a, &b, &score, &verdict, ev);
    CHECK(verdict != ECIF_MATCH);

    a.dob = "1960-03-15";
    b.dob = "1988-03-15"; /* born on the father's day of the year */
    compare(&a, &b, &score, &verdict, ev);
    CHECK_STR(ev[ECIF_FIELD_DOB].detail, "impossible_gap");
    CHECK(verdict != ECIF_MATCH);
    a.n_phones = 0;
    a.n_addresses = 0;
    compare(&a, &b, &score, &verdict, ev);
    CHECK_STR(ev[ECIF_FIELD_DOB].detail, "two_parts"); /* no household */
    a.n_phones = 1;
    a.n_addresses = 1;

    b.dob = "1961-03-15"; /* a year off by one keeps the contacts */
    a.dob = "1960-03-15";
    compare(&a, &b, &score, &verdict, ev);
    CHECK(ev[ECIF_FIELD_PHONE].weight == 6.0);
    CHECK_INT(verdict, ECIF_MATCH);
}

/* Two of year, month and day agreeing is its own level, however far
 * apart the years, and a lone year is not. */
static void test_dob_two_parts(void)
{
    ecif_record_t a = {
        .given_name = "Mary", .family_name = "Jones", .dob = "1950-03-04"};
    ecif_record_t b = a;
    ecif_evidence_t ev[ECIF_FIELD_COUNT];
    double score;
    ecif_verdict_t verdict;
    static const char *const two[] = {
        "1981-03-04", /* month and day, 31 years apart */
        "1950-03-29", /* year and month */
        "1950-11-04", /* year and day */
    };

    for (size_t i = 0; i < sizeof(two) / sizeof(two[0]); i++) {
        b.dob = two[i];
        compare(&a, &b, &score, &verdict, ev);
        CHECK_STR(ev[ECIF_FIELD_DOB].detail, "two_parts");
    }
    b.dob = "1950-11-20";
    compare(&a, &b, &score, &verdict, ev);
    CHECK_STR(ev[ECIF_FIELD_DOB].detail, "same_year");

    /* January 1 is a default, not a shared birthday. */
    a.dob = "1960-01-01";
    b.dob = "1988-01-01";
    compare(&a, &b, &score, &verdict, ev);
    CHECK_STR(ev[ECIF_FIELD_DOB].detail, "impossible_gap");
    b.dob = "1953-01-01";
    compare(&a, &b, &score, &verdict, ev);
    CHECK_STR(ev[ECIF_FIELD_DOB].detail, "mismatch");
    b.dob = "1960-01-25"; /* the year agrees: still two parts */
    compare(&a, &b, &score, &verdict, ev);
    CHECK_STR(ev[ECIF_FIELD_DOB].detail, "two_parts");
    a.dob = "1950-03-04";
    b.dob = "1949-03-04"; /* a year off by one is more specific */
    compare(&a, &b, &score, &verdict, ev);
    CHECK_STR(ev[ECIF_FIELD_DOB].detail, "year_off_by_one");
}

/* Writes the default text padded with comment lines to size bytes into a
 * temporary file and loads it. Returns the status of model_load. */
static int load_padded_default(size_t size, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = default_text(&len);
    char path[] = "/tmp/ecif-test-model-XXXXXX";
    int fd = mkstemp(path);
    ecif_model_t loaded;

    CHECK(fd >= 0);
    CHECK(len + 2 <= size);
    FILE *f = fdopen(fd, "w");
    CHECK(f != NULL);
    fwrite(text, 1, len, f);
    for (size_t left = size - len; left > 0;) {
        size_t line = left > 100 ? 100 : left;
        fputc('#', f);
        for (size_t i = 2; i < line; i++)
            fputc('x', f);
        if (line > 1)
            fputc('\n', f);
        left -= line;
    }
    CHECK_INT(fclose(f), 0);

    int rc = model_load(path, &loaded, err, errlen);
    unlink(path);
    free(text);
    return rc;
}

static void test_model_load_size_limit(void)
{
    char err[512] = "";

    CHECK_INT(load_padded_default(MODEL_TEXT_MAX, err, sizeof(err)), ECIF_OK);
    CHECK_INT(load_padded_default(MODEL_TEXT_MAX + 1, err, sizeof(err)),
              ECIF_EINVAL);
    CHECK(contains(err, "longer than"));
}

int main(void)
{
    RUN(test_model_round_trip);
    RUN(test_model_round_trip_trained_values);
    RUN(test_model_errors_name_line_and_value);
    RUN(test_model_thresholds_ordered);
    RUN(test_model_cluster_default_is_match);
    RUN(test_model_cluster_probability_round_trip);
    RUN(test_model_cluster_probability_errors);
    RUN(test_model_cluster_threshold_order);
    RUN(test_model_default_weights);
    RUN(test_model_probability_formula);
    RUN(test_model_rejects_weak_conflict);
    RUN(test_conflict_suffix);
    RUN(test_conflict_two_valid_resident_ids);
    RUN(test_dob_impossible_gap);
    RUN(test_dob_two_parts);
    RUN(test_generation_gap_household);
    RUN(test_model_load_size_limit);
    return unit_report();
}
