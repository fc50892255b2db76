#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn a UAPI header into a C/C++ probe program that prints its ABI.

    abi_probe.py HEADER > probe.c

The probe, compiled as C or C++ (-m64 or -m32) and run, prints one line per
struct (size, alignment), one per field, recursively through inline unions
and structs (offset, size, declared type), one per object-like macro (value
and sizeof of its expression) and one per function-like macro (its
normalised definition text).  Nothing is listed by hand: a field or constant
added to the header shows up in the dump by itself.
"""
import re
import sys

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"),
                  text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def macros(text):
    """Yield (name, params or None, body) for each #define, in order."""
    lines = text.replace("\\\n", " ").split("\n")
    for line in lines:
        m = re.match(r"\s*#\s*define\s+([A-Za-z_]\w*)(\([^)]*\))?\s*(.*)$", line)
        if not m:
            continue
        name, params, body = m.group(1), m.group(2), m.group(3).strip()
        yield name, params, " ".join(body.split())


def tokens(text):
    return re.findall(r"[A-Za-z_]\w*|\d\w*|[{}\[\];,()]|\S", text)


class Parser:
    def __init__(self, toks):
        self.t = toks
        self.i = 0

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else None

    def take(self, want=None):
        tok = self.t[self.i]
        if want is not None and tok != want:
            raise SyntaxError(f"expected {want!r}, got {tok!r} near "
                              f"{' '.join(self.t[max(0, self.i - 8):self.i + 8])}")
        self.i += 1
        return tok

    def members(self):
        """Parse '{ member... }' and return a list of member tuples:
        ("field", name, typetext) or ("agg", name-or-None, kind, members)."""
        out = []
        self.take("{")
        while self.peek() != "}":
            if self.peek() in ("struct", "union") and (
                    self.peek(1) == "{" or self.peek(2) == "{"):
                kind = self.take()
                if self.peek() != "{":
                    self.take()  # a tag on an inline aggregate
                inner = self.members()
                name = None
                if self.peek() != ";":
                    name = self.take()
                    if self.peek() == "[":
                        raise SyntaxError("arrays of inline aggregates are not supported")
                self.take(";")
                out.append(("agg", name, kind, inner))
                continue
            decl = []
            while self.peek() != ";":
                decl.append(self.take())
            self.take(";")
            if ":" in decl:
                raise SyntaxError(f"bit-field in UAPI struct: {' '.join(decl)}")
            # type words, then one or more declarators separated by commas
            parts = [[]]
            for tok in decl:
                if tok == ",":
                    parts.append([])
                else:
                    parts[-1].append(tok)
            first = parts[0]

            # name = the last identifier before any '['
            def split(words):
                k = words.index("[") if "[" in words else len(words)
                return words[:k - 1], words[k - 1], "".join(words[k:])
            base, name, arr = split(first)
            typetext = " ".join(base)
            out.append(("field", name, typetext + arr))
            for extra in parts[1:]:
                _, name2, arr2 = split(base + extra)
                out.append(("field", name2, typetext + arr2))
        self.take("}")
        return out


def structs(text):
    """Yield (name, members) for each top-level struct definition."""
    toks = tokens(text)
    p = Parser(toks)
    while p.i < len(toks):
        if (p.peek() == "struct" and p.peek(1) is not None
                and IDENT.fullmatch(p.peek(1)) and p.peek(2) == "{"):
            p.take()
            name = p.take()
            yield name, p.members()
            p.take(";")
        else:
            p.i += 1


def field_lines(sname, members, prefix, indent):
    """C statements printing each member's offset/size/type."""
    lines = []
    for m in members:
        if m[0] == "field":
            _, name, typ = m
            path = prefix + name
            lines.append(
                f'\tP("{indent}{path}: off=%zu size=%zu type={typ}\\n", '
                f"offsetof(struct {sname}, {path}), "
                f"sizeof(((struct {sname} *)0)->{path}));")
        else:
            _, name, kind, inner = m
            if name is None:  # anonymous: members live at the parent level
                lines += field_lines(sname, inner, prefix, indent)
                continue
            path = prefix + name
            lines.append(
                f'\tP("{indent}{path}: off=%zu size=%zu type={kind}{{}}\\n", '
                f"offsetof(struct {sname}, {path}), "
                f"sizeof(((struct {sname} *)0)->{path}));")
            lines += field_lines(sname, inner, path + ".", indent + "  ")
    return lines


def probe(header_path, include_as):
    text = open(header_path, encoding="utf-8").read()
    code = strip_comments(text)
    guard = None
    m = re.search(r"#\s*ifndef\s+(\w+)\s*\n\s*#\s*define\s+\1\b", code)
    if m:
        guard = m.group(1)
    out = [
        "/* Generated by tests/compat/abi/abi_probe.py: do not edit. */",
        "#include <stddef.h>",
        "#include <stdio.h>",
        f'#include "{include_as}"',
        "#define P(...) printf(__VA_ARGS__)",
        "int main(void)",
        "{",
    ]
    for name, members in structs(code):
        out.append(f'\tP("struct {name}: size=%zu align=%zu\\n", '
                   f"sizeof(struct {name}), (size_t)__alignof__(struct {name}));")
        out += field_lines(name, members, "", "  ")
    for name, params, body in macros(code):
        if name == guard:
            continue
        if params is not None:
            out.append(f'\tP("macro {name}{params} = %s\\n", "{body}");')
        elif body:
            out.append(f'\tP("const {name} = 0x%llx sizeof=%zu\\n", '
                       f"(unsigned long long)({name}), sizeof({name}));")
    out += ["\treturn 0;", "}"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: abi_probe.py HEADER INCLUDE-PATH-AS-WRITTEN")
    sys.stdout.write(probe(sys.argv[1], sys.argv[2]))
