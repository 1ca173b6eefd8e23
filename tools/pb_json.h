/*
 * Writes any protobuf-c message as JSON, from its descriptor, for the
 * --json output of the ecifctl query commands.
 */
#ifndef ECIF_TOOLS_PB_JSON_H
#define ECIF_TOOLS_PB_JSON_H

#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

/*
 * Writes msg to out as one JSON object, NULL as null. Every field is
 * written under its proto name, including fields at their default value,
 * and only the set member of a oneof. Values follow the proto3 JSON
 * mapping: 64-bit integers and bytes (base64) are strings, enums are
 * their names, and non-finite floats are "NaN", "Infinity" or
 * "-Infinity".
 */
void pb_json_write(FILE *out, const ProtobufCMessage *msg);

#endif
