/*
 * ecifctl resolve, customer, exposure, explain and health query a running
 * ecifd over gRPC through the blocking client. They print the response as
 * readable text or, with --json, as one JSON object. merge, split and
 * not-same send a data steward's corrections the same way, add sends a new
 * record, and history shows what corrections and adds did to a customer.
 *
 * The JSON form is written straight from the protobuf-c descriptors of the
 * response by pb_json.c, so it always carries every field of the message
 * under its proto name.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "ctl.h"
#include "ecif/v1/customer_index.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "pb_json.h"

#define QUERY_DEFAULT_DEADLINE_MS 5000

/* Options shared by the query commands, and the query record. */
typedef struct query_opts {
    const char *server;
    uint32_t deadline_ms;
    uint32_t max_candidates;
    bool json;
    bool has_record;
    Ecif__V1__Record record;
    /* Backing arrays of the repeated record fields, argc entries each. */
    char **phones;
    char **emails;
    char **addresses;
} query_opts_t;

enum {
    OPT_SERVER = 256,
    OPT_DEADLINE_MS,
    OPT_JSON,
    OPT_MAX_CANDIDATES,
    OPT_NAME,
    OPT_GIVEN_NAME,
    OPT_FAMILY_NAME,
    OPT_ID_TYPE,
    OPT_ID_NUMBER,
    OPT_PHONE,
    OPT_EMAIL,
    OPT_ADDRESS,
    OPT_DOB,
    OPT_GENDER,
    OPT_HELP,
    OPT_REASON,
    OPT_SOURCE_SYSTEM,
    OPT_SOURCE_ID,
    OPT_ACCOUNT,
    OPT_ACTOR,
    OPT_OVERRIDE,
    OPT_PAGE_SIZE,
    OPT_UPDATED_AT,
};

static const struct option common_options[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"deadline-ms", required_argument, NULL, OPT_DEADLINE_MS},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const struct option record_options[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"deadline-ms", required_argument, NULL, OPT_DEADLINE_MS},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {"max-candidates", required_argument, NULL, OPT_MAX_CANDIDATES},
    {"name", required_argument, NULL, OPT_NAME},
    {"given-name", required_argument, NULL, OPT_GIVEN_NAME},
    {"family-name", required_argument, NULL, OPT_FAMILY_NAME},
    {"id-type", required_argument, NULL, OPT_ID_TYPE},
    {"id-number", required_argument, NULL, OPT_ID_NUMBER},
    {"phone", required_argument, NULL, OPT_PHONE},
    {"email", required_argument, NULL, OPT_EMAIL},
    {"address", required_argument, NULL, OPT_ADDRESS},
    {"dob", required_argument, NULL, OPT_DOB},
    {"gender", required_argument, NULL, OPT_GENDER},
    {"updated-at", required_argument, NULL, OPT_UPDATED_AT},
    {NULL, 0, NULL, 0},
};

static const char common_help[] =
    "  --server HOST:PORT    address of ecifd (required)\n"
    "  --deadline-ms N       deadline of the call in milliseconds "
    "(default 5000)\n"
    "  --json                print one JSON object with proto field "
    "names\n"
    "  --help                show this text\n";

static const char record_help[] =
    "record fields (each optional; --phone, --email and --address may be\n"
    "repeated):\n"
    "  --name TEXT           full name\n"
    "  --given-name TEXT     given name\n"
    "  --family-name TEXT    family name\n"
    "  --id-type TEXT        RESIDENT_ID, PASSPORT, SSN, ...\n"
    "  --id-number TEXT      ID document number\n"
    "  --phone TEXT          phone number\n"
    "  --email TEXT          email address\n"
    "  --address TEXT        postal address\n"
    "  --dob DATE            date of birth: YYYY-MM-DD, YYYYMMDD or "
    "DD/MM/YYYY\n"
    "  --gender M|F          gender\n"
    "  --updated-at TIME     when the source last changed the record:\n"
    "                        YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS+08:00\n";

/* ---- Status codes -------------------------------------------------------- */

static const char *status_code_name(grpc_status_code code)
{
    static const char *const names[] = {
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    if ((unsigned)code < sizeof(names) / sizeof(names[0]))
        return names[code];
    return "UNKNOWN";
}

static void print_json(const ProtobufCMessage *msg)
{
    pb_json_write(stdout, msg);
    fputc('\n', stdout);
}

/* ---- Option parsing ------------------------------------------------------ */

static bool parse_count(const char *option, const char *text, uint32_t min,
                        uint32_t max, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (text[0] == '\0' || text[0] == '-' || *end != '\0' || errno != 0 ||
        v < min || v > max) {
        fprintf(stderr, "ecifctl: invalid %s '%s': expected %u to %u\n", option,
                text, min, max);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static void query_opts_init(query_opts_t *q)
{
    memset(q, 0, sizeof(*q));
    q->deadline_ms = QUERY_DEFAULT_DEADLINE_MS;
    ecif__v1__record__init(&q->record);
}

static void query_opts_fini(query_opts_t *q)
{
    free(q->phones);
    free(q->emails);
    free(q->addresses);
}

static bool is_common_option(int opt)
{
    return opt == OPT_SERVER || opt == OPT_DEADLINE_MS || opt == OPT_JSON;
}

/* Applies --server, --deadline-ms or --json. Returns false when the value
 * is invalid. */
static bool set_common_option(query_opts_t *q, int opt, char *value)
{
    if (opt == OPT_SERVER)
        q->server = value;
    else if (opt == OPT_DEADLINE_MS)
        return parse_count("--deadline-ms", value, 1, 3600 * 1000,
                           &q->deadline_ms);
    else
        q->json = true;
    return true;
}

/*
 * Allocates the backing arrays of the repeated record fields, room for
 * every argument. Prints the error and returns false when out of memory.
 */
static bool query_opts_alloc_record(query_opts_t *q, int argc)
{
    size_t slots = (size_t)argc + 1;
    q->phones = calloc(slots, sizeof(char *));
    q->emails = calloc(slots, sizeof(char *));
    q->addresses = calloc(slots, sizeof(char *));
    if (q->phones == NULL || q->emails == NULL || q->addresses == NULL) {
        fprintf(stderr, "ecifctl: out of memory\n");
        return false;
    }
    q->record.phones = q->phones;
    q->record.emails = q->emails;
    q->record.addresses = q->addresses;
    return true;
}

/* Applies one record option; false when opt is not a record option. */
static bool set_record_field(query_opts_t *q, int opt, char *value)
{
    Ecif__V1__Record *r = &q->record;
    switch (opt) {
    case OPT_NAME:
        r->name = value;
        break;
    case OPT_GIVEN_NAME:
        r->given_name = value;
        break;
    case OPT_FAMILY_NAME:
        r->family_name = value;
        break;
    case OPT_ID_TYPE:
        r->id_type = value;
        break;
    case OPT_ID_NUMBER:
        r->id_number = value;
        break;
    case OPT_PHONE:
        q->phones[r->n_phones++] = value;
        break;
    case OPT_EMAIL:
        q->emails[r->n_emails++] = value;
        break;
    case OPT_ADDRESS:
        q->addresses[r->n_addresses++] = value;
        break;
    case OPT_DOB:
        r->dob = value;
        break;
    case OPT_GENDER:
        r->gender = value;
        break;
    case OPT_UPDATED_AT:
        r->updated_at = value;
        break;
    default:
        return false;
    }
    q->has_record = true;
    return true;
}

/*
 * Parses the options of a query command. Returns -1 to go on, or the exit
 * code: 0 after --help, 2 on a usage error.
 */
static int parse_query_opts(int argc, char **argv, bool with_record,
                            void (*usage)(FILE *), query_opts_t *q)
{
    if (!query_opts_alloc_record(q, argc))
        return 1;

    const struct option *options =
        with_record ? record_options : common_options;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        bool ok = true;
        if (is_common_option(opt))
            ok = set_common_option(q, opt, optarg);
        else if (opt == OPT_MAX_CANDIDATES)
            ok = parse_count("--max-candidates", optarg, 1, 1000,
                             &q->max_candidates);
        else if (opt == OPT_HELP) {
            usage(stdout);
            return 0;
        } else
            ok = set_record_field(q, opt, optarg);
        if (!ok) {
            usage(stderr);
            return 2;
        }
    }
    if (q->server == NULL) {
        fprintf(stderr, "ecifctl: --server HOST:PORT is required\n");
        usage(stderr);
        return 2;
    }
    return -1;
}

/* ---- Calls --------------------------------------------------------------- */

/*
 * Packs request, calls method and unpacks the response. Prints the error
 * and returns NULL on any failure; the caller frees the response with
 * protobuf_c_message_free_unpacked.
 */
static ProtobufCMessage *call_method(const query_opts_t *q, const char *rpc,
                                     const char *method,
                                     const ProtobufCMessage *request,
                                     const ProtobufCMessageDescriptor *resp)
{
    char err[256];
    ecif_client_t *client = NULL;
    /* "--server --name x" took the next option as the address, and gRPC
     * would look it up in DNS. */
    if (q->server[0] == '-' || strchr(q->server, ':') == NULL) {
        fprintf(stderr,
                "ecifctl: invalid --server '%s' (expected HOST:PORT, such "
                "as 127.0.0.1:50051)\n",
                q->server);
        return NULL;
    }
    if (ecif_client_create(q->server, &client, err, sizeof(err)) != 0) {
        fprintf(stderr, "ecifctl: cannot create a client for '%s': %s\n",
                q->server, err);
        return NULL;
    }

    size_t len = protobuf_c_message_get_packed_size(request);
    uint8_t *buf = malloc(len > 0 ? len : 1);
    if (buf == NULL) {
        fprintf(stderr, "ecifctl: out of memory\n");
        ecif_client_destroy(client);
        return NULL;
    }
    protobuf_c_message_pack(request, buf);

    ecif_client_result_t result;
    int rc =
        ecif_client_call(client, method, buf, len, q->deadline_ms, &result);
    free(buf);
    ProtobufCMessage *msg = NULL;
    if (rc != 0 || result.status != GRPC_STATUS_OK) {
        fprintf(stderr, "ecifctl: %s failed: %s: %s\n", rpc,
                status_code_name(result.status), result.details);
        if (rc == 0 && result.status == GRPC_STATUS_UNAVAILABLE)
            fprintf(stderr, "%s",
                    ecif_client_tls(client)
                        ? "ecifctl: is ecifd running there with TLS, did "
                          "a CA of ECIF_TLS_CA sign its certificate for "
                          "that name (ECIF_TLS_SERVER_NAME), and does it "
                          "want a client certificate (ECIF_TLS_CERT, "
                          "ECIF_TLS_KEY)?\n"
                        : "ecifctl: is ecifd running there? If it serves "
                          "TLS, set ECIF_TLS_CA (rpc/TLS.md)\n");
    } else {
        msg = protobuf_c_message_unpack(resp, NULL, result.response_len,
                                        result.response);
        if (msg == NULL)
            fprintf(stderr,
                    "ecifctl: %s failed: the response is not a valid %s\n", rpc,
                    resp->name);
    }
    free(result.response);
    ecif_client_destroy(client);
    return msg;
}

/* ---- Text output --------------------------------------------------------- */

static const char *verdict_name(Ecif__V1__Verdict verdict)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
        &ecif__v1__verdict__descriptor, (int)verdict);
    return ev != NULL ? ev->name : "VERDICT_UNSPECIFIED";
}

static void print_candidate(const Ecif__V1__Candidate *c)
{
    printf("%-15s %8.2f  %-14s", verdict_name(c->verdict), c->score,
           c->customer_number);
    for (size_t i = 0; i < c->n_evidence; i++) {
        const Ecif__V1__FieldEvidence *e = c->evidence[i];
        printf(" %s=%s(%+.2f)", e->field, e->level, e->weight);
    }
    printf("\n");
    if (c->n_matched_records > 0) {
        printf("%-15s %8s  records:", "", "");
        for (size_t i = 0; i < c->n_matched_records; i++)
            printf(" %s/%s", c->matched_records[i]->source_system,
                   c->matched_records[i]->source_id);
        printf("\n");
    }
}

static void print_candidates_header(void)
{
    printf("%-15s %8s  %-14s %s\n", "VERDICT", "SCORE", "CUSTOMER", "EVIDENCE");
}

static void print_values(const char *label, char **values, size_t n)
{
    if (n == 0)
        return;
    printf("    %-12s", label);
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i > 0 ? "; " : "", values[i]);
    printf("\n");
}

static void print_field(const char *label, const char *value)
{
    if (value != NULL && value[0] != '\0')
        printf("    %-12s%s\n", label, value);
}

static void print_account(const char *indent, const Ecif__V1__Account *a)
{
    printf("%s%-16s %-12s %-3s limit %14s  balance %14s  branch %s\n", indent,
           a->account_id, a->product, a->currency, a->credit_limit, a->balance,
           a->branch);
}

static void print_record(const Ecif__V1__Record *r)
{
    print_field("name", r->name);
    print_field("given name", r->given_name);
    print_field("family name", r->family_name);
    print_field("id type", r->id_type);
    print_field("id number", r->id_number);
    print_values("phones", r->phones, r->n_phones);
    print_values("emails", r->emails, r->n_emails);
    print_values("addresses", r->addresses, r->n_addresses);
    print_field("dob", r->dob);
    print_field("gender", r->gender);
    print_field("updated at", r->updated_at);
    print_values("flags", r->quality_flags, r->n_quality_flags);
    for (size_t i = 0; i < r->n_accounts; i++)
        print_account("    account     ", r->accounts[i]);
}

/* ---- resolve ------------------------------------------------------------- */

static void resolve_usage(FILE *out)
{
    fprintf(out, "usage: ecifctl resolve --server HOST:PORT [OPTIONS] "
                 "[RECORD FIELDS]\n\n"
                 "Finds the customers matching a record, best first.\n\n");
    fputs(common_help, out);
    fputs("  --max-candidates N    candidates to return, 1 to 1000 (default: "
          "the server's,\n"
          "                        10); the server returns at most its own "
          "cap, 64 unless\n"
          "                        ecifd --max-candidates lowers it\n\n",
          out);
    fputs(record_help, out);
}

int ctl_resolve_main(int argc, char **argv)
{
    query_opts_t q;
    query_opts_init(&q);
    int rc = parse_query_opts(argc, argv, true, resolve_usage, &q);
    if (rc >= 0) {
        query_opts_fini(&q);
        return rc;
    }

    Ecif__V1__ResolveRequest req = ECIF__V1__RESOLVE_REQUEST__INIT;
    req.record = &q.record;
    req.max_candidates = q.max_candidates;
    Ecif__V1__ResolveResponse *resp = (Ecif__V1__ResolveResponse *)call_method(
        &q, "Resolve", ECIF_METHOD_RESOLVE, &req.base,
        &ecif__v1__resolve_response__descriptor);
    if (resp == NULL) {
        query_opts_fini(&q);
        return 1;
    }

    if (q.json) {
        print_json(&resp->base);
    } else if (resp->n_candidates == 0) {
        printf("no candidates\n");
    } else {
        print_candidates_header();
        for (size_t i = 0; i < resp->n_candidates; i++)
            print_candidate(resp->candidates[i]);
    }
    if (!q.json && resp->n_query_flags > 0) {
        printf("query flags:");
        for (size_t i = 0; i < resp->n_query_flags; i++)
            printf(" %s", resp->query_flags[i]);
        printf("\n");
    }
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    query_opts_fini(&q);
    return 0;
}

/* ---- customer ------------------------------------------------------------ */

static void customer_usage(FILE *out)
{
    fprintf(out, "usage: ecifctl customer --server HOST:PORT [OPTIONS] "
                 "NUMBER\n\n"
                 "Shows a customer: the consolidated record and the member "
                 "records\nwith their accounts. NUMBER is the customer number "
                 "(C and 12 digits).\n\n");
    fputs(common_help, out);
}

/* Prints the first line of a customer: its number, and the retired
 * number asked for when the server followed a redirect to it. */
static void print_customer_line(const char *number, const char *from)
{
    if (from != NULL && from[0] != '\0')
        printf("customer %s (asked for %s, merged into it)\n", number, from);
    else
        printf("customer %s\n", number);
}

static void print_customer(const Ecif__V1__GetCustomerResponse *resp)
{
    print_customer_line(resp->customer_number, resp->redirected_from);
    if (resp->consolidated != NULL) {
        printf("  consolidated\n");
        print_record(resp->consolidated);
    }
    if (resp->n_consolidated_sources > 0)
        printf("  sources of the consolidated values\n");
    for (size_t i = 0; i < resp->n_consolidated_sources; i++) {
        const Ecif__V1__ConsolidatedValue *v = resp->consolidated_sources[i];
        printf("    %-12s%s  from %s/%s (%s)\n", v->field, v->value,
               v->source != NULL ? v->source->source_system : "",
               v->source != NULL ? v->source->source_id : "", v->rule);
    }
    printf("  records (%zu)\n", resp->n_records);
    for (size_t i = 0; i < resp->n_records; i++) {
        printf("  %s/%s\n", resp->records[i]->source_system,
               resp->records[i]->source_id);
        print_record(resp->records[i]);
    }
}

/* Takes the one positional argument a command expects. */
static const char *single_operand(int argc, char **argv, const char *what,
                                  void (*usage)(FILE *))
{
    if (argc - optind != 1) {
        fprintf(stderr, "ecifctl: expected one %s, got %d arguments\n", what,
                argc - optind);
        usage(stderr);
        return NULL;
    }
    return argv[optind];
}

int ctl_customer_main(int argc, char **argv)
{
    query_opts_t q;
    query_opts_init(&q);
    int rc = parse_query_opts(argc, argv, false, customer_usage, &q);
    if (rc >= 0) {
        query_opts_fini(&q);
        return rc;
    }
    const char *number =
        single_operand(argc, argv, "customer number", customer_usage);
    if (number == NULL) {
        query_opts_fini(&q);
        return 2;
    }

    Ecif__V1__GetCustomerRequest req = ECIF__V1__GET_CUSTOMER_REQUEST__INIT;
    req.customer_number = (char *)number;
    Ecif__V1__GetCustomerResponse *resp =
        (Ecif__V1__GetCustomerResponse *)call_method(
            &q, "GetCustomer", ECIF_METHOD_GET_CUSTOMER, &req.base,
            &ecif__v1__get_customer_response__descriptor);
    if (resp == NULL) {
        query_opts_fini(&q);
        return 1;
    }
    if (q.json)
        print_json(&resp->base);
    else
        print_customer(resp);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    query_opts_fini(&q);
    return 0;
}

/* ---- exposure ------------------------------------------------------------ */

static void exposure_usage(FILE *out)
{
    fprintf(out, "usage: ecifctl exposure --server HOST:PORT [OPTIONS] "
                 "(NUMBER | RECORD FIELDS)\n\n"
                 "Shows a customer's credit limits and balances per product "
                 "and currency,\nand every account. The customer is given by "
                 "number, or by record fields\nthat must resolve with the "
                 "MATCH verdict.\nA line 'duplicate applications' names an "
                 "ID number or phone of the customer\nthat many recently "
                 "updated records share (engine/APPLICATIONS.md).\n\n");
    fputs(common_help, out);
    fputs("\n", out);
    fputs(record_help, out);
}

/* Returns "record" for one, "records" otherwise. */
static const char *records_word(uint64_t n)
{
    return n == 1 ? "record" : "records";
}

/* Prints one line per duplicate-application signal. */
static void print_signals(Ecif__V1__ApplicationSignal *const *signals,
                          size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const Ecif__V1__ApplicationSignal *sig = signals[i];
        printf("duplicate applications: %s %s on %u %s of %u %s updated %s "
               "to %s (window %u days)",
               sig->field, sig->value_hint, sig->records,
               records_word(sig->records), sig->customers,
               sig->customers == 1 ? "customer" : "customers",
               sig->first_updated_at, sig->last_updated_at, sig->window_days);
        for (size_t k = 0; k < sig->n_other_customer_numbers; k++)
            printf("%s%s", k == 0 ? "; other customers " : ", ",
                   sig->other_customer_numbers[k]);
        printf("\n");
    }
}

static void print_exposure(const Ecif__V1__GetExposureResponse *resp)
{
    print_customer_line(resp->customer_number, resp->redirected_from);
    if (resp->resolved != NULL)
        printf("resolved %s, score %.2f\n",
               verdict_name(resp->resolved->verdict), resp->resolved->score);
    printf("%-12s %-8s %16s %16s %8s\n", "PRODUCT", "CURRENCY", "CREDIT_LIMIT",
           "BALANCE", "ACCOUNTS");
    for (size_t i = 0; i < resp->n_totals; i++) {
        const Ecif__V1__ExposureTotal *t = resp->totals[i];
        printf("%-12s %-8s %16s %16s %8u\n", t->product, t->currency,
               t->credit_limit, t->balance, t->account_count);
    }
    printf("accounts (%zu)\n", resp->n_accounts);
    /* The source keys are padded to the longest, so the accounts line
     * up; a key longer than the buffer is cut. */
    char keys[256];
    int width = 0;
    for (size_t i = 0; i < resp->n_accounts; i++) {
        const Ecif__V1__RecordRef *r = resp->accounts[i]->record;
        int n = snprintf(keys, sizeof(keys), "%s/%s", r ? r->source_system : "",
                         r ? r->source_id : "");
        if (n > width)
            width = n < (int)sizeof(keys) ? n : (int)sizeof(keys) - 1;
    }
    for (size_t i = 0; i < resp->n_accounts; i++) {
        const Ecif__V1__AccountExposure *a = resp->accounts[i];
        char indent[sizeof(keys) + 8];
        snprintf(keys, sizeof(keys), "%s/%s",
                 a->record ? a->record->source_system : "",
                 a->record ? a->record->source_id : "");
        snprintf(indent, sizeof(indent), "  %-*s  ", width, keys);
        if (a->account != NULL)
            print_account(indent, a->account);
    }
    print_signals(resp->application_signals, resp->n_application_signals);
}

int ctl_exposure_main(int argc, char **argv)
{
    query_opts_t q;
    query_opts_init(&q);
    int rc = parse_query_opts(argc, argv, true, exposure_usage, &q);
    if (rc >= 0) {
        query_opts_fini(&q);
        return rc;
    }

    Ecif__V1__GetExposureRequest req = ECIF__V1__GET_EXPOSURE_REQUEST__INIT;
    if (q.has_record && optind == argc) {
        req.target_case = ECIF__V1__GET_EXPOSURE_REQUEST__TARGET_RECORD;
        req.record = &q.record;
    } else if (!q.has_record && argc - optind == 1) {
        req.target_case =
            ECIF__V1__GET_EXPOSURE_REQUEST__TARGET_CUSTOMER_NUMBER;
        req.customer_number = argv[optind];
    } else {
        fprintf(stderr, "ecifctl: give either one customer number or "
                        "record fields\n");
        exposure_usage(stderr);
        query_opts_fini(&q);
        return 2;
    }

    Ecif__V1__GetExposureResponse *resp =
        (Ecif__V1__GetExposureResponse *)call_method(
            &q, "GetExposure", ECIF_METHOD_GET_EXPOSURE, &req.base,
            &ecif__v1__get_exposure_response__descriptor);
    if (resp == NULL) {
        query_opts_fini(&q);
        return 1;
    }
    if (q.json)
        print_json(&resp->base);
    else
        print_exposure(resp);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    query_opts_fini(&q);
    return 0;
}

/* ---- health -------------------------------------------------------------- */

static void health_usage(FILE *out)
{
    fprintf(out, "usage: ecifctl health --server HOST:PORT [OPTIONS] "
                 "[SERVICE]\n\n"
                 "Checks that ecifd is serving SERVICE (default: the whole "
                 "server).\nExits 0 when it is SERVING, 1 otherwise.\n\n");
    fputs(common_help, out);
}

static const char *
serving_status_name(Grpc__Health__V1__HealthCheckResponse__ServingStatus s)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
        &grpc__health__v1__health_check_response__serving_status__descriptor,
        (int)s);
    return ev != NULL ? ev->name : "UNKNOWN";
}

int ctl_health_main(int argc, char **argv)
{
    query_opts_t q;
    query_opts_init(&q);
    int rc = parse_query_opts(argc, argv, false, health_usage, &q);
    if (rc >= 0) {
        query_opts_fini(&q);
        return rc;
    }
    if (argc - optind > 1) {
        fprintf(stderr, "ecifctl: expected at most one service name\n");
        health_usage(stderr);
        query_opts_fini(&q);
        return 2;
    }

    Grpc__Health__V1__HealthCheckRequest req =
        GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    if (optind < argc)
        req.service = argv[optind];
    Grpc__Health__V1__HealthCheckResponse *resp =
        (Grpc__Health__V1__HealthCheckResponse *)call_method(
            &q, "Check", ECIF_METHOD_HEALTH_CHECK, &req.base,
            &grpc__health__v1__health_check_response__descriptor);
    query_opts_fini(&q);
    if (resp == NULL)
        return 1;

    bool serving =
        resp->status ==
        GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    if (q.json)
        print_json(&resp->base);
    else
        printf("%s\n", serving_status_name(resp->status));
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    return serving ? 0 : 1;
}

/* ---- explain ------------------------------------------------------------- */

#define ECIF_METHOD_EXPLAIN "/ecif.v1.CustomerIndex/Explain"

/* Option names of one side after its "left-" or "right-" prefix. */
static const char *const explain_side_fields[] = {
    "name",     "given-name",    "family-name", "id-type", "id-number",
    "phone",    "email",         "address",     "dob",     "gender",
    "customer", "source-system", "source-id",
};

#define EXPLAIN_SIDE_FIELDS                                                    \
    (sizeof(explain_side_fields) / sizeof(explain_side_fields[0]))
#define EXPLAIN_FIELD_CUSTOMER      10
#define EXPLAIN_FIELD_SOURCE_SYSTEM 11
#define EXPLAIN_FIELD_SOURCE_ID     12
#define OPT_EXPLAIN_SIDE(side)      (1024 + (side)*32)

/* One side as the options give it. */
typedef struct explain_side_opts {
    query_opts_t record; /* its record fields, when any */
    const char *customer;
    Ecif__V1__RecordRef stored;
} explain_side_opts_t;

static void explain_usage(FILE *out)
{
    fprintf(out,
            "usage: ecifctl explain --server HOST:PORT [OPTIONS] LEFT RIGHT\n"
            "\n"
            "Shows why two records or customers match or do not: the "
            "evidence of\nthe best-scoring pair of records, a summary, and "
            "the pairs whose hard\nconflict keeps them apart.\n\n");
    fputs(common_help, out);
    fputs("\nLEFT is one of (RIGHT the same with --right-):\n"
          "  --left-customer NUMBER        every record of a customer "
          "(at most 64)\n"
          "  --left-source-system TEXT --left-source-id TEXT\n"
          "                                one stored record\n"
          "  --left-name TEXT ...          a record given by its fields: "
          "--left- and\n"
          "                                any record field below\n\n",
          out);
    fputs(record_help, out);
}

/* Fills options with the prefixed names; names holds their storage. */
static void explain_options_init(struct option *options, char names[][40])
{
    size_t n = 0;
    static const char *const sides[2] = {"left", "right"};
    for (int side = 0; side < 2; side++) {
        for (size_t f = 0; f < EXPLAIN_SIDE_FIELDS; f++) {
            snprintf(names[n], 40, "%s-%s", sides[side],
                     explain_side_fields[f]);
            options[n] = (struct option){names[n], required_argument, NULL,
                                         OPT_EXPLAIN_SIDE(side) + (int)f};
            n++;
        }
    }
    for (size_t i = 0; common_options[i].name != NULL; i++)
        options[n++] = common_options[i];
    options[n] = (struct option){NULL, 0, NULL, 0};
}

static bool explain_set_side(explain_side_opts_t *side, size_t field,
                             char *value)
{
    switch (field) {
    case EXPLAIN_FIELD_CUSTOMER:
        side->customer = value;
        return true;
    case EXPLAIN_FIELD_SOURCE_SYSTEM:
        side->stored.source_system = value;
        return true;
    case EXPLAIN_FIELD_SOURCE_ID:
        side->stored.source_id = value;
        return true;
    default:
        return set_record_field(&side->record, OPT_NAME + (int)field, value);
    }
}

/*
 * Parses the explain options into q (common options) and the two sides.
 * Returns -1 to go on, or the exit code.
 */
static int parse_explain_opts(int argc, char **argv, query_opts_t *q,
                              explain_side_opts_t sides[2])
{
    struct option options[2 * EXPLAIN_SIDE_FIELDS + 8];
    char names[2 * EXPLAIN_SIDE_FIELDS][40];
    explain_options_init(options, names);

    size_t slots = (size_t)argc + 1;
    for (int s = 0; s < 2; s++) {
        query_opts_t *r = &sides[s].record;
        r->phones = calloc(slots, sizeof(char *));
        r->emails = calloc(slots, sizeof(char *));
        r->addresses = calloc(slots, sizeof(char *));
        if (r->phones == NULL || r->emails == NULL || r->addresses == NULL) {
            fprintf(stderr, "ecifctl: out of memory\n");
            return 1;
        }
        r->record.phones = r->phones;
        r->record.emails = r->emails;
        r->record.addresses = r->addresses;
    }

    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        bool ok = true;
        if (opt == OPT_SERVER)
            q->server = optarg;
        else if (opt == OPT_DEADLINE_MS)
            ok = parse_count("--deadline-ms", optarg, 1, 3600 * 1000,
                             &q->deadline_ms);
        else if (opt == OPT_JSON)
            q->json = true;
        else if (opt == OPT_HELP) {
            explain_usage(stdout);
            return 0;
        } else if (opt >= OPT_EXPLAIN_SIDE(0) && opt < OPT_EXPLAIN_SIDE(2)) {
            int side = (opt - OPT_EXPLAIN_SIDE(0)) / 32;
            size_t field = (size_t)(opt - OPT_EXPLAIN_SIDE(side));
            ok = explain_set_side(&sides[side], field, optarg);
        } else
            ok = false;
        if (!ok) {
            explain_usage(stderr);
            return 2;
        }
    }
    if (q->server == NULL) {
        fprintf(stderr, "ecifctl: --server HOST:PORT is required\n");
        explain_usage(stderr);
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "ecifctl: unexpected argument '%s'\n", argv[optind]);
        explain_usage(stderr);
        return 2;
    }
    return -1;
}

/* How the options give one side of an explanation. */
typedef enum explain_side_kind {
    EXPLAIN_SIDE_RECORD,
    EXPLAIN_SIDE_CUSTOMER,
    EXPLAIN_SIDE_STORED,
} explain_side_kind_t;

/*
 * Checks that exactly one of a customer, a stored record or record fields
 * gives a side and sets *kind. Returns false after printing the usage
 * error.
 */
static bool explain_side_kind(const char *name, const explain_side_opts_t *s,
                              explain_side_kind_t *kind)
{
    bool has_stored =
        s->stored.source_system != NULL || s->stored.source_id != NULL;
    int n_forms = (s->customer != NULL) + has_stored + s->record.has_record;
    if (n_forms != 1) {
        fprintf(stderr,
                "ecifctl: give exactly one of --%s-customer, "
                "--%s-source-system with --%s-source-id, or --%s- record "
                "fields\n",
                name, name, name, name);
        return false;
    }
    if (has_stored &&
        (s->stored.source_system == NULL || s->stored.source_id == NULL)) {
        fprintf(stderr,
                "ecifctl: --%s-source-system and --%s-source-id go "
                "together\n",
                name, name);
        return false;
    }
    *kind = s->customer != NULL ? EXPLAIN_SIDE_CUSTOMER
            : has_stored        ? EXPLAIN_SIDE_STORED
                                : EXPLAIN_SIDE_RECORD;
    return true;
}

/* Sets both oneofs of the request; each is a union in protobuf-c. */
static void explain_request_init(Ecif__V1__ExplainRequest *req,
                                 explain_side_opts_t sides[2],
                                 const explain_side_kind_t kinds[2])
{
    switch (kinds[0]) {
    case EXPLAIN_SIDE_RECORD:
        req->left_case = ECIF__V1__EXPLAIN_REQUEST__LEFT_LEFT_RECORD;
        req->left_record = &sides[0].record.record;
        break;
    case EXPLAIN_SIDE_CUSTOMER:
        req->left_case = ECIF__V1__EXPLAIN_REQUEST__LEFT_LEFT_CUSTOMER_NUMBER;
        req->left_customer_number = (char *)sides[0].customer;
        break;
    case EXPLAIN_SIDE_STORED:
        req->left_case = ECIF__V1__EXPLAIN_REQUEST__LEFT_LEFT_STORED_RECORD;
        req->left_stored_record = &sides[0].stored;
        break;
    }
    switch (kinds[1]) {
    case EXPLAIN_SIDE_RECORD:
        req->right_case = ECIF__V1__EXPLAIN_REQUEST__RIGHT_RIGHT_RECORD;
        req->right_record = &sides[1].record.record;
        break;
    case EXPLAIN_SIDE_CUSTOMER:
        req->right_case =
            ECIF__V1__EXPLAIN_REQUEST__RIGHT_RIGHT_CUSTOMER_NUMBER;
        req->right_customer_number = (char *)sides[1].customer;
        break;
    case EXPLAIN_SIDE_STORED:
        req->right_case = ECIF__V1__EXPLAIN_REQUEST__RIGHT_RIGHT_STORED_RECORD;
        req->right_stored_record = &sides[1].stored;
        break;
    }
}

static void print_ref(const char *label, const Ecif__V1__RecordRef *ref,
                      const char *customer)
{
    printf("%-6s %s/%s", label, ref != NULL ? ref->source_system : "",
           ref != NULL ? ref->source_id : "");
    if (customer != NULL && customer[0] != '\0')
        printf("  customer %s", customer);
    printf("\n");
}

static void print_explain(const Ecif__V1__ExplainResponse *resp)
{
    printf("%s  score %.2f  pairs compared %u\n", verdict_name(resp->verdict),
           resp->score, resp->pairs_compared);
    print_ref("left", resp->left, resp->left_customer_number);
    print_ref("right", resp->right, resp->right_customer_number);
    printf("%-12s %-10s %8s\n", "FIELD", "LEVEL", "WEIGHT");
    for (size_t i = 0; i < resp->n_evidence; i++) {
        const Ecif__V1__FieldEvidence *e = resp->evidence[i];
        printf("%-12s %-10s %+8.2f\n", e->field, e->level, e->weight);
    }
    printf("%-12s %-10s %+8.2f\n", "total", "", resp->score);
    printf("%s\n", resp->summary);
    if (resp->blocking_pair_count == 0)
        return;
    printf("pairs with a hard conflict: %u (%zu listed)\n",
           resp->blocking_pair_count, resp->n_blocking_pairs);
    for (size_t i = 0; i < resp->n_blocking_pairs; i++) {
        const Ecif__V1__RecordPair *p = resp->blocking_pairs[i];
        printf("  %+8.2f  %s/%s  %s/%s ", p->score,
               p->left ? p->left->source_system : "",
               p->left ? p->left->source_id : "",
               p->right ? p->right->source_system : "",
               p->right ? p->right->source_id : "");
        for (size_t k = 0; k < p->n_evidence; k++) {
            if (p->evidence[k]->weight <= -20.0)
                printf(" %s %s (%+.1f)", p->evidence[k]->field,
                       p->evidence[k]->level, p->evidence[k]->weight);
        }
        printf("\n");
    }
}

int ctl_explain_main(int argc, char **argv)
{
    query_opts_t q;
    explain_side_opts_t sides[2];
    query_opts_init(&q);
    memset(sides, 0, sizeof(sides));
    for (int s = 0; s < 2; s++) {
        query_opts_init(&sides[s].record);
        ecif__v1__record_ref__init(&sides[s].stored);
        sides[s].stored.source_system = NULL;
        sides[s].stored.source_id = NULL;
    }

    int rc = parse_explain_opts(argc, argv, &q, sides);
    explain_side_kind_t kinds[2];
    if (rc < 0 && (!explain_side_kind("left", &sides[0], &kinds[0]) ||
                   !explain_side_kind("right", &sides[1], &kinds[1]))) {
        explain_usage(stderr);
        rc = 2;
    }
    if (rc >= 0) {
        for (int s = 0; s < 2; s++)
            query_opts_fini(&sides[s].record);
        return rc;
    }
    Ecif__V1__ExplainRequest req = ECIF__V1__EXPLAIN_REQUEST__INIT;
    explain_request_init(&req, sides, kinds);

    Ecif__V1__ExplainResponse *resp = (Ecif__V1__ExplainResponse *)call_method(
        &q, "Explain", ECIF_METHOD_EXPLAIN, &req.base,
        &ecif__v1__explain_response__descriptor);
    for (int s = 0; s < 2; s++)
        query_opts_fini(&sides[s].record);
    if (resp == NULL)
        return 1;
    if (q.json)
        print_json(&resp->base);
    else
        print_explain(resp);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    return 0;
}

/* ---- merge, split, not-same ---------------------------------------------- */

static const struct option correction_options[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"deadline-ms", required_argument, NULL, OPT_DEADLINE_MS},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {"reason", required_argument, NULL, OPT_REASON},
    {"actor", required_argument, NULL, OPT_ACTOR},
    {"override-not-same", no_argument, NULL, OPT_OVERRIDE},
    {NULL, 0, NULL, 0},
};

static const char actor_help[] =
    "  --actor NAME          who asks, for the journal and the history (at\n"
    "                        most 128 bytes; default: the login name, from\n"
    "                        getlogin_r or else $USER)\n";

static const char correction_help[] =
    "  --reason TEXT         why, for the corrections journal (required;\n"
    "                        at most 256 bytes, no personal data)\n";

/* Returns the login name of the user, from getlogin_r() or else $USER, or
 * NULL when neither gives one. */
static const char *default_actor(void)
{
    static char name[256];

    if (getlogin_r(name, sizeof(name)) == 0 && name[0] != '\0')
        return name;
    const char *user = getenv("USER");
    return user != NULL && user[0] != '\0' ? user : NULL;
}

/*
 * Parses the options of a correction command into q, *reason and *actor
 * (the login name when --actor is not given). Returns -1 to continue, or the
 * exit code: 0 after --help, 2 on a usage error.
 */
static int parse_correction_opts(int argc, char **argv, void (*usage)(FILE *),
                                 query_opts_t *q, const char **reason,
                                 const char **actor, bool *override)
{
    int opt;

    *actor = NULL;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", correction_options, NULL)) !=
           -1) {
        bool ok = true;
        if (is_common_option(opt))
            ok = set_common_option(q, opt, optarg);
        else if (opt == OPT_REASON)
            *reason = optarg;
        else if (opt == OPT_ACTOR)
            *actor = optarg;
        else if (opt == OPT_OVERRIDE && override != NULL)
            *override = true;
        else if (opt == OPT_HELP) {
            usage(stdout);
            return 0;
        } else
            ok = false;
        if (!ok) {
            usage(stderr);
            return 2;
        }
    }
    if (q->server == NULL || *reason == NULL) {
        fprintf(stderr, "ecifctl: %s is required\n",
                q->server == NULL ? "--server HOST:PORT" : "--reason TEXT");
        usage(stderr);
        return 2;
    }
    /* With a token, ecifd journals the verified principal, so a login
     * name only adds detail. */
    const char *token_file = getenv("ECIF_TOKEN_FILE");
    bool has_token = token_file != NULL && token_file[0] != '\0';
    if (*actor == NULL && (*actor = default_actor()) == NULL && !has_token) {
        fprintf(stderr, "ecifctl: --actor NAME is required: no login name "
                        "was found (getlogin_r failed and $USER is unset) "
                        "and ECIF_TOKEN_FILE is not set\n");
        usage(stderr);
        return 2;
    }
    return -1;
}

/*
 * Prints a response as JSON or through print_text and frees it. Returns the
 * exit code: 1 when the call failed (resp is NULL).
 */
static int print_reply(const query_opts_t *q, ProtobufCMessage *resp,
                       void (*print_text)(const ProtobufCMessage *))
{
    if (resp == NULL)
        return 1;
    if (q->json)
        print_json(resp);
    else
        print_text(resp);
    protobuf_c_message_free_unpacked(resp, NULL);
    return 0;
}

/* Takes exactly two customer numbers after the options. */
static bool two_customers(int argc, char **argv, void (*usage)(FILE *),
                          char **a, char **b)
{
    if (argc - optind != 2) {
        fprintf(stderr,
                "ecifctl: expected two customer numbers, got %d "
                "arguments\n",
                argc - optind);
        usage(stderr);
        return false;
    }
    *a = argv[optind];
    *b = argv[optind + 1];
    return true;
}

static void merge_usage(FILE *out)
{
    fprintf(
        out,
        "usage: ecifctl merge --server HOST:PORT --reason TEXT [--actor NAME] "
        "[--override-not-same] CUSTOMER_A CUSTOMER_B\n\n"
        "Joins two customers. The lower number survives; the other "
        "is retired and\nredirects to it.\n\n");
    fputs(correction_help, out);
    fputs("  --override-not-same   merge although the two are marked not "
          "the same\n"
          "                        customer (by not-same or a split); the "
          "marks\n"
          "                        between them are removed\n",
          out);
    fputs(actor_help, out);
    fputs(common_help, out);
}

static void print_merged(const ProtobufCMessage *msg)
{
    const Ecif__V1__MergeResponse *resp = (const Ecif__V1__MergeResponse *)msg;
    printf("merged %s into %s: %u %s, %u moved (journal entry %llu)\n",
           resp->retired_number, resp->customer_number, resp->record_count,
           records_word(resp->record_count), resp->moved_record_count,
           (unsigned long long)resp->sequence);
}

int ctl_merge_main(int argc, char **argv)
{
    query_opts_t q = {.deadline_ms = QUERY_DEFAULT_DEADLINE_MS};
    Ecif__V1__MergeRequest req = ECIF__V1__MERGE_REQUEST__INIT;
    const char *reason = NULL;
    bool override = false;

    const char *actor = NULL;
    int rc = parse_correction_opts(argc, argv, merge_usage, &q, &reason, &actor,
                                   &override);
    if (rc >= 0)
        return rc;
    if (!two_customers(argc, argv, merge_usage, &req.customer_a,
                       &req.customer_b))
        return 2;
    req.reason = (char *)reason;
    req.actor = (char *)actor;
    req.override_not_same = override;
    return print_reply(&q,
                       call_method(&q, "Merge", ECIF_METHOD_MERGE, &req.base,
                                   &ecif__v1__merge_response__descriptor),
                       print_merged);
}

static void split_usage(FILE *out)
{
    fprintf(
        out,
        "usage: ecifctl split --server HOST:PORT --reason TEXT [--actor NAME] "
        "CUSTOMER SYSTEM/ID...\n\n"
        "Moves the records named by source key (source system, a "
        "slash, source id)\nout of a customer into a new customer. "
        "At least one record must stay.\n\n");
    fputs(correction_help, out);
    fputs(actor_help, out);
    fputs(common_help, out);
}

static void print_split(const ProtobufCMessage *msg)
{
    const Ecif__V1__SplitResponse *resp = (const Ecif__V1__SplitResponse *)msg;
    printf("split %s: %u %s, %u moved to new customer %s (journal "
           "entry %llu)\n",
           resp->customer_number, resp->record_count,
           resp->record_count == 1 ? "record stays" : "records stay",
           resp->new_record_count, resp->new_customer_number,
           (unsigned long long)resp->sequence);
}

int ctl_split_main(int argc, char **argv)
{
    query_opts_t q = {.deadline_ms = QUERY_DEFAULT_DEADLINE_MS};
    Ecif__V1__SplitRequest req = ECIF__V1__SPLIT_REQUEST__INIT;
    const char *reason = NULL;

    const char *actor = NULL;
    int rc = parse_correction_opts(argc, argv, split_usage, &q, &reason, &actor,
                                   NULL);
    if (rc >= 0)
        return rc;
    if (argc - optind < 2) {
        fprintf(stderr, "ecifctl: expected a customer number and at least "
                        "one SYSTEM/ID\n");
        split_usage(stderr);
        return 2;
    }
    size_t n = (size_t)(argc - optind - 1);
    Ecif__V1__RecordRef *refs = calloc(n, sizeof(*refs));
    Ecif__V1__RecordRef **list = calloc(n, sizeof(*list));
    if (refs == NULL || list == NULL) {
        fprintf(stderr, "ecifctl: out of memory\n");
        free(refs);
        free(list);
        return 1;
    }
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *key = argv[optind + 1 + (int)i];
        char *slash = strchr(key, '/');
        if (slash == NULL || slash == key || slash[1] == '\0') {
            fprintf(stderr,
                    "ecifctl: invalid record '%s' (expected SYSTEM/ID)\n", key);
            rc = 2;
            break;
        }
        *slash = '\0';
        ecif__v1__record_ref__init(&refs[i]);
        refs[i].source_system = key;
        refs[i].source_id = slash + 1;
        list[i] = &refs[i];
    }
    if (rc == 0) {
        req.customer_number = argv[optind];
        req.records = list;
        req.n_records = n;
        req.reason = (char *)reason;
        req.actor = (char *)actor;
        rc = print_reply(&q,
                         call_method(&q, "Split", ECIF_METHOD_SPLIT, &req.base,
                                     &ecif__v1__split_response__descriptor),
                         print_split);
    }
    free(refs);
    free(list);
    return rc;
}

static void not_same_usage(FILE *out)
{
    fprintf(out, "usage: ecifctl not-same --server HOST:PORT --reason TEXT "
                 "[--actor NAME] "
                 "CUSTOMER_A CUSTOMER_B\n\n"
                 "Marks two customers as never one: a later merge of them "
                 "fails, and a\nre-import with the journal keeps them "
                 "apart.\n\n");
    fputs(correction_help, out);
    fputs(actor_help, out);
    fputs(common_help, out);
}

static void print_not_same(const ProtobufCMessage *msg)
{
    const Ecif__V1__NotSameCustomerResponse *resp =
        (const Ecif__V1__NotSameCustomerResponse *)msg;
    printf("marked %s (%u %s) and %s (%u %s) as not the same "
           "customer: %u record %s (journal entry %llu)\n",
           resp->customer_a, resp->record_count_a,
           records_word(resp->record_count_a), resp->customer_b,
           resp->record_count_b, records_word(resp->record_count_b),
           resp->record_pair_count,
           resp->record_pair_count == 1 ? "pair" : "pairs",
           (unsigned long long)resp->sequence);
}

int ctl_not_same_main(int argc, char **argv)
{
    query_opts_t q = {.deadline_ms = QUERY_DEFAULT_DEADLINE_MS};
    Ecif__V1__NotSameCustomerRequest req =
        ECIF__V1__NOT_SAME_CUSTOMER_REQUEST__INIT;
    const char *reason = NULL;

    const char *actor = NULL;
    int rc = parse_correction_opts(argc, argv, not_same_usage, &q, &reason,
                                   &actor, NULL);
    if (rc >= 0)
        return rc;
    if (!two_customers(argc, argv, not_same_usage, &req.customer_a,
                       &req.customer_b))
        return 2;
    req.reason = (char *)reason;
    req.actor = (char *)actor;
    return print_reply(
        &q,
        call_method(&q, "NotSameCustomer", ECIF_METHOD_NOT_SAME_CUSTOMER,
                    &req.base,
                    &ecif__v1__not_same_customer_response__descriptor),
        print_not_same);
}

/* ---- add ----------------------------------------------------------------- */

static void add_usage(FILE *out)
{
    fprintf(out,
            "usage: ecifctl add --server HOST:PORT --source-system S "
            "--source-id ID\n"
            "                   [--actor NAME] [RECORD FIELDS] "
            "[--account SPEC]...\n\n"
            "Adds a new record to a running ecifd. It joins the customer it "
            "matches, or\nbecomes a new customer when none matches, or when "
            "two match equally well.\n"
            "A source key that is stored already is refused.\n\n");
    fputs(common_help, out);
    fputs(actor_help, out);
    fputs("  --source-system S     source system of the record (required)\n"
          "  --source-id ID        id of the record there (required)\n"
          "  --account SPEC        an account of the record, "
          "ID,PRODUCT,CURRENCY,LIMIT,BALANCE\n"
          "                        with an optional ,BRANCH; may be "
          "repeated. CURRENCY is\n"
          "                        three letters. LIMIT and BALANCE are "
          "decimal amounts in\n"
          "                        currency units with at most 4 decimal "
          "places and an\n"
          "                        optional minus sign, without thousands "
          "separators\n"
          "                        (200000, 1520.75, -35.5); the server "
          "rejects magnitudes\n"
          "                        above one trillion\n\n",
          out);
    fputs(record_help, out);
}

/*
 * Splits an --account SPEC in place into a new account message. A spec
 * of other than 5 or 6 fields is rejected whole, so a comma inside a
 * value (such as a thousands separator) is never silently dropped.
 */
static Ecif__V1__Account *parse_account(char *spec)
{
    char *parts[6] = {0};
    size_t n = 1;

    for (const char *c = strchr(spec, ','); c != NULL; c = strchr(c + 1, ','))
        n++;
    if (n < 5 || n > 6) {
        fprintf(stderr,
                "ecifctl: --account '%s' has %zu fields; expected "
                "ID,PRODUCT,CURRENCY,LIMIT,BALANCE with an optional ,BRANCH "
                "(amounts without thousands separators)\n",
                spec, n);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char *comma = strchr(spec, ',');
        parts[i] = spec;
        if (comma != NULL) {
            *comma = '\0';
            spec = comma + 1;
        }
    }
    Ecif__V1__Account *a = malloc(sizeof(*a));
    if (a == NULL)
        return NULL;
    ecif__v1__account__init(a);
    a->account_id = parts[0];
    a->product = parts[1];
    a->currency = parts[2];
    a->credit_limit = parts[3];
    a->balance = parts[4];
    if (parts[5] != NULL)
        a->branch = parts[5];
    return a;
}

static void print_added(const ProtobufCMessage *msg)
{
    const Ecif__V1__AddRecordResponse *resp =
        (const Ecif__V1__AddRecordResponse *)msg;
    static const char *const outcomes[] = {
        [ECIF__V1__ADD_OUTCOME__JOINED] = "joined",
        [ECIF__V1__ADD_OUTCOME__NEW_NO_MATCH] = "new customer: no match",
        [ECIF__V1__ADD_OUTCOME__NEW_POSSIBLE_MATCH] =
            "new customer: only a possible match",
        [ECIF__V1__ADD_OUTCOME__NEW_AMBIGUOUS] =
            "new customer: matches several customers equally well",
        [ECIF__V1__ADD_OUTCOME__NEW_CONFLICT] =
            "new customer: its match holds a record that cannot be this "
            "person",
    };
    const char *what = (unsigned)resp->outcome < 6 && outcomes[resp->outcome]
                           ? outcomes[resp->outcome]
                           : "unknown outcome";
    printf("%s %s: %u %s (journal entry %llu)\n", what, resp->customer_number,
           resp->record_count, records_word(resp->record_count),
           (unsigned long long)resp->sequence);
    if (resp->n_candidates > 0) {
        print_candidates_header();
        for (size_t i = 0; i < resp->n_candidates; i++)
            print_candidate(resp->candidates[i]);
    }
    print_signals(resp->application_signals, resp->n_application_signals);
}

int ctl_add_main(int argc, char **argv)
{
    static const struct option extra[] = {
        {"source-system", required_argument, NULL, OPT_SOURCE_SYSTEM},
        {"source-id", required_argument, NULL, OPT_SOURCE_ID},
        {"account", required_argument, NULL, OPT_ACCOUNT},
        {"actor", required_argument, NULL, OPT_ACTOR},
    };
    enum { NEXTRA = sizeof(extra) / sizeof(extra[0]) };
    size_t nbase = sizeof(record_options) / sizeof(record_options[0]) - 1;
    struct option
        options[sizeof(record_options) / sizeof(record_options[0]) + NEXTRA];
    const char *actor = NULL;
    query_opts_t q;
    Ecif__V1__Account **accounts = calloc((size_t)argc + 1, sizeof(*accounts));
    int rc = 2;

    memcpy(options, record_options, nbase * sizeof(options[0]));
    memcpy(options + nbase, extra, sizeof(extra));
    memset(&options[nbase + NEXTRA], 0, sizeof(options[0]));
    query_opts_init(&q);
    if (accounts == NULL) {
        fprintf(stderr, "ecifctl: out of memory\n");
        rc = 1;
        goto out;
    }
    if (!query_opts_alloc_record(&q, argc)) {
        rc = 1;
        goto out;
    }
    q.record.accounts = accounts;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        bool ok = true;
        if (is_common_option(opt))
            ok = set_common_option(&q, opt, optarg);
        else if (opt == OPT_SOURCE_SYSTEM)
            q.record.source_system = optarg;
        else if (opt == OPT_SOURCE_ID)
            q.record.source_id = optarg;
        else if (opt == OPT_ACCOUNT)
            ok = (accounts[q.record.n_accounts++] = parse_account(optarg)) !=
                 NULL;
        else if (opt == OPT_ACTOR)
            actor = optarg;
        else if (opt == OPT_HELP) {
            add_usage(stdout);
            rc = 0;
            goto out;
        } else
            ok = opt != OPT_MAX_CANDIDATES && set_record_field(&q, opt, optarg);
        if (!ok) {
            add_usage(stderr);
            goto out;
        }
    }
    if (q.server == NULL || q.record.source_system[0] == '\0' ||
        q.record.source_id[0] == '\0' || optind != argc) {
        fprintf(stderr, "ecifctl: --server, --source-system and --source-id "
                        "are required, and no operands\n");
        add_usage(stderr);
        goto out;
    }
    Ecif__V1__AddRecordRequest req = ECIF__V1__ADD_RECORD_REQUEST__INIT;
    req.record = &q.record;
    /* As for corrections: the journal names who added the record, the
     * principal with a token, else the actor. */
    const char *token_file = getenv("ECIF_TOKEN_FILE");
    bool has_token = token_file != NULL && token_file[0] != '\0';
    if (actor != NULL && actor[strspn(actor, " \t")] == '\0') {
        fprintf(stderr, "ecifctl: invalid --actor '%s': it is blank\n", actor);
        add_usage(stderr);
        rc = 2;
        goto out;
    }
    if (actor == NULL && (actor = default_actor()) == NULL && !has_token) {
        fprintf(stderr, "ecifctl: --actor NAME is required: no login name "
                        "was found (getlogin_r failed and $USER is unset) "
                        "and ECIF_TOKEN_FILE is not set\n");
        add_usage(stderr);
        rc = 2;
        goto out;
    }
    if (actor != NULL)
        req.actor = (char *)actor;
    rc = print_reply(&q,
                     call_method(&q, "AddRecord", ECIF_METHOD_ADD_RECORD,
                                 &req.base,
                                 &ecif__v1__add_record_response__descriptor),
                     print_added);
out:
    for (size_t i = 0; accounts != NULL && i < q.record.n_accounts; i++)
        free(accounts[i]);
    free(accounts);
    query_opts_fini(&q);
    return rc;
}

/* ---- history ------------------------------------------------------------- */

static void history_usage(FILE *out)
{
    fprintf(out, "usage: ecifctl history --server HOST:PORT [OPTIONS] "
                 "NUMBER\n\n"
                 "Shows what happened to a customer, oldest first: the "
                 "numbers retired into\nit at import, then every merge, "
                 "split, not-same and add of the journal that\ntouched it, "
                 "with the journal sequence, the time (UTC), the actor and "
                 "the\nreason. A retired NUMBER shows the history of the "
                 "customer it leads to.\nThe events come in pages, and "
                 "ecifctl asks for every page.\n\n");
    fputs(common_help, out);
    fputs("  --page-size N         events per call, 1 to 5000 (default: "
          "the server's,\n"
          "                        1000)\n",
          out);
}

/* Writes a time in microseconds since the epoch as UTC ISO 8601. */
static void format_time(int64_t micros, char *out, size_t len)
{
    time_t secs = (time_t)(micros / 1000000);
    struct tm tm;

    if (micros <= 0 || gmtime_r(&secs, &tm) == NULL) {
        snprintf(out, len, "time not recorded");
        return;
    }
    size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, len - n, ".%06lldZ", (long long)(micros % 1000000));
}

static void print_history_event(const Ecif__V1__HistoryEvent *e)
{
    char when[64];

    if (e->kind == ECIF__V1__HISTORY_KIND__MERGED_AT_IMPORT) {
        printf("  at import  %s retired into %s\n", e->other_customer_number,
               e->customer_number);
        return;
    }
    format_time(e->time_micros, when, sizeof(when));
    printf("  #%-4llu %s  by %s\n", (unsigned long long)e->sequence, when,
           e->actor[0] != '\0' ? e->actor : "(actor not recorded)");
    switch (e->kind) {
    case ECIF__V1__HISTORY_KIND__MERGE:
        printf("        merge: %s retired into %s (%u %s, %u moved)\n",
               e->other_customer_number, e->customer_number, e->record_count,
               records_word(e->record_count), e->moved_record_count);
        break;
    case ECIF__V1__HISTORY_KIND__SPLIT:
        printf("        split: %u %s of %s moved to new customer %s "
               "(%u left)\n",
               e->moved_record_count, records_word(e->moved_record_count),
               e->customer_number, e->other_customer_number, e->record_count);
        break;
    case ECIF__V1__HISTORY_KIND__NOT_SAME:
        printf("        not-same: %s (%u %s) and %s (%u %s)\n",
               e->customer_number, e->record_count,
               records_word(e->record_count), e->other_customer_number,
               e->other_record_count, records_word(e->other_record_count));
        break;
    case ECIF__V1__HISTORY_KIND__ADD:
        printf("        add: a record %s %s (%u %s)\n",
               e->joined ? "joined" : "became new customer", e->customer_number,
               e->record_count, records_word(e->record_count));
        break;
    default:
        printf("        unknown event kind %d\n", (int)e->kind);
    }
    if (e->reason[0] != '\0')
        printf("        reason: %s\n", e->reason);
}

static void print_history(const ProtobufCMessage *msg)
{
    const Ecif__V1__GetHistoryResponse *resp =
        (const Ecif__V1__GetHistoryResponse *)msg;

    printf("history of customer %s", resp->customer_number);
    if (resp->redirected_from[0] != '\0')
        printf(" (%s was retired into it)", resp->redirected_from);
    printf(": %zu %s\n", resp->n_events,
           resp->n_events == 1 ? "event" : "events");
    for (size_t i = 0; i < resp->n_events; i++)
        print_history_event(resp->events[i]);
}

/*
 * Parses the options of history into q and *page_size (0 when not given).
 * Returns -1 to continue, or the exit code: 0 after --help, 2 on a usage
 * error.
 */
static int parse_history_opts(int argc, char **argv, query_opts_t *q,
                              uint32_t *page_size)
{
    static const struct option options[] = {
        {"server", required_argument, NULL, OPT_SERVER},
        {"deadline-ms", required_argument, NULL, OPT_DEADLINE_MS},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
        {"page-size", required_argument, NULL, OPT_PAGE_SIZE},
        {NULL, 0, NULL, 0},
    };
    int opt;

    *page_size = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        bool ok = true;
        if (is_common_option(opt))
            ok = set_common_option(q, opt, optarg);
        else if (opt == OPT_PAGE_SIZE)
            ok = parse_count("--page-size", optarg, 1, 5000, page_size);
        else if (opt == OPT_HELP) {
            history_usage(stdout);
            return 0;
        } else
            ok = false;
        if (!ok) {
            history_usage(stderr);
            return 2;
        }
    }
    if (q->server == NULL) {
        fprintf(stderr, "ecifctl: --server HOST:PORT is required\n");
        history_usage(stderr);
        return 2;
    }
    return -1;
}

/* Maximum number of pages that history reads, so that a server whose
 * tokens never end cannot keep ecifctl calling. */
#define HISTORY_PAGES_MAX 100000

int ctl_history_main(int argc, char **argv)
{
    query_opts_t q;
    uint32_t page_size;
    query_opts_init(&q);
    int rc = parse_history_opts(argc, argv, &q, &page_size);
    if (rc >= 0) {
        query_opts_fini(&q);
        return rc;
    }
    const char *number =
        single_operand(argc, argv, "customer number", history_usage);
    if (number == NULL) {
        query_opts_fini(&q);
        return 2;
    }

    /* Every page stays unpacked until the end, because the joined reply
     * points at their events. */
    Ecif__V1__GetHistoryResponse **pages = NULL;
    Ecif__V1__HistoryEvent **events = NULL;
    size_t n_pages = 0, n_events = 0;
    const char *token = "";
    rc = 0;
    do {
        Ecif__V1__GetHistoryRequest req = ECIF__V1__GET_HISTORY_REQUEST__INIT;
        req.customer_number = (char *)number;
        req.page_size = page_size;
        req.page_token = (char *)token;
        ProtobufCMessage *msg =
            call_method(&q, "GetHistory", ECIF_METHOD_GET_HISTORY, &req.base,
                        &ecif__v1__get_history_response__descriptor);
        if (msg == NULL) {
            rc = 1;
            break;
        }
        Ecif__V1__GetHistoryResponse *page =
            (Ecif__V1__GetHistoryResponse *)msg;
        void *grown_pages = realloc(pages, (n_pages + 1) * sizeof(*pages));
        void *grown_events =
            grown_pages == NULL
                ? NULL
                : realloc(events,
                          (n_events + page->n_events + 1) * sizeof(*events));
        if (grown_pages != NULL)
            pages = grown_pages;
        if (grown_events == NULL) {
            fprintf(stderr, "ecifctl: out of memory\n");
            protobuf_c_message_free_unpacked(msg, NULL);
            rc = 1;
            break;
        }
        events = grown_events;
        pages[n_pages++] = page;
        memcpy(events + n_events, page->events,
               page->n_events * sizeof(*events));
        n_events += page->n_events;
        token = page->next_page_token;
        if (token[0] != '\0' && n_pages == HISTORY_PAGES_MAX) {
            fprintf(stderr,
                    "ecifctl: the history of %s is still not complete "
                    "after %d pages\n",
                    number, HISTORY_PAGES_MAX);
            rc = 1;
        }
    } while (rc == 0 && token[0] != '\0');

    if (rc == 0) {
        Ecif__V1__GetHistoryResponse all = *pages[0];
        all.events = events;
        all.n_events = n_events;
        all.next_page_token = (char *)"";
        if (q.json)
            print_json(&all.base);
        else
            print_history(&all.base);
    }
    for (size_t i = 0; i < n_pages; i++)
        protobuf_c_message_free_unpacked(&pages[i]->base, NULL);
    free(pages);
    free(events);
    query_opts_fini(&q);
    return rc;
}
