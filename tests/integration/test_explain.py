"""Explain and the golden record over real gRPC.

The evidence of a Febrl pair and of Chinese records adds up to the score.
Customers are compared pair by pair with their hard conflicts, and errors
name the field. GetCustomer gives the source and rule of every
consolidated value."""

import json
import os
import shutil
import subprocess
import sys
import unittest

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

FEBRL_DIR = os.path.join(harness.SOURCE_DIR, "bench", "data", "febrl4")
FEBRL_MAP = os.path.join(harness.SOURCE_DIR, "tools", "mappings", "febrl.map")


def resident_id(first17):
    """Append the GB 11643 check character (ISO 7064 MOD 11-2)."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights))
    return first17 + "10X98765432"[total % 11]


# Two people named 张伟 born the same day, with different valid IDs.
ID_A = resident_id("11010119900307123")
ID_B = resident_id("11010119900307125")

CHINESE = [
    # One customer over three systems. Only CORE/1's ID verifies against
    # its dob: CARD/1 has no dob, WEB/1 neither ID nor dob (with a dob it
    # would also match LOAN/9 and chain the two customers).
    {"source_system": "CORE", "source_id": "1", "name": "张伟",
     "id_type": "RESIDENT_ID", "id_number": ID_A, "phone": "13975318642",
     "dob": "1990-03-07", "gender": "M"},
    {"source_system": "CARD", "source_id": "1", "name": "張偉",
     "id_type": "RESIDENT_ID", "id_number": ID_A,
     "phone": "+86 139 7531 8642", "gender": "F"},
    {"source_system": "WEB", "source_id": "1", "name": "张伟",
     "phone": "13975318642", "email": "zhangwei@example.com"},
    # Another 张伟: same name and dob, another verified ID and phone.
    {"source_system": "LOAN", "source_id": "9", "name": "张伟",
     "id_type": "RESIDENT_ID", "id_number": ID_B, "phone": "13612345678",
     "dob": "1990-03-07", "gender": "M"},
]

# A customer with more records than Explain compares per side.
BULK_COUNT = 65
BULK = [
    {"source_system": "BULK", "source_id": f"{i:03d}", "name": "Chen Jie",
     "id_type": "PASSPORT", "id_number": "E55501234", "dob": "1970-01-02"}
    for i in range(BULK_COUNT)
]


def evidence_sum(evidence):
    return sum(e.weight for e in evidence)


def febrl_row(path, rec_id):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith(rec_id + ","):
                return line
    raise AssertionError(f"{rec_id} not found in {path}")


class ExplainTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_programs()
        cls.tmp = harness.make_work_dir()
        work = cls.tmp.name
        cls.pb2, cls.pb2_grpc, cls.health_pb2 = harness.generate_stubs(
            os.path.join(work, "stubs"))

        cls.snapshot = harness.import_snapshot(work, CHINESE + BULK, [])
        cls.server = harness.Ecifd(
            cls.snapshot, work, ["--source-trust", "WEB,CARD,CORE"])
        cls.server.wait_serving(cls.health_pb2)
        cls.stub = cls.pb2_grpc.CustomerIndexStub(cls.server.channel)

        cls.febrl_snapshot = cls.import_febrl(work)
        cls.febrl_server = harness.Ecifd(cls.febrl_snapshot, work)
        cls.febrl_server.wait_serving(cls.health_pb2)
        cls.febrl_stub = cls.pb2_grpc.CustomerIndexStub(
            cls.febrl_server.channel)

    @classmethod
    def tearDownClass(cls):
        for server in (getattr(cls, "server", None),
                       getattr(cls, "febrl_server", None)):
            if server is not None:
                server.stop()
        cls.tmp.cleanup()

    @classmethod
    def import_febrl(cls, work):
        """Import rec-1070-org and rec-1070-dup-0 through febrl.map."""
        path_a = os.path.join(FEBRL_DIR, "dataset4a.csv")
        path_b = os.path.join(FEBRL_DIR, "dataset4b.csv")
        with open(path_a, encoding="utf-8") as f:
            header = f.readline()
        files = []
        for name, path, rec_id in (("4a.csv", path_a, "rec-1070-org"),
                                   ("4b.csv", path_b, "rec-1070-dup-0")):
            out = os.path.join(work, name)
            with open(out, "w", encoding="utf-8") as f:
                f.write(header)
                f.write(febrl_row(path, rec_id))
            files.append(out)
        snapshot = os.path.join(work, "febrl.snap")
        proc = subprocess.run(
            [harness.ECIFCTL, "import", "-q", "--output", snapshot,
             "--mapping", FEBRL_MAP] + files,
            capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"febrl import failed: {proc.stderr}")
        return snapshot

    def customer_of(self, id_number):
        reply = self.stub.Resolve(self.pb2.ResolveRequest(
            record=self.pb2.Record(id_number=id_number)), timeout=10)
        self.assertTrue(reply.candidates, f"no candidate for {id_number}")
        return reply.candidates[0].customer_number

    def ref(self, system, source_id):
        return self.pb2.RecordRef(source_system=system, source_id=source_id)

    def assert_summary_follows_evidence(self, reply):
        verdict = self.pb2.Verdict.Name(reply.verdict)
        self.assertTrue(reply.summary.startswith(verdict + ": "),
                        reply.summary)
        listed = [e for e in reply.evidence if e.weight != 0.0]
        positive = sorted((e for e in listed if e.weight > 0),
                          key=lambda e: -abs(e.weight))
        negative = sorted((e for e in listed if e.weight < 0),
                          key=lambda e: -abs(e.weight))
        parts = [f"{e.field} {e.level} ({e.weight:+.1f})"
                 for e in positive]
        text = ", ".join(parts)
        if negative:
            neg = ", ".join(f"{e.field} {e.level} ({e.weight:+.1f})"
                            for e in negative)
            text = f"{text}; {neg}" if text else neg
        self.assertEqual(reply.summary, f"{verdict}: {text}")

    # ---- Explain ---------------------------------------------------------

    def test_febrl_pair_weights_sum_to_score(self):
        reply = self.febrl_stub.Explain(self.pb2.ExplainRequest(
            left_stored_record=self.ref("febrl", "rec-1070-org"),
            right_stored_record=self.ref("febrl", "rec-1070-dup-0")),
            timeout=10)
        self.assertEqual(len(reply.evidence), 7)
        self.assertAlmostEqual(evidence_sum(reply.evidence), reply.score,
                               delta=1e-9)
        self.assertNotEqual(reply.score, 0.0)
        by_field = {e.field: e for e in reply.evidence}
        self.assertEqual(by_field["id_number"].level, "exact")
        self.assertEqual(by_field["dob"].level, "exact")
        self.assertEqual(reply.left.source_id, "rec-1070-org")
        self.assertEqual(reply.right.source_id, "rec-1070-dup-0")
        self.assertEqual(reply.pairs_compared, 1)
        self.assertTrue(reply.left_customer_number.startswith("C"))
        self.assert_summary_follows_evidence(reply)

    def test_record_scores_as_resolve_does(self):
        # 张伟 is on four stored records, so Resolve adds the name
        # frequency weight for four. Explain of the same query against the
        # best record must show that score and breakdown.
        query = self.pb2.Record(name="张伟", id_type="RESIDENT_ID",
                                id_number=ID_A, phones=["13975318642"],
                                dob="1990-03-07", gender="M")
        best = self.stub.Resolve(self.pb2.ResolveRequest(record=query),
                                 timeout=10).candidates[0]
        reply = self.stub.Explain(self.pb2.ExplainRequest(
            left_record=query,
            right_stored_record=best.matched_records[0]), timeout=10)
        self.assertAlmostEqual(reply.score, best.score, delta=1e-9)
        self.assertEqual([(e.field, e.level, e.weight)
                          for e in reply.evidence],
                         [(e.field, e.level, e.weight)
                          for e in best.evidence])
        name = next(e for e in reply.evidence if e.field == "name")
        self.assertEqual(name.level, "exact")
        self.assertNotEqual(name.weight, 7.5)  # the built-in exact weight

    def test_chinese_records_weights_sum_to_score(self):
        left = self.pb2.Record(name="张伟", id_type="RESIDENT_ID",
                               id_number=ID_A, phones=["13975318642"],
                               dob="1990-03-07", gender="F")
        right = self.pb2.Record(name="Zhang Wei", id_number=ID_A,
                                phones=["+86 139 7531 8642"],
                                dob="1990年3月7日", gender="M")
        reply = self.stub.Explain(self.pb2.ExplainRequest(
            left_record=left, right_record=right), timeout=10)
        self.assertAlmostEqual(evidence_sum(reply.evidence), reply.score,
                               delta=1e-9)
        self.assertEqual(reply.verdict, self.pb2.MATCH)
        self.assertEqual((reply.left.source_system, reply.left.source_id),
                         ("query", "left"))
        self.assertEqual((reply.right.source_system, reply.right.source_id),
                         ("query", "right"))
        self.assertEqual(reply.left_customer_number, "")
        self.assert_summary_follows_evidence(reply)
        self.assertIn("; gender mismatch (-2.0)", reply.summary)

    def test_stored_chinese_pair_across_scripts(self):
        reply = self.stub.Explain(self.pb2.ExplainRequest(
            left_stored_record=self.ref("CORE", "1"),
            right_stored_record=self.ref("CARD", "1")), timeout=10)
        self.assertAlmostEqual(evidence_sum(reply.evidence), reply.score,
                               delta=1e-9)
        self.assertEqual(reply.verdict, self.pb2.MATCH)
        self.assertEqual(reply.left_customer_number,
                         reply.right_customer_number)
        self.assert_summary_follows_evidence(reply)

    def test_customers_report_blocking_pairs(self):
        first = self.customer_of(ID_A)
        second = self.customer_of(ID_B)
        self.assertNotEqual(first, second)
        reply = self.stub.Explain(self.pb2.ExplainRequest(
            left_customer_number=first, right_customer_number=second),
            timeout=10)
        self.assertEqual(reply.pairs_compared, 3)
        self.assertEqual(reply.right.source_system, "LOAN")
        # CORE/1 and CARD/1 hold ID_A; WEB/1 has no ID to conflict with.
        self.assertEqual(reply.blocking_pair_count, 2)
        self.assertEqual(len(reply.blocking_pairs), 2)
        blocked = sorted(p.left.source_system for p in reply.blocking_pairs)
        self.assertEqual(blocked, ["CARD", "CORE"])
        for pair in reply.blocking_pairs:
            self.assertEqual(pair.right.source_id, "9")
            self.assertLessEqual(min(e.weight for e in pair.evidence), -20)
            self.assertNotEqual(pair.verdict, self.pb2.MATCH)
            self.assertAlmostEqual(evidence_sum(pair.evidence), pair.score,
                                   delta=1e-9)
        # The best pair is WEB/1 against LOAN/9, which nothing blocks.
        self.assertEqual(reply.left.source_system, "WEB")
        self.assertGreater(min(e.weight for e in reply.evidence), -20)

    def test_record_against_customer(self):
        customer = self.customer_of(ID_A)
        reply = self.stub.Explain(self.pb2.ExplainRequest(
            left_record=self.pb2.Record(name="张伟", id_number=ID_A),
            right_customer_number=customer), timeout=10)
        self.assertEqual(reply.pairs_compared, 3)
        self.assertEqual(reply.left.source_system, "query")
        self.assertIn(reply.right.source_system, ("CORE", "CARD"))
        self.assertEqual(reply.right_customer_number, customer)

    def test_customer_against_itself_skips_same_record(self):
        customer = self.customer_of(ID_A)
        reply = self.stub.Explain(self.pb2.ExplainRequest(
            left_customer_number=customer, right_customer_number=customer),
            timeout=10)
        self.assertEqual(reply.pairs_compared, 6)

    def assert_error(self, request, code, *fragments):
        with self.assertRaises(grpc.RpcError) as ctx:
            self.stub.Explain(request, timeout=10)
        self.assertEqual(ctx.exception.code(), code)
        for fragment in fragments:
            self.assertIn(fragment, ctx.exception.details())

    def test_missing_side_rejected(self):
        self.assert_error(
            self.pb2.ExplainRequest(right_customer_number="C000000000001"),
            grpc.StatusCode.INVALID_ARGUMENT, "left_record", "is required")
        self.assert_error(
            self.pb2.ExplainRequest(left_record=self.pb2.Record(name="x")),
            grpc.StatusCode.INVALID_ARGUMENT, "right_record")

    def test_invalid_record_names_field_path(self):
        self.assert_error(
            self.pb2.ExplainRequest(
                left_record=self.pb2.Record(name="张伟"),
                right_record=self.pb2.Record(name="张伟", dob="03/1990/07")),
            grpc.StatusCode.INVALID_ARGUMENT, "right_record.dob",
            "03/1990/07")

    def test_unknown_customer_and_record_not_found(self):
        self.assert_error(
            self.pb2.ExplainRequest(
                left_customer_number="C999999999999",
                right_record=self.pb2.Record(name="张伟")),
            grpc.StatusCode.NOT_FOUND, "C999999999999")
        self.assert_error(
            self.pb2.ExplainRequest(
                left_record=self.pb2.Record(name="张伟"),
                right_stored_record=self.ref("CORE", "404")),
            grpc.StatusCode.NOT_FOUND, "right_stored_record", "'404'")
        self.assert_error(
            self.pb2.ExplainRequest(
                left_record=self.pb2.Record(name="张伟"),
                right_stored_record=self.ref("CORE", "")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "right_stored_record.source_id is required")

    def test_too_many_records_rejected_with_counts(self):
        bulk = self.customer_of("E55501234")
        self.assert_error(
            self.pb2.ExplainRequest(
                left_record=self.pb2.Record(name="Chen Jie"),
                right_customer_number=bulk),
            grpc.StatusCode.INVALID_ARGUMENT, "right_customer_number",
            f"has {BULK_COUNT} records", "left 1", f"right {BULK_COUNT}")

    def test_same_single_record_rejected(self):
        self.assert_error(
            self.pb2.ExplainRequest(
                left_stored_record=self.ref("CORE", "1"),
                right_stored_record=self.ref("CORE", "1")),
            grpc.StatusCode.INVALID_ARGUMENT, "same single record")

    # ---- GetCustomer survivorship -----------------------------------------

    def golden(self, stub):
        customer = self.customer_of(ID_A)
        reply = stub.GetCustomer(
            self.pb2.GetCustomerRequest(customer_number=customer),
            timeout=10)
        self.assertEqual(len(reply.records), 3)
        return reply, {(v.field, v.value): v
                       for v in reply.consolidated_sources}

    def test_golden_record_carries_sources(self):
        reply, sources = self.golden(self.stub)
        c = reply.consolidated
        # CORE/1's ID verifies, which beats the trust order WEB,CARD,CORE.
        self.assertEqual(c.name, "张伟")
        name = sources[("name", "张伟")]
        self.assertEqual((name.source.source_system, name.rule),
                         ("CORE", "verified_id"))
        # Gender: CARD outranks CORE in the trust order.
        self.assertEqual(c.gender, "F")
        gender = sources[("gender", "F")]
        self.assertEqual((gender.source.source_system, gender.rule),
                         ("CARD", "source_trust"))
        # The ID is the same in CORE/1 and CARD/1; CARD is more trusted.
        self.assertEqual(c.id_number, ID_A)
        id_number = sources[("id_number", ID_A)]
        self.assertEqual((id_number.source.source_system, id_number.rule),
                         ("CARD", "unanimous"))
        # Two spellings of one phone are one value, written as the most
        # trusted record wrote it, with the other two records behind it.
        self.assertEqual(list(c.phones), ["13975318642"])
        phone = sources[("phones", "13975318642")]
        self.assertEqual(phone.rule, "union")
        self.assertEqual(phone.source.source_system, "WEB")
        self.assertEqual([r.source_system for r in phone.other_sources],
                         ["CARD", "CORE"])
        self.assertEqual(list(c.emails), ["zhangwei@example.com"])
        # Every consolidated value has its source entry.
        for field in ("name", "id_type", "id_number", "dob", "gender"):
            value = getattr(c, field)
            self.assertIn((field, value), sources, field)
        for field in ("phones", "emails"):
            for value in getattr(c, field):
                self.assertIn((field, value), sources, field)
        self.assertNotIn("addresses", {v.field for v in sources.values()})

    def test_golden_record_without_trust_order(self):
        work = self.tmp.name
        # The class's server holds the lock of the default journal.
        server = harness.Ecifd(
            self.snapshot, work,
            ["--journal", self.snapshot + ".untrusted.journal"])
        try:
            server.wait_serving(self.health_pb2)
            stub = self.pb2_grpc.CustomerIndexStub(server.channel)
            reply, sources = self.golden(stub)
            # F and M once each: the first record in store order, CARD/1.
            gender = sources[("gender", reply.consolidated.gender)]
            self.assertEqual((gender.source.source_system, gender.rule),
                             ("CARD", "first"))
            self.assertEqual(sources[("name", "张伟")].rule, "verified_id")
        finally:
            self.assertEqual(server.stop(), 0)

    # ---- ecifctl explain --------------------------------------------------

    def ecifctl(self, *args):
        return subprocess.run(
            [harness.ECIFCTL, "explain", "--server",
             self.febrl_server.address] + list(args),
            capture_output=True, text=True, timeout=60)

    def test_ecifctl_explain_table_and_json(self):
        sides = ["--left-source-system", "febrl", "--left-source-id",
                 "rec-1070-org", "--right-source-system", "febrl",
                 "--right-source-id", "rec-1070-dup-0"]
        proc = self.ecifctl(*sides)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("FIELD", proc.stdout)
        self.assertIn("id_number", proc.stdout)
        self.assertIn("febrl/rec-1070-dup-0", proc.stdout)

        proc = self.ecifctl("--json", *sides)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        reply = json.loads(proc.stdout)
        total = sum(e["weight"] for e in reply["evidence"])
        self.assertAlmostEqual(total, reply["score"], delta=1e-9)
        self.assertIn(reply["summary"], proc.stdout)

        proc = self.ecifctl("--left-name", "michaela neumann",
                            "--left-dob", "19151111",
                            "--right-source-system", "febrl",
                            "--right-source-id", "rec-1070-org")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("query/left", proc.stdout)

    def test_ecifctl_explain_usage_errors(self):
        proc = self.ecifctl("--left-customer", "C000000000001",
                            "--left-name", "x",
                            "--right-customer", "C000000000001")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("exactly one of --left-customer", proc.stderr)
        proc = self.ecifctl("--left-customer", "C999999999999",
                            "--right-name", "x")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("NOT_FOUND", proc.stderr)


if __name__ == "__main__":
    unittest.main()
