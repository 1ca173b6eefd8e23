"""A bounded flood of malformed requests against ecifd.

Every malformed request must get INVALID_ARGUMENT (RESOURCE_EXHAUSTED for a
message over the size limit), the server must stay SERVING, and its answer
to a valid query must not change. Random inputs come from a fixed seed, so
a failure reproduces.
"""

import os
import random
import sys
import time
import unittest
import warnings

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_rpc import ACCOUNTS, RECORDS  # noqa: E402

RANDOM_BODIES = 2500
SEED = 20240501
# The flood stops after this many seconds even if requests remain.
TIME_LIMIT = 240
MAX_MESSAGE_BYTES = 256 * 1024

RESOLVE = "/ecif.v1.CustomerIndex/Resolve"
GET_CUSTOMER = "/ecif.v1.CustomerIndex/GetCustomer"
GET_EXPOSURE = "/ecif.v1.CustomerIndex/GetExposure"


# ---- protobuf wire encoding by hand, to build what a stub would refuse ----

def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_varint(number, value):
    return varint(number << 3 | 0) + varint(value)


def resolve_body(record_bytes):
    return field_bytes(1, record_bytes)


class MalformedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_programs()
        cls.work = harness.make_work_dir()
        cls.pb, cls.pb_grpc, cls.health_pb = harness.generate_stubs(
            os.path.join(cls.work.name, "stubs"))
        snapshot = harness.import_snapshot(cls.work.name, RECORDS, ACCOUNTS)
        cls.server = harness.Ecifd(
            snapshot, cls.work.name,
            ["--max-message-bytes", str(MAX_MESSAGE_BYTES)])
        cls.server.wait_serving(cls.health_pb)
        cls.methods = {path: harness.raw_method(cls.server.channel, path)
                       for path in (RESOLVE, GET_CUSTOMER, GET_EXPOSURE)}
        cls.valid_request = cls.pb.ResolveRequest(
            record=cls.pb.Record(name="Li Wei",
                                 id_number="110101199003071234",
                                 dob="1990-03-07"),
            max_candidates=5).SerializeToString()
        cls.baseline = cls.methods[RESOLVE](cls.valid_request, timeout=10)

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        log = cls.server.read_log()
        cls.work.cleanup()
        if rc != 0:
            raise AssertionError(f"ecifd exited with {rc}; log:\n{log}")

    def call_code(self, path, body):
        try:
            self.methods[path](body, timeout=10)
        except grpc.RpcError as e:
            return e.code(), e.details()
        return grpc.StatusCode.OK, ""

    def assert_rejected(self, path, body, code=grpc.StatusCode.INVALID_ARGUMENT,
                        details_part=None):
        got, details = self.call_code(path, body)
        self.assertEqual(got, code, f"{path} {body[:40]!r}: {details}")
        if details_part is not None:
            self.assertIn(details_part, details)

    def assert_still_serving(self):
        check = harness.health_check_method(self.server.channel,
                                            self.health_pb)
        reply = check(self.health_pb.HealthCheckRequest(), timeout=10)
        self.assertEqual(reply.status,
                         self.health_pb.HealthCheckResponse.SERVING)
        again = self.methods[RESOLVE](self.valid_request, timeout=10)
        self.assertEqual(again, self.baseline)

    def expected_for_random_resolve(self, body):
        """Codes a random Resolve body may get, judged by Python's parser.

        Bytes that do not parse, or parse without a record, must get
        INVALID_ARGUMENT. Bytes that happen to parse with a record may be a
        valid query, so OK is allowed for them too.
        """
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                request = self.pb.ResolveRequest.FromString(body)
        except Exception:
            return {grpc.StatusCode.INVALID_ARGUMENT}
        if not request.HasField("record"):
            return {grpc.StatusCode.INVALID_ARGUMENT}
        return {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OK}

    def test_random_bodies(self):
        rng = random.Random(SEED)
        started = time.monotonic()
        sent = 0
        for i in range(RANDOM_BODIES):
            if time.monotonic() - started > TIME_LIMIT:
                break
            size = rng.choice((1, 2, 3, 8, 16, 64, 300, 2000))
            body = bytes(rng.getrandbits(8) for _ in range(size))
            if i % 2 == 0:
                # Start with the record field's tag, so the parser gets
                # past the first byte into the nested message.
                body = b"\x0a" + body
            got, details = self.call_code(RESOLVE, body)
            self.assertIn(got, self.expected_for_random_resolve(body),
                          f"body {body[:40]!r}: {details}")
            sent += 1
        self.assertGreater(sent, RANDOM_BODIES // 2,
                           "the flood stopped at its time limit too early")
        self.assert_still_serving()

    def test_wrong_wire_types(self):
        bodies = [
            field_varint(1, 7),                       # record as a varint
            field_bytes(2, b"abc"),                   # max_candidates
            resolve_body(field_varint(3, 1)),         # name as a varint
            resolve_body(field_varint(8, 5)),         # phones as a varint
            resolve_body(b"\x1d\x00\x00\x00\x00"),    # name as fixed32
            resolve_body(b"\x1a\x05ab"),              # name length too long
            b"\x0a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",
        ]
        for body in bodies:
            with self.subTest(body=body):
                self.assert_rejected(RESOLVE, body)
        self.assert_still_serving()

    def test_invalid_utf8(self):
        for field in (3, 4, 5, 7, 8, 9, 10, 11):
            body = resolve_body(field_bytes(3, b"Li Wei") +
                                field_bytes(field, b"\xff\xfe\xc3("))
            with self.subTest(field=field):
                self.assert_rejected(RESOLVE, body, details_part="UTF-8")
        self.assert_still_serving()

    def test_nul_byte_in_string(self):
        # A NUL inside a string would be cut by protobuf-c, and the query
        # would match on the part before it; it must be rejected instead.
        names = {3: "name", 7: "id_number", 8: "phones", 9: "emails"}
        for field, name in names.items():
            body = resolve_body(field_bytes(3, b"Mary") +
                                field_bytes(field, b"12345\x00junk"))
            with self.subTest(field=field):
                self.assert_rejected(
                    RESOLVE, body,
                    details_part=f"record.{name}: NUL byte in a string value")
        self.assert_still_serving()

    def test_oversized_field(self):
        record = self.pb.Record(name="x" * 513)
        body = self.pb.ResolveRequest(record=record).SerializeToString()
        self.assert_rejected(RESOLVE, body, details_part="record.name")
        phones = ["1" * 600]
        record = self.pb.Record(name="Li Wei", phones=phones)
        body = self.pb.ResolveRequest(record=record).SerializeToString()
        self.assert_rejected(RESOLVE, body, details_part="record.phones")
        self.assert_still_serving()

    def test_oversized_message(self):
        record = self.pb.Record(name="x" * (MAX_MESSAGE_BYTES + 1024))
        body = self.pb.ResolveRequest(record=record).SerializeToString()
        for _ in range(5):
            self.assert_rejected(RESOLVE, body,
                                 code=grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assert_still_serving()

    def test_empty_records(self):
        self.assert_rejected(RESOLVE, b"", details_part="record is required")
        self.assert_rejected(RESOLVE, resolve_body(b""),
                             details_part="record:")
        record = self.pb.Record(gender="M", id_type="PASSPORT",
                                addresses=["1 Main St"])
        body = self.pb.ResolveRequest(record=record).SerializeToString()
        self.assert_rejected(RESOLVE, body)
        self.assert_rejected(GET_EXPOSURE, b"")
        self.assert_rejected(GET_CUSTOMER, b"")
        self.assert_still_serving()

    def test_too_many_values(self):
        for field in ("phones", "emails", "addresses"):
            values = [f"value{i}@example.com" for i in range(9)]
            record = self.pb.Record(name="Li Wei", **{field: values})
            body = self.pb.ResolveRequest(record=record).SerializeToString()
            with self.subTest(field=field):
                self.assert_rejected(RESOLVE, body,
                                     details_part=f"record.{field}")
        self.assert_still_serving()

    def test_bad_dates(self):
        for dob in ("not a date", "1990", "1990-03", "19900307x",
                    "31/31/31", "--", "1990/3/7/1"):
            record = self.pb.Record(name="Li Wei", dob=dob)
            body = self.pb.ResolveRequest(record=record).SerializeToString()
            with self.subTest(dob=dob):
                self.assert_rejected(RESOLVE, body, details_part="record.dob")
            exposure = self.pb.GetExposureRequest(
                record=record).SerializeToString()
            with self.subTest(dob=dob, method="GetExposure"):
                self.assert_rejected(GET_EXPOSURE, exposure,
                                     details_part="record.dob")
        self.assert_still_serving()

    def test_repeated_flood_of_each_kind(self):
        """Send each malformed kind many times; the answers must not vary."""
        kinds = [
            (b"\x0a\x05ab", grpc.StatusCode.INVALID_ARGUMENT),
            (resolve_body(b""), grpc.StatusCode.INVALID_ARGUMENT),
            (resolve_body(field_bytes(3, b"\xff")),
             grpc.StatusCode.INVALID_ARGUMENT),
        ]
        started = time.monotonic()
        for _ in range(200):
            if time.monotonic() - started > TIME_LIMIT:
                break
            for body, code in kinds:
                got, details = self.call_code(RESOLVE, body)
                self.assertEqual(got, code, details)
        self.assert_still_serving()


if __name__ == "__main__":
    unittest.main()
