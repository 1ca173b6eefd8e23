/*
 * Unit tests of the Explain summary and hard-conflict test, and of the
 * property the summary relies on: ecif_compare's evidence weights add up
 * to its score.
 */
#include <math.h>
#include <string.h>

#include "explain.h"
#include "model.h"
#include "resolve.h"
#include "unit.h"

static void set(ecif_evidence_t ev[ECIF_FIELD_COUNT], ecif_field_t field,
                ecif_level_t level, double weight)
{
    ev[field].level = level;
    ev[field].weight = weight;
}

static void test_summary_orders_by_weight(void)
{
    ecif_evidence_t ev[ECIF_FIELD_COUNT] = {{0}};
    set(ev, ECIF_FIELD_NAME, ECIF_LEVEL_PHONETIC, 7.0);
    set(ev, ECIF_FIELD_ID_NUMBER, ECIF_LEVEL_EXACT, 12.0);
    set(ev, ECIF_FIELD_PHONE, ECIF_LEVEL_EXACT, 6.0);
    set(ev, ECIF_FIELD_DOB, ECIF_LEVEL_MISMATCH, -4.0);
    set(ev, ECIF_FIELD_GENDER, ECIF_LEVEL_MISMATCH, -2.0);
    char out[ECIF_EXPLAIN_SUMMARY_MAX];
    size_t len = ecif_explain_summary(ECIF_MATCH, ev, out, sizeof(out));
    CHECK_STR(out, "MATCH: id_number exact (+12.0), name phonetic (+7.0), "
                   "phone exact (+6.0); dob mismatch (-4.0), "
                   "gender mismatch (-2.0)");
    CHECK_INT(len, strlen(out));
}

static void test_summary_one_sign_only(void)
{
    ecif_evidence_t ev[ECIF_FIELD_COUNT] = {{0}};
    set(ev, ECIF_FIELD_EMAIL, ECIF_LEVEL_EXACT, 6.0);
    char out[ECIF_EXPLAIN_SUMMARY_MAX];
    ecif_explain_summary(ECIF_POSSIBLE_MATCH, ev, out, sizeof(out));
    CHECK_STR(out, "POSSIBLE_MATCH: email exact (+6.0)");

    memset(ev, 0, sizeof(ev));
    set(ev, ECIF_FIELD_ID_NUMBER, ECIF_LEVEL_MISMATCH, -40.0);
    ecif_explain_summary(ECIF_NO_MATCH, ev, out, sizeof(out));
    CHECK_STR(out, "NO_MATCH: id_number mismatch (-40.0)");

    memset(ev, 0, sizeof(ev));
    ecif_explain_summary(ECIF_NO_MATCH, ev, out, sizeof(out));
    CHECK_STR(out, "NO_MATCH: no field has a value on both sides");
}

static void test_summary_cut_to_buffer(void)
{
    ecif_evidence_t ev[ECIF_FIELD_COUNT] = {{0}};
    set(ev, ECIF_FIELD_ID_NUMBER, ECIF_LEVEL_EXACT, 12.0);
    set(ev, ECIF_FIELD_DOB, ECIF_LEVEL_MISMATCH, -4.0);
    char out[16];
    memset(out, 'x', sizeof(out));
    size_t len = ecif_explain_summary(ECIF_MATCH, ev, out, sizeof(out));
    CHECK_INT(len, sizeof(out) - 1);
    CHECK_STR(out, "MATCH: id_numbe");
}

static void test_conflict_threshold(void)
{
    ecif_evidence_t ev[ECIF_FIELD_COUNT] = {{0}};
    set(ev, ECIF_FIELD_DOB, ECIF_LEVEL_MISMATCH, -4.0);
    CHECK(!ecif_explain_has_conflict(ev));
    set(ev, ECIF_FIELD_NAME, ECIF_LEVEL_MISMATCH, -20.0);
    CHECK(ecif_explain_has_conflict(ev));
}

static double evidence_sum(const ecif_evidence_t ev[ECIF_FIELD_COUNT])
{
    double sum = 0.0;
    for (int f = 0; f < ECIF_FIELD_COUNT; f++)
        sum += ev[f].weight;
    return sum;
}

static void test_compare_weights_sum_to_score(void)
{
    ecif_record_t a = {0};
    ecif_record_t b = {0};
    a.name = "张伟";
    a.id_type = "RESIDENT_ID";
    a.id_number = "11010519491231002X";
    a.phones[0] = "13912345678";
    a.n_phones = 1;
    a.dob = "1949-12-31";
    b.name = "Zhang Wei";
    b.id_number = "11010519491231002X";
    b.phones[0] = "+86 139 1234 5678";
    b.n_phones = 1;
    b.dob = "1949-12-30";
    b.gender = "M";

    double score = 0.0;
    ecif_verdict_t verdict;
    ecif_evidence_t ev[ECIF_FIELD_COUNT];
    ecif_compare(model_default(), &a, &b, &score, &verdict, ev);
    CHECK(fabs(evidence_sum(ev) - score) < 1e-9);
    CHECK(score > 0.0);
    CHECK_INT(ev[ECIF_FIELD_PHONE].level, ECIF_LEVEL_EXACT);
}

int main(void)
{
    RUN(test_summary_orders_by_weight);
    RUN(test_summary_one_sign_only);
    RUN(test_summary_cut_to_buffer);
    RUN(test_conflict_threshold);
    RUN(test_compare_weights_sum_to_score);
    return unit_report();
}
