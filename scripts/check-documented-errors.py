#!/usr/bin/env python3
"""Every public function's documented errors are exercised by a test.

Reads the public headers (include/corio/*.h): each CORIO_API function and the
comment above it (a comment shared by consecutive declarations documents each
of them). The errors a comment names are corio's own (CORIO_E*) and errno
names (EPIPE, EEXIST ...). Then, for each function and each error it
documents, looks for a test source (tests/**/*.c, any platform) that calls
the function and names the error (as CORIO_EX, or EX as in
corio_err_from_errno(EX) / -EX). Naming both in one test file is the
evidence; it is a coarse one (the file may name them in different tests), but
it catches an error that no test looks at anywhere.

Pairs that cannot or need not be exercised are listed, with a reason, in
scripts/documented-errors-exempt.txt ("function ERROR reason", one a line);
an exemption that is no longer needed is reported too, so the list stays
honest.

  scripts/check-documented-errors.py [root]    exit status 1 on a gap
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
root = os.path.abspath(root)

# Names in comments that look like errno names but are not errors.
NOT_ERRORS = {"EOF", "EXCL", "END"}


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def documented(header_text):
    """Yield (function, set of error names) for every CORIO_API function,
    with the errors named by the nearest comment above its declaration."""
    last_comment = ""
    pattern = re.compile(r"/\*.*?\*/|CORIO_API[^;{]*?\b(corio_\w+)\s*\(", re.S)
    for m in pattern.finditer(header_text):
        if m.group(0).startswith("/*"):
            last_comment = m.group(0)
            continue
        errs = set(re.findall(r"\bCORIO_E[A-Z0-9]+\b", last_comment))
        for e in re.findall(r"\b(E[A-Z0-9]{2,})\b", last_comment):
            if e not in NOT_ERRORS:
                errs.add(e)
        yield m.group(1), errs


def main():
    inc = os.path.join(root, "include", "corio")
    funcs = {}
    for h in sorted(os.listdir(inc)):
        if h.endswith(".h"):
            for name, errs in documented(read(os.path.join(inc, h))):
                funcs.setdefault(name, set()).update(errs)

    tests = []
    for d, _, files in os.walk(os.path.join(root, "tests")):
        for f in files:
            if f.endswith(".c"):
                tests.append(read(os.path.join(d, f)))

    exempt = {}
    ex_path = os.path.join(root, "scripts", "documented-errors-exempt.txt")
    if os.path.exists(ex_path):
        for line in read(ex_path).splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 2)
            if len(parts) < 3:
                print(f"{ex_path}: an exemption needs a reason: {line}")
                return 1
            exempt[(parts[0], parts[1])] = parts[2]

    def names_error(text, e):
        if e.startswith("CORIO_E"):
            return re.search(r"\b" + e + r"\b", text) is not None
        return re.search(r"\b(CORIO_)?" + e + r"\b", text) is not None

    missing, covered, used = [], 0, set()
    for name in sorted(funcs):
        call = re.compile(r"\b" + name + r"\s*\(")
        users = [t for t in tests if call.search(t)]
        for e in sorted(funcs[name]):
            if any(names_error(t, e) for t in users):
                covered += 1
                if (name, e) in exempt:
                    print(f"stale exemption (a test names it now): {name} {e}")
                    used.add((name, e))
                continue
            if (name, e) in exempt:
                used.add((name, e))
                continue
            missing.append((name, e))
    for k in sorted(set(exempt) - used):
        print(f"exemption for nothing documented: {k[0]} {k[1]}")

    total = sum(len(v) for v in funcs.values())
    print(f"{len(funcs)} public functions, {total} documented errors: {covered} named by a "
          f"test, {len(used)} exempt, {len(missing)} missing")
    for name, e in missing:
        print(f"  no test names {e} with {name}")
    return 1 if missing else 0


sys.exit(main())
