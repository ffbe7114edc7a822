#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The mynacard authors
#
# No text for people in tool/*.c escapes gettext: every string literal
# with a word in it, given to a function that shows text to people
# (say, complain, doctor's report, a prompt, a title, printf and
# friends) or formatted into a message buffer, must sit inside _(),
# N_(), D_(), DN_() or ngettext().  Text that is not for people (a file's
# contents, the version line) is listed in ALLOWED with the reason.
# Usage: check-untranslated.py TOOL_DIR; prints one line per escape and
# exits 1 when there is any.
import glob
import os
import re
import sys

# function -> the arguments (0-based) that carry text for people; None
# for all of them.
CALLS = {
    'say': None, 'complain': None, 'say_text': None,
    'report': 'from1',          # report(check-key, level, fix, fmt, ...)
    'tty_line': {0}, 'pin_read': {1}, 'run_nss': {0},
    'show_cert': {1}, 'read_and_show': {3}, 'check_reg': {1},
    'printf': None, 'fprintf': 'from1', 'fputs': {0}, 'puts': {0},
    'dprintf': 'from1',
    'add': 'from4',             # mynaportal.c's doctor findings: fix, fmt, ...
}
# sfmt/snprintf into a buffer whose name says it is a message.
MSG_BUFFER = re.compile(r'^\s*&?\s*(\w+->)?(fix|detail|prompt|msg|why|text|error|message)\b')
WRAPPERS = ('_', 'N_', 'D_', 'DN_', 'ngettext')
ALLOWED = {
    # the configuration file's own comment, written to disk (a prefix)
    ('pss.c', '# RSA-PSS for TLS 1.3*'),
    # the version line, a program name and a number
    ('main.c', 'mynacard-tool %s\\n'),
    # verify-pin's argument in a command line shown to people
    ('doctor.c', 'auth'),
    ('doctor.c', 'sign'),
    # a command to run, the same in every language
    ('doctor.c', 'mynacard-tool setup %s'),
    # an extension's ID
    ('mynaportal.c', 'iblcbagoigccfdmjdapagpgincgbbcki'),
    # program names, the same in every language
    ('doctor.c', 'LibreOffice'),
    ('libreoffice.c', 'LibreOffice: %s\\n'),
    ('p11kit.c', 'p11-kit: %s\\n'),
    # the program's name before each complaint
    ('out.c', 'mynacard-tool: '),
}

LIT = r'"(?:[^"\\\n]|\\.)*"'


def strip_comments(src):
    out, i, n = [], 0, len(src)
    while i < n:
        if src.startswith('/*', i):
            j = src.find('*/', i + 2)
            out.append(' ' * (j + 2 - i))
            i = j + 2
        elif src.startswith('//', i):
            j = src.find('\n', i)
            out.append(' ' * (j - i))
            i = j
        elif src[i] == '"':
            m = re.compile(LIT).match(src, i)
            out.append(m.group(0))
            i = m.end()
        elif src[i] == "'":
            m = re.compile(r"'(?:[^'\\]|\\.)*'").match(src, i)
            out.append(m.group(0))
            i = m.end()
        else:
            out.append(src[i])
            i += 1
    return ''.join(out)


def split_args(src, start):
    """Arguments of the call whose '(' is at src[start-1]; (args, end)."""
    args, depth, i, cur = [], 0, start, start
    lit = re.compile(LIT)
    while True:
        c = src[i]
        if c == '"':
            i = lit.match(src, i).end()
            continue
        if c == "'":
            i = re.compile(r"'(?:[^'\\]|\\.)*'").match(src, i).end()
            continue
        if c in '([{':
            depth += 1
        elif c in ')]}':
            if depth == 0:
                args.append(src[cur:i])
                return args, i
            depth -= 1
        elif c == ',' and depth == 0:
            args.append(src[cur:i])
            cur = i + 1
        i += 1


def unwrapped_literals(arg):
    """Literals in @arg outside the gettext wrappers, joined per run."""
    pat = re.compile(r'\b(?:' + '|'.join(WRAPPERS) + r')\s*\(')
    masked = arg
    while True:
        m = pat.search(masked)
        if not m:
            break
        _, end = split_args(masked, m.end())
        masked = masked[:m.start()] + ' ' * (end + 1 - m.start()) + masked[end + 1:]
    found, run = [], None
    for m in re.finditer(LIT + r'|\S', masked):
        tok = m.group(0)
        if tok.startswith('"'):
            body = bytes(tok[1:-1], 'utf-8').decode('unicode_escape', 'ignore') \
                if '\\u' in tok else tok[1:-1]
            run = (run or '') + body
        else:
            if run is not None:
                found.append(run)
            run = None
    if run is not None:
        found.append(run)
    return found


def has_words(s):
    s = re.sub(r'%(\d+\$)?[-+ #0]*\d*(\.\d+)?(hh|h|ll|l|z|j|t)?[a-zA-Z%]', '', s)
    s = s.replace('\\n', ' ').replace('\\t', ' ')
    return re.search(r'[A-Za-z\u3040-\u30ff\u4e00-\u9fff]{2,}', s) is not None


def main():
    bad = 0
    for path in sorted(glob.glob(os.path.join(sys.argv[1], '*.c'))):
        name = os.path.basename(path)
        src = strip_comments(open(path, encoding='utf-8').read())
        # Literals are matched too, so that no call is seen inside one.
        for m in re.finditer(LIT + r"|'(?:[^'\\]|\\.)*'|\b(\w+)\s*\(", src):
            fn = m.group(1)
            if fn is None:
                continue
            args, _ = split_args(src, m.end())
            if fn in CALLS:
                sel = CALLS[fn]
                if sel is None:
                    idx = range(len(args))
                elif isinstance(sel, str):
                    idx = range(int(sel[4:]), len(args))
                else:
                    idx = [k for k in sel if k < len(args)]
            elif fn in ('sfmt', 'snprintf') and args and MSG_BUFFER.match(args[0]):
                idx = range(2, len(args))
            else:
                continue
            # Definitions and prototypes are not calls.
            before = src[:m.start()].rstrip()
            if re.search(r'\b(void|int|char|bool)\s*\**$', before):
                continue
            for k in idx:
                for lit in unwrapped_literals(args[k]):
                    if not has_words(lit):
                        continue
                    if any(name == f and (lit == p or (p.endswith('*') and
                           lit.startswith(p[:-1]))) for f, p in ALLOWED):
                        continue
                    line = src.count('\n', 0, m.start()) + 1
                    print(f'{name}:{line}: {fn}(): "{lit}" is not translatable')
                    bad += 1
    print(f'{bad} message(s) outside gettext')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
