#!/usr/bin/python3
"""Generate engine/division_data.c from the PRC administrative divisions.

Usage: gen_divisions.py DIVISIONS_DIR [OUTPUT.c]

DIVISIONS_DIR contains provinces.csv, cities.csv, areas.csv and streets.csv
as published by modood/Administrative-divisions-of-China (2023 statistical
codes, WTFPL v2). The output defines the tables declared in
engine/division_data.h: one array per level sorted by code, children of
one parent contiguous in the next level, and one pool of NUL-terminated
names. A short name (北京 for 北京市) is stored as the byte length of the
prefix of the full name; it is 0 when the short form has fewer than two
characters or is shared by two siblings.
"""

import csv
import os
import sys

# Suffixes removed to form a short name, longest first; one is removed.
SUFFIXES = [
    "特别行政区", "街道办事处", "地区办事处", "自治区", "自治州", "自治县",
    "自治旗", "民族乡", "民族苏木", "街道", "苏木", "地区", "林区", "特区",
    "新区", "省", "市", "盟", "区", "县", "旗", "镇", "乡",
]

# The 56 officially recognized ethnic groups, without the trailing 族.
ETHNIC = [
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜",
    "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳",
    "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜",
    "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯",
    "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂",
    "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴",
    "珞巴", "基诺",
]
ETHNIC.sort(key=len, reverse=True)

# Cities that only group the districts of a province-level unit.
GROUPING_CITIES = ("市辖区", "县", "省直辖县级行政区划",
                   "自治区直辖县级行政区划")


def short_name(name):
    """Return the short form of name, or "" when there is none."""
    stem = name
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            break
    if stem == name:
        return ""
    autonomous = "自治" in name[len(stem):] or name.endswith("民族乡")
    changed = True
    while autonomous and changed:
        changed = False
        for group in ETHNIC:
            for tail in (group + "族", group):
                if stem.endswith(tail) and len(stem) - len(tail) >= 2:
                    stem = stem[: -len(tail)]
                    changed = True
                    break
            if changed:
                break
    return stem if len(stem) >= 2 else ""


def read_rows(folder, name):
    path = os.path.join(folder, name)
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"gen_divisions: {path} has no rows")
    return sorted(rows, key=lambda r: int(r["code"]))


class Pool:
    """Names as one byte string; offsets index it."""

    def __init__(self):
        self.names = []
        self.offsets = {}
        self.size = 0

    def add(self, name):
        if name not in self.offsets:
            self.offsets[name] = self.size
            self.names.append(name)
            self.size += len(name.encode("utf-8")) + 1
        return self.offsets[name]


def short_lengths(rows, parent_key):
    """Byte lengths of the short names, 0 where siblings share one."""
    shorts = [short_name(r["name"]) for r in rows]
    seen = {}
    for r, s in zip(rows, shorts):
        if s:
            key = (r[parent_key] if parent_key else "", s)
            seen[key] = seen.get(key, 0) + 1
    lengths = []
    for r, s in zip(rows, shorts):
        key = (r[parent_key] if parent_key else "", s)
        ok = s and seen[key] == 1 and r["name"] not in GROUPING_CITIES
        lengths.append(len(s.encode("utf-8")) if ok else 0)
    return lengths


def child_ranges(parents, children, parent_key):
    """(first, count) of each parent's children, which are contiguous."""
    ranges = {}
    for i, c in enumerate(children):
        first, count = ranges.get(c[parent_key], (i, 0))
        if first + count != i:
            sys.exit(f"gen_divisions: children of {c[parent_key]} "
                     "are not contiguous")
        ranges[c[parent_key]] = (first, count + 1)
    return [ranges.get(p["code"], (0, 0)) for p in parents]


def emit_level(out, ctype, name, rows, pool, shorts, ranges):
    out.append(f"const struct {ctype} {name}[] = {{")
    for i, r in enumerate(rows):
        fields = [r["code"], str(pool.add(r["name"])), str(shorts[i])]
        if ranges is not None:
            fields += [str(ranges[i][0]), str(ranges[i][1])]
        out.append("    {" + ", ".join(fields) + "},")
    out.append("};")
    out.append(f"const uint32_t {name}_count = {len(rows)};")
    out.append("")


def emit_pool(out, pool):
    out.append("const char division_names[] =")
    line = "   "
    for n in pool.names:
        piece = ' "' + n + '\\0"'
        if len(line.encode("utf-8")) + len(piece.encode("utf-8")) > 78:
            out.append(line)
            line = "   "
        line += piece
    out.append(line + ";")
    out.append("")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    folder = sys.argv[1]
    target = sys.argv[2] if len(sys.argv) == 3 else None

    provinces = read_rows(folder, "provinces.csv")
    cities = read_rows(folder, "cities.csv")
    areas = read_rows(folder, "areas.csv")
    streets = read_rows(folder, "streets.csv")

    pool = Pool()
    out = [
        "/*",
        " * GENERATED by tools/gen_divisions.py; do not edit by hand.",
        " * Source: the 2023 statistical division codes of the People's",
        " * Republic of China (reference date 2023-06-30), from the",
        " * modood/Administrative-divisions-of-China dataset, WTFPL v2.",
        f" * {len(provinces)} provinces, {len(cities)} cities, "
        f"{len(areas)} counties, {len(streets)} towns and streets.",
        " */",
        '#include "division_data.h"',
        "",
    ]
    emit_level(out, "division", "division_provinces", provinces, pool,
               short_lengths(provinces, None),
               child_ranges(provinces, cities, "provinceCode"))
    emit_level(out, "division", "division_cities", cities, pool,
               short_lengths(cities, "provinceCode"),
               child_ranges(cities, areas, "cityCode"))
    emit_level(out, "division", "division_areas", areas, pool,
               short_lengths(areas, "cityCode"),
               child_ranges(areas, streets, "areaCode"))
    emit_level(out, "division_leaf", "division_streets", streets, pool,
               short_lengths(streets, "areaCode"), None)
    emit_pool(out, pool)

    text = "\n".join(out)
    if target:
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
