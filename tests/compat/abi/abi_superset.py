#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that a newer ABI dump only adds to an older one.

    abi_superset.py OLD.txt NEW.txt

Both files are abi_probe outputs.  Rules (Documentation/compatibility.md):
every old constant keeps its value; every old struct keeps its alignment and
does not shrink; every old field keeps its offset, size and type, except a
reserved/padding field, which may be repurposed, and a union at the very end
of a struct, which may grow by a new member (upstream rule (b)); a new field
of an old struct lies at or beyond the old struct's end, inside what used to
be reserved/padding, or is a member of that tail union.  Prints each violation; exit status 1 if any.
"""
import re
import sys

RESERVED = re.compile(r"(^|\.)(__reserved\w*|padding\w*)$")


def load(path):
    structs, fields, consts = {}, {}, {}
    cur = None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        m = re.match(r"struct (\w+): size=(\d+) align=(\d+)$", line)
        if m:
            cur = m.group(1)
            structs[cur] = (int(m.group(2)), int(m.group(3)))
            continue
        m = re.match(r"\s+([\w.]+): off=(\d+) size=(\d+) type=(.*)$", line)
        if m:
            fields[(cur, m.group(1))] = (int(m.group(2)), int(m.group(3)), m.group(4))
            continue
        m = re.match(r"(const|macro) (\w+)(.*)$", line)
        if m:
            consts[m.group(2)] = line
    return structs, fields, consts


def main(old_path, new_path):
    os_, of, oc = load(old_path)
    ns, nf, nc = load(new_path)
    bad = []
    for name, line in oc.items():
        if name not in nc:
            bad.append(f"constant removed: {line}")
        elif nc[name] != line:
            bad.append(f"constant changed: {line}  ->  {nc[name]}")
    for s, (size, align) in os_.items():
        if s not in ns:
            bad.append(f"struct removed: {s}")
            continue
        nsize, nalign = ns[s]
        if nsize < size:
            bad.append(f"struct {s} shrank: {size} -> {nsize}")
        if nalign != align:
            bad.append(f"struct {s} alignment changed: {align} -> {nalign}")
    reserved_ranges = {}
    for (s, f), (off, size, typ) in of.items():
        if RESERVED.search(f):
            reserved_ranges.setdefault(s, []).append((off, off + size))
            continue
        if (s, f) not in nf:
            bad.append(f"field removed: {s}.{f}")
        elif nf[(s, f)] != (off, size, typ):
            noff, nsize, ntyp = nf[(s, f)]
            if (typ == ntyp == "union{}" and noff == off and nsize > size
                    and off + size == os_[s][0]):
                continue  # rule (b): a union at the tail grew by a member
            bad.append(f"field changed: {s}.{f} off={off} size={size} type={typ}"
                       f"  ->  off={noff} size={nsize} type={ntyp}")
    for (s, f), (off, size, _) in nf.items():
        if s not in os_ or (s, f) in of:
            continue
        if off >= os_[s][0]:
            continue
        if any(lo <= off and off + size <= hi for lo, hi in reserved_ranges.get(s, [])):
            continue
        # a member of a union that already existed may overlay old members
        parent = f.rsplit(".", 1)[0] if "." in f else None
        if parent and (s, parent) in of:
            poff, psize, ptyp = of[(s, parent)]
            if poff <= off and off + size <= poff + psize:
                continue
            if ptyp == "union{}" and off == poff and poff + psize == os_[s][0]:
                continue  # rule (b): a new member of the tail union
        bad.append(f"new field {s}.{f} at off={off} lies inside the old "
                   f"struct ({os_[s][0]} bytes) and not in reserved space")
    for line in bad:
        print(f"abi-compat: {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: abi_superset.py OLD.txt NEW.txt")
    sys.exit(main(sys.argv[1], sys.argv[2]))
