"""Concurrent clients: every worker thread of ecifd serves at once.

Several client threads, each with its own channel, send a bounded mix of
Resolve, GetExposure, GetCustomer and Health calls. Every answer must equal
the answer to the same request sent alone before the load, so a race in
the server shows up as a wrong answer here and as a report under
ThreadSanitizer.
"""

import os
import sys
import threading
import unittest

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

THREADS = 8
CALLS_PER_THREAD = 150

PEOPLE = [
    {"source_system": "CORE", "source_id": f"P{i}", "name": name,
     "id_type": "RESIDENT_ID", "id_number": f"ID{i:06d}{i * 37 % 1000:03d}",
     "phone": f"1390000{i:04d}", "dob": f"19{60 + i % 40}-0{1 + i % 9}-1{i % 10}"}
    for i, name in enumerate([
        "Zhang Wei", "Li Na", "Wang Fang", "Liu Yang", "Chen Jing",
        "Anna Berg", "Omar Haddad", "Sofia Rossi", "Jonas Meyer",
        "Maria Lopez", "Kenji Sato", "Amara Okafor",
    ])
]
ACCOUNTS = [
    {"source_system": "CORE", "source_id": p["source_id"],
     "account_id": f"L{n}", "product": "loan",
     "credit_limit": f"{(n + 1) * 1000}", "balance": f"{n * 10}.5",
     "currency": "CNY", "branch": "Main"}
    for n, p in enumerate(PEOPLE)
]


class ConcurrencyTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        harness.require_programs()
        cls.work = harness.make_work_dir()
        cls.pb, cls.pb_grpc, cls.health_pb2 = harness.generate_stubs(
            os.path.join(cls.work.name, "stubs"))
        snapshot = harness.import_snapshot(cls.work.name, PEOPLE, ACCOUNTS)
        cls.server = harness.Ecifd(snapshot, cls.work.name,
                                   ["--threads", "4"])
        cls.server.wait_serving(cls.health_pb2)

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        log = cls.server.read_log()
        cls.work.cleanup()
        if rc != 0:
            raise AssertionError(f"ecifd exited with {rc}; log:\n{log}")

    def requests(self, stub):
        """One callable per request kind, each returning comparable bytes."""
        pb = self.pb
        calls = []
        for p in PEOPLE:
            record = pb.Record(name=p["name"], id_number=p["id_number"],
                               dob=p["dob"])
            calls.append(lambda r=record: stub.Resolve(
                pb.ResolveRequest(record=r), timeout=10).SerializeToString())
            calls.append(lambda r=record: stub.GetExposure(
                pb.GetExposureRequest(record=r),
                timeout=10).SerializeToString())
        calls.append(lambda: stub.GetCustomer(
            pb.GetCustomerRequest(customer_number="C000000000001"),
            timeout=10).SerializeToString())
        return calls

    def test_answers_equal_under_load(self):
        stub = self.pb_grpc.CustomerIndexStub(self.server.channel)
        expected = [call() for call in self.requests(stub)]
        failures = []
        lock = threading.Lock()

        def worker(seed):
            channel = grpc.insecure_channel(self.server.address)
            own = self.pb_grpc.CustomerIndexStub(channel)
            calls = self.requests(own)
            try:
                for n in range(CALLS_PER_THREAD):
                    i = (seed * 7 + n) % len(calls)
                    got = calls[i]()
                    if got != expected[i]:
                        with lock:
                            failures.append((seed, n, i))
            except grpc.RpcError as e:
                with lock:
                    failures.append((seed, "rpc error", e.code()))
            finally:
                channel.close()

        threads = [threading.Thread(target=worker, args=(t,))
                   for t in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(failures, [])


if __name__ == "__main__":
    unittest.main()
