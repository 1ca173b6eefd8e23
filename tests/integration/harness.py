"""Shared fixtures of the integration tests: stubs, snapshots and ecifd.

The tests run with Debian's /usr/bin/python3 (python3-grpcio and
python3-protobuf). ctest passes the paths of the built programs in the
environment: ECIFD, ECIFCTL, ECIF_SOURCE_DIR and ECIF_BUILD_DIR.

Python stubs are generated from the repository's .proto files into a
temporary directory with protoc and grpc_python_plugin, so the tests always
speak the proto that ecifd was built from.
"""

import csv
import importlib.util
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import grpc

ECIFD = os.environ.get("ECIFD", "")
ECIFCTL = os.environ.get("ECIFCTL", "")
SOURCE_DIR = os.environ.get(
    "ECIF_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
)
PROTO_DIR = os.path.join(SOURCE_DIR, "rpc")

RECORD_COLUMNS = [
    "source_system", "source_id", "name", "given_name", "family_name",
    "id_type", "id_number", "phone", "email", "address", "dob", "gender",
    "updated_at",
]
ACCOUNT_COLUMNS = [
    "source_system", "source_id", "account_id", "product", "credit_limit",
    "balance", "currency", "branch",
]

# Seconds to wait for ecifd to print its serving line and to stop.
START_TIMEOUT = 30
STOP_TIMEOUT = 30


def require_programs():
    """Exit with a clear message when ctest did not pass the programs."""
    for name, path in (("ECIFD", ECIFD), ("ECIFCTL", ECIFCTL)):
        if not path or not os.access(path, os.X_OK):
            sys.exit(f"{name} must name the built program (got {path!r}); "
                     "run the tests through ctest")


def generate_stubs(out_dir):
    """Generate the Python stubs of both protos and import them.

    Returns (customer_index_pb2, customer_index_pb2_grpc, health_pb2).
    health_pb2 is loaded from its file, because the package name grpc of
    the health proto is taken by grpcio itself.
    """
    protos = ["ecif/v1/customer_index.proto", "grpc/health/v1/health.proto"]
    os.makedirs(out_dir, exist_ok=True)
    cmd = [
        "protoc", f"--python_out={out_dir}", f"--grpc_out={out_dir}",
        "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
        "-I", PROTO_DIR,
    ] + [os.path.join(PROTO_DIR, p) for p in protos]
    subprocess.run(cmd, check=True)

    sys.path.insert(0, out_dir)
    from ecif.v1 import customer_index_pb2, customer_index_pb2_grpc

    path = os.path.join(out_dir, "grpc", "health", "v1", "health_pb2.py")
    spec = importlib.util.spec_from_file_location("ecif_test_health_pb2",
                                                  path)
    health_pb2 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(health_pb2)
    return customer_index_pb2, customer_index_pb2_grpc, health_pb2


def write_csv(path, columns, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})


def run_import(folder, output, records, accounts=None, options=()):
    """Run `ecifctl import OPTIONS --output OUTPUT` on fixture CSVs.

    Write records.csv, and accounts.csv unless accounts is None, into folder.
    Return the finished process.
    """
    os.makedirs(folder, exist_ok=True)
    records_csv = os.path.join(folder, "records.csv")
    write_csv(records_csv, RECORD_COLUMNS, records)
    args = [ECIFCTL, "import"] + list(options) + ["--output", output]
    if accounts is not None:
        accounts_csv = os.path.join(folder, "accounts.csv")
        write_csv(accounts_csv, ACCOUNT_COLUMNS, accounts)
        args += ["--accounts", accounts_csv]
    return subprocess.run(args + [records_csv], capture_output=True,
                          text=True, timeout=120)


def import_snapshot(work_dir, records, accounts):
    """Write fixture CSVs, run `ecifctl import`, return the snapshot path."""
    snapshot = os.path.join(work_dir, "customers.snap")
    proc = run_import(work_dir, snapshot, records, accounts)
    if proc.returncode != 0:
        raise RuntimeError(
            f"ecifctl import failed with {proc.returncode}: {proc.stderr}")
    return snapshot


class Ecifd:
    """One ecifd process on an ephemeral loopback port.

    The log (stderr) goes to a file so tests can read it after the stop.
    """

    def __init__(self, snapshot, work_dir, extra_args=(), credentials=None,
                 channel_options=()):
        self.log_path = os.path.join(work_dir, f"ecifd-{time.time_ns()}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [ECIFD, "--snapshot", snapshot, "--listen", "127.0.0.1:0"]
            + list(extra_args),
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.address = self._read_address()
        if credentials is None:
            self.channel = grpc.insecure_channel(self.address)
        else:
            self.channel = grpc.secure_channel(self.address, credentials,
                                               channel_options)

    def _read_address(self):
        line = self.proc.stdout.readline()
        match = re.fullmatch(r"ecifd: serving on (127\.0\.0\.1:\d+)\n", line)
        if match is None:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(
                f"ecifd did not print its serving line (got {line!r}); "
                f"log:\n{self.read_log()}")
        return match.group(1)

    def wait_serving(self, health_pb2):
        """Poll Health/Check until SERVING, for at most START_TIMEOUT s."""
        check = health_check_method(self.channel, health_pb2)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                reply = check(health_pb2.HealthCheckRequest(), timeout=2)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)

    def stop(self):
        """Send SIGTERM and return the exit code."""
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        self.proc.stdout.close()
        self.log.close()
        return rc

    def read_log(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()


def health_check_method(channel, health_pb2):
    return channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString)


def raw_method(channel, path):
    """A unary method that sends and returns bytes as they are."""
    return channel.unary_unary(path, request_serializer=None,
                               response_deserializer=None)


def make_work_dir():
    return tempfile.TemporaryDirectory(prefix="ecif-it-")


class StubsTestCase(unittest.TestCase):
    """Test case that generates the gRPC stubs once per class.

    The stub modules are set as pb, pb_grpc and health_pb2 on the class.
    They live in a work directory that tearDownClass removes.
    """

    @classmethod
    def setUpClass(cls):
        require_programs()
        cls.work = make_work_dir()
        cls.pb, cls.pb_grpc, cls.health_pb2 = generate_stubs(
            os.path.join(cls.work.name, "stubs"))

    @classmethod
    def tearDownClass(cls):
        cls.work.cleanup()


class ServerTestCase(StubsTestCase):
    """Test case that gives each test a directory and its own snapshot.

    setUp imports the snapshot from the class's RECORDS and ACCOUNTS.
    start() runs ecifd on request, and tearDown stops every server that the
    test left running.
    """

    RECORDS = ()
    ACCOUNTS = ()

    def setUp(self):
        self.dir = os.path.join(self.work.name, self.id().rsplit(".", 1)[-1])
        os.makedirs(self.dir)
        self.snapshot = import_snapshot(self.dir, self.RECORDS,
                                        self.ACCOUNTS)
        self.journal = self.snapshot + ".journal"
        self.servers = []

    def tearDown(self):
        for server in self.servers:
            if server.proc.poll() is None:
                server.stop()

    def subdir(self, name):
        path = os.path.join(self.dir, name)
        os.makedirs(path)
        return path

    def start(self, snapshot=None, extra_args=(), credentials=None,
              channel_options=()):
        """Start ecifd on snapshot (default: the test's own) with
        extra_args, wait until it serves, and return (server, CustomerIndex
        stub). The stub's channel uses credentials (grpc channel
        credentials) and channel_options when given, else plain HTTP/2."""
        server = Ecifd(snapshot or self.snapshot, self.dir, extra_args,
                       credentials, channel_options)
        self.servers.append(server)
        server.wait_serving(self.health_pb2)
        return server, self.pb_grpc.CustomerIndexStub(server.channel)

    def stop(self, server):
        """Stop server, check that it exited with 0, and return its log."""
        self.assertEqual(server.stop(), 0, server.read_log())
        return server.read_log()

    def record(self, fields, accounts=()):
        """Build a Record message from a fixture dict and account dicts.

        The fixture's "phone" and "email" keys contain one value each.
        """
        values = {k: v for k, v in fields.items()
                  if k not in ("phone", "email")}
        return self.pb.Record(
            **values,
            phones=[fields["phone"]] if "phone" in fields else [],
            emails=[fields["email"]] if "email" in fields else [],
            accounts=[self.pb.Account(**a) for a in accounts])

    def resolve(self, stub, fields):
        return stub.Resolve(self.pb.ResolveRequest(
            record=self.record(fields)), timeout=10)

    def customer(self, stub, number):
        return stub.GetCustomer(
            self.pb.GetCustomerRequest(customer_number=number), timeout=10)

    def keys(self, reply):
        """Return the sorted source keys of a reply's records."""
        return sorted((r.source_system, r.source_id) for r in reply.records)

    def exposure(self, stub, number):
        """Call GetExposure for a customer number.

        Return the reply and its totals as
        {(product, currency): (balance, account_count)}.
        """
        reply = stub.GetExposure(
            self.pb.GetExposureRequest(customer_number=number), timeout=10)
        return reply, {(t.product, t.currency): (t.balance, t.account_count)
                       for t in reply.totals}

    def totals(self, stub, number):
        return self.exposure(stub, number)[1]

    def expect_error(self, code, call, *words):
        """Assert that call raises an RpcError with code and details that
        contain every word. Return the details."""
        with self.assertRaises(grpc.RpcError) as caught:
            call()
        self.assertEqual(caught.exception.code(), code,
                         caught.exception.details())
        for word in words:
            self.assertIn(word, caught.exception.details())
        return caught.exception.details()
