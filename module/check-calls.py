#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
"""Fail on circular calls between the files of module/.

Reads the module's static library with nm: each object file defines
functions (T) and uses symbols it does not define (U).  File A calls file B
when A uses a function B defines.  Calls must run one way (HACKING: the
layers); any cycle between files is printed and fails the check.  Data
symbols (mc_g) are not calls and are left out.

Usage: check-calls.py [--nm NM] LIBRARY.a | --self-test
"""
import os
import subprocess
import sys


def read_symbols(nm, archive):
    defined, used = {}, {}
    out = subprocess.run([nm, '-A', archive], check=True, text=True,
                         capture_output=True).stdout
    for line in out.splitlines():
        # "lib.a:card.c.o:                 U jpki_begin" or
        # "lib.a:card.c.o:0000000000000040 T card_load"
        head, _, rest = line.rpartition(':')
        obj = head.rsplit(':', 1)[-1]
        fields = rest.split()
        if len(fields) < 2:
            continue
        kind, name = fields[-2], fields[-1]
        obj = os.path.basename(obj.rstrip(']')).split('[')[-1]
        src = obj[:-2] if obj.endswith('.o') else obj
        if kind == 'T':
            defined[name] = src
        elif kind == 'U':
            used.setdefault(src, set()).add(name)
    return defined, used


def call_graph(defined, used):
    graph = {}
    for src, names in used.items():
        for name in names:
            dst = defined.get(name)
            if dst and dst != src:
                graph.setdefault(src, {}).setdefault(dst, set()).add(name)
    return graph


def cycles(graph):
    """Every strongly connected component of more than one file."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def self_test():
    """The check itself can fail: a made-up library with a circle."""
    defined = {'a_f': 'a.c', 'b_f': 'b.c', 'c_f': 'c.c', 'd_f': 'd.c'}
    used = {'a.c': {'b_f', 'printf'}, 'b.c': {'c_f'}, 'c.c': {'a_f'},
            'd.c': {'a_f'}}
    found = cycles(call_graph(defined, used))
    if found != [['a.c', 'b.c', 'c.c']]:
        print('check-calls: self-test missed the circle: %r' % found)
        return 1
    used['c.c'] = {'d_f'}
    used['d.c'] = set()
    found = cycles(call_graph(defined, used))
    if found:
        print('check-calls: self-test saw a circle in a line: %r' % found)
        return 1
    print('check-calls: self-test passed')
    return 0


def main(argv):
    nm = 'nm'
    if argv[1:] == ['--self-test']:
        return self_test()
    if len(argv) > 2 and argv[1] == '--nm':
        nm = argv[2]
        argv = argv[2:]
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    defined, used = read_symbols(nm, argv[1])
    if not defined:
        print('check-calls: no functions found in ' + argv[1],
              file=sys.stderr)
        return 2
    graph = call_graph(defined, used)
    bad = cycles(graph)
    for comp in bad:
        print('cycle between ' + ', '.join(comp) + ':')
        for a in comp:
            for b in sorted(graph.get(a, {})):
                if b in comp:
                    print('  %s -> %s (%s)' % (a, b,
                          ', '.join(sorted(graph[a][b]))))
    if bad:
        return 1
    print('check-calls: %d files, no circular calls' %
          len(set(defined.values())))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
