/*
 * The CustomerIndex and Health services over the engine.
 *
 * Every handler follows the same steps: unpack the request into a per-call
 * arena, convert and validate it, call the engine, build the response
 * message in the same arena, pack it into a gRPC byte buffer, and free the
 * arena. Response strings point straight into the store (which outlives the
 * call) or into the arena, so nothing in a response is freed on its own.
 *
 * Engine statuses map to gRPC codes in service_status_from_engine(); the
 * request-level checks below choose their code where they fail.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>

#include "access.h"
#include "applications.h"
#include "corrections.h"
#include "ecif/v1/customer_index.pb-c.h"
#include "explain.h"
#include "grpc/health/v1/health.pb-c.h"
#include "model.h"
#include "resolve.h"
#include "service.h"
#include "status.h"
#include "survivorship.h"

/* ---- Per-call arena ---------------------------------------------------- */

/*
 * A bump allocator whose chunks are freed together at the end of a call.
 * Allocation failure sets failed and returns NULL; the handler then returns
 * RESOURCE_EXHAUSTED, because arena use grows with the request.
 */
typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
} arena_chunk_t;

typedef struct arena {
    arena_chunk_t *head;
    bool failed;
} arena_t;

#define ARENA_CHUNK_BYTES 16384
#define ARENA_ALIGN       16

static void *arena_alloc(arena_t *arena, size_t size)
{
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    arena_chunk_t *chunk = arena->head;
    if (chunk == NULL || chunk->size - chunk->used < size) {
        size_t bytes = size > ARENA_CHUNK_BYTES ? size : ARENA_CHUNK_BYTES;
        chunk = malloc(sizeof(*chunk) + bytes);
        if (chunk == NULL) {
            arena->failed = true;
            return NULL;
        }
        chunk->next = arena->head;
        chunk->size = bytes;
        chunk->used = 0;
        arena->head = chunk;
    }
    void *p = chunk->data + chunk->used;
    chunk->used += size;
    return p;
}

static void *arena_calloc(arena_t *arena, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size) {
        arena->failed = true;
        return NULL;
    }
    void *p = arena_alloc(arena, count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

/* Copies s into the arena; NULL when out of memory. */
static char *arena_strdup(arena_t *arena, const char *s)
{
    size_t len = strlen(s) + 1;
    char *copy = arena_alloc(arena, len);
    if (copy != NULL)
        memcpy(copy, s, len);
    return copy;
}

static void arena_free_all(arena_t *arena)
{
    arena_chunk_t *chunk = arena->head;
    while (chunk != NULL) {
        arena_chunk_t *next = chunk->next;
        free(chunk);
        chunk = next;
    }
    arena->head = NULL;
}

static void *arena_pb_alloc(void *data, size_t size)
{
    return arena_alloc(data, size);
}

/* protobuf-c frees piecewise; the arena frees everything at the end. */
static void arena_pb_free(void *data, void *p)
{
}

/* ---- Call context and status helpers ------------------------------------- */

typedef struct call_ctx {
    const ecif_service_t *svc;
    const ecif_store_t *store; /* the view this call reads */
    arena_t arena;
    ProtobufCAllocator allocator;
    char *details;
    size_t details_len;
    char nul_field[128];         /* path of a string field holding a NUL byte */
    const char *redirected_from; /* set by find_customer for a retired number */
    const char *principal;       /* the verified caller, NULL without access */
    uint64_t customers[2];       /* valid customer numbers a write names */
} call_ctx_t;

static grpc_status_code fail(call_ctx_t *ctx, grpc_status_code code,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static grpc_status_code fail(call_ctx_t *ctx, grpc_status_code code,
                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->details, ctx->details_len, fmt, ap);
    va_end(ap);
    return code;
}

static grpc_status_code fail_oom(call_ctx_t *ctx)
{
    return fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED,
                "out of memory while handling the request");
}

/* Maps an engine status that a request could not avoid to a gRPC code. */
static grpc_status_code service_status_from_engine(int status)
{
    switch (status) {
    case ECIF_OK:
        return GRPC_STATUS_OK;
    case ECIF_EINVAL:
        return GRPC_STATUS_INVALID_ARGUMENT;
    case ECIF_ENOTFOUND:
        return GRPC_STATUS_NOT_FOUND;
    case ECIF_ECONFLICT:
        return GRPC_STATUS_FAILED_PRECONDITION;
    case ECIF_EEXIST:
        return GRPC_STATUS_ALREADY_EXISTS;
    case ECIF_ENOMEM:
    case ECIF_ELIMIT:
        return GRPC_STATUS_RESOURCE_EXHAUSTED;
    default:
        return GRPC_STATUS_INTERNAL;
    }
}

/*
 * Copies text into out for quoting in a status message: at most 40 bytes,
 * non-printable ASCII bytes replaced by '?', so a malformed value cannot
 * garble the message.
 */
static void quote_value(const char *text, char *out, size_t out_len)
{
    size_t n = 0;
    for (; text[n] != '\0' && n < 40 && n + 1 < out_len; n++) {
        unsigned char c = (unsigned char)text[n];
        out[n] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[n] = '\0';
}

/* Unpacks the request payload. Returns NULL on a malformed message. */
/* Reads a base-128 varint; returns false when the input ends first. */
static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t value = 0;

    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t byte = *(*p)++;
        value |= (uint64_t)(byte & 0x7F) << shift;
        if ((byte & 0x80) == 0) {
            *out = value;
            return true;
        }
    }
    return false;
}

/*
 * Finds a string field whose bytes contain a NUL, walking the wire format
 * with the message descriptor (nested messages too, at most 8 deep).
 * protobuf-c hands strings over NUL-terminated, so such a value would be
 * cut silently and matched on its first part. Writes the field path
 * ("record.name") to path and returns true when one is found. Malformed
 * input returns false: the unpack that follows rejects it.
 */
static bool find_nul_string(const uint8_t *p, const uint8_t *end,
                            const ProtobufCMessageDescriptor *desc,
                            const char *prefix, char *path, size_t path_len,
                            int depth)
{
    while (p < end) {
        uint64_t tag, len;
        if (!read_varint(&p, end, &tag))
            return false;
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field(desc, (unsigned)(tag >> 3));
        switch (tag & 7) {
        case 0:
            if (!read_varint(&p, end, &len))
                return false;
            break;
        case 1:
            if (end - p < 8)
                return false;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return false;
            p += 4;
            break;
        case 2:
            if (!read_varint(&p, end, &len) || len > (uint64_t)(end - p))
                return false;
            if (field != NULL && field->type == PROTOBUF_C_TYPE_STRING &&
                memchr(p, 0, len) != NULL) {
                snprintf(path, path_len, "%s%s", prefix, field->name);
                return true;
            }
            if (field != NULL && field->type == PROTOBUF_C_TYPE_MESSAGE &&
                depth < 8) {
                char nested[128];
                snprintf(nested, sizeof(nested), "%s%s.", prefix, field->name);
                if (find_nul_string(p, p + len, field->descriptor, nested, path,
                                    path_len, depth + 1))
                    return true;
            }
            p += len;
            break;
        default:
            return false;
        }
    }
    return false;
}

static ProtobufCMessage *unpack_request(call_ctx_t *ctx,
                                        const ProtobufCMessageDescriptor *desc,
                                        grpc_byte_buffer *request)
{
    if (request == NULL)
        return protobuf_c_message_unpack(desc, &ctx->allocator, 0,
                                         (const uint8_t *)"");

    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, request))
        return NULL;
    grpc_slice slice = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    const uint8_t *start = GRPC_SLICE_START_PTR(slice);
    if (find_nul_string(start, start + GRPC_SLICE_LENGTH(slice), desc, "",
                        ctx->nul_field, sizeof(ctx->nul_field), 0)) {
        grpc_slice_unref(slice);
        return NULL;
    }
    ProtobufCMessage *msg = protobuf_c_message_unpack(
        desc, &ctx->allocator, GRPC_SLICE_LENGTH(slice),
        GRPC_SLICE_START_PTR(slice));
    grpc_slice_unref(slice);
    return msg;
}

static grpc_status_code fail_unparseable(call_ctx_t *ctx,
                                         const ProtobufCMessageDescriptor *d)
{
    if (ctx->arena.failed)
        return fail_oom(ctx);
    if (ctx->nul_field[0] != '\0')
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "%s: NUL byte in a string value", ctx->nul_field);
    return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "request is not a valid %s",
                d->name);
}

/*
 * Unpacks request as a desc message in the call's arena. Returns NULL with
 * *code set to the status to send when the bytes are not such a message.
 */
static void *decode_request(call_ctx_t *ctx,
                            const ProtobufCMessageDescriptor *desc,
                            grpc_byte_buffer *request, grpc_status_code *code)
{
    ProtobufCMessage *msg = unpack_request(ctx, desc, request);
    *code = msg != NULL ? GRPC_STATUS_OK : fail_unparseable(ctx, desc);
    return msg;
}

/* Packs a response message into a new byte buffer. */
static grpc_byte_buffer *pack_response(const ProtobufCMessage *msg)
{
    size_t size = protobuf_c_message_get_packed_size(msg);
    grpc_slice slice = grpc_slice_malloc(size);
    size_t packed = protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(slice));
    assert(packed == size);
    (void)packed;
    grpc_byte_buffer *buf = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    return buf;
}

/* ---- Conversions between protobuf and the engine ------------------------- */

static bool is_set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* protobuf-c strings are never const; the packer only reads them. */
static char *pb_str(const char *s)
{
    return (char *)(s != NULL ? s : protobuf_c_empty_string);
}

static grpc_status_code copy_values(call_ctx_t *ctx, const char *path,
                                    const char *field, char **values,
                                    size_t count, const char **out,
                                    uint32_t *n_out)
{
    if (count > ECIF_MAX_VALUES)
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "%s.%s: too many values (%zu, maximum %d)", path, field,
                    count, ECIF_MAX_VALUES);
    for (size_t i = 0; i < count; i++)
        out[i] = values[i];
    *n_out = (uint32_t)count;
    return GRPC_STATUS_OK;
}

/*
 * Fails with an engine message ("dob: invalid date ...") rewritten to name
 * the field by its path in the request ("record.dob: ..."). The engine
 * names list fields in the singular and the whole record "record"; both
 * become their proto names.
 */
static grpc_status_code fail_with_field_path(call_ctx_t *ctx,
                                             grpc_status_code code,
                                             const char *path,
                                             const char *message)
{
    static const struct {
        const char *engine;
        const char *proto;
    } renames[] = {
        {"phone", "phones"},
        {"email", "emails"},
        {"address", "addresses"},
    };
    const char *colon = strchr(message, ':');
    if (colon == NULL)
        return fail(ctx, code, "%s: %s", path, message);

    size_t len = (size_t)(colon - message);
    /* "appending to journal '...' failed: ..." names no field. */
    if (strspn(message, "abcdefghijklmnopqrstuvwxyz0123456789_.[]") != len)
        return fail(ctx, code, "%s", message);
    if (len == strlen("record") && memcmp(message, "record", len) == 0)
        return fail(ctx, code, "%s%s", path, colon);
    for (size_t i = 0; i < sizeof(renames) / sizeof(renames[0]); i++) {
        if (strlen(renames[i].engine) == len &&
            memcmp(message, renames[i].engine, len) == 0)
            return fail(ctx, code, "%s.%s%s", path, renames[i].proto, colon);
    }
    return fail(ctx, code, "%s.%s", path, message);
}

/*
 * Converts a query record and validates it. path ("record") prefixes the
 * field names in the status message. The strings of *rec point into msg.
 */
static grpc_status_code record_from_proto(call_ctx_t *ctx, const char *path,
                                          const Ecif__V1__Record *msg,
                                          ecif_record_t *rec)
{
    memset(rec, 0, sizeof(*rec));
    rec->source_system = msg->source_system;
    rec->source_id = msg->source_id;
    rec->name = msg->name;
    rec->given_name = msg->given_name;
    rec->family_name = msg->family_name;
    rec->id_type = msg->id_type;
    rec->id_number = msg->id_number;
    rec->dob = msg->dob;
    rec->gender = msg->gender;

    grpc_status_code code;
    code = copy_values(ctx, path, "phones", msg->phones, msg->n_phones,
                       rec->phones, &rec->n_phones);
    if (code != GRPC_STATUS_OK)
        return code;
    code = copy_values(ctx, path, "emails", msg->emails, msg->n_emails,
                       rec->emails, &rec->n_emails);
    if (code != GRPC_STATUS_OK)
        return code;
    code = copy_values(ctx, path, "addresses", msg->addresses, msg->n_addresses,
                       rec->addresses, &rec->n_addresses);
    if (code != GRPC_STATUS_OK)
        return code;

    char err[ECIF_SERVICE_DETAILS_MAX - 32];
    int status = ECIF_OK;
    if (is_set(msg->updated_at))
        status = ecif_updated_at_parse(msg->updated_at, &rec->updated_at, err,
                                       sizeof(err));
    if (status == ECIF_OK)
        status = ecif_record_validate(rec, false, err, sizeof(err));
    if (status != ECIF_OK)
        return fail_with_field_path(ctx, service_status_from_engine(status),
                                    path, err);
    return GRPC_STATUS_OK;
}

static Ecif__V1__Verdict verdict_to_proto(ecif_verdict_t verdict)
{
    switch (verdict) {
    case ECIF_NO_MATCH:
        return ECIF__V1__VERDICT__NO_MATCH;
    case ECIF_POSSIBLE_MATCH:
        return ECIF__V1__VERDICT__POSSIBLE_MATCH;
    case ECIF_MATCH:
        return ECIF__V1__VERDICT__MATCH;
    }
    return ECIF__V1__VERDICT__VERDICT_UNSPECIFIED;
}

static Ecif__V1__RecordRef *record_ref_to_proto(call_ctx_t *ctx,
                                                const ecif_record_t *rec)
{
    Ecif__V1__RecordRef *ref = arena_alloc(&ctx->arena, sizeof(*ref));
    if (ref == NULL)
        return NULL;
    ecif__v1__record_ref__init(ref);
    ref->source_system = pb_str(rec->source_system);
    ref->source_id = pb_str(rec->source_id);
    return ref;
}

/* Returns ECIF_FIELD_COUNT evidence messages, one per field in order. */
static Ecif__V1__FieldEvidence **
evidence_to_proto(call_ctx_t *ctx,
                  const ecif_evidence_t evidence[ECIF_FIELD_COUNT])
{
    Ecif__V1__FieldEvidence *ev =
        arena_calloc(&ctx->arena, ECIF_FIELD_COUNT, sizeof(*ev));
    Ecif__V1__FieldEvidence **evp =
        arena_calloc(&ctx->arena, ECIF_FIELD_COUNT, sizeof(*evp));
    if (ev == NULL || evp == NULL)
        return NULL;
    for (int f = 0; f < ECIF_FIELD_COUNT; f++) {
        ecif__v1__field_evidence__init(&ev[f]);
        ev[f].field = pb_str(ecif_field_str((ecif_field_t)f));
        ev[f].level = pb_str(ecif_level_str(evidence[f].level));
        ev[f].weight = evidence[f].weight;
        ev[f].level_detail =
            pb_str(evidence[f].detail != NULL ? evidence[f].detail : "");
        evp[f] = &ev[f];
    }
    return evp;
}

static Ecif__V1__Candidate *candidate_to_proto(call_ctx_t *ctx,
                                               const ecif_candidate_t *cand)
{
    const ecif_store_t *store = ctx->store;
    Ecif__V1__Candidate *msg = arena_alloc(&ctx->arena, sizeof(*msg));
    Ecif__V1__FieldEvidence **evp = evidence_to_proto(ctx, cand->evidence);
    Ecif__V1__RecordRef **refs =
        arena_calloc(&ctx->arena, cand->n_matched + 1, sizeof(*refs));
    if (msg == NULL || evp == NULL || refs == NULL)
        return NULL;

    ecif__v1__candidate__init(msg);
    msg->customer_number =
        pb_str(ecif_store_customer_number(store, cand->customer));
    msg->score = cand->score;
    msg->match_probability = cand->probability;
    msg->verdict = verdict_to_proto(cand->verdict);
    msg->evidence = evp;
    msg->n_evidence = ECIF_FIELD_COUNT;

    for (uint32_t i = 0; i < cand->n_matched; i++) {
        ecif_record_t rec;
        ecif_store_get_record(store, cand->matched[i], &rec);
        refs[i] = record_ref_to_proto(ctx, &rec);
        if (refs[i] == NULL)
            return NULL;
    }
    msg->matched_records = refs;
    msg->n_matched_records = cand->n_matched;
    return msg;
}

static char *amount_to_proto(call_ctx_t *ctx, int64_t amount)
{
    char *buf = arena_alloc(&ctx->arena, ECIF_AMOUNT_STR_MAX);
    if (buf == NULL)
        return NULL;
    return ecif_amount_format(amount, buf);
}

static Ecif__V1__Account *account_to_proto(call_ctx_t *ctx, uint32_t record,
                                           uint32_t index)
{
    ecif_account_t acct;
    ecif_store_get_account(ctx->store, record, index, &acct);

    Ecif__V1__Account *msg = arena_alloc(&ctx->arena, sizeof(*msg));
    if (msg == NULL)
        return NULL;
    ecif__v1__account__init(msg);
    msg->account_id = pb_str(acct.account_id);
    msg->product = pb_str(acct.product);
    msg->currency = pb_str(acct.currency);
    msg->branch = pb_str(acct.branch);
    msg->credit_limit = amount_to_proto(ctx, acct.credit_limit);
    msg->balance = amount_to_proto(ctx, acct.balance);
    if (msg->credit_limit == NULL || msg->balance == NULL)
        return NULL;
    return msg;
}

static char **values_to_proto(call_ctx_t *ctx, const char *const *values,
                              uint32_t count)
{
    char **out = arena_calloc(&ctx->arena, count + 1, sizeof(*out));
    if (out == NULL)
        return NULL;
    for (uint32_t i = 0; i < count; i++)
        out[i] = pb_str(values[i]);
    return out;
}

/* Returns the names of the flags set in quality, NULL-terminated, from
 * the arena; NULL when out of memory. */
static char **quality_to_proto(call_ctx_t *ctx, uint32_t quality, size_t *count)
{
    char **out =
        arena_calloc(&ctx->arena, ECIF_QUALITY_FLAG_COUNT + 1, sizeof(*out));
    *count = 0;
    if (out == NULL)
        return NULL;
    for (int i = 0; i < ECIF_QUALITY_FLAG_COUNT; i++) {
        if (quality & (1u << i))
            out[(*count)++] = pb_str(ecif_quality_str(1u << i));
    }
    return out;
}

/* Builds a stored record with its accounts. */
static Ecif__V1__Record *record_to_proto(call_ctx_t *ctx, uint32_t record)
{
    const ecif_store_t *store = ctx->store;
    ecif_record_t rec;
    ecif_store_get_record(store, record, &rec);
    uint32_t n_accounts = ecif_store_record_account_count(store, record);

    Ecif__V1__Record *msg = arena_alloc(&ctx->arena, sizeof(*msg));
    Ecif__V1__Account **accounts =
        arena_calloc(&ctx->arena, n_accounts + 1, sizeof(*accounts));
    if (msg == NULL || accounts == NULL)
        return NULL;
    ecif__v1__record__init(msg);
    msg->source_system = pb_str(rec.source_system);
    msg->source_id = pb_str(rec.source_id);
    msg->name = pb_str(rec.name);
    msg->given_name = pb_str(rec.given_name);
    msg->family_name = pb_str(rec.family_name);
    msg->id_type = pb_str(rec.id_type);
    msg->id_number = pb_str(rec.id_number);
    msg->dob = pb_str(rec.dob);
    msg->gender = pb_str(rec.gender);
    if (rec.updated_at != 0) {
        char *text = arena_alloc(&ctx->arena, ECIF_UPDATED_AT_STR_MAX);
        if (text == NULL)
            return NULL;
        msg->updated_at = ecif_updated_at_format(rec.updated_at, text);
    }
    msg->phones = values_to_proto(ctx, rec.phones, rec.n_phones);
    msg->emails = values_to_proto(ctx, rec.emails, rec.n_emails);
    msg->addresses = values_to_proto(ctx, rec.addresses, rec.n_addresses);
    if (msg->phones == NULL || msg->emails == NULL || msg->addresses == NULL)
        return NULL;
    msg->n_phones = rec.n_phones;
    msg->n_emails = rec.n_emails;
    msg->n_addresses = rec.n_addresses;

    for (uint32_t i = 0; i < n_accounts; i++) {
        accounts[i] = account_to_proto(ctx, record, i);
        if (accounts[i] == NULL)
            return NULL;
    }
    msg->accounts = accounts;
    msg->n_accounts = n_accounts;
    msg->quality_flags = quality_to_proto(
        ctx, ecif_store_record_quality(store, record), &msg->n_quality_flags);
    if (msg->quality_flags == NULL)
        return NULL;
    return msg;
}

/* ---- Consolidated record ------------------------------------------------- */

static Ecif__V1__RecordRef *stored_ref_to_proto(call_ctx_t *ctx,
                                                uint32_t record)
{
    ecif_record_t rec;
    ecif_store_get_record(ctx->store, record, &rec);
    return record_ref_to_proto(ctx, &rec);
}

static Ecif__V1__ConsolidatedValue *
consolidated_value_to_proto(call_ctx_t *ctx, const char *field,
                            const char *value, uint32_t record,
                            ecif_golden_rule_t rule)
{
    Ecif__V1__ConsolidatedValue *msg = arena_alloc(&ctx->arena, sizeof(*msg));
    if (msg == NULL)
        return NULL;
    ecif__v1__consolidated_value__init(msg);
    msg->field = pb_str(field);
    msg->value = pb_str(value);
    msg->rule = pb_str(ecif_golden_rule_str(rule));
    msg->source = stored_ref_to_proto(ctx, record);
    return msg->source != NULL ? msg : NULL;
}

/* Adds one distinct list value to the record and to the sources. */
static bool golden_item_to_proto(call_ctx_t *ctx, ecif_golden_list_t list,
                                 const ecif_golden_item_t *item,
                                 Ecif__V1__ConsolidatedValue **out)
{
    *out = consolidated_value_to_proto(ctx, ecif_golden_list_str(list),
                                       item->value, item->records[0],
                                       ECIF_GOLDEN_RULE_UNION);
    if (*out == NULL)
        return false;
    size_t n_others = item->n_records - 1;
    Ecif__V1__RecordRef **others =
        arena_calloc(&ctx->arena, n_others + 1, sizeof(*others));
    if (others == NULL)
        return false;
    for (size_t k = 0; k < n_others; k++) {
        others[k] = stored_ref_to_proto(ctx, item->records[k + 1]);
        if (others[k] == NULL)
            return false;
    }
    (*out)->other_sources = others;
    (*out)->n_other_sources = n_others;
    return true;
}

static char **golden_list_values(call_ctx_t *ctx, const ecif_golden_items_t *l,
                                 size_t *n_out)
{
    char **values = arena_calloc(&ctx->arena, l->count + 1, sizeof(*values));
    if (values == NULL)
        return NULL;
    for (uint32_t i = 0; i < l->count; i++)
        values[i] = pb_str(l->items[i].value);
    *n_out = l->count;
    return values;
}

/*
 * Fills the consolidated record of the response and the source of each of
 * its values from the customer's golden record.
 */
static grpc_status_code consolidate(call_ctx_t *ctx, uint32_t customer,
                                    Ecif__V1__GetCustomerResponse *resp)
{
    ecif_golden_record_t g;
    int status =
        ecif_golden_build(ctx->store, customer, &ctx->svc->survivorship, &g);
    if (status != ECIF_OK)
        return fail(ctx, service_status_from_engine(status),
                    "survivorship failed: %s", ecif_status_str(status));

    Ecif__V1__Record *rec = arena_alloc(&ctx->arena, sizeof(*rec));
    size_t max_sources =
        ECIF_GOLDEN_FIELD_COUNT + ECIF_GOLDEN_LIST_COUNT * ECIF_MAX_VALUES;
    Ecif__V1__ConsolidatedValue **sources =
        arena_calloc(&ctx->arena, max_sources, sizeof(*sources));
    if (rec == NULL || sources == NULL)
        return fail_oom(ctx);
    ecif__v1__record__init(rec);

    char **fields[ECIF_GOLDEN_FIELD_COUNT] = {
        &rec->name,      &rec->given_name, &rec->family_name, &rec->id_type,
        &rec->id_number, &rec->dob,        &rec->gender,
    };
    size_t n = 0;
    for (int f = 0; f < ECIF_GOLDEN_FIELD_COUNT; f++) {
        const ecif_golden_value_t *v = &g.fields[f];
        *fields[f] = pb_str(v->value);
        if (v->rule == ECIF_GOLDEN_RULE_NONE)
            continue;
        sources[n] = consolidated_value_to_proto(
            ctx, ecif_golden_field_str((ecif_golden_field_t)f), v->value,
            v->record, v->rule);
        if (sources[n++] == NULL)
            return fail_oom(ctx);
    }

    rec->phones =
        golden_list_values(ctx, &g.lists[ECIF_GOLDEN_PHONES], &rec->n_phones);
    rec->emails =
        golden_list_values(ctx, &g.lists[ECIF_GOLDEN_EMAILS], &rec->n_emails);
    rec->addresses = golden_list_values(ctx, &g.lists[ECIF_GOLDEN_ADDRESSES],
                                        &rec->n_addresses);
    if (rec->phones == NULL || rec->emails == NULL || rec->addresses == NULL)
        return fail_oom(ctx);
    for (int l = 0; l < ECIF_GOLDEN_LIST_COUNT; l++) {
        for (uint32_t i = 0; i < g.lists[l].count; i++) {
            if (!golden_item_to_proto(ctx, (ecif_golden_list_t)l,
                                      &g.lists[l].items[i], &sources[n++]))
                return fail_oom(ctx);
        }
    }

    resp->consolidated = rec;
    resp->consolidated_sources = sources;
    resp->n_consolidated_sources = n;
    return GRPC_STATUS_OK;
}

/* ---- Handlers ------------------------------------------------------------ */

static grpc_status_code find_customer(call_ctx_t *ctx, const char *path,
                                      const char *number, uint32_t *customer)
{
    if (!is_set(number))
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s is required", path);
    if (ecif_store_find_customer(ctx->store, number, customer) == ECIF_OK)
        return GRPC_STATUS_OK;
    /* A number retired by a merge leads to the customer it joined. */
    char survivor[ECIF_CUSTOMER_NUMBER_LEN + 1];
    if (ecif_store_find_redirect(ctx->store, number, survivor) == ECIF_OK &&
        ecif_store_find_customer(ctx->store, survivor, customer) == ECIF_OK) {
        ctx->redirected_from = number;
        return GRPC_STATUS_OK;
    }
    char quoted[48];
    quote_value(number, quoted, sizeof(quoted));
    return fail(ctx, GRPC_STATUS_NOT_FOUND, "%s: customer '%s' not found", path,
                quoted);
}

static grpc_status_code resolve(call_ctx_t *ctx, const ecif_record_t *query,
                                ecif_candidate_t *out, size_t max,
                                size_t *count, uint32_t *quality)
{
    int status =
        ecif_resolve_with_quality(ctx->store, query, out, max, count, quality);
    if (status != ECIF_OK)
        return fail(ctx, service_status_from_engine(status),
                    "resolve failed: %s", ecif_status_str(status));
    return GRPC_STATUS_OK;
}

static grpc_status_code handle_resolve(call_ctx_t *ctx,
                                       grpc_byte_buffer *request,
                                       ProtobufCMessage **response)
{
    const ProtobufCMessageDescriptor *desc =
        &ecif__v1__resolve_request__descriptor;
    Ecif__V1__ResolveRequest *req =
        (Ecif__V1__ResolveRequest *)unpack_request(ctx, desc, request);
    if (req == NULL)
        return fail_unparseable(ctx, desc);
    if (req->record == NULL)
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "record is required");

    ecif_record_t query;
    grpc_status_code code =
        record_from_proto(ctx, "record", req->record, &query);
    if (code != GRPC_STATUS_OK)
        return code;

    size_t max = req->max_candidates;
    if (max == 0)
        max = ECIF_SERVICE_DEFAULT_CANDIDATES;
    if (max > ctx->svc->max_candidates)
        max = ctx->svc->max_candidates;

    ecif_candidate_t cands[ECIF_MAX_CANDIDATES];
    size_t count = 0;
    uint32_t quality = 0;
    code = resolve(ctx, &query, cands, max, &count, &quality);
    if (code != GRPC_STATUS_OK)
        return code;

    Ecif__V1__ResolveResponse *resp = arena_alloc(&ctx->arena, sizeof(*resp));
    Ecif__V1__Candidate **list =
        arena_calloc(&ctx->arena, count + 1, sizeof(*list));
    if (resp == NULL || list == NULL)
        return fail_oom(ctx);
    ecif__v1__resolve_response__init(resp);
    for (size_t i = 0; i < count; i++) {
        list[i] = candidate_to_proto(ctx, &cands[i]);
        if (list[i] == NULL)
            return fail_oom(ctx);
    }
    resp->candidates = list;
    resp->n_candidates = count;
    resp->query_flags = quality_to_proto(ctx, quality, &resp->n_query_flags);
    if (resp->query_flags == NULL)
        return fail_oom(ctx);
    *response = &resp->base;
    return GRPC_STATUS_OK;
}

/* Lists the retired numbers that now lead to a customer. */
static grpc_status_code
merged_numbers_to_proto(call_ctx_t *ctx, uint32_t customer,
                        Ecif__V1__GetCustomerResponse *resp)
{
    enum { MAX_MERGED = 64 };
    char(*numbers)[ECIF_CUSTOMER_NUMBER_LEN + 1] =
        arena_alloc(&ctx->arena, MAX_MERGED * sizeof(*numbers));
    char **list = arena_calloc(&ctx->arena, MAX_MERGED + 1, sizeof(*list));

    if (numbers == NULL || list == NULL)
        return fail_oom(ctx);
    size_t n =
        ecif_store_customer_history(ctx->store, customer, numbers, MAX_MERGED);
    if (n > MAX_MERGED)
        n = MAX_MERGED;
    for (size_t i = 0; i < n; i++)
        list[i] = numbers[i];
    resp->merged_numbers = list;
    resp->n_merged_numbers = n;
    return GRPC_STATUS_OK;
}

static grpc_status_code handle_get_customer(call_ctx_t *ctx,
                                            grpc_byte_buffer *request,
                                            ProtobufCMessage **response)
{
    const ecif_store_t *store = ctx->store;
    const ProtobufCMessageDescriptor *desc =
        &ecif__v1__get_customer_request__descriptor;
    Ecif__V1__GetCustomerRequest *req =
        (Ecif__V1__GetCustomerRequest *)unpack_request(ctx, desc, request);
    if (req == NULL)
        return fail_unparseable(ctx, desc);

    uint32_t customer;
    grpc_status_code code =
        find_customer(ctx, "customer_number", req->customer_number, &customer);
    if (code != GRPC_STATUS_OK)
        return code;

    uint32_t count = 0;
    const uint32_t *ids = ecif_store_customer_records(store, customer, &count);
    Ecif__V1__GetCustomerResponse *resp =
        arena_alloc(&ctx->arena, sizeof(*resp));
    Ecif__V1__Record **records =
        arena_calloc(&ctx->arena, count + 1, sizeof(*records));
    if (resp == NULL || records == NULL)
        return fail_oom(ctx);

    ecif__v1__get_customer_response__init(resp);
    resp->customer_number = pb_str(ecif_store_customer_number(store, customer));
    for (uint32_t i = 0; i < count; i++) {
        records[i] = record_to_proto(ctx, ids[i]);
        if (records[i] == NULL)
            return fail_oom(ctx);
    }
    resp->records = records;
    resp->n_records = count;
    code = consolidate(ctx, customer, resp);
    if (code != GRPC_STATUS_OK)
        return code;
    if (ctx->redirected_from != NULL)
        resp->redirected_from = pb_str(ctx->redirected_from);
    code = merged_numbers_to_proto(ctx, customer, resp);
    if (code != GRPC_STATUS_OK)
        return code;
    *response = &resp->base;
    return GRPC_STATUS_OK;
}

/* Resolves a record to the customer of its best candidate, if a MATCH. */
static grpc_status_code resolve_exposure_target(call_ctx_t *ctx,
                                                const Ecif__V1__Record *msg,
                                                uint32_t *customer,
                                                Ecif__V1__Candidate **resolved)
{
    ecif_record_t query;
    grpc_status_code code = record_from_proto(ctx, "record", msg, &query);
    if (code != GRPC_STATUS_OK)
        return code;

    ecif_candidate_t found[2];
    size_t count = 0;
    uint32_t quality = 0;
    code = resolve(ctx, &query, found, 2, &count, &quality);
    if (code != GRPC_STATUS_OK)
        return code;
    const ecif_candidate_t *best = &found[0];
    /* Only "nobody" is NOT_FOUND: a caller may read it as no exposure,
     * so a customer that might be the record's gets its own status. */
    if (count == 0 || best->verdict == ECIF_NO_MATCH)
        return fail(ctx, GRPC_STATUS_NOT_FOUND,
                    "no customer matches the record");
    if (quality & ECIF_QUALITY_AMBIGUOUS_MATCH)
        return fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                    "the record matches customers %s and %s equally well "
                    "(ambiguous_match), so its exposure could be either's: "
                    "have a steward review them, then ask by "
                    "customer_number",
                    ecif_store_customer_number(ctx->store, found[0].customer),
                    ecif_store_customer_number(ctx->store, found[1].customer));
    if (best->verdict != ECIF_MATCH)
        return fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                    "the record matches customer %s only at POSSIBLE_MATCH "
                    "(score %.1f), so the exposure may be another "
                    "person's: confirm the customer, then ask by "
                    "customer_number",
                    ecif_store_customer_number(ctx->store, best->customer),
                    best->score);

    *customer = best->customer;
    *resolved = candidate_to_proto(ctx, best);
    if (*resolved == NULL)
        return fail_oom(ctx);
    return GRPC_STATUS_OK;
}

static Ecif__V1__ExposureTotal **
totals_to_proto(call_ctx_t *ctx, uint32_t customer, size_t *n_out)
{
    uint32_t count = ecif_store_customer_exposure_count(ctx->store, customer);
    Ecif__V1__ExposureTotal *rows =
        arena_calloc(&ctx->arena, count + 1, sizeof(*rows));
    Ecif__V1__ExposureTotal **list =
        arena_calloc(&ctx->arena, count + 1, sizeof(*list));
    if (rows == NULL || list == NULL)
        return NULL;
    for (uint32_t i = 0; i < count; i++) {
        ecif_exposure_total_t total;
        ecif_store_get_exposure(ctx->store, customer, i, &total);
        ecif__v1__exposure_total__init(&rows[i]);
        rows[i].product = pb_str(total.product);
        rows[i].currency = pb_str(total.currency);
        rows[i].credit_limit = amount_to_proto(ctx, total.credit_limit);
        rows[i].balance = amount_to_proto(ctx, total.balance);
        rows[i].account_count = total.account_count;
        if (rows[i].credit_limit == NULL || rows[i].balance == NULL)
            return NULL;
        list[i] = &rows[i];
    }
    *n_out = count;
    return list;
}

/* Returns the duplicate-application signals of customer as messages, or
 * NULL when out of memory. */
static Ecif__V1__ApplicationSignal **
signals_to_proto(call_ctx_t *ctx, uint32_t customer, size_t *n_out)
{
    uint32_t days = ctx->svc->application_window_days != 0
                        ? ctx->svc->application_window_days
                        : ECIF_APPLICATION_WINDOW_DAYS;
    uint32_t threshold = ctx->svc->application_threshold != 0
                             ? ctx->svc->application_threshold
                             : ECIF_APPLICATION_THRESHOLD;
    ecif_application_rule_t rule = {.now = (int64_t)time(NULL),
                                    .window_s = (int64_t)days * 86400,
                                    .threshold = threshold};
    ecif_application_signal_t *found =
        arena_calloc(&ctx->arena, ECIF_SIGNALS_MAX, sizeof(*found));
    size_t count = 0;
    if (found == NULL ||
        ecif_application_signals(ctx->store, customer, &rule, found,
                                 ECIF_SIGNALS_MAX, &count) != ECIF_OK)
        return NULL;

    Ecif__V1__ApplicationSignal *rows =
        arena_calloc(&ctx->arena, count + 1, sizeof(*rows));
    Ecif__V1__ApplicationSignal **list =
        arena_calloc(&ctx->arena, count + 1, sizeof(*list));
    if (rows == NULL || list == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        const ecif_application_signal_t *f = &found[i];
        Ecif__V1__ApplicationSignal *row = &rows[i];
        ecif__v1__application_signal__init(row);
        row->field = f->field == ECIF_FIELD_ID_NUMBER ? "id_number" : "phone";
        row->value_hint = arena_strdup(&ctx->arena, f->hint);
        row->records = f->records;
        row->customers = f->customers;
        row->window_days = days;
        row->threshold = threshold;
        row->other_customer_numbers =
            arena_calloc(&ctx->arena, f->n_others + 1, sizeof(char *));
        char first[ECIF_UPDATED_AT_STR_MAX], last[ECIF_UPDATED_AT_STR_MAX];
        row->first_updated_at =
            arena_strdup(&ctx->arena, ecif_updated_at_format(f->first, first));
        row->last_updated_at =
            arena_strdup(&ctx->arena, ecif_updated_at_format(f->last, last));
        if (row->value_hint == NULL || row->other_customer_numbers == NULL ||
            row->first_updated_at == NULL || row->last_updated_at == NULL)
            return NULL;
        for (uint32_t k = 0; k < f->n_others; k++) {
            row->other_customer_numbers[k] =
                arena_strdup(&ctx->arena, f->others[k]);
            if (row->other_customer_numbers[k] == NULL)
                return NULL;
        }
        row->n_other_customer_numbers = f->n_others;
        list[i] = row;
    }
    *n_out = count;
    return list;
}

static Ecif__V1__AccountExposure **
accounts_to_proto(call_ctx_t *ctx, uint32_t customer, size_t *n_out)
{
    const ecif_store_t *store = ctx->store;
    uint32_t n_records = 0;
    const uint32_t *ids =
        ecif_store_customer_records(store, customer, &n_records);
    size_t total = 0;
    for (uint32_t i = 0; i < n_records; i++)
        total += ecif_store_record_account_count(store, ids[i]);

    Ecif__V1__AccountExposure **list =
        arena_calloc(&ctx->arena, total + 1, sizeof(*list));
    if (list == NULL)
        return NULL;
    size_t n = 0;
    for (uint32_t i = 0; i < n_records; i++) {
        ecif_record_t rec;
        ecif_store_get_record(store, ids[i], &rec);
        uint32_t n_accounts = ecif_store_record_account_count(store, ids[i]);
        for (uint32_t k = 0; k < n_accounts; k++) {
            Ecif__V1__AccountExposure *row =
                arena_alloc(&ctx->arena, sizeof(*row));
            if (row == NULL)
                return NULL;
            ecif__v1__account_exposure__init(row);
            row->record = record_ref_to_proto(ctx, &rec);
            row->account = account_to_proto(ctx, ids[i], k);
            if (row->record == NULL || row->account == NULL)
                return NULL;
            list[n++] = row;
        }
    }
    *n_out = n;
    return list;
}

static grpc_status_code handle_get_exposure(call_ctx_t *ctx,
                                            grpc_byte_buffer *request,
                                            ProtobufCMessage **response)
{
    const ecif_store_t *store = ctx->store;
    const ProtobufCMessageDescriptor *desc =
        &ecif__v1__get_exposure_request__descriptor;
    Ecif__V1__GetExposureRequest *req =
        (Ecif__V1__GetExposureRequest *)unpack_request(ctx, desc, request);
    if (req == NULL)
        return fail_unparseable(ctx, desc);

    uint32_t customer = 0;
    Ecif__V1__Candidate *resolved = NULL;
    grpc_status_code code;
    switch (req->target_case) {
    case ECIF__V1__GET_EXPOSURE_REQUEST__TARGET_CUSTOMER_NUMBER:
        code = find_customer(ctx, "customer_number", req->customer_number,
                             &customer);
        break;
    case ECIF__V1__GET_EXPOSURE_REQUEST__TARGET_RECORD:
        code = resolve_exposure_target(ctx, req->record, &customer, &resolved);
        break;
    default:
        code = fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "customer_number or record is required");
        break;
    }
    if (code != GRPC_STATUS_OK)
        return code;

    Ecif__V1__GetExposureResponse *resp =
        arena_alloc(&ctx->arena, sizeof(*resp));
    if (resp == NULL)
        return fail_oom(ctx);
    ecif__v1__get_exposure_response__init(resp);
    resp->customer_number = pb_str(ecif_store_customer_number(store, customer));
    resp->resolved = resolved;
    resp->totals = totals_to_proto(ctx, customer, &resp->n_totals);
    resp->accounts = accounts_to_proto(ctx, customer, &resp->n_accounts);
    resp->application_signals =
        signals_to_proto(ctx, customer, &resp->n_application_signals);
    if (resp->totals == NULL || resp->accounts == NULL ||
        resp->application_signals == NULL)
        return fail_oom(ctx);
    if (ctx->redirected_from != NULL)
        resp->redirected_from = pb_str(ctx->redirected_from);
    *response = &resp->base;
    return GRPC_STATUS_OK;
}

/* ---- Explain ------------------------------------------------------------- */

/*
 * One side of an explanation: its records, and for stored records their
 * ids. A record given in the request is the only record of its side and
 * has no id.
 */
typedef struct explain_side {
    const char *name; /* "left" or "right" */
    ecif_record_t *records;
    const uint32_t *ids; /* NULL for a record given in the request */
    uint32_t count;
    uint32_t stored_id;       /* backing of ids for one stored record */
    char customer_number[32]; /* as requested, for messages; or "" */
} explain_side_t;

/* A compared pair, by index into the two sides. */
typedef struct explain_pair {
    uint32_t left;
    uint32_t right;
    double score;
} explain_pair_t;

static grpc_status_code explain_side_from_record(call_ctx_t *ctx,
                                                 explain_side_t *side,
                                                 const Ecif__V1__Record *msg)
{
    char path[32];
    snprintf(path, sizeof(path), "%s_record", side->name);
    side->records = arena_calloc(&ctx->arena, 1, sizeof(*side->records));
    if (side->records == NULL)
        return fail_oom(ctx);
    side->count = 1;
    return record_from_proto(ctx, path, msg, &side->records[0]);
}

static grpc_status_code explain_side_from_ref(call_ctx_t *ctx,
                                              explain_side_t *side,
                                              const Ecif__V1__RecordRef *ref)
{
    if (!is_set(ref->source_system) || !is_set(ref->source_id))
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "%s_stored_record.%s is required", side->name,
                    is_set(ref->source_system) ? "source_id" : "source_system");
    if (ecif_store_find_record(ctx->store, ref->source_system, ref->source_id,
                               &side->stored_id) != ECIF_OK) {
        char system[48];
        char id[48];
        quote_value(ref->source_system, system, sizeof(system));
        quote_value(ref->source_id, id, sizeof(id));
        return fail(ctx, GRPC_STATUS_NOT_FOUND,
                    "%s_stored_record: record '%s' '%s' not found", side->name,
                    system, id);
    }
    side->ids = &side->stored_id;
    side->count = 1;
    return GRPC_STATUS_OK;
}

static grpc_status_code explain_side_from_customer(call_ctx_t *ctx,
                                                   explain_side_t *side,
                                                   const char *number)
{
    char path[32];
    snprintf(path, sizeof(path), "%s_customer_number", side->name);
    uint32_t customer;
    grpc_status_code code = find_customer(ctx, path, number, &customer);
    if (code != GRPC_STATUS_OK)
        return code;
    side->ids = ecif_store_customer_records(ctx->store, customer, &side->count);
    quote_value(number, side->customer_number, sizeof(side->customer_number));
    return GRPC_STATUS_OK;
}

/* Reads the stored records of a side, after the size check. */
static grpc_status_code explain_side_load(call_ctx_t *ctx, explain_side_t *side)
{
    if (side->ids == NULL)
        return GRPC_STATUS_OK;
    side->records =
        arena_calloc(&ctx->arena, side->count + 1, sizeof(*side->records));
    if (side->records == NULL)
        return fail_oom(ctx);
    for (uint32_t i = 0; i < side->count; i++)
        ecif_store_get_record(ctx->store, side->ids[i], &side->records[i]);
    return GRPC_STATUS_OK;
}

static grpc_status_code explain_check_sizes(call_ctx_t *ctx,
                                            const explain_side_t *left,
                                            const explain_side_t *right)
{
    const explain_side_t *sides[2] = {left, right};
    for (int s = 0; s < 2; s++) {
        if (sides[s]->count <= ECIF_EXPLAIN_MAX_RECORDS)
            continue;
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "%s_customer_number: customer '%s' has %u records, more "
                    "than the %d per side that Explain compares (left %u, "
                    "right %u records)",
                    sides[s]->name, sides[s]->customer_number, sides[s]->count,
                    ECIF_EXPLAIN_MAX_RECORDS, left->count, right->count);
    }
    return GRPC_STATUS_OK;
}

static Ecif__V1__RecordRef *
explain_ref(call_ctx_t *ctx, const explain_side_t *side, uint32_t index)
{
    if (side->ids != NULL)
        return stored_ref_to_proto(ctx, side->ids[index]);
    Ecif__V1__RecordRef *ref = arena_alloc(&ctx->arena, sizeof(*ref));
    if (ref == NULL)
        return NULL;
    ecif__v1__record_ref__init(ref);
    ref->source_system = pb_str("query");
    ref->source_id = pb_str(side->name);
    return ref;
}

static char *explain_customer(const call_ctx_t *ctx, const explain_side_t *side,
                              uint32_t index)
{
    if (side->ids == NULL)
        return pb_str(NULL);
    const ecif_store_t *store = ctx->store;
    return pb_str(ecif_store_customer_number(
        store, ecif_store_record_customer(store, side->ids[index])));
}

static bool same_record(const explain_side_t *left, uint32_t i,
                        const explain_side_t *right, uint32_t j)
{
    return left->ids != NULL && right->ids != NULL &&
           left->ids[i] == right->ids[j];
}

static int compare_pairs_by_score(const void *pa, const void *pb)
{
    const explain_pair_t *a = pa;
    const explain_pair_t *b = pb;
    if (a->score != b->score)
        return a->score < b->score ? -1 : 1;
    if (a->left != b->left)
        return a->left < b->left ? -1 : 1;
    return a->right < b->right ? -1 : a->right > b->right;
}

static Ecif__V1__RecordPair *explain_pair_to_proto(call_ctx_t *ctx,
                                                   const explain_side_t *left,
                                                   const explain_side_t *right,
                                                   const explain_pair_t *pair)
{
    double score;
    ecif_verdict_t verdict;
    ecif_evidence_t evidence[ECIF_FIELD_COUNT];
    ecif_store_compare(ctx->store, &left->records[pair->left],
                       &right->records[pair->right], &score, &verdict,
                       evidence);

    Ecif__V1__RecordPair *msg = arena_alloc(&ctx->arena, sizeof(*msg));
    if (msg == NULL)
        return NULL;
    ecif__v1__record_pair__init(msg);
    msg->left = explain_ref(ctx, left, pair->left);
    msg->right = explain_ref(ctx, right, pair->right);
    msg->score = score;
    msg->match_probability =
        model_probability(ecif_store_model(ctx->store), score);
    msg->verdict = verdict_to_proto(verdict);
    msg->evidence = evidence_to_proto(ctx, evidence);
    msg->n_evidence = ECIF_FIELD_COUNT;
    if (msg->left == NULL || msg->right == NULL || msg->evidence == NULL)
        return NULL;
    return msg;
}

/*
 * Compares every pair of the two sides and fills the response: the best
 * pair (ties go to the first in left-then-right order) and the pairs with
 * a hard conflict, worst first.
 */
static grpc_status_code explain_pairs(call_ctx_t *ctx,
                                      const explain_side_t *left,
                                      const explain_side_t *right,
                                      Ecif__V1__ExplainResponse *resp)
{
    size_t max_pairs = (size_t)left->count * right->count;
    explain_pair_t *blocking =
        arena_calloc(&ctx->arena, max_pairs + 1, sizeof(*blocking));
    if (blocking == NULL)
        return fail_oom(ctx);

    explain_pair_t best = {0};
    ecif_verdict_t best_verdict = ECIF_NO_MATCH;
    ecif_evidence_t best_evidence[ECIF_FIELD_COUNT];
    size_t n_pairs = 0;
    size_t n_blocking = 0;
    for (uint32_t i = 0; i < left->count; i++) {
        for (uint32_t j = 0; j < right->count; j++) {
            if (same_record(left, i, right, j))
                continue;
            double score;
            ecif_verdict_t verdict;
            ecif_evidence_t evidence[ECIF_FIELD_COUNT];
            ecif_store_compare(ctx->store, &left->records[i],
                               &right->records[j], &score, &verdict, evidence);
            explain_pair_t pair = {i, j, score};
            if (n_pairs == 0 || score > best.score) {
                best = pair;
                best_verdict = verdict;
                memcpy(best_evidence, evidence, sizeof(evidence));
            }
            if (ecif_explain_has_conflict(evidence))
                blocking[n_blocking++] = pair;
            n_pairs++;
        }
    }
    if (n_pairs == 0)
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "left and right name the same single record: nothing to "
                    "compare");

    resp->score = best.score;
    resp->match_probability =
        model_probability(ecif_store_model(ctx->store), best.score);
    resp->verdict = verdict_to_proto(best_verdict);
    resp->evidence = evidence_to_proto(ctx, best_evidence);
    resp->n_evidence = ECIF_FIELD_COUNT;
    resp->left = explain_ref(ctx, left, best.left);
    resp->right = explain_ref(ctx, right, best.right);
    resp->left_customer_number = explain_customer(ctx, left, best.left);
    resp->right_customer_number = explain_customer(ctx, right, best.right);
    char *summary = arena_alloc(&ctx->arena, ECIF_EXPLAIN_SUMMARY_MAX);
    if (resp->evidence == NULL || resp->left == NULL || resp->right == NULL ||
        summary == NULL)
        return fail_oom(ctx);
    ecif_explain_summary(best_verdict, best_evidence, summary,
                         ECIF_EXPLAIN_SUMMARY_MAX);
    resp->summary = summary;
    resp->pairs_compared = (uint32_t)n_pairs;

    qsort(blocking, n_blocking, sizeof(*blocking), compare_pairs_by_score);
    size_t listed = n_blocking < ECIF_EXPLAIN_MAX_RECORDS
                        ? n_blocking
                        : ECIF_EXPLAIN_MAX_RECORDS;
    resp->blocking_pairs =
        arena_calloc(&ctx->arena, listed + 1, sizeof(*resp->blocking_pairs));
    if (resp->blocking_pairs == NULL)
        return fail_oom(ctx);
    for (size_t k = 0; k < listed; k++) {
        resp->blocking_pairs[k] =
            explain_pair_to_proto(ctx, left, right, &blocking[k]);
        if (resp->blocking_pairs[k] == NULL)
            return fail_oom(ctx);
    }
    resp->n_blocking_pairs = listed;
    resp->blocking_pair_count = (uint32_t)n_blocking;
    return GRPC_STATUS_OK;
}

static grpc_status_code explain_left(call_ctx_t *ctx,
                                     const Ecif__V1__ExplainRequest *req,
                                     explain_side_t *side)
{
    switch (req->left_case) {
    case ECIF__V1__EXPLAIN_REQUEST__LEFT_LEFT_RECORD:
        return explain_side_from_record(ctx, side, req->left_record);
    case ECIF__V1__EXPLAIN_REQUEST__LEFT_LEFT_CUSTOMER_NUMBER:
        return explain_side_from_customer(ctx, side, req->left_customer_number);
    case ECIF__V1__EXPLAIN_REQUEST__LEFT_LEFT_STORED_RECORD:
        return explain_side_from_ref(ctx, side, req->left_stored_record);
    default:
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "left_record, left_customer_number or "
                    "left_stored_record is required");
    }
}

static grpc_status_code explain_right(call_ctx_t *ctx,
                                      const Ecif__V1__ExplainRequest *req,
                                      explain_side_t *side)
{
    switch (req->right_case) {
    case ECIF__V1__EXPLAIN_REQUEST__RIGHT_RIGHT_RECORD:
        return explain_side_from_record(ctx, side, req->right_record);
    case ECIF__V1__EXPLAIN_REQUEST__RIGHT_RIGHT_CUSTOMER_NUMBER:
        return explain_side_from_customer(ctx, side,
                                          req->right_customer_number);
    case ECIF__V1__EXPLAIN_REQUEST__RIGHT_RIGHT_STORED_RECORD:
        return explain_side_from_ref(ctx, side, req->right_stored_record);
    default:
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "right_record, right_customer_number or "
                    "right_stored_record is required");
    }
}

static grpc_status_code handle_explain(call_ctx_t *ctx,
                                       grpc_byte_buffer *request,
                                       ProtobufCMessage **response)
{
    const ProtobufCMessageDescriptor *desc =
        &ecif__v1__explain_request__descriptor;
    Ecif__V1__ExplainRequest *req =
        (Ecif__V1__ExplainRequest *)unpack_request(ctx, desc, request);
    if (req == NULL)
        return fail_unparseable(ctx, desc);

    explain_side_t left = {.name = "left"};
    explain_side_t right = {.name = "right"};
    grpc_status_code code = explain_left(ctx, req, &left);
    if (code == GRPC_STATUS_OK)
        code = explain_right(ctx, req, &right);
    if (code == GRPC_STATUS_OK)
        code = explain_check_sizes(ctx, &left, &right);
    if (code == GRPC_STATUS_OK)
        code = explain_side_load(ctx, &left);
    if (code == GRPC_STATUS_OK)
        code = explain_side_load(ctx, &right);
    if (code != GRPC_STATUS_OK)
        return code;

    Ecif__V1__ExplainResponse *resp = arena_alloc(&ctx->arena, sizeof(*resp));
    if (resp == NULL)
        return fail_oom(ctx);
    ecif__v1__explain_response__init(resp);
    code = explain_pairs(ctx, &left, &right, resp);
    if (code != GRPC_STATUS_OK)
        return code;
    *response = &resp->base;
    return GRPC_STATUS_OK;
}

/* The service name clients use for the whole server, and ours. */
static bool is_served_service(const char *name)
{
    return name[0] == '\0' || strcmp(name, "ecif.v1.CustomerIndex") == 0;
}

static grpc_status_code handle_health_check(call_ctx_t *ctx,
                                            grpc_byte_buffer *request,
                                            ProtobufCMessage **response)
{
    const ProtobufCMessageDescriptor *desc =
        &grpc__health__v1__health_check_request__descriptor;
    Grpc__Health__V1__HealthCheckRequest *req =
        (Grpc__Health__V1__HealthCheckRequest *)unpack_request(ctx, desc,
                                                               request);
    if (req == NULL)
        return fail_unparseable(ctx, desc);
    if (!is_served_service(req->service)) {
        char quoted[48];
        quote_value(req->service, quoted, sizeof(quoted));
        return fail(ctx, GRPC_STATUS_NOT_FOUND, "unknown service '%s'", quoted);
    }

    Grpc__Health__V1__HealthCheckResponse *resp =
        arena_alloc(&ctx->arena, sizeof(*resp));
    if (resp == NULL)
        return fail_oom(ctx);
    grpc__health__v1__health_check_response__init(resp);
    resp->status =
        GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    *response = &resp->base;
    return GRPC_STATUS_OK;
}

/* ---- Corrections --------------------------------------------------------- */

/* Parses a required customer number field of a correction request. */
static grpc_status_code correction_number(call_ctx_t *ctx, const char *path,
                                          const char *text, uint64_t *number)
{
    if (!is_set(text))
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s is required", path);
    bool digits = text[0] == 'C' && strlen(text) == ECIF_CUSTOMER_NUMBER_LEN;
    *number = 0;
    for (const char *p = text + 1; digits && *p != '\0'; p++) {
        digits = *p >= '0' && *p <= '9';
        *number = *number * 10 + (uint64_t)(*p - '0');
    }
    if (!digits || *number == 0) {
        char quoted[48];
        quote_value(text, quoted, sizeof(quoted));
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "%s: invalid customer number '%s' (expected C and 12 "
                    "digits)",
                    path, quoted);
    }
    if (ctx->customers[0] == 0)
        ctx->customers[0] = *number;
    else
        ctx->customers[1] = *number;
    return GRPC_STATUS_OK;
}

/* Returns whether s has a character other than a space. */
static bool has_text(const char *s)
{
    return s != NULL && s[strspn(s, " ")] != '\0';
}

/*
 * Checks the text of a reason or an actor: valid UTF-8 without a control
 * or format character, because GetHistory returns it as a protobuf string
 * and ecifctl history prints it (a line break would print as a forged
 * event). The message does not quote the value.
 */
static grpc_status_code note_text(call_ctx_t *ctx, const char *field,
                                  const char *value)
{
    char detail[ECIF_SERVICE_DETAILS_MAX];

    if (value == NULL ||
        ecif_text_check(field, value, detail, sizeof(detail)) == ECIF_OK)
        return GRPC_STATUS_OK;
    const char *problem = strstr(detail, "invalid UTF-8") != NULL
                              ? "invalid UTF-8"
                              : "a control or format character";
    return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: contains %s", field,
                problem);
}

static grpc_status_code correction_reason(call_ctx_t *ctx, const char *reason)
{
    if (!has_text(reason))
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "reason is required");
    if (strlen(reason) > ECIF_JOURNAL_MAX_REASON)
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "reason: %zu bytes, at most %u", strlen(reason),
                    ECIF_JOURNAL_MAX_REASON);
    return note_text(ctx, "reason", reason);
}

/*
 * Checks the actor of a correction (required) or an add (optional) and
 * sets *actor to what the journal records with the time. With access
 * control that is the verified principal, then ':' and the request's
 * actor when it names one, so the actor is never required. Without it,
 * the request's actor is kept.
 */
static grpc_status_code request_actor(call_ctx_t *ctx, const char **actor,
                                      bool required)
{
    const char *principal = ctx->principal;
    size_t len = has_text(*actor) ? strlen(*actor) : 0;
    grpc_status_code code = note_text(ctx, "actor", *actor);

    if (code != GRPC_STATUS_OK)
        return code;
    if (principal == NULL) {
        if (required && len == 0)
            return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "actor is required");
        if (len > ECIF_JOURNAL_MAX_ACTOR)
            return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                        "actor: %zu bytes, at most %u", len,
                        ECIF_JOURNAL_MAX_ACTOR);
        return GRPC_STATUS_OK;
    }

    size_t room = ECIF_JOURNAL_MAX_ACTOR - strlen(principal) - 1;
    if (len > room)
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "actor: %zu bytes, at most %zu after the principal "
                    "'%s'",
                    len, room, principal);
    char *joined = arena_alloc(&ctx->arena, strlen(principal) + len + 2);
    if (joined == NULL)
        return fail_oom(ctx);
    if (len > 0)
        sprintf(joined, "%s:%s", principal, *actor);
    else
        strcpy(joined, principal);
    *actor = joined;
    return GRPC_STATUS_OK;
}

/*
 * Fills the numbers and reason of a correction between two customers
 * (Merge, NotSameCustomer), checking customer_a, customer_b and reason in
 * that order. The strings stay in the request.
 */
static grpc_status_code pair_entry(call_ctx_t *ctx, const char *customer_a,
                                   const char *customer_b, const char *reason,
                                   ecif_journal_entry_t *entry)
{
    grpc_status_code code;

    entry->reason = reason;
    code = correction_number(ctx, "customer_a", customer_a, &entry->customer_a);
    if (code == GRPC_STATUS_OK)
        code = correction_number(ctx, "customer_b", customer_b,
                                 &entry->customer_b);
    if (code == GRPC_STATUS_OK)
        code = correction_reason(ctx, reason);
    return code;
}

/*
 * Fails with UNIMPLEMENTED when the server has no corrections state, which
 * both corrections and adds change. The message names the writes by what.
 */
static grpc_status_code require_writes(call_ctx_t *ctx, const char *method,
                                       const char *what)
{
    if (ctx->svc->corrections == NULL)
        return fail(ctx, GRPC_STATUS_UNIMPLEMENTED,
                    "%s: %s are not enabled on this server", method, what);
    return GRPC_STATUS_OK;
}

/* Applies a correction and logs it: method, numbers and counts only. */
static grpc_status_code apply_correction(call_ctx_t *ctx, const char *method,
                                         const ecif_journal_entry_t *entry,
                                         ecif_correction_result_t *res)
{
    char err[ECIF_SERVICE_DETAILS_MAX];
    grpc_status_code code = require_writes(ctx, method, "corrections");

    if (code != GRPC_STATUS_OK)
        return code;
    int status = ecif_corrections_apply(ctx->svc->corrections, entry, res, err,
                                        sizeof(err));
    if (status != ECIF_OK)
        return fail(ctx, service_status_from_engine(status), "%s", err);
    if (ctx->svc->log_correction != NULL) {
        char line[256];
        /* The counts are after the correction. */
        snprintf(line, sizeof(line),
                 "correction %llu: %s %s (now %u record%s) and %s (now %u "
                 "record%s), %u record%s moved",
                 (unsigned long long)res->sequence, method, res->customer,
                 res->customer_records, res->customer_records == 1 ? "" : "s",
                 res->other, res->other_records,
                 res->other_records == 1 ? "" : "s", res->moved_records,
                 res->moved_records == 1 ? "" : "s");
        ctx->svc->log_correction(line);
    }
    return GRPC_STATUS_OK;
}

/*
 * Copies the two customer numbers of res into the call's arena for the
 * response, because res lives on the handler's stack and the response is
 * packed after the handler returns. Returns false when out of memory.
 */
static bool result_numbers(call_ctx_t *ctx, const ecif_correction_result_t *res,
                           char **customer, char **other)
{
    char *numbers = arena_alloc(&ctx->arena, 2 * sizeof(res->customer));

    if (numbers == NULL)
        return false;
    memcpy(numbers, res->customer, sizeof(res->customer));
    memcpy(numbers + sizeof(res->customer), res->other, sizeof(res->other));
    *customer = numbers;
    *other = numbers + sizeof(res->customer);
    return true;
}

/*
 * Checks and applies a correction between two customers (Merge,
 * NotSameCustomer): customer_a, customer_b, reason and actor in that order.
 */
static grpc_status_code apply_pair_correction(
    call_ctx_t *ctx, const char *method, ecif_correction_kind_t kind,
    const char *customer_a, const char *customer_b, const char *reason,
    const char *actor, bool override_not_same, ecif_correction_result_t *res)
{
    ecif_journal_entry_t entry = {
        .kind = kind, .actor = actor, .override_not_same = override_not_same};
    grpc_status_code code =
        pair_entry(ctx, customer_a, customer_b, reason, &entry);

    if (code == GRPC_STATUS_OK)
        code = request_actor(ctx, &entry.actor, true);
    if (code != GRPC_STATUS_OK)
        return code;
    return apply_correction(ctx, method, &entry, res);
}

static grpc_status_code handle_merge(call_ctx_t *ctx, grpc_byte_buffer *request,
                                     ProtobufCMessage **response)
{
    grpc_status_code code;
    Ecif__V1__MergeRequest *req = decode_request(
        ctx, &ecif__v1__merge_request__descriptor, request, &code);
    if (req == NULL)
        return code;

    ecif_correction_result_t res;
    code = apply_pair_correction(ctx, "Merge", ECIF_CORRECTION_MERGE,
                                 req->customer_a, req->customer_b, req->reason,
                                 req->actor, req->override_not_same, &res);
    if (code != GRPC_STATUS_OK)
        return code;

    Ecif__V1__MergeResponse *resp = arena_alloc(&ctx->arena, sizeof(*resp));
    if (resp == NULL)
        return fail_oom(ctx);
    ecif__v1__merge_response__init(resp);
    if (!result_numbers(ctx, &res, &resp->customer_number,
                        &resp->retired_number))
        return fail_oom(ctx);
    resp->record_count = res.customer_records;
    resp->moved_record_count = res.moved_records;
    resp->sequence = res.sequence;
    *response = &resp->base;
    return GRPC_STATUS_OK;
}

static grpc_status_code split_keys(call_ctx_t *ctx,
                                   const Ecif__V1__SplitRequest *req,
                                   ecif_source_key_t **keys)
{
    if (req->n_records == 0)
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "records: at least one record is required");
    if (req->n_records > ECIF_JOURNAL_MAX_KEYS)
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "records: %zu records, at most %u", req->n_records,
                    ECIF_JOURNAL_MAX_KEYS);
    *keys = arena_calloc(&ctx->arena, req->n_records, sizeof(**keys));
    if (*keys == NULL)
        return fail_oom(ctx);
    for (size_t i = 0; i < req->n_records; i++) {
        const Ecif__V1__RecordRef *ref = req->records[i];
        if (!is_set(ref->source_system) || !is_set(ref->source_id))
            return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                        "records[%zu]: source_system and source_id are "
                        "required",
                        i);
        (*keys)[i].source_system = ref->source_system;
        (*keys)[i].source_id = ref->source_id;
    }
    return GRPC_STATUS_OK;
}

static grpc_status_code handle_split(call_ctx_t *ctx, grpc_byte_buffer *request,
                                     ProtobufCMessage **response)
{
    grpc_status_code code;
    Ecif__V1__SplitRequest *req = decode_request(
        ctx, &ecif__v1__split_request__descriptor, request, &code);
    if (req == NULL)
        return code;

    ecif_journal_entry_t entry = {.kind = ECIF_CORRECTION_SPLIT,
                                  .reason = req->reason,
                                  .actor = req->actor};
    ecif_source_key_t *keys = NULL;
    if ((code = correction_number(ctx, "customer_number", req->customer_number,
                                  &entry.customer_a)) != GRPC_STATUS_OK ||
        (code = split_keys(ctx, req, &keys)) != GRPC_STATUS_OK ||
        (code = correction_reason(ctx, req->reason)) != GRPC_STATUS_OK ||
        (code = request_actor(ctx, &entry.actor, true)) != GRPC_STATUS_OK)
        return code;
    entry.keys = keys;
    entry.key_count = (uint32_t)req->n_records;
    ecif_correction_result_t res;
    code = apply_correction(ctx, "Split", &entry, &res);
    if (code != GRPC_STATUS_OK)
        return code;

    Ecif__V1__SplitResponse *resp = arena_alloc(&ctx->arena, sizeof(*resp));
    if (resp == NULL)
        return fail_oom(ctx);
    ecif__v1__split_response__init(resp);
    if (!result_numbers(ctx, &res, &resp->customer_number,
                        &resp->new_customer_number))
        return fail_oom(ctx);
    resp->record_count = res.customer_records;
    resp->new_record_count = res.other_records;
    resp->sequence = res.sequence;
    *response = &resp->base;
    return GRPC_STATUS_OK;
}

static grpc_status_code handle_not_same(call_ctx_t *ctx,
                                        grpc_byte_buffer *request,
                                        ProtobufCMessage **response)
{
    grpc_status_code code;
    Ecif__V1__NotSameCustomerRequest *req = decode_request(
        ctx, &ecif__v1__not_same_customer_request__descriptor, request, &code);
    if (req == NULL)
        return code;

    ecif_correction_result_t res;
    code = apply_pair_correction(
        ctx, "NotSameCustomer", ECIF_CORRECTION_NOT_SAME, req->customer_a,
        req->customer_b, req->reason, req->actor, false, &res);
    if (code != GRPC_STATUS_OK)
        return code;

    Ecif__V1__NotSameCustomerResponse *resp =
        arena_alloc(&ctx->arena, sizeof(*resp));
    if (resp == NULL)
        return fail_oom(ctx);
    ecif__v1__not_same_customer_response__init(resp);
    if (!result_numbers(ctx, &res, &resp->customer_a, &resp->customer_b))
        return fail_oom(ctx);
    resp->record_count_a = res.customer_records;
    resp->record_count_b = res.other_records;
    resp->record_pair_count = res.links_added;
    resp->sequence = res.sequence;
    *response = &resp->base;
    return GRPC_STATUS_OK;
}

/* ---- Added records ------------------------------------------------------- */

/* Converts the accounts of an added record. Amounts are decimal text, and
 * an empty amount is 0. */
static grpc_status_code accounts_from_proto(call_ctx_t *ctx,
                                            const Ecif__V1__Record *msg,
                                            ecif_account_t **out)
{
    if (msg->n_accounts > ECIF_JOURNAL_MAX_ACCOUNTS)
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "record.accounts: %zu accounts, at most %u",
                    msg->n_accounts, ECIF_JOURNAL_MAX_ACCOUNTS);
    *out = arena_calloc(&ctx->arena, msg->n_accounts + 1, sizeof(**out));
    if (*out == NULL)
        return fail_oom(ctx);
    for (size_t i = 0; i < msg->n_accounts; i++) {
        const Ecif__V1__Account *a = msg->accounts[i];
        ecif_account_t *acct = &(*out)[i];
        const struct {
            const char *name;
            const char *text;
            int64_t *value;
        } amounts[] = {{"credit_limit", a->credit_limit, &acct->credit_limit},
                       {"balance", a->balance, &acct->balance}};
        acct->account_id = a->account_id;
        acct->product = a->product;
        acct->currency = a->currency;
        acct->branch = a->branch;
        for (size_t k = 0; k < 2; k++) {
            if (!is_set(amounts[k].text))
                continue;
            if (ecif_amount_parse(amounts[k].text, amounts[k].value) !=
                ECIF_OK) {
                char quoted[48];
                quote_value(amounts[k].text, quoted, sizeof(quoted));
                return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                            "record.accounts[%zu].%s: invalid amount '%s' "
                            "(expected a decimal such as 1234.50, with at "
                            "most 4 places and below 1e12)",
                            i, amounts[k].name, quoted);
            }
        }
    }
    return GRPC_STATUS_OK;
}

/* Converts candidate i of an add. Its customer id may be stale once the add
 * returns, so the number and matched keys come from the result. */
static Ecif__V1__Candidate *
add_candidate_to_proto(call_ctx_t *ctx, const ecif_add_result_t *res, size_t i)
{
    const ecif_candidate_t *cand = &res->candidates[i];
    Ecif__V1__Candidate *msg = arena_alloc(&ctx->arena, sizeof(*msg));
    Ecif__V1__FieldEvidence **evp = evidence_to_proto(ctx, cand->evidence);
    Ecif__V1__RecordRef **refs =
        arena_calloc(&ctx->arena, cand->n_matched + 1, sizeof(*refs));
    if (msg == NULL || evp == NULL || refs == NULL)
        return NULL;
    ecif__v1__candidate__init(msg);
    msg->customer_number = pb_str(res->candidate_numbers[i]);
    msg->score = cand->score;
    msg->match_probability = cand->probability;
    msg->verdict = verdict_to_proto(cand->verdict);
    msg->evidence = evp;
    msg->n_evidence = ECIF_FIELD_COUNT;
    for (uint32_t m = 0; m < cand->n_matched; m++) {
        ecif_record_t rec = {.source_system = res->matched[i][m].source_system,
                             .source_id = res->matched[i][m].source_id};
        refs[m] = record_ref_to_proto(ctx, &rec);
        if (refs[m] == NULL)
            return NULL;
    }
    msg->matched_records = refs;
    msg->n_matched_records = cand->n_matched;
    return msg;
}

static Ecif__V1__AddOutcome add_outcome(const ecif_add_result_t *res)
{
    if (res->joined)
        return ECIF__V1__ADD_OUTCOME__JOINED;
    if (res->ambiguous)
        return ECIF__V1__ADD_OUTCOME__NEW_AMBIGUOUS;
    if (res->conflict)
        return ECIF__V1__ADD_OUTCOME__NEW_CONFLICT;
    if (res->candidate_count > 0 &&
        res->candidates[0].verdict == ECIF_POSSIBLE_MATCH)
        return ECIF__V1__ADD_OUTCOME__NEW_POSSIBLE_MATCH;
    return ECIF__V1__ADD_OUTCOME__NEW_NO_MATCH;
}

static grpc_status_code handle_add_record(call_ctx_t *ctx,
                                          grpc_byte_buffer *request,
                                          ProtobufCMessage **response)
{
    grpc_status_code code;
    Ecif__V1__AddRecordRequest *req = decode_request(
        ctx, &ecif__v1__add_record_request__descriptor, request, &code);
    if (req == NULL)
        return code;
    if ((code = require_writes(ctx, "AddRecord", "adds")) != GRPC_STATUS_OK)
        return code;
    if (req->record == NULL)
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "record is required");
    const Ecif__V1__Record *msg = req->record;
    if (!is_set(msg->source_system) || !is_set(msg->source_id))
        return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "record.source_system and record.source_id are "
                    "required");

    ecif_record_t rec;
    ecif_account_t *accounts = NULL;
    const char *actor = req->actor;
    if ((code = record_from_proto(ctx, "record", msg, &rec)) !=
            GRPC_STATUS_OK ||
        (code = accounts_from_proto(ctx, msg, &accounts)) != GRPC_STATUS_OK ||
        (code = request_actor(ctx, &actor, false)) != GRPC_STATUS_OK)
        return code;
    /* An application sent as it arrives carries its time, so that it
     * counts in duplicate-application signals (engine/APPLICATIONS.md).
     * The journal keeps the time given here. */
    if (rec.updated_at == 0)
        rec.updated_at = (int64_t)time(NULL);
    ecif_add_result_t *res = arena_alloc(&ctx->arena, sizeof(*res));
    if (res == NULL)
        return fail_oom(ctx);
    char err[ECIF_SERVICE_DETAILS_MAX - 32];
    int status = ecif_corrections_add(ctx->svc->corrections, &rec, accounts,
                                      (uint32_t)msg->n_accounts, actor, res,
                                      err, sizeof(err));
    if (status != ECIF_OK)
        return fail_with_field_path(ctx, service_status_from_engine(status),
                                    "record", err);

    Ecif__V1__AddRecordResponse *resp = arena_alloc(&ctx->arena, sizeof(*resp));
    Ecif__V1__Candidate **list =
        arena_calloc(&ctx->arena, res->candidate_count + 1, sizeof(*list));
    if (resp == NULL || list == NULL)
        return fail_oom(ctx);
    ecif__v1__add_record_response__init(resp);
    for (size_t i = 0; i < res->candidate_count; i++) {
        list[i] = add_candidate_to_proto(ctx, res, i);
        if (list[i] == NULL)
            return fail_oom(ctx);
    }
    resp->customer_number = res->customer;
    resp->outcome = add_outcome(res);
    resp->record_count = res->customer_records;
    resp->candidates = list;
    resp->n_candidates = res->candidate_count;
    resp->sequence = res->sequence;
    /* The view this call started with lacks the record: read the signals
     * from the view the add published. */
    const ecif_store_t *view = ecif_corrections_acquire(ctx->svc->corrections);
    const ecif_store_t *started = ctx->store;
    uint32_t customer;
    bool out_of_memory = false;
    ctx->store = view;
    if (ecif_store_find_customer(view, res->customer, &customer) == ECIF_OK) {
        resp->application_signals =
            signals_to_proto(ctx, customer, &resp->n_application_signals);
        out_of_memory = resp->application_signals == NULL;
    }
    ctx->store = started;
    ecif_corrections_release(ctx->svc->corrections, view);
    if (out_of_memory)
        return fail_oom(ctx);
    if (ctx->svc->log_correction != NULL) {
        char line[160];
        /* Numbers and counts only: the record's values are personal. */
        snprintf(line, sizeof(line),
                 "add %llu: AddRecord %s customer %s (%u record%s), %zu "
                 "account%s",
                 (unsigned long long)res->sequence,
                 res->joined ? "joined" : "created", res->customer,
                 res->customer_records, res->customer_records == 1 ? "" : "s",
                 msg->n_accounts, msg->n_accounts == 1 ? "" : "s");
        ctx->svc->log_correction(line);
    }
    *response = &resp->base;
    return GRPC_STATUS_OK;
}

/* ---- History ------------------------------------------------------------- */

static Ecif__V1__HistoryKind history_kind(ecif_history_kind_t kind)
{
    switch (kind) {
    case ECIF_HISTORY_IMPORT_MERGE:
        return ECIF__V1__HISTORY_KIND__MERGED_AT_IMPORT;
    case ECIF_HISTORY_MERGE:
        return ECIF__V1__HISTORY_KIND__MERGE;
    case ECIF_HISTORY_SPLIT:
        return ECIF__V1__HISTORY_KIND__SPLIT;
    case ECIF_HISTORY_NOT_SAME:
        return ECIF__V1__HISTORY_KIND__NOT_SAME;
    case ECIF_HISTORY_ADD:
        return ECIF__V1__HISTORY_KIND__ADD;
    }
    return ECIF__V1__HISTORY_KIND__HISTORY_KIND_UNSPECIFIED;
}

/* Largest text of "C%012llu": "C" and the 20 digits of UINT64_MAX. */
#define NUMBER_TEXT_MAX 21

/* Formats the digits of a customer number in the arena; "" for 0. */
static char *number_to_proto(call_ctx_t *ctx, uint64_t number)
{
    char *text = arena_alloc(&ctx->arena, NUMBER_TEXT_MAX + 1);

    if (text != NULL && number == 0)
        text[0] = '\0';
    else if (text != NULL)
        snprintf(text, NUMBER_TEXT_MAX + 1, "C%012llu",
                 (unsigned long long)number);
    return text;
}

static Ecif__V1__HistoryEvent *
history_event_to_proto(call_ctx_t *ctx, const ecif_history_event_t *ev)
{
    Ecif__V1__HistoryEvent *msg = arena_alloc(&ctx->arena, sizeof(*msg));

    if (msg == NULL)
        return NULL;
    ecif__v1__history_event__init(msg);
    msg->kind = history_kind(ev->kind);
    msg->sequence = ev->sequence;
    msg->time_micros = ev->time_us;
    /* The strings belong to the corrections state, which the held view
     * keeps unchanged until the response is packed. */
    msg->actor = pb_str(ev->actor);
    msg->reason = pb_str(ev->reason);
    msg->customer_number = number_to_proto(ctx, ev->customer);
    msg->other_customer_number = number_to_proto(ctx, ev->other);
    if (msg->customer_number == NULL || msg->other_customer_number == NULL)
        return NULL;
    msg->record_count = ev->customer_records;
    msg->other_record_count = ev->other_records;
    msg->moved_record_count = ev->moved_records;
    msg->joined = ev->joined;
    return msg;
}

/* Events per GetHistory reply when the request sets no page size, and the
 * maximum a request may set. */
#define HISTORY_PAGE_DEFAULT 1000
#define HISTORY_PAGE_MAX     2000

/*
 * Formats the token of the page after events[0 .. end-1]: "NUMBER:iK"
 * when all K events are numbers retired at import, which come first and
 * have no sequence, else "NUMBER:sS" after the journal entry of sequence
 * S. Returns NULL when out of memory.
 */
static char *history_token(call_ctx_t *ctx, const char *number,
                           const ecif_history_event_t *events, size_t end)
{
    const ecif_history_event_t *last = &events[end - 1];
    char text[64];

    if (last->kind == ECIF_HISTORY_IMPORT_MERGE)
        snprintf(text, sizeof(text), "%s:i%zu", number, end);
    else
        snprintf(text, sizeof(text), "%s:s%llu", number,
                 (unsigned long long)last->sequence);

    char *copy = arena_alloc(&ctx->arena, strlen(text) + 1);
    if (copy != NULL)
        memcpy(copy, text, strlen(text) + 1);
    return copy;
}

/* Parses the decimal digits of text, all of it, into *out. */
static bool parse_token_count(const char *text, uint64_t *out)
{
    uint64_t value = 0;

    if (*text == '\0')
        return false;
    for (; *text != '\0'; text++) {
        if (*text < '0' || *text > '9' || value > (UINT64_MAX - 9) / 10)
            return false;
        value = value * 10 + (uint64_t)(*text - '0');
    }
    *out = value;
    return true;
}

/*
 * Selects events[*first .. *end-1], the page of the customer's history
 * events[0 .. n-1] that page_size and page_token request. A token of
 * another customer, or one history_token() did not write, is invalid.
 */
static grpc_status_code history_page(call_ctx_t *ctx,
                                     const Ecif__V1__GetHistoryRequest *req,
                                     const char *number,
                                     const ecif_history_event_t *events,
                                     size_t n, size_t *first, size_t *end)
{
    size_t size = req->page_size == 0                 ? HISTORY_PAGE_DEFAULT
                  : req->page_size > HISTORY_PAGE_MAX ? HISTORY_PAGE_MAX
                                                      : req->page_size;
    size_t imported = 0;
    size_t start = 0;

    while (imported < n && events[imported].kind == ECIF_HISTORY_IMPORT_MERGE)
        imported++;
    if (is_set(req->page_token)) {
        const char *token = req->page_token;
        size_t len = strlen(number);
        uint64_t count;
        char quoted[48];

        if (strncmp(token, number, len) != 0 || token[len] != ':' ||
            (token[len + 1] != 'i' && token[len + 1] != 's') ||
            !parse_token_count(token + len + 2, &count) ||
            (token[len + 1] == 'i' && count > imported)) {
            quote_value(token, quoted, sizeof(quoted));
            return fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                        "page_token: invalid token '%s' for customer %s "
                        "(pass the next_page_token of the reply before, "
                        "for the same customer)",
                        quoted, number);
        }
        if (token[len + 1] == 'i') {
            start = (size_t)count;
        } else {
            start = imported;
            while (start < n && events[start].sequence <= count)
                start++;
        }
    }
    *first = start;
    *end = n - start > size ? start + size : n;
    return GRPC_STATUS_OK;
}

static grpc_status_code handle_get_history(call_ctx_t *ctx,
                                           grpc_byte_buffer *request,
                                           ProtobufCMessage **response)
{
    grpc_status_code code;
    Ecif__V1__GetHistoryRequest *req = decode_request(
        ctx, &ecif__v1__get_history_request__descriptor, request, &code);
    if (req == NULL)
        return code;
    uint32_t customer;
    code =
        find_customer(ctx, "customer_number", req->customer_number, &customer);
    if (code != GRPC_STATUS_OK)
        return code;

    const char *own_number = ecif_store_customer_number(ctx->store, customer);
    const ecif_history_t *log =
        ctx->svc->corrections != NULL
            ? ecif_corrections_history(ctx->svc->corrections)
            : NULL;
    ecif_history_event_t *events = NULL;
    size_t n = 0;
    if (ecif_history_collect(log, ctx->svc->store, ctx->store, customer,
                             &events, &n) != ECIF_OK)
        return fail_oom(ctx);
    size_t first = 0, end = 0;
    code = history_page(ctx, req, own_number, events, n, &first, &end);
    if (code != GRPC_STATUS_OK) {
        free(events);
        return code;
    }

    Ecif__V1__GetHistoryResponse *resp =
        arena_alloc(&ctx->arena, sizeof(*resp));
    Ecif__V1__HistoryEvent **list =
        arena_calloc(&ctx->arena, end - first + 1, sizeof(*list));
    char *next =
        end < n ? history_token(ctx, own_number, events, end) : pb_str(NULL);
    if (resp == NULL || list == NULL || next == NULL) {
        free(events);
        return fail_oom(ctx);
    }
    ecif__v1__get_history_response__init(resp);
    for (size_t i = first; i < end; i++) {
        list[i - first] = history_event_to_proto(ctx, &events[i]);
        if (list[i - first] == NULL) {
            free(events);
            return fail_oom(ctx);
        }
    }
    free(events);
    resp->customer_number = pb_str(own_number);
    if (ctx->redirected_from != NULL)
        resp->redirected_from = pb_str(ctx->redirected_from);
    resp->events = list;
    resp->n_events = end - first;
    resp->next_page_token = next;
    *response = &resp->base;
    return GRPC_STATUS_OK;
}

/* ---- Dispatch ------------------------------------------------------------ */

typedef grpc_status_code (*handler_t)(call_ctx_t *ctx,
                                      grpc_byte_buffer *request,
                                      ProtobufCMessage **response);

struct ecif_service_method {
    const char *path;
    const char *name; /* the last part of path, for logs */
    handler_t handler;
    /* Whether the method changes the state. A write runs without a view,
     * because it waits for every call that has one. */
    bool writes;
    /* The scope a caller needs (rpc/access.h), or 0 for Health/Check,
     * which anyone may call. */
    uint32_t scope;
};

#define CUSTOMER_INDEX "/ecif.v1.CustomerIndex/"

static const ecif_service_method_t service_methods[] = {
    {CUSTOMER_INDEX "Resolve", "Resolve", handle_resolve, false,
     ECIF_SCOPE_RESOLVE},
    {CUSTOMER_INDEX "GetCustomer", "GetCustomer", handle_get_customer, false,
     ECIF_SCOPE_READ},
    {CUSTOMER_INDEX "GetExposure", "GetExposure", handle_get_exposure, false,
     ECIF_SCOPE_EXPOSURE},
    {CUSTOMER_INDEX "Explain", "Explain", handle_explain, false,
     ECIF_SCOPE_READ},
    {CUSTOMER_INDEX "Merge", "Merge", handle_merge, true, ECIF_SCOPE_CORRECT},
    {CUSTOMER_INDEX "Split", "Split", handle_split, true, ECIF_SCOPE_CORRECT},
    {CUSTOMER_INDEX "NotSameCustomer", "NotSameCustomer", handle_not_same, true,
     ECIF_SCOPE_CORRECT},
    {CUSTOMER_INDEX "AddRecord", "AddRecord", handle_add_record, true,
     ECIF_SCOPE_ADD},
    {CUSTOMER_INDEX "GetHistory", "GetHistory", handle_get_history, false,
     ECIF_SCOPE_READ},
    {"/grpc.health.v1.Health/Check", "Health/Check", handle_health_check, false,
     0},
};

size_t ecif_service_method_count(void)
{
    return sizeof(service_methods) / sizeof(service_methods[0]);
}

size_t ecif_service_method_index(const ecif_service_method_t *method)
{
    return (size_t)(method - service_methods);
}

const char *ecif_service_method_name_at(size_t i)
{
    return service_methods[i].name;
}

uint32_t ecif_service_method_scope(const ecif_service_method_t *method)
{
    return method->scope;
}

const char *ecif_service_method_name(const ecif_service_method_t *method)
{
    return method->name;
}

const ecif_service_method_t *ecif_service_find_method(const char *path,
                                                      size_t path_len)
{
    size_t n = sizeof(service_methods) / sizeof(service_methods[0]);
    for (size_t i = 0; i < n; i++) {
        const char *p = service_methods[i].path;
        if (strlen(p) == path_len && memcmp(p, path, path_len) == 0)
            return &service_methods[i];
    }
    return NULL;
}

const char *ecif_service_status_name(grpc_status_code code)
{
    switch (code) {
    case GRPC_STATUS_OK:
        return "OK";
    case GRPC_STATUS_CANCELLED:
        return "CANCELLED";
    case GRPC_STATUS_DEADLINE_EXCEEDED:
        return "DEADLINE_EXCEEDED";
    case GRPC_STATUS_UNAUTHENTICATED:
        return "UNAUTHENTICATED";
    case GRPC_STATUS_PERMISSION_DENIED:
        return "PERMISSION_DENIED";
    case GRPC_STATUS_INVALID_ARGUMENT:
        return "INVALID_ARGUMENT";
    case GRPC_STATUS_NOT_FOUND:
        return "NOT_FOUND";
    case GRPC_STATUS_ALREADY_EXISTS:
        return "ALREADY_EXISTS";
    case GRPC_STATUS_FAILED_PRECONDITION:
        return "FAILED_PRECONDITION";
    case GRPC_STATUS_RESOURCE_EXHAUSTED:
        return "RESOURCE_EXHAUSTED";
    case GRPC_STATUS_UNIMPLEMENTED:
        return "UNIMPLEMENTED";
    case GRPC_STATUS_INTERNAL:
        return "INTERNAL";
    default:
        return "UNKNOWN";
    }
}

/*
 * Copies the field path that starts details ("customer_a: ...", "reason is
 * required") into field, or "" when details starts with something else.
 */
static void details_field(const char *details, const char *method, char *field,
                          size_t len)
{
    size_t n = strspn(details, "abcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.[]");
    const char *rest = details + n;
    bool is_field = n > 0 && n < len &&
                    (rest[0] == ':' || strncmp(rest, " is ", 4) == 0 ||
                     strncmp(rest, " and ", 5) == 0);

    /* "Merge: corrections are not enabled" names the method, not a field. */
    if (is_field && strlen(method) == n && memcmp(method, details, n) == 0)
        is_field = false;
    if (!is_field)
        n = 0;
    memcpy(field, details, n);
    field[n] = '\0';
}

/*
 * Logs a rejected write with the method, the status, the field the status
 * message names and the valid customer numbers of the request. The
 * message itself is not logged, because it can quote record values.
 */
static void log_rejected_write(const call_ctx_t *ctx,
                               const ecif_service_method_t *method,
                               grpc_status_code code)
{
    const char *name = strrchr(method->path, '/') + 1;
    char field[64];
    char line[256];

    details_field(ctx->details_len > 0 ? ctx->details : "", name, field,
                  sizeof(field));
    int n = snprintf(line, sizeof(line), "%s rejected: %s", name,
                     ecif_service_status_name(code));
    if (field[0] != '\0')
        n += snprintf(line + n, sizeof(line) - (size_t)n, ", field %s", field);
    if (ctx->customers[1] != 0)
        snprintf(line + n, sizeof(line) - (size_t)n,
                 ", customers C%012llu and C%012llu",
                 (unsigned long long)ctx->customers[0],
                 (unsigned long long)ctx->customers[1]);
    else if (ctx->customers[0] != 0)
        snprintf(line + n, sizeof(line) - (size_t)n, ", customer C%012llu",
                 (unsigned long long)ctx->customers[0]);
    ctx->svc->log_correction(line);
}

/* Appends one customer number to the audit list, up to
 * ECIF_SERVICE_AUDIT_CUSTOMERS of them. Past that only *more counts. */
static void audit_add(ecif_call_info_t *info, size_t *listed, size_t *more,
                      const char *number)
{
    /* Numbers have one length, so a substring is the same number. */
    if (!is_set(number) || strstr(info->customers, number) != NULL)
        return;
    if (*listed == ECIF_SERVICE_AUDIT_CUSTOMERS) {
        (*more)++;
        return;
    }
    size_t used = strlen(info->customers);
    snprintf(info->customers + used, sizeof(info->customers) - used, "%s%s",
             used > 0 ? "," : "", number);
    (*listed)++;
}

/* Lists the other customers that duplicate-application signals name. */
static void audit_signals(ecif_call_info_t *info, size_t *listed, size_t *more,
                          Ecif__V1__ApplicationSignal *const *signals,
                          size_t count)
{
    for (size_t i = 0; i < count; i++) {
        for (size_t k = 0; k < signals[i]->n_other_customer_numbers; k++)
            audit_add(info, listed, more,
                      signals[i]->other_customer_numbers[k]);
    }
}

/* Lists the customer numbers that the response of a successful call
 * returns or that the call changed, for the audit log. */
static void audit_customers(const ecif_service_method_t *method,
                            const ProtobufCMessage *msg, ecif_call_info_t *info)
{
    size_t listed = 0, more = 0;
    handler_t h = method->handler;

    if (h == handle_resolve) {
        const Ecif__V1__ResolveResponse *r = (const void *)msg;
        for (size_t i = 0; i < r->n_candidates; i++)
            audit_add(info, &listed, &more, r->candidates[i]->customer_number);
    } else if (h == handle_get_customer) {
        const Ecif__V1__GetCustomerResponse *r = (const void *)msg;
        audit_add(info, &listed, &more, r->customer_number);
        audit_add(info, &listed, &more, r->redirected_from);
        for (size_t i = 0; i < r->n_merged_numbers; i++)
            audit_add(info, &listed, &more, r->merged_numbers[i]);
    } else if (h == handle_get_exposure) {
        const Ecif__V1__GetExposureResponse *r = (const void *)msg;
        audit_add(info, &listed, &more, r->customer_number);
        audit_add(info, &listed, &more, r->redirected_from);
        audit_signals(info, &listed, &more, r->application_signals,
                      r->n_application_signals);
    } else if (h == handle_explain) {
        const Ecif__V1__ExplainResponse *r = (const void *)msg;
        audit_add(info, &listed, &more, r->left_customer_number);
        audit_add(info, &listed, &more, r->right_customer_number);
    } else if (h == handle_merge) {
        const Ecif__V1__MergeResponse *r = (const void *)msg;
        audit_add(info, &listed, &more, r->customer_number);
        audit_add(info, &listed, &more, r->retired_number);
    } else if (h == handle_split) {
        const Ecif__V1__SplitResponse *r = (const void *)msg;
        audit_add(info, &listed, &more, r->customer_number);
        audit_add(info, &listed, &more, r->new_customer_number);
    } else if (h == handle_not_same) {
        const Ecif__V1__NotSameCustomerResponse *r = (const void *)msg;
        audit_add(info, &listed, &more, r->customer_a);
        audit_add(info, &listed, &more, r->customer_b);
    } else if (h == handle_add_record) {
        const Ecif__V1__AddRecordResponse *r = (const void *)msg;
        audit_add(info, &listed, &more, r->customer_number);
        for (size_t i = 0; i < r->n_candidates; i++)
            audit_add(info, &listed, &more, r->candidates[i]->customer_number);
        audit_signals(info, &listed, &more, r->application_signals,
                      r->n_application_signals);
    } else if (h == handle_get_history) {
        const Ecif__V1__GetHistoryResponse *r = (const void *)msg;
        audit_add(info, &listed, &more, r->customer_number);
        audit_add(info, &listed, &more, r->redirected_from);
        for (size_t i = 0; i < r->n_events; i++)
            audit_add(info, &listed, &more,
                      r->events[i]->other_customer_number);
    }
    if (more > 0) {
        size_t used = strlen(info->customers);
        snprintf(info->customers + used, sizeof(info->customers) - used,
                 ",+%zu", more);
    }
}

grpc_status_code ecif_service_call(const ecif_service_t *svc,
                                   const ecif_service_method_t *method,
                                   grpc_byte_buffer *request,
                                   grpc_byte_buffer **response, char *details,
                                   size_t details_len, ecif_call_info_t *info)
{
    call_ctx_t ctx = {
        .svc = svc,
        .details = details,
        .details_len = details_len,
        .principal = info != NULL ? info->principal : NULL,
    };
    ctx.allocator.alloc = arena_pb_alloc;
    ctx.allocator.free = arena_pb_free;
    ctx.allocator.allocator_data = &ctx.arena;
    if (details_len > 0)
        details[0] = '\0';
    *response = NULL;

    bool hold = svc->corrections != NULL && !method->writes;
    ctx.store = hold ? ecif_corrections_acquire(svc->corrections) : svc->store;
    ProtobufCMessage *msg = NULL;
    if (info != NULL)
        info->customers[0] = '\0';
    grpc_status_code code = method->handler(&ctx, request, &msg);
    if (code == GRPC_STATUS_OK && info != NULL && info->list_customers)
        audit_customers(method, msg, info);
    if (code == GRPC_STATUS_OK)
        *response = pack_response(msg);
    else if (method->writes && svc->log_correction != NULL)
        log_rejected_write(&ctx, method, code);
    arena_free_all(&ctx.arena);
    /* Response strings point into the view until they are packed. */
    if (hold)
        ecif_corrections_release(svc->corrections, ctx.store);
    return code;
}
