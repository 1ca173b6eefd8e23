/*
 * JSON output of protobuf-c messages, walking the field descriptors. The
 * C storage of each field type is the one protobuf-c generates: int32_t
 * and uint32_t, int64_t and uint64_t, float, double, protobuf_c_boolean,
 * int for an enum, char * for a string, ProtobufCBinaryData for bytes and
 * a pointer for a message. Repeated fields are a count and an array.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pb_json.h"

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

/* Writes bytes as a quoted base64 string with padding (RFC 4648). */
static void json_bytes(FILE *out, const ProtobufCBinaryData *data)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    fputc('"', out);
    for (size_t i = 0; i < data->len; i += 3) {
        size_t left = data->len - i;
        uint32_t group = (uint32_t)data->data[i] << 16;
        if (left > 1)
            group |= (uint32_t)data->data[i + 1] << 8;
        if (left > 2)
            group |= data->data[i + 2];
        fputc(alphabet[(group >> 18) & 63], out);
        fputc(alphabet[(group >> 12) & 63], out);
        fputc(left > 1 ? alphabet[(group >> 6) & 63] : '=', out);
        fputc(left > 2 ? alphabet[group & 63] : '=', out);
    }
    fputc('"', out);
}

/* Writes a float or double. JSON has no NaN or infinity, so the proto3
 * mapping writes them as strings. */
static void json_real(FILE *out, double value, int digits)
{
    if (isnan(value))
        fputs("\"NaN\"", out);
    else if (isinf(value))
        fputs(value > 0 ? "\"Infinity\"" : "\"-Infinity\"", out);
    else
        fprintf(out, "%.*g", digits, value);
}

static void json_message(FILE *out, const ProtobufCMessage *msg);

/* Writes one value of a field; value points at the stored C value. */
static void json_value(FILE *out, const ProtobufCFieldDescriptor *field,
                       const void *value)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        fprintf(out, "%" PRId32, *(const int32_t *)value);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        fprintf(out, "%" PRIu32, *(const uint32_t *)value);
        break;
    /* Strings, as the proto3 JSON mapping writes 64-bit integers, because
     * a JSON number read as a double loses digits above 2^53. */
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        fprintf(out, "\"%" PRId64 "\"", *(const int64_t *)value);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        fprintf(out, "\"%" PRIu64 "\"", *(const uint64_t *)value);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        /* 9 significant digits give back the same float when read. */
        json_real(out, *(const float *)value, 9);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        json_real(out, *(const double *)value, 15);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        fputs(*(const protobuf_c_boolean *)value ? "true" : "false", out);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
            field->descriptor, *(const int *)value);
        if (ev != NULL)
            json_string(out, ev->name);
        else
            fprintf(out, "%d", *(const int *)value);
        break;
    }
    case PROTOBUF_C_TYPE_STRING:
        json_string(out, *(char *const *)value);
        break;
    case PROTOBUF_C_TYPE_BYTES:
        json_bytes(out, (const ProtobufCBinaryData *)value);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        json_message(out, *(const ProtobufCMessage *const *)value);
        break;
    }
}

/* Returns the size of one element of a repeated field's array. */
static size_t json_value_size(const ProtobufCFieldDescriptor *field)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return sizeof(int32_t);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(int64_t);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    }
    return sizeof(void *);
}

/* Writes a message as a JSON object, NULL as null. */
static void json_message(FILE *out, const ProtobufCMessage *msg)
{
    if (msg == NULL) {
        fputs("null", out);
        return;
    }
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    const char *base = (const char *)msg;
    bool first = true;
    fputc('{', out);
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t set = *(const uint32_t *)(base + f->quantifier_offset);
            if (set != f->id)
                continue;
        }
        if (!first)
            fputc(',', out);
        first = false;
        json_string(out, f->name);
        fputc(':', out);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            const char *items = *(const char *const *)(base + f->offset);
            fputc('[', out);
            for (size_t k = 0; k < n; k++) {
                if (k > 0)
                    fputc(',', out);
                json_value(out, f, items + k * json_value_size(f));
            }
            fputc(']', out);
        } else {
            json_value(out, f, base + f->offset);
        }
    }
    fputc('}', out);
}

void pb_json_write(FILE *out, const ProtobufCMessage *msg)
{
    json_message(out, msg);
}
