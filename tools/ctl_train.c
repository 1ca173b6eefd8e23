/*
 * ecifctl train: estimates the matching model from the records of a
 * snapshot (engine/train.h, engine/TRAINING.md) and writes a model file
 * that `ecifctl import --model` reads.
 *
 * The file is written to a temporary name beside the output and renamed
 * over it, so a failed run leaves an existing model file as it was.
 * Progress goes to stderr, and the table of trained weights to stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "model.h"
#include "status.h"
#include "store.h"
#include "train.h"

typedef struct train_cli {
    const char *snapshot;
    const char *output;
    const char *base;
    const char *label;
    bool seed_given;
    double match_probability; /* NAN: keep the base model's */
    double possible_probability;
    double hard_conflict_weight; /* NAN: keep the base model's */
    bool quiet;
    bool rules_given; /* the first --rule replaces the default rules */
    train_options_t train;
    double last_progress;
} train_cli_t;

static void train_usage(FILE *out)
{
    fprintf(
        out,
        "usage: ecifctl train --snapshot SNAPSHOT --out MODEL --seed N\n"
        "                     [OPTIONS]\n"
        "\n"
        "Estimates the m and u probabilities and the prior of the matching\n"
        "model from the records of a snapshot, without labels, and writes\n"
        "a model file for 'ecifctl import --model'. The same snapshot,\n"
        "options and seed give the same file.\n"
        "\n"
        "  -s, --snapshot PATH          snapshot written by ecifctl import\n"
        "                               (required)\n"
        "  -o, --out PATH               model file to write (required)\n"
        "      --seed N                 seed of the pair sampling, 0 to\n"
        "                               2^64-1 (required)\n"
        "      --base PATH              model to start from and to take\n"
        "                               levels, fixed weights and rules\n"
        "                               from (default: the built-in model)\n"
        "      --random-pairs N         random record pairs compared to\n"
        "                               estimate u (default 1000000; every\n"
        "                               pair when there are fewer)\n"
        "      --max-pairs N            max pairs given to each EM run,\n"
        "                               sampled at random when there are\n"
        "                               more (default 5000000)\n"
        "      --rule FIELDS            training rule: records that share\n"
        "                               a name token (name), two of year,\n"
        "                               month and day (dob), or both\n"
        "                               (name+dob) give pairs to estimate\n"
        "                               the other fields' m. Repeat for\n"
        "                               more rules, or give 'none' for one\n"
        "                               EM run over the blocked pairs\n"
        "                               (default: dob, name, name+dob)\n"
        "      --iterations N           max EM iterations, 1 to 100000\n"
        "                               (default 100)\n"
        "      --label TEXT             label of the model, up to 63 bytes\n"
        "                               (default 'trained, seed N')\n"
        "      --match-probability P    MATCH threshold as a probability\n"
        "                               (default: the base model's)\n"
        "      --possible-probability P POSSIBLE_MATCH threshold (default:\n"
        "                               the base model's)\n"
        "      --cluster-probability P  match probability at or above which\n"
        "                               import joins a pair into one\n"
        "                               customer, at most the MATCH\n"
        "                               threshold (default 0.5)\n"
        "      --hard-conflict-weight W weight of every fixed level and the\n"
        "                               hard_conflict_weight rule, -1000 to\n"
        "                               -1 (default: the base model's, or\n"
        "                               the first multiple of 10 below it\n"
        "                               that outweighs the trained\n"
        "                               agreements)\n"
        "  -q, --quiet                  no progress lines\n"
        "\n"
        "engine/TRAINING.md describes the method and its assumptions.\n");
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_count(const char *option, const char *text, uint64_t min,
                       uint64_t max, uint64_t *out)
{
    char *end;

    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' ||
        value < min || value > max) {
        fprintf(stderr,
                "ecifctl train: invalid %s '%s' (expected an integer from "
                "%" PRIu64 " to %" PRIu64 ")\n",
                option, text, min, max);
        return 2;
    }
    *out = value;
    return 0;
}

static int parse_probability(const char *option, const char *text, double *out)
{
    char *end;

    errno = 0;
    double value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(value > 0.0) ||
        !(value < 1.0)) {
        fprintf(stderr,
                "ecifctl train: invalid %s '%s' (expected a probability "
                "between 0 and 1, both excluded)\n",
                option, text);
        return 2;
    }
    *out = value;
    return 0;
}

static int parse_weight(const char *option, const char *text, double *out)
{
    char *end;

    errno = 0;
    double value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(value >= -1000.0) ||
        !(value <= -1.0)) {
        fprintf(stderr,
                "ecifctl train: invalid %s '%s' (expected a weight from "
                "-1000 to -1)\n",
                option, text);
        return 2;
    }
    *out = value;
    return 0;
}

/* Adds a --rule, or clears the rules for 'none'. Returns 0 or 2. */
static int parse_rule(const char *text, train_cli_t *cli)
{
    train_options_t *t = &cli->train;
    char err[256];

    if (!cli->rules_given)
        t->n_rules = 0;
    cli->rules_given = true;
    if (strcmp(text, "none") == 0)
        return 0;
    if (t->n_rules == TRAIN_MAX_RULES) {
        fprintf(stderr, "ecifctl train: more than %d --rule options\n",
                TRAIN_MAX_RULES);
        return 2;
    }
    if (train_rule_parse(text, &t->rules[t->n_rules], err, sizeof(err)) !=
        ECIF_OK) {
        fprintf(stderr, "ecifctl train: invalid --rule: %s\n", err);
        return 2;
    }
    t->n_rules++;
    return 0;
}

/* Handles one option of getopt_long. Returns 0, 2 or -1 for --help. */
static int parse_option(int c, train_cli_t *cli)
{
    uint64_t n = 0;
    int rc = 0;

    switch (c) {
    case 's':
        cli->snapshot = optarg;
        break;
    case 'o':
        cli->output = optarg;
        break;
    case 'S':
        rc = parse_count("--seed", optarg, 0, UINT64_MAX, &cli->train.seed);
        cli->seed_given = rc == 0;
        break;
    case 'b':
        cli->base = optarg;
        break;
    case 'r':
        rc = parse_count("--random-pairs", optarg, 1, UINT32_MAX,
                         &cli->train.random_pairs);
        break;
    case 'x':
        rc = parse_count("--max-pairs", optarg, 1, UINT32_MAX,
                         &cli->train.max_pairs);
        break;
    case 'i':
        rc = parse_count("--iterations", optarg, 1, 100000, &n);
        cli->train.em.max_iterations = (uint32_t)n;
        break;
    case 'l':
        if (strlen(optarg) >= sizeof(((ecif_model_t *)0)->label) ||
            strpbrk(optarg, "#\n\r") != NULL) {
            fprintf(stderr,
                    "ecifctl train: invalid --label '%s' (expected at most "
                    "63 bytes, no '#' and no line break)\n",
                    optarg);
            rc = 2;
        }
        cli->label = optarg;
        break;
    case 'm':
        rc = parse_probability("--match-probability", optarg,
                               &cli->match_probability);
        break;
    case 'p':
        rc = parse_probability("--possible-probability", optarg,
                               &cli->possible_probability);
        break;
    case 'C':
        rc = parse_probability("--cluster-probability", optarg,
                               &cli->train.cluster_probability);
        break;
    case 'w':
        rc = parse_weight("--hard-conflict-weight", optarg,
                          &cli->hard_conflict_weight);
        break;
    case 'R':
        rc = parse_rule(optarg, cli);
        break;
    case 'q':
        cli->quiet = true;
        break;
    case 'h':
        train_usage(stdout);
        return -1;
    default:
        train_usage(stderr);
        return 2;
    }
    return rc;
}

/* Parses the command line. Returns 0, 2 for a usage error, -1 for --help. */
static int parse_args(int argc, char **argv, train_cli_t *cli)
{
    static const struct option longopts[] = {
        {"snapshot", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},
        {"seed", required_argument, NULL, 'S'},
        {"base", required_argument, NULL, 'b'},
        {"random-pairs", required_argument, NULL, 'r'},
        {"max-pairs", required_argument, NULL, 'x'},
        {"iterations", required_argument, NULL, 'i'},
        {"label", required_argument, NULL, 'l'},
        {"match-probability", required_argument, NULL, 'm'},
        {"possible-probability", required_argument, NULL, 'p'},
        {"cluster-probability", required_argument, NULL, 'C'},
        {"hard-conflict-weight", required_argument, NULL, 'w'},
        {"rule", required_argument, NULL, 'R'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int rc = 0, c;

    optind = 1;
    while (rc == 0 &&
           (c = getopt_long(argc, argv, "s:o:qh", longopts, NULL)) != -1)
        rc = parse_option(c, cli);
    if (rc != 0)
        return rc;
    if (optind < argc) {
        fprintf(stderr, "ecifctl train: unexpected argument '%s'\n",
                argv[optind]);
        return 2;
    }

    const char *missing = cli->snapshot == NULL ? "--snapshot SNAPSHOT"
                          : cli->output == NULL ? "--out MODEL"
                          : !cli->seed_given    ? "--seed N"
                                                : NULL;
    if (missing != NULL) {
        fprintf(stderr, "ecifctl train: missing %s\n", missing);
        train_usage(stderr);
        return 2;
    }
    if (cli->possible_probability >= cli->match_probability) {
        fprintf(stderr,
                "ecifctl train: --possible-probability %g is not below "
                "--match-probability %g\n",
                cli->possible_probability, cli->match_probability);
        return 2;
    }
    return 0;
}

static void pairs_progress(void *arg, const char *stage, uint64_t done,
                           uint64_t total)
{
    train_cli_t *cli = arg;
    double t = now_seconds();

    if (done != total && t - cli->last_progress < 1.0)
        return;
    cli->last_progress = t;
    if (strcmp(stage, "blocking") == 0)
        fprintf(stderr,
                "ecifctl train: gathering candidates, %" PRIu64 " of %" PRIu64
                " records\n",
                done, total);
    else if (strcmp(stage, "grouping") == 0)
        fprintf(stderr,
                "ecifctl train: grouping records by a training rule, %" PRIu64
                " of %" PRIu64 " keys\n",
                done, total);
    else
        fprintf(stderr,
                "ecifctl train: %s pairs compared, %" PRIu64 " of %" PRIu64
                "\n",
                stage, done, total);
}

static void em_progress(void *arg, uint32_t iteration, double change,
                        double prior)
{
    train_cli_t *cli = arg;
    double t = now_seconds();

    if (change >= cli->train.em.tolerance && t - cli->last_progress < 1.0 &&
        iteration % 10 != 0)
        return;
    cli->last_progress = t;
    fprintf(stderr,
            "ecifctl train: EM iteration %u, largest change %.3g, share of "
            "matches among blocked pairs %.6f\n",
            iteration, change, prior);
}

/* Writes the model to a temporary file beside path, then renames it. */
static int write_model(const ecif_model_t *model, const char *path)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());

    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        fprintf(stderr, "ecifctl train: --out path '%s' is too long\n", path);
        return 2;
    }
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        fprintf(stderr, "ecifctl train: creating '%s' failed: %s\n", tmp,
                strerror(errno));
        return 1;
    }
    int rc = model_write(model, f);
    int saved = errno;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        rc = ECIF_EIO;
        saved = errno;
    }
    if (fclose(f) != 0 && rc == ECIF_OK) {
        rc = ECIF_EIO;
        saved = errno;
    }
    if (rc == ECIF_OK && rename(tmp, path) != 0) {
        rc = ECIF_EIO;
        saved = errno;
    }
    if (rc != ECIF_OK) {
        fprintf(stderr, "ecifctl train: writing --out '%s' failed: %s\n", path,
                strerror(saved));
        unlink(tmp);
        return 1;
    }
    return 0;
}

/* Prints every level with its base and trained weight. */
static void print_weights(const ecif_model_t *base, const ecif_model_t *trained)
{
    printf("%-10s %-26s %9s %12s %12s %9s\n", "field", "level", "base", "m",
           "u", "trained");
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        const model_field_t *field = &trained->fields[f];
        for (uint32_t l = 1; l < field->n_levels; l++) {
            const model_level_t *level = &field->levels[l];
            if (level->fixed) {
                printf("%-10s %-26s %9.3f %12s %12s %9.3f\n",
                       ecif_field_str((ecif_field_t)f), level->name,
                       base->fields[f].levels[l].weight, "fixed", "fixed",
                       level->weight);
                continue;
            }
            printf("%-10s %-26s %9.3f %12.6g %12.6g %9.3f\n",
                   ecif_field_str((ecif_field_t)f), level->name,
                   base->fields[f].levels[l].weight, level->m, level->u,
                   level->weight);
        }
    }
    printf("prior %.6g (base %.6g); MATCH at weight %.3f (base %.3f), "
           "POSSIBLE_MATCH at %.3f (base %.3f), clustering at %.3f "
           "(base %.3f)\n",
           trained->prior, base->prior, trained->match_weight,
           base->match_weight, trained->possible_weight, base->possible_weight,
           trained->cluster_weight, base->cluster_weight);
}

static void print_report(const train_report_t *r)
{
    fprintf(stderr,
            "ecifctl train: %" PRIu64 " records, %" PRIu64
            " random pairs (%" PRIu64 " level vectors), %" PRIu64
            " blocked pairs, %" PRIu64 " given to EM (%" PRIu64
            " level vectors)\n",
            r->records, r->random_pairs, r->random_patterns, r->blocked_pairs,
            r->em_pairs, r->blocked_patterns);
    fprintf(stderr,
            "ecifctl train: EM %s after %u iterations; %.1f expected "
            "matches, share %.6f of blocked pairs\n",
            r->em.converged ? "converged" : "stopped unconverged",
            r->em.iterations, r->em.expected_matches, r->em.prior);
    if (r->prior_from_capture) {
        char a[64], b[64], joint[64];
        fprintf(
            stderr,
            "ecifctl train: prior %.3g from rules %s and %s over %s "
            "(capture-recapture); the largest rule's is %.3g, the "
            "blocked pairs give %.3g\n",
            r->capture_prior,
            train_rule_str(r->rules[r->capture_rules[0]].rule, a, sizeof(a)),
            train_rule_str(r->rules[r->capture_rules[1]].rule, b, sizeof(b)),
            train_rule_str(r->rules[r->capture_rules[2]].rule, joint,
                           sizeof(joint)),
            r->rules[r->prior_rule].implied_prior, r->blocked_prior);
    } else if (r->prior_rule >= 0) {
        char rule[64];
        fprintf(
            stderr,
            "ecifctl train: prior %.3g from rule %s, the largest of the "
            "rules' (blocked pairs give %.3g)\n",
            r->rules[r->prior_rule].implied_prior,
            train_rule_str(r->rules[r->prior_rule].rule, rule, sizeof(rule)),
            r->blocked_prior);
    } else {
        fprintf(stderr,
                "ecifctl train: prior %.3g from the blocked pairs; no "
                "rule's estimates were kept\n",
                r->blocked_prior);
    }
}

/* Writes the names of the fields whose bit is set, space-separated, or
 * "none". */
static const char *field_list(uint32_t bits, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int f = 0; f < ECIF_FIELD_COUNT && used < len; f++) {
        if ((bits & (1u << f)) == 0)
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used > 0 ? " " : "",
                         ecif_field_str((ecif_field_t)f));
        used += n > 0 ? (size_t)n : 0;
    }
    return used > 0 ? buf : "none";
}

/* Prints what each training rule gathered and which fields it
 * estimated. */
static void print_rules(const train_report_t *r)
{
    for (size_t i = 0; i < r->n_rules; i++) {
        const train_rule_report_t *rr = &r->rules[i];
        char rule[64], estimated[128], conditioned[128];

        fprintf(stderr,
                "ecifctl train: rule %s: %" PRIu64
                " of the random pairs (u of %s taken from them), %" PRIu64
                " pairs, %" PRIu64 " given to EM (%" PRIu64
                " level vectors); share of matches %.6f, %.1f expected; "
                "m of %s; prior %.3g if it gathers every match\n",
                train_rule_str(rr->rule, rule, sizeof(rule)), rr->random_pairs,
                field_list(rr->conditioned, conditioned, sizeof(conditioned)),
                rr->pairs, rr->em_pairs, rr->patterns, rr->em.prior,
                rr->em.expected_matches,
                field_list(rr->estimated, estimated, sizeof(estimated)),
                rr->implied_prior);
        if (rr->rejected)
            fprintf(stderr,
                    "ecifctl train: warning: rule %s found %.1f expected "
                    "matches among %" PRIu64 " records, more than the "
                    "records can have, so its estimates are not used\n",
                    rule, rr->em.expected_matches, r->records);
    }
}

/*
 * Warns when EM put almost every blocked pair, or almost none, in the
 * match class, because the classes then split on something other than the
 * same person (engine/TRAINING.md). The bounds are a judgement, not a
 * measured limit.
 */
static void warn_degenerate(const train_report_t *r)
{
    if (r->em.prior > 0.99 || r->em.prior < 0.001)
        fprintf(stderr,
                "ecifctl train: warning: EM classed a share %.6f of the "
                "blocked pairs as matches. The model probably separates "
                "something other than the same person. Compare its "
                "weights with the base model's before using it.\n",
                r->em.prior);
}

/* Sets the thresholds the command line gives, which training starts
 * from. Their order is checked here, so that a usage error is not
 * reported as a training failure. */
static int apply_thresholds(const train_cli_t *cli, ecif_model_t *model)
{
    if (!isnan(cli->match_probability))
        model->match_probability = cli->match_probability;
    if (!isnan(cli->possible_probability))
        model->possible_probability = cli->possible_probability;
    model->cluster_probability = cli->train.cluster_probability;
    if (model->possible_probability >= model->match_probability) {
        fprintf(stderr,
                "ecifctl train: possible probability %g is not below "
                "match probability %g\n",
                model->possible_probability, model->match_probability);
        return 2;
    }
    if (model->cluster_probability > model->match_probability) {
        fprintf(stderr,
                "ecifctl train: --cluster-probability %g is above the match "
                "probability %g. Pass a lower one or a higher "
                "--match-probability\n",
                model->cluster_probability, model->match_probability);
        return 2;
    }
    return 0;
}

static void set_label(const train_cli_t *cli, ecif_model_t *model)
{
    if (cli->label != NULL)
        snprintf(model->label, sizeof(model->label), "%s", cli->label);
    else
        snprintf(model->label, sizeof(model->label), "trained, seed %" PRIu64,
                 cli->train.seed);
}

static int run(train_cli_t *cli)
{
    ecif_model_t base, start, trained;
    ecif_store_t *store = NULL;
    train_report_t report;
    char err[512];

    if (cli->base == NULL) {
        base = *model_default();
    } else if (model_load(cli->base, &base, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "ecifctl train: --base '%s': %s\n", cli->base, err);
        return 1;
    }
    if (!isnan(cli->hard_conflict_weight)) {
        train_set_conflict_weight(&base, cli->hard_conflict_weight);
        cli->train.auto_conflict_weight = false;
    }
    start = base;
    int rc = apply_thresholds(cli, &start);
    if (rc != 0)
        return rc;
    if (ecif_store_open(cli->snapshot, &store, err, sizeof(err)) != ECIF_OK) {
        fprintf(stderr, "ecifctl train: --snapshot '%s': %s\n", cli->snapshot,
                err);
        return 1;
    }
    cli->last_progress = now_seconds();
    rc = train_model(store, &start, &cli->train, &trained, &report, err,
                     sizeof(err));
    ecif_store_close(store);
    if (rc != ECIF_OK) {
        fprintf(stderr, "ecifctl train: training on '%s' failed: %s\n",
                cli->snapshot, err);
        if (strstr(err, "does not outweigh") != NULL)
            fprintf(stderr,
                    "ecifctl train: a stronger "
                    "--hard-conflict-weight (below %g) keeps "
                    "conflicts decisive\n",
                    base.hard_conflict_weight);
        return 1;
    }
    if (!cli->quiet) {
        print_rules(&report);
        print_report(&report);
    }
    warn_degenerate(&report);
    if (report.conflict_weight_set)
        fprintf(stderr,
                "ecifctl train: hard conflict weight set to %g (base %g) "
                "so that a conflict outweighs the agreement of every other "
                "field; --hard-conflict-weight overrides it\n",
                report.hard_conflict_weight, base.hard_conflict_weight);

    set_label(cli, &trained);
    rc = write_model(&trained, cli->output);
    if (rc == 0) {
        print_weights(&base, &trained);
        if (!cli->quiet)
            fprintf(stderr, "ecifctl train: wrote %s\n", cli->output);
    }
    return rc;
}

int ctl_train_main(int argc, char **argv)
{
    train_cli_t cli = {
        .match_probability = NAN,
        .possible_probability = NAN,
        .hard_conflict_weight = NAN,
    };

    train_options_default(&cli.train);
    int rc = parse_args(argc, argv, &cli);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (!cli.quiet) {
        cli.train.progress = pairs_progress;
        cli.train.em_progress = em_progress;
        cli.train.progress_arg = &cli;
    }
    return run(&cli);
}
