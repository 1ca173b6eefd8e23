#!/usr/bin/python3
"""Split generated records into stored records and held-out queries.

Reads the records CSV and the truth CSV (source_system, source_id,
entity_id) that bench/gen_customers writes. Of the people with two or more
records, every k-th in entity order loses its last record to the queries
file, with k chosen to give --queries people. Everything else goes to the
store file. A query's true answer is then another record of its person,
named by the truth file.

usage: bench/split-queries.py RECORDS.csv TRUTH.csv STORE.csv QUERIES.csv
           [--queries N]
"""

import argparse
import collections
import csv
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records")
    parser.add_argument("truth")
    parser.add_argument("store")
    parser.add_argument("queries")
    parser.add_argument("--queries", dest="count", type=int, default=5000,
                        help="people whose last record becomes a query "
                             "(default 5000)")
    args = parser.parse_args()

    by_entity = collections.defaultdict(list)
    with open(args.truth, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            by_entity[row[2]].append((row[0], row[1]))
    several = sorted(e for e, keys in by_entity.items() if len(keys) >= 2)
    if not several:
        sys.exit("split-queries: no person has two records")
    step = max(1, len(several) // args.count)
    held = {by_entity[e][-1] for e in several[::step][:args.count]}

    with open(args.records, newline="", encoding="utf-8") as f, \
            open(args.store, "w", newline="", encoding="utf-8") as store, \
            open(args.queries, "w", newline="", encoding="utf-8") as queries:
        reader = csv.reader(f)
        store_writer = csv.writer(store)
        query_writer = csv.writer(queries)
        header = next(reader)
        store_writer.writerow(header)
        query_writer.writerow(header)
        for row in reader:
            writer = query_writer if (row[0], row[1]) in held else \
                store_writer
            writer.writerow(row)
    print(f"split-queries: {len(held)} queries, people with several "
          f"records: {len(several)}")


if __name__ == "__main__":
    main()
