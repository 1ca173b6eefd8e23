"""Integration tests of ecifd's metrics endpoint (rpc/METRICS.md).

Starts ecifd with --metrics-listen on loopback, makes gRPC calls with
Python's grpcio, and reads GET /metrics with http.client.
"""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

WANG = {
    "source_system": "CORE", "source_id": "1", "name": "Wang Fang",
    "id_type": "PASSPORT", "id_number": "E55501234",
    "phone": "+86 139 5550 1234", "dob": "1983-04-05", "gender": "F",
}
ORTEGA = {
    "source_system": "CORE", "source_id": "2", "name": "Lucia Ortega",
    "id_type": "PASSPORT", "id_number": "X77001122",
    "phone": "+34 612 555 010", "dob": "1990-12-24", "gender": "F",
}
NEWCOMER = {
    "source_system": "CLINIC", "source_id": "P-1", "name": "Chinedu Okafor",
    "dob": "1971-06-30", "gender": "M",
}

SAMPLE = re.compile(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$')


def parse(text):
    """Return {(name, frozenset of label pairs): value} of the samples."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


class MetricsTest(harness.ServerTestCase):
    RECORDS = [WANG, ORTEGA]

    def start_with_metrics(self, extra=()):
        server, stub = self.start(
            extra_args=["--metrics-listen", "127.0.0.1:0"] + list(extra))
        match = re.search(r"serving metrics on http://127\.0\.0\.1:(\d+)/",
                          server.read_log())
        self.assertIsNotNone(match, server.read_log())
        return server, stub, int(match.group(1))

    def get(self, port, path="/metrics", method="GET"):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request(method, path)
            reply = conn.getresponse()
            return reply.status, reply.getheader("Content-Type"), \
                reply.read().decode()
        finally:
            conn.close()

    def scrape(self, port):
        status, ctype, body = self.get(port)
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
        return body, parse(body)

    def test_calls_counted_by_method_and_code(self):
        server, stub, port = self.start_with_metrics()
        self.resolve(stub, WANG)
        self.resolve(stub, ORTEGA)
        with self.assertRaises(grpc.RpcError) as caught:
            self.customer(stub, "C999999999999")
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)
        with self.assertRaises(grpc.RpcError):
            harness.raw_method(server.channel, "/ecif.v1.CustomerIndex/Nope")(
                b"", timeout=10)

        body, samples = self.scrape(port)
        self.assertEqual(value(samples, "ecif_calls_total",
                               method="Resolve", code="OK"), 2)
        self.assertEqual(value(samples, "ecif_calls_total",
                               method="GetCustomer", code="NOT_FOUND"), 1)
        self.assertEqual(value(samples, "ecif_calls_total",
                               method="unknown", code="UNIMPLEMENTED"), 1)
        # The harness waited for SERVING with Health/Check.
        self.assertGreaterEqual(value(samples, "ecif_calls_total",
                                      method="Health/Check", code="OK"), 1)
        self.assertEqual(value(samples, "ecif_records"), 2)
        self.assertEqual(value(samples, "ecif_customers"), 2)
        self.assertEqual(value(samples, "ecif_added_records"), 0)
        start = value(samples, "ecif_start_time_seconds")
        self.assertLessEqual(abs(start - time.time()), 120)
        for word in ("Wang", "Ortega", "E55501234", "C999999999999"):
            self.assertNotIn(word, body)
        self.stop(server)

    def test_histogram_is_cumulative(self):
        server, stub, port = self.start_with_metrics()
        for _ in range(5):
            self.resolve(stub, WANG)
        _, samples = self.scrape(port)
        buckets = sorted(
            (float("inf") if dict(labels)["le"] == "+Inf"
             else float(dict(labels)["le"]), count)
            for (name, labels), count in samples.items()
            if name == "ecif_call_duration_seconds_bucket"
            and dict(labels)["method"] == "Resolve")
        self.assertEqual(len(buckets), 11)
        counts = [count for _, count in buckets]
        self.assertEqual(counts, sorted(counts))
        self.assertEqual(counts[-1], 5)
        self.assertEqual(value(samples, "ecif_call_duration_seconds_count",
                               method="Resolve"), 5)
        total = value(samples, "ecif_call_duration_seconds_sum",
                      method="Resolve")
        self.assertGreater(total, 0)
        self.assertLess(total, 5)
        self.stop(server)

    def test_adds_move_store_gauges(self):
        server, stub, port = self.start_with_metrics()
        stub.AddRecord(self.pb.AddRecordRequest(
            record=self.record(NEWCOMER), actor="test"), timeout=10)
        _, samples = self.scrape(port)
        self.assertEqual(value(samples, "ecif_records"), 3)
        self.assertEqual(value(samples, "ecif_customers"), 3)
        self.assertEqual(value(samples, "ecif_added_records"), 1)
        self.assertEqual(value(samples, "ecif_calls_total",
                               method="AddRecord", code="OK"), 1)
        self.stop(server)

    def test_other_requests_rejected(self):
        server, _, port = self.start_with_metrics()
        self.assertEqual(self.get(port, "/")[0], 404)
        self.assertEqual(self.get(port, "/metricsx")[0], 404)
        self.assertEqual(self.get(port, "/metrics?x=1")[0], 200)
        self.assertEqual(self.get(port, method="POST")[0], 405)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GARBAGE\r\n\r\n")
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 400"))
        self.stop(server)

    def test_slow_clients_do_not_delay_scrapes(self):
        server, _, port = self.start_with_metrics()
        silent = [socket.create_connection(("127.0.0.1", port), timeout=10)
                  for _ in range(10)]
        trickle = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            trickle.sendall(b"G")
            started = time.monotonic()
            status, _, _ = self.get(port)
            self.assertEqual(status, 200)
            # Each connection has its own deadline: none waits for them.
            self.assertLess(time.monotonic() - started, 1.5)
            trickle.sendall(b"E")
            # The request line must be whole within 2 s of connecting.
            reply = silent[0].recv(100)
            self.assertTrue(reply.startswith(b"HTTP/1.1 400"), reply)
            self.assertLess(time.monotonic() - started, 5)
        finally:
            for s in silent + [trickle]:
                s.close()
        self.stop(server)

    def test_reloads_counted(self):
        access = os.path.join(self.dir, "access")
        with open(access, "w", encoding="ascii") as f:
            f.write("# nobody yet\n")
        os.chmod(access, 0o600)
        server, _, port = self.start_with_metrics(["--access", access])
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while "reloaded the access file" not in server.read_log():
            self.assertLess(time.monotonic(), deadline, server.read_log())
            time.sleep(0.05)
        _, samples = self.scrape(port)
        self.assertEqual(value(samples, "ecif_reloads_total",
                               what="access", result="ok"), 1)
        self.assertEqual(value(samples, "ecif_reloads_total",
                               what="tls", result="ok"), 0)
        self.stop(server)


class MetricsStartTest(harness.ServerTestCase):
    RECORDS = [WANG]

    def run_ecifd(self, *args):
        return subprocess.run(
            [harness.ECIFD, "--snapshot", self.snapshot, "--listen",
             "127.0.0.1:0"] + list(args),
            capture_output=True, text=True, timeout=60)

    def test_open_metrics_address_needs_access(self):
        proc = self.run_ecifd("--metrics-listen", "0.0.0.0:0")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--metrics-listen '0.0.0.0:0' is not a loopback "
                      "address", proc.stderr)

    def test_invalid_metrics_address_rejected(self):
        proc = self.run_ecifd("--metrics-listen", "nocolon")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("invalid --metrics-listen 'nocolon'", proc.stderr)

    def test_port_in_use_stops_start(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            proc = self.run_ecifd("--metrics-listen", f"127.0.0.1:{port}")
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"cannot listen on --metrics-listen '127.0.0.1:{port}'",
                      proc.stderr)


if __name__ == "__main__":
    unittest.main()
