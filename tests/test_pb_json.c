/*
 * Unit tests of the JSON writer of protobuf-c messages, on a message
 * described by hand with one field of every scalar type protobuf-c has,
 * so the test does not depend on which types the service protos use.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_json.h"
#include "unit.h"

typedef struct sample {
    ProtobufCMessage base;
    int32_t i32;
    int32_t s32;
    int32_t sf32;
    uint32_t u32;
    uint32_t f32;
    int64_t i64;
    int64_t s64;
    int64_t sf64;
    uint64_t u64;
    uint64_t f64;
    float real32;
    double real64;
    protobuf_c_boolean flag;
    char *text;
    ProtobufCBinaryData blob;
    size_t n_flags;
    protobuf_c_boolean *flags;
    size_t n_times;
    int64_t *times;
    size_t n_blobs;
    ProtobufCBinaryData *blobs;
} sample_t;

#define SCALAR(field_name, number, field_type)                                 \
    {                                                                          \
        .name = #field_name, .id = number, .label = PROTOBUF_C_LABEL_NONE,     \
        .type = field_type, .offset = offsetof(sample_t, field_name),          \
    }
#define REPEATED(field_name, number, field_type)                               \
    {                                                                          \
        .name = #field_name, .id = number, .label = PROTOBUF_C_LABEL_REPEATED, \
        .type = field_type,                                                    \
        .quantifier_offset = offsetof(sample_t, n_##field_name),               \
        .offset = offsetof(sample_t, field_name),                              \
    }

static const ProtobufCFieldDescriptor sample_fields[] = {
    SCALAR(i32, 1, PROTOBUF_C_TYPE_INT32),
    SCALAR(s32, 2, PROTOBUF_C_TYPE_SINT32),
    SCALAR(sf32, 3, PROTOBUF_C_TYPE_SFIXED32),
    SCALAR(u32, 4, PROTOBUF_C_TYPE_UINT32),
    SCALAR(f32, 5, PROTOBUF_C_TYPE_FIXED32),
    SCALAR(i64, 6, PROTOBUF_C_TYPE_INT64),
    SCALAR(s64, 7, PROTOBUF_C_TYPE_SINT64),
    SCALAR(sf64, 8, PROTOBUF_C_TYPE_SFIXED64),
    SCALAR(u64, 9, PROTOBUF_C_TYPE_UINT64),
    SCALAR(f64, 10, PROTOBUF_C_TYPE_FIXED64),
    SCALAR(real32, 11, PROTOBUF_C_TYPE_FLOAT),
    SCALAR(real64, 12, PROTOBUF_C_TYPE_DOUBLE),
    SCALAR(flag, 13, PROTOBUF_C_TYPE_BOOL),
    SCALAR(text, 14, PROTOBUF_C_TYPE_STRING),
    SCALAR(blob, 15, PROTOBUF_C_TYPE_BYTES),
    REPEATED(flags, 16, PROTOBUF_C_TYPE_BOOL),
    REPEATED(times, 17, PROTOBUF_C_TYPE_INT64),
    REPEATED(blobs, 18, PROTOBUF_C_TYPE_BYTES),
};

static const ProtobufCMessageDescriptor sample_descriptor = {
    .magic = PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    .name = "test.Sample",
    .short_name = "Sample",
    .c_name = "Sample",
    .package_name = "test",
    .sizeof_message = sizeof(sample_t),
    .n_fields = sizeof(sample_fields) / sizeof(sample_fields[0]),
    .fields = sample_fields,
};

/* Returns the JSON of msg in a buffer the caller frees. */
static char *to_json(const ProtobufCMessage *msg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    if (out == NULL)
        return strdup("");
    pb_json_write(out, msg);
    fclose(out);
    return text;
}

static void test_pb_json_every_scalar(void)
{
    protobuf_c_boolean flags[] = {1, 0, 1};
    int64_t times[] = {1733000000123456, -2};
    ProtobufCBinaryData blobs[] = {
        {1, (uint8_t *)"a"}, {2, (uint8_t *)"ab"}, {0, NULL}};
    sample_t m = {
        .base = {.descriptor = &sample_descriptor},
        .i32 = -7,
        .s32 = INT32_MIN,
        .sf32 = 42,
        .u32 = UINT32_MAX,
        .f32 = 9,
        /* 2^53 + 1, which a double cannot hold. */
        .i64 = -9007199254740993LL,
        .s64 = INT64_MIN,
        .sf64 = 5,
        .u64 = UINT64_MAX,
        .f64 = 6,
        .real32 = 0.5f,
        .real64 = 2.25,
        .flag = 1,
        .text = "say \"hi\"\n",
        .blob = {3, (uint8_t *)"abc"},
        .n_flags = 3,
        .flags = flags,
        .n_times = 2,
        .times = times,
        .n_blobs = 3,
        .blobs = blobs,
    };
    char *json = to_json(&m.base);

    CHECK_STR(json, "{\"i32\":-7,\"s32\":-2147483648,\"sf32\":42,"
                    "\"u32\":4294967295,\"f32\":9,"
                    "\"i64\":\"-9007199254740993\","
                    "\"s64\":\"-9223372036854775808\",\"sf64\":\"5\","
                    "\"u64\":\"18446744073709551615\",\"f64\":\"6\","
                    "\"real32\":0.5,\"real64\":2.25,\"flag\":true,"
                    "\"text\":\"say \\\"hi\\\"\\n\",\"blob\":\"YWJj\","
                    "\"flags\":[true,false,true],"
                    "\"times\":[\"1733000000123456\",\"-2\"],"
                    "\"blobs\":[\"YQ==\",\"YWI=\",\"\"]}");
    free(json);
}

static void test_pb_json_defaults_and_non_finite(void)
{
    sample_t m = {
        .base = {.descriptor = &sample_descriptor},
        .real32 = NAN,
        .real64 = -INFINITY,
        .text = "",
    };
    char *json = to_json(&m.base);

    CHECK(strstr(json, "\"i64\":\"0\",") != NULL);
    CHECK(strstr(json, "\"flag\":false,") != NULL);
    CHECK(strstr(json, "\"real32\":\"NaN\",") != NULL);
    CHECK(strstr(json, "\"real64\":\"-Infinity\",") != NULL);
    CHECK(strstr(json, "\"blob\":\"\",") != NULL);
    CHECK(strstr(json, "\"flags\":[],") != NULL);
    CHECK(strstr(json, "null") == NULL);
    free(json);

    m.real64 = INFINITY;
    json = to_json(&m.base);
    CHECK(strstr(json, "\"real64\":\"Infinity\",") != NULL);
    free(json);

    json = to_json(NULL);
    CHECK_STR(json, "null");
    free(json);
}

int main(void)
{
    RUN(test_pb_json_every_scalar);
    RUN(test_pb_json_defaults_and_non_finite);
    return unit_report();
}
