"""The generated tables in engine/ are exactly what their generators write.

engine/unihan_data.c and .h come from tools/gen_unihan.py and Debian's
unicode-data package; engine/region_data.c and engine/division_data.c come
from tools/gen_regions.py and tools/gen_divisions.py and public code lists.
A hand edit or a formatter run over them would otherwise go unnoticed until
the next regeneration. The region and division lists are read from the
folder named by ECIF_DATA_DIR; without it those two checks are skipped.
"""

import filecmp
import os
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = os.environ.get(
    "ECIF_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
)
DATA_DIR = os.environ.get("ECIF_DATA_DIR", "")
UNIHAN_DIR = "/usr/share/unicode"


def engine_file(name):
    return os.path.join(SOURCE_DIR, "engine", name)


def tool(name):
    return os.path.join(SOURCE_DIR, "tools", name)


class GeneratedTablesTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ecif-gen-")

    def tearDown(self):
        self.tmp.cleanup()

    def run_tool(self, args):
        proc = subprocess.run([sys.executable] + args, capture_output=True,
                              text=True, timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def assert_same(self, generated, committed):
        self.assertTrue(filecmp.cmp(generated, committed, shallow=False),
                        f"{committed} differs from what its generator "
                        f"writes; regenerate it instead of editing it")

    def test_unihan_tables(self):
        if not os.path.exists(os.path.join(UNIHAN_DIR,
                                           "Unihan_Readings.txt.bz2")):
            self.skipTest("Debian's unicode-data package is not installed")
        self.run_tool([tool("gen_unihan.py"), "--out-dir", self.tmp.name])
        for name in ("unihan_data.c", "unihan_data.h"):
            with self.subTest(file=name):
                self.assert_same(os.path.join(self.tmp.name, name),
                                 engine_file(name))

    def test_region_table(self):
        source = os.path.join(DATA_DIR, "cn-gb2260",
                              "gb2260-all-codes-1980-2019.tsv")
        if not DATA_DIR or not os.path.exists(source):
            self.skipTest("ECIF_DATA_DIR does not hold the GB/T 2260 list")
        out = os.path.join(self.tmp.name, "region_data.c")
        self.run_tool([tool("gen_regions.py"), source, out])
        self.assert_same(out, engine_file("region_data.c"))

    def test_division_table(self):
        source = os.path.join(DATA_DIR, "cn-admin-divisions-2023")
        if not DATA_DIR or not os.path.isdir(source):
            self.skipTest("ECIF_DATA_DIR does not hold the 2023 divisions")
        out = os.path.join(self.tmp.name, "division_data.c")
        self.run_tool([tool("gen_divisions.py"), source, out])
        self.assert_same(out, engine_file("division_data.c"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
