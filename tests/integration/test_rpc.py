"""ecifd over real gRPC: Resolve, GetCustomer, GetExposure, Health, error
codes, ecifctl's query commands, and startup failures on bad snapshots."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import unittest
from decimal import Decimal

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# Li Wei has records in two source systems that share the ID number, so they
# resolve to one customer whose exposure spans both systems.
LI_WEI_CORE = {
    "source_system": "CORE", "source_id": "1001", "name": "Li Wei",
    "given_name": "Wei", "family_name": "Li", "id_type": "RESIDENT_ID",
    "id_number": "110101199003071234", "phone": "+86 139 7531 8642",
    "email": "li.wei@example.com", "address": "12 Jianguo Road, Beijing",
    "dob": "1990-03-07", "gender": "M",
}
LI_WEI_CARD = {
    "source_system": "CARD", "source_id": "C-77", "name": "Li Wei",
    "given_name": "Wei", "family_name": "Li", "id_type": "RESIDENT_ID",
    "id_number": "110101199003071234",
    "phone": "13975318642|+86 10 6552 1234", "email": "",
    "address": "12 Jianguo Rd, Beijing", "dob": "07/03/1990", "gender": "M",
}
ZHANG_MIN = {
    "source_system": "CORE", "source_id": "1002", "name": "Zhang Min",
    "given_name": "Min", "family_name": "Zhang", "id_type": "PASSPORT",
    "id_number": "E12345678", "phone": "+86 139 1111 2222",
    "email": "zhang.min@example.org", "address": "8 Nanjing Road, Shanghai",
    "dob": "1985-11-20", "gender": "F",
}
HARRISON = {
    "source_system": "CRM", "source_id": "2001", "name": "Margaret Harrison",
    "given_name": "Margaret", "family_name": "Harrison", "id_type": "SSN",
    "id_number": "521-44-9087", "phone": "+1 415 555 0142",
    "email": "m.harrison@example.net", "address": "300 Pine St, San Francisco",
    "dob": "1979-01-02", "gender": "F",
}
OKAFOR = {
    "source_system": "CRM", "source_id": "2002", "name": "Chinedu Okafor",
    "given_name": "Chinedu", "family_name": "Okafor", "id_type": "PASSPORT",
    "id_number": "A09876543", "phone": "+234 803 555 7788",
    "email": "c.okafor@example.com", "address": "14 Marina, Lagos",
    "dob": "1992-06-15", "gender": "M",
}
RECORDS = [LI_WEI_CORE, LI_WEI_CARD, ZHANG_MIN, HARRISON, OKAFOR]

ACCOUNTS = [
    {"source_system": "CORE", "source_id": "1001", "account_id": "L-500",
     "product": "loan", "credit_limit": "500000", "balance": "320000.50",
     "currency": "CNY", "branch": "BJ01"},
    {"source_system": "CORE", "source_id": "1001", "account_id": "D-501",
     "product": "deposit", "credit_limit": "0", "balance": "15000",
     "currency": "CNY", "branch": "BJ01"},
    {"source_system": "CARD", "source_id": "C-77", "account_id": "CC-9001",
     "product": "credit_card", "credit_limit": "50000",
     "balance": "1234.56", "currency": "CNY", "branch": "BJ02"},
    {"source_system": "CARD", "source_id": "C-77", "account_id": "CC-9002",
     "product": "credit_card", "credit_limit": "2000", "balance": "100.25",
     "currency": "USD", "branch": "BJ02"},
    {"source_system": "CARD", "source_id": "C-77", "account_id": "L-9003",
     "product": "loan", "credit_limit": "100000", "balance": "99999.99",
     "currency": "CNY", "branch": "BJ02"},
    {"source_system": "CORE", "source_id": "1002", "account_id": "D-600",
     "product": "deposit", "credit_limit": "0", "balance": "8000",
     "currency": "CNY", "branch": "SH01"},
]

EVIDENCE_FIELDS = {"name", "id_number", "phone", "email", "address", "dob",
                   "gender"}

# Values that must never reach ecifd's log.
PERSONAL_VALUES = [
    "Li Wei", "110101199003071234", "13975318642", "li.wei@example.com",
    "Jianguo", "1990-03-07", "Zhang Min", "E12345678", "Harrison",
    "March 1990",
]


def sum_accounts(source_keys):
    """Hand-sum the fixture accounts of some records per product/currency."""
    totals = {}
    for acct in ACCOUNTS:
        if (acct["source_system"], acct["source_id"]) not in source_keys:
            continue
        key = (acct["product"], acct["currency"])
        limit, balance, count = totals.get(key, (Decimal(0), Decimal(0), 0))
        totals[key] = (limit + Decimal(acct["credit_limit"]),
                       balance + Decimal(acct["balance"]), count + 1)
    return totals


def totals_of(response):
    return {(t.product, t.currency): (Decimal(t.credit_limit),
                                      Decimal(t.balance), t.account_count)
            for t in response.totals}


class RpcTest(harness.StubsTestCase):
    # Options of the served ecifd; MappedRpcTest maps the snapshot.
    SERVER_ARGS = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.snapshot = harness.import_snapshot(cls.work.name, RECORDS,
                                               ACCOUNTS)
        cls.server = harness.Ecifd(cls.snapshot, cls.work.name,
                                   cls.SERVER_ARGS)
        cls.server.wait_serving(cls.health_pb2)
        cls.stub = cls.pb_grpc.CustomerIndexStub(cls.server.channel)

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        log = cls.server.read_log()
        super().tearDownClass()
        if rc != 0:
            raise AssertionError(f"ecifd exited with {rc}; log:\n{log}")

    # ---- helpers --------------------------------------------------------

    def resolve(self, max_candidates=0, **fields):
        record = self.pb.Record(**fields)
        return self.stub.Resolve(
            self.pb.ResolveRequest(record=record,
                                   max_candidates=max_candidates),
            timeout=10)

    def assert_code(self, call, code):
        with self.assertRaises(grpc.RpcError) as ctx:
            call()
        self.assertEqual(ctx.exception.code(), code,
                         ctx.exception.details())
        return ctx.exception.details()

    def customer_of(self, source_system, source_id):
        """Customer number of a record, found through Resolve by its ID."""
        rec = next(r for r in RECORDS
                   if (r["source_system"], r["source_id"])
                   == (source_system, source_id))
        reply = self.resolve(name=rec["name"], id_type=rec["id_type"],
                             id_number=rec["id_number"], dob=rec["dob"])
        for cand in reply.candidates:
            refs = {(m.source_system, m.source_id)
                    for m in cand.matched_records}
            if (source_system, source_id) in refs:
                return cand.customer_number
        self.fail(f"no candidate holds {source_system}/{source_id}")

    def ctl(self, *args):
        return subprocess.run([harness.ECIFCTL] + list(args),
                              capture_output=True, text=True, timeout=60)

    # ---- Resolve --------------------------------------------------------

    def test_resolve_by_id_number(self):
        reply = self.resolve(name="Li Wei", id_type="RESIDENT_ID",
                             id_number="110101199003071234")
        self.assertGreater(len(reply.candidates), 0)
        best = reply.candidates[0]
        self.assertEqual(best.verdict, self.pb.MATCH)
        refs = {(m.source_system, m.source_id) for m in best.matched_records}
        self.assertIn(("CORE", "1001"), refs)
        self.assertIn(("CARD", "C-77"), refs)
        self.assertRegex(best.customer_number, r"^C\d{12}$")

    def test_resolve_by_phone(self):
        reply = self.resolve(name="Zhang Min", phones=["13911112222"])
        self.assertGreater(len(reply.candidates), 0)
        best = reply.candidates[0]
        refs = {(m.source_system, m.source_id) for m in best.matched_records}
        self.assertIn(("CORE", "1002"), refs)
        self.assertIn(best.verdict, (self.pb.MATCH, self.pb.POSSIBLE_MATCH))

    def test_resolve_name_typo_and_dob(self):
        reply = self.resolve(name="Margaret Harisson", dob="1979-01-02")
        self.assertGreater(len(reply.candidates), 0)
        best = reply.candidates[0]
        refs = {(m.source_system, m.source_id) for m in best.matched_records}
        self.assertIn(("CRM", "2001"), refs)
        self.assertIn(best.verdict, (self.pb.MATCH, self.pb.POSSIBLE_MATCH))
        levels = {e.field: e.level for e in best.evidence}
        self.assertNotEqual(levels["name"], "exact")
        self.assertNotEqual(levels["name"], "mismatch")
        self.assertEqual(levels["dob"], "exact")

    def test_resolve_evidence_has_all_fields(self):
        reply = self.resolve(name="Li Wei", id_number="110101199003071234")
        self.assertGreater(len(reply.candidates), 0)
        for cand in reply.candidates:
            fields = [e.field for e in cand.evidence]
            self.assertEqual(len(fields), 7)
            self.assertEqual(set(fields), EVIDENCE_FIELDS)
            self.assertAlmostEqual(
                sum(e.weight for e in cand.evidence), cand.score, places=6)

    def test_resolve_candidates_best_first(self):
        reply = self.resolve(name="Li Wei", dob="1990-03-07",
                             max_candidates=64)
        scores = [c.score for c in reply.candidates]
        self.assertEqual(scores, sorted(scores, reverse=True))
        numbers = [c.customer_number for c in reply.candidates]
        self.assertEqual(len(numbers), len(set(numbers)))

    def test_resolve_max_candidates_one(self):
        reply = self.resolve(name="Li Wei", dob="1990-03-07",
                             max_candidates=1)
        self.assertLessEqual(len(reply.candidates), 1)

    def test_resolve_stranger_no_match(self):
        reply = self.resolve(name="Olivia Brennan", id_type="PASSPORT",
                             id_number="Z55500011", phones=["+44 20 7946 0000"],
                             dob="2001-09-30")
        for cand in reply.candidates:
            self.assertNotEqual(cand.verdict, self.pb.MATCH)

    def test_resolve_dob_not_a_date(self):
        details = self.assert_code(
            lambda: self.resolve(name="Li Wei", dob="March 1990"),
            grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(
            details.startswith("record.dob: invalid date 'March 1990'"),
            details)

    def test_resolve_dob_not_in_calendar(self):
        # A date with a valid layout but no such day (a mistyped digit) is
        # accepted and compared digit by digit, not rejected: the rest of
        # the record is still evidence.
        reply = self.resolve(name="Li Wei", id_number="110101199003071234",
                             dob="1990-13-07")
        self.assertTrue(reply.candidates)
        top = reply.candidates[0]
        self.assertEqual(top.customer_number,
                         self.customer_of("CORE", "1001"))
        dob = next(e for e in top.evidence if e.field == "dob")
        self.assertEqual(dob.level, "fuzzy")

    def test_resolve_dob_without_layout(self):
        details = self.assert_code(
            lambda: self.resolve(name="Li Wei", dob="1990-13"),
            grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(
            details.startswith("record.dob: invalid date '1990-13'"),
            details)

    def test_resolve_reports_query_flags(self):
        # 13800138000 is a well-known placeholder: dropped and flagged, so
        # it neither finds nor scores anyone.
        reply = self.resolve(name="Li Wei", phones=["13800138000"],
                             dob="1990-03-07")
        self.assertIn("phone_placeholder", reply.query_flags)
        for candidate in reply.candidates:
            phone = next(e for e in candidate.evidence if e.field == "phone")
            self.assertEqual(phone.level, "missing")

    def test_resolve_clean_query_has_no_flags(self):
        reply = self.resolve(name="Li Wei", dob="1990-03-07")
        self.assertEqual(list(reply.query_flags), [])

    def test_resolve_flags_bad_check_character(self):
        # The fixture's resident ID has a wrong check character: flagged,
        # not rejected, and it still finds Li Wei.
        reply = self.resolve(name="Li Wei", id_number="110101199003071234")
        self.assertEqual(list(reply.query_flags), ["id_bad_check"])
        self.assertEqual(reply.candidates[0].customer_number,
                         self.customer_of("CORE", "1001"))

    def test_resolve_missing_record(self):
        details = self.assert_code(
            lambda: self.stub.Resolve(self.pb.ResolveRequest(), timeout=10),
            grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(details, "record is required")

    def test_resolve_too_many_phones(self):
        phones = [f"+86 138 0000 {i:04d}" for i in range(9)]
        details = self.assert_code(
            lambda: self.resolve(name="Li Wei", phones=phones),
            grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("record.phones", details)

    # ---- GetCustomer ----------------------------------------------------

    def test_get_customer_records(self):
        number = self.customer_of("CORE", "1001")
        reply = self.stub.GetCustomer(
            self.pb.GetCustomerRequest(customer_number=number), timeout=10)
        self.assertEqual(reply.customer_number, number)
        keys = sorted((r.source_system, r.source_id) for r in reply.records)
        self.assertEqual(keys, [("CARD", "C-77"), ("CORE", "1001")])
        core = next(r for r in reply.records if r.source_system == "CORE")
        self.assertEqual(core.name, "Li Wei")
        self.assertEqual(sorted(a.account_id for a in core.accounts),
                         ["D-501", "L-500"])
        loan = next(a for a in core.accounts if a.account_id == "L-500")
        self.assertEqual(Decimal(loan.balance), Decimal("320000.50"))
        self.assertEqual(Decimal(loan.credit_limit), Decimal("500000"))

    def test_get_customer_consolidated(self):
        number = self.customer_of("CORE", "1001")
        reply = self.stub.GetCustomer(
            self.pb.GetCustomerRequest(customer_number=number), timeout=10)
        merged = reply.consolidated
        self.assertEqual(merged.name, "Li Wei")
        self.assertEqual(merged.id_number, "110101199003071234")
        self.assertEqual(merged.gender, "M")
        self.assertEqual(list(merged.emails), ["li.wei@example.com"])
        self.assertEqual(len(merged.phones), len(set(merged.phones)))
        self.assertGreaterEqual(len(merged.phones), 2)
        self.assertEqual(len(merged.addresses), 2)

    def test_get_customer_not_found(self):
        details = self.assert_code(
            lambda: self.stub.GetCustomer(
                self.pb.GetCustomerRequest(customer_number="C000000000099"),
                timeout=10),
            grpc.StatusCode.NOT_FOUND)
        self.assertEqual(details,
                         "customer_number: customer 'C000000000099' not found")

    def test_get_customer_malformed_number(self):
        self.assert_code(
            lambda: self.stub.GetCustomer(
                self.pb.GetCustomerRequest(customer_number="nonsense"),
                timeout=10),
            grpc.StatusCode.NOT_FOUND)

    def test_get_customer_empty_number(self):
        self.assert_code(
            lambda: self.stub.GetCustomer(self.pb.GetCustomerRequest(),
                                          timeout=10),
            grpc.StatusCode.INVALID_ARGUMENT)

    # ---- GetExposure ----------------------------------------------------

    def test_exposure_by_number(self):
        number = self.customer_of("CARD", "C-77")
        reply = self.stub.GetExposure(
            self.pb.GetExposureRequest(customer_number=number), timeout=10)
        self.assertEqual(reply.customer_number, number)
        expected = sum_accounts({("CORE", "1001"), ("CARD", "C-77")})
        self.assertEqual(totals_of(reply), expected)
        self.assertEqual(len(reply.accounts), 5)
        systems = {a.record.source_system for a in reply.accounts}
        self.assertEqual(systems, {"CORE", "CARD"})
        self.assertFalse(reply.HasField("resolved"))

    def test_exposure_by_record(self):
        number = self.customer_of("CORE", "1001")
        record = self.pb.Record(name="Li Wei", id_type="RESIDENT_ID",
                                id_number="110101199003071234",
                                dob="1990-03-07")
        reply = self.stub.GetExposure(
            self.pb.GetExposureRequest(record=record), timeout=10)
        self.assertEqual(reply.customer_number, number)
        self.assertTrue(reply.HasField("resolved"))
        self.assertEqual(reply.resolved.verdict, self.pb.MATCH)
        self.assertEqual(reply.resolved.customer_number, number)
        expected = sum_accounts({("CORE", "1001"), ("CARD", "C-77")})
        self.assertEqual(totals_of(reply), expected)

    def test_exposure_by_record_no_match(self):
        record = self.pb.Record(name="Olivia Brennan", dob="2001-09-30")
        details = self.assert_code(
            lambda: self.stub.GetExposure(
                self.pb.GetExposureRequest(record=record), timeout=10),
            grpc.StatusCode.NOT_FOUND)
        self.assertEqual(details, "no customer matches the record")

    def test_exposure_without_target(self):
        self.assert_code(
            lambda: self.stub.GetExposure(self.pb.GetExposureRequest(),
                                          timeout=10),
            grpc.StatusCode.INVALID_ARGUMENT)

    # ---- Health, unknown methods, deadlines -----------------------------

    def test_health_serving(self):
        check = harness.health_check_method(self.server.channel,
                                            self.health_pb2)
        for service in ("", "ecif.v1.CustomerIndex"):
            reply = check(self.health_pb2.HealthCheckRequest(service=service),
                          timeout=10)
            self.assertEqual(reply.status,
                             self.health_pb2.HealthCheckResponse.SERVING)

    def test_health_unknown_service(self):
        check = harness.health_check_method(self.server.channel,
                                            self.health_pb2)
        self.assert_code(
            lambda: check(self.health_pb2.HealthCheckRequest(
                service="no.such.Service"), timeout=10),
            grpc.StatusCode.NOT_FOUND)

    def test_unknown_method(self):
        for path in ("/ecif.v1.CustomerIndex/Delete", "/no.Such/Method"):
            call = harness.raw_method(self.server.channel, path)
            self.assert_code(lambda: call(b"", timeout=10),
                             grpc.StatusCode.UNIMPLEMENTED)

    def test_expired_deadline(self):
        request = self.pb.ResolveRequest(record=self.pb.Record(name="Li Wei"))
        self.assert_code(lambda: self.stub.Resolve(request, timeout=-1),
                         grpc.StatusCode.DEADLINE_EXCEEDED)

    def test_deadline_expires_before_message(self):
        # The call starts in time, but its message arrives after the
        # deadline; the server must not answer it as if nothing happened.
        request = self.pb.ResolveRequest(record=self.pb.Record(name="Li Wei"))
        late_call = self.server.channel.stream_unary(
            "/ecif.v1.CustomerIndex/Resolve",
            request_serializer=self.pb.ResolveRequest.SerializeToString,
            response_deserializer=self.pb.ResolveResponse.FromString)

        def late_request():
            time.sleep(0.5)
            yield request

        self.assert_code(lambda: late_call(late_request(), timeout=0.2),
                         grpc.StatusCode.DEADLINE_EXCEEDED)
        reply = self.stub.Resolve(request, timeout=10)
        self.assertGreater(len(reply.candidates), 0)

    # ---- ecifctl --------------------------------------------------------

    def test_ctl_resolve_text(self):
        number = self.customer_of("CORE", "1001")
        proc = self.ctl("resolve", "--server", self.server.address,
                        "--name", "Li Wei", "--id-number",
                        "110101199003071234")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("VERDICT", proc.stdout)
        lines = proc.stdout.splitlines()
        self.assertTrue(lines[1].startswith("MATCH "), proc.stdout)
        self.assertIn(number, lines[1])
        self.assertIn("id_number=exact", lines[1])

    def test_ctl_resolve_json(self):
        number = self.customer_of("CORE", "1001")
        proc = self.ctl("resolve", "--server", self.server.address, "--json",
                        "--name", "Li Wei", "--phone", "13975318642",
                        "--dob", "1990-03-07", "--max-candidates", "3")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        reply = json.loads(proc.stdout)
        self.assertGreater(len(reply["candidates"]), 0)
        self.assertLessEqual(len(reply["candidates"]), 3)
        best = reply["candidates"][0]
        self.assertEqual(best["customer_number"], number)
        self.assertEqual({e["field"] for e in best["evidence"]},
                         EVIDENCE_FIELDS)

    def test_ctl_resolve_invalid_dob(self):
        proc = self.ctl("resolve", "--server", self.server.address,
                        "--name", "Li Wei", "--dob", "March 1990")
        self.assertEqual(proc.returncode, 1)
        self.assertTrue(proc.stderr.startswith(
            "ecifctl: Resolve failed: INVALID_ARGUMENT: "
            "record.dob: invalid date 'March 1990'"), proc.stderr)

    def test_ctl_customer(self):
        number = self.customer_of("CORE", "1001")
        proc = self.ctl("customer", "--server", self.server.address, number)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(f"customer {number}", proc.stdout)
        self.assertIn("CORE/1001", proc.stdout)
        self.assertIn("CARD/C-77", proc.stdout)

        proc = self.ctl("customer", "--server", self.server.address,
                        "--json", number)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        reply = json.loads(proc.stdout)
        self.assertEqual(reply["customer_number"], number)
        self.assertEqual(reply["consolidated"]["name"], "Li Wei")
        self.assertEqual(len(reply["records"]), 2)

    def test_ctl_server_must_be_an_address(self):
        proc = self.ctl("resolve", "--server", "--name", "Li Wei")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("invalid --server '--name' (expected HOST:PORT",
                      proc.stderr)

    def test_ctl_customer_not_found(self):
        proc = self.ctl("customer", "--server", self.server.address,
                        "C000000000099")
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(
            proc.stderr.strip(),
            "ecifctl: GetCustomer failed: NOT_FOUND: "
            "customer_number: customer 'C000000000099' not found")

    def test_ctl_exposure(self):
        number = self.customer_of("CORE", "1001")
        proc = self.ctl("exposure", "--server", self.server.address, number)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("credit_card", proc.stdout)
        self.assertIn("USD", proc.stdout)

        proc = self.ctl("exposure", "--server", self.server.address, "--json",
                        "--name", "Li Wei", "--id-number",
                        "110101199003071234", "--dob", "1990-03-07")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        reply = json.loads(proc.stdout)
        self.assertEqual(reply["customer_number"], number)
        self.assertEqual(reply["resolved"]["verdict"], "MATCH")
        got = {(t["product"], t["currency"]): (Decimal(t["credit_limit"]),
                                               Decimal(t["balance"]),
                                               t["account_count"])
               for t in reply["totals"]}
        self.assertEqual(got, sum_accounts({("CORE", "1001"),
                                            ("CARD", "C-77")}))

    def test_ctl_health(self):
        proc = self.ctl("health", "--server", self.server.address)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.strip(), "SERVING")

    def test_ctl_help(self):
        for command in ("resolve", "customer", "exposure", "health"):
            proc = self.ctl(command, "--help")
            self.assertEqual(proc.returncode, 0, command)
            self.assertIn(f"usage: ecifctl {command}", proc.stdout)

    def test_ctl_unreachable_server(self):
        proc = self.ctl("health", "--server", "127.0.0.1:1",
                        "--deadline-ms", "500")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("ecifctl: Check failed:", proc.stderr)

    def test_second_server_on_same_port(self):
        # A journal of its own, because the running server's journal is
        # locked and would stop the start before the listen.
        proc = subprocess.run(
            [harness.ECIFD, "--snapshot", self.snapshot, "--journal",
             self.snapshot + ".second.journal", "--listen",
             self.server.address],
            capture_output=True, text=True, timeout=20)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(f"cannot listen on '{self.server.address}'",
                      proc.stderr)

    # ---- logging --------------------------------------------------------

    def test_log_has_no_personal_data(self):
        self.resolve(name="Li Wei", id_number="110101199003071234",
                     phones=["13975318642"], dob="1990-03-07")
        self.assert_code(lambda: self.resolve(name="Li Wei",
                                              dob="March 1990"),
                         grpc.StatusCode.INVALID_ARGUMENT)
        log = self.server.read_log()
        self.assertIn("loaded snapshot", log)
        self.assertIn("listening on 127.0.0.1:", log)
        for value in PERSONAL_VALUES:
            self.assertNotIn(value, log)


class MappedRpcTest(RpcTest):
    """Every RpcTest case against an ecifd that maps its snapshot."""

    SERVER_ARGS = ("--load", "map")

    def test_log_says_mapped(self):
        self.assertRegex(self.server.read_log(),
                         r"loaded snapshot '[^']*': .*, mapped")


class ExposureDoubtTest(harness.ServerTestCase):
    """GetExposure by record when no single customer is certain.

    Two people share a name and a date of birth but hold different valid
    resident IDs, so import keeps them apart, and a query with the name
    and the date alone matches both equally well.
    """

    RECORDS = [
        {"source_system": "CORE", "source_id": "7001", "name": "Chen Jing",
         "id_type": "RESIDENT_ID", "id_number": "110101198807150025",
         "dob": "1988-07-15", "gender": "F"},
        {"source_system": "LOANS", "source_id": "7002", "name": "Chen Jing",
         "id_type": "RESIDENT_ID", "id_number": "310104198807150044",
         "dob": "1988-07-15", "gender": "F"},
    ]

    def exposure_error(self, stub, fields):
        with self.assertRaises(grpc.RpcError) as ctx:
            stub.GetExposure(self.pb.GetExposureRequest(
                record=self.record(fields)), timeout=10)
        return ctx.exception.code(), ctx.exception.details()

    def test_ambiguous_match_is_not_not_found(self):
        server, stub = self.start()
        code, details = self.exposure_error(
            stub, {"name": "Chen Jing", "dob": "1988-07-15", "gender": "F"})
        self.assertEqual(code, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertRegex(details, r"^the record matches customers "
                                  r"C\d{12} and C\d{12} equally well "
                                  r"\(ambiguous_match\)")
        self.stop(server)

    def test_possible_match_is_not_not_found(self):
        server, stub = self.start()
        reply = stub.GetExposure(self.pb.GetExposureRequest(
            record=self.record(dict(self.RECORDS[0], source_id=""))),
            timeout=10)
        self.assertEqual(reply.resolved.verdict, self.pb.MATCH)
        code, details = self.exposure_error(stub, {"name": "Chen Jing"})
        self.assertEqual(code, grpc.StatusCode.FAILED_PRECONDITION, details)
        self.assertRegex(details, r"^the record matches customer C\d{12} "
                                  r"only at POSSIBLE_MATCH \(score ")
        self.stop(server)


class SnapshotFailureTest(unittest.TestCase):
    """ecifd must exit 1 with a message, never crash, on a bad snapshot."""

    @classmethod
    def setUpClass(cls):
        harness.require_programs()
        cls.work = harness.make_work_dir()
        cls.snapshot = harness.import_snapshot(cls.work.name, RECORDS,
                                               ACCOUNTS)

    @classmethod
    def tearDownClass(cls):
        cls.work.cleanup()

    def run_ecifd(self, snapshot, *options):
        return subprocess.run(
            [harness.ECIFD, "--snapshot", snapshot, "--listen",
             "127.0.0.1:0"] + list(options),
            capture_output=True, text=True, timeout=20)

    def assert_clean_failure(self, proc, snapshot):
        # A negative code means a signal (a crash), not an orderly exit.
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("cannot load snapshot", proc.stderr)
        self.assertIn(snapshot, proc.stderr)
        self.assertEqual(proc.stdout, "")

    def test_missing_snapshot(self):
        path = os.path.join(self.work.name, "missing.snap")
        self.assert_clean_failure(self.run_ecifd(path), path)

    def test_truncated_snapshot(self):
        size = os.path.getsize(self.snapshot)
        for keep in (0, 7, size // 2, size - 1):
            path = os.path.join(self.work.name, f"truncated-{keep}.snap")
            with open(self.snapshot, "rb") as src, open(path, "wb") as dst:
                dst.write(src.read(keep))
            with self.subTest(keep=keep):
                self.assert_clean_failure(self.run_ecifd(path), path)

    def test_corrupt_snapshot(self):
        # Offsets in the header, the section table and the string pool:
        # bytes that a checksum covers (section padding is not covered).
        for offset in (20, 100, 400):
            path = os.path.join(self.work.name, f"corrupt-{offset}.snap")
            shutil.copyfile(self.snapshot, path)
            with open(path, "r+b") as f:
                f.seek(offset)
                byte = f.read(1)
                f.seek(offset)
                f.write(bytes([byte[0] ^ 0xFF]))
            with self.subTest(offset=offset):
                self.assert_clean_failure(self.run_ecifd(path), path)

    def test_bad_listen_address(self):
        # ecifd rejects a malformed address or port as a usage error (exit
        # 2) before the snapshot loads. A well-formed address that gRPC
        # cannot bind (a port this test holds) is a runtime failure (exit
        # 1).
        holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(holder.close)
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        taken = f"127.0.0.1:{holder.getsockname()[1]}"
        cases = [
            ("not an address", 2, "invalid --listen 'not an address'"),
            ("127.0.0.1:99999", 2, "invalid port '99999'"),
            ("127.0.0.1:-1", 2, "invalid port '-1'"),
            (taken, 1, "cannot listen on"),
        ]
        for listen, code, message in cases:
            with self.subTest(listen=listen):
                proc = subprocess.run(
                    [harness.ECIFD, "--snapshot", self.snapshot, "--listen",
                     listen],
                    capture_output=True, text=True, timeout=60)
                self.assertEqual(proc.returncode, code, proc.stderr)
                self.assertIn(message, proc.stderr)

    def test_bad_load_mode(self):
        proc = subprocess.run(
            [harness.ECIFD, "--snapshot", self.snapshot, "--listen",
             "127.0.0.1:0", "--load", "mmap"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("invalid --load 'mmap': expected copy or map",
                      proc.stderr)

    def test_map_group_writable_snapshot(self):
        path = os.path.join(self.work.name, "shared.snap")
        shutil.copyfile(self.snapshot, path)
        os.chmod(path, 0o664)
        proc = self.run_ecifd(path, "--load", "map")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("writable by group or others (mode 0664)", proc.stderr)
        self.assertIn(f"chmod 600 '{path}'", proc.stderr)


if __name__ == "__main__":
    unittest.main()
