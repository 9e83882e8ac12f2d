#!/usr/bin/env python3
"""Checks lib/ against the rules of lib/README.md.

- Every `#include "..."` of a file in lib/ is allowed by the first row of
  the README's folder table whose pattern matches the file (paths relative
  to lib/; "convpool.h" and <system> headers are always allowed).
- Every C file in lib/ matches some row (a new folder needs a row).
- CONVPOOL_API appears only in lib/api/*.c (the public-function rule).

Usage: check-lib-layout.py [SOURCE_ROOT]. Exits 1 and lists every
violation, 0 when all is well.
"""
import fnmatch
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
lib = os.path.join(root, 'lib')


def read_rules():
    """Rows of the table under '## Folders': (patterns, allowed)."""
    rules = []
    in_table = False
    with open(os.path.join(lib, 'README.md'), encoding='utf-8') as f:
        for line in f:
            if line.startswith('## '):
                in_table = line.strip() == '## Folders'
                continue
            if not in_table or not line.startswith('|'):
                continue
            cells = [c.strip() for c in line.strip().strip('|').split('|')]
            if len(cells) != 3 or cells[0] in ('Files', '') or set(cells[0]) <= set('-'):
                continue
            patterns = re.findall(r'`([^`]+)`', cells[0])
            allowed = re.findall(r'`([^`]+)`', cells[2])
            rules.append((patterns, allowed))
    if not rules:
        sys.exit('check-lib-layout: no table under "## Folders" in lib/README.md')
    return rules


def rule_for(path, rules):
    for patterns, allowed in rules:
        if any(fnmatch.fnmatchcase(path, p) for p in patterns):
            return patterns, allowed
    return None, None


INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def main():
    rules = read_rules()
    errors = []
    checked = 0
    for dirpath, dirnames, filenames in os.walk(lib):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(('.c', '.h', '.inc')):
                continue
            full = os.path.join(dirpath, name)
            path = os.path.relpath(full, lib).replace(os.sep, '/')
            patterns, allowed = rule_for(path, rules)
            if patterns is None:
                errors.append(f'lib/{path}: no row of lib/README.md covers this file')
                continue
            checked += 1
            with open(full, encoding='utf-8') as f:
                for lineno, line in enumerate(f, 1):
                    if 'CONVPOOL_API' in line and not fnmatch.fnmatchcase(path, 'api/*.c'):
                        errors.append(f'lib/{path}:{lineno}: CONVPOOL_API outside lib/api/ '
                                      '(public functions are defined in lib/api/)')
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    inc = m.group(1)
                    if inc == 'convpool.h':
                        continue
                    if '/' not in inc or inc.startswith('.'):
                        errors.append(f'lib/{path}:{lineno}: #include "{inc}": spell includes '
                                      'from lib/ (e.g. "ops/op.h")')
                        continue
                    if not any(fnmatch.fnmatchcase(inc, a) for a in allowed):
                        errors.append(f'lib/{path}:{lineno}: #include "{inc}" is not allowed '
                                      f'for {", ".join(patterns)} (may include: '
                                      f'{", ".join(allowed)})')
    for e in errors:
        print(e)
    print(f'check-lib-layout: {checked} files, {len(errors)} violations of lib/README.md')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
