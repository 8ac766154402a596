"""The end of a CI run: a table, then pytest's own summary line.

Usage: python .ci/summary.py TIMINGS [JUNIT.xml ...]

TIMINGS has one line per step (``name<TAB>seconds<TAB>exit status``),
and a step ``wall clock`` for the whole run;
the JUnit files are pytest's, named after their tox env (``py3.xml``,
``clients-2023.1-unit.xml``).  Prints, per step, the tests run, the
seconds and the result, the total, then ``N passed, N failed, N skipped``
alone on the last line.  Exits 1 when a step failed, a test failed, or no
test ran at all.
"""

import os
import sys
import xml.etree.ElementTree as ET


def count(path):
    """``(passed, failed, skipped)`` of one JUnit file."""
    root = ET.parse(path).getroot()
    passed = failed = skipped = 0
    for suite in root.iter('testsuite'):
        total = int(suite.get('tests', 0))
        bad = int(suite.get('failures', 0)) + int(suite.get('errors', 0))
        skip = int(suite.get('skipped', 0))
        passed += total - bad - skip
        failed += bad
        skipped += skip
    return passed, failed, skipped


def env_of(path, envs):
    """The step a JUnit file belongs to.

    The longest env name it starts with (``clients-2023.1-unit.xml`` is
    ``clients-2023.1``'s).
    """
    stem = os.path.basename(path)[:-len('.xml')]
    owners = [e for e in envs if stem == e or stem.startswith(e + '-')]
    return max(owners, key=len) if owners else stem


def table(steps, tests, wall=None):
    """The table: a row per step, then the total.

    The total's seconds are ``wall``, the run's own clock, where steps ran
    at once.
    """
    rows = [('step', 'tests', 'seconds', 'result')]
    for name, seconds, status in steps:
        n = tests.get(name)
        rows.append((name, '' if n is None else str(n), str(seconds),
                     'ok' if status == 0 else 'FAILED (%d)' % status))
    total = wall if wall is not None else sum(s for _, s, _ in steps)
    rows.append(('total', str(sum(tests.values())), str(total),
                 'ok' if all(st == 0 for _, _, st in steps) else 'FAILED'))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    line = '  '.join('=' * w for w in widths)
    out = [line]
    for i, row in enumerate(rows):
        out.append('  '.join(c.ljust(w) for c, w in zip(row, widths))
                   .rstrip())
        if i == 0 or i == len(rows) - 2:
            out.append(line)
    out.append(line)
    return '\n'.join(out)


def main(argv):
    steps = []
    with open(argv[0]) as f:
        for line in f:
            name, seconds, status = line.rstrip('\n').split('\t')
            steps.append((name, int(seconds), int(status)))
    wall = None
    for name, seconds, _ in steps:
        if name == 'wall clock':
            wall = seconds
    steps = [st for st in steps if st[0] != 'wall clock']
    envs = [name for name, _, _ in steps]
    tests, passed, failed, skipped = {}, 0, 0, 0
    for path in argv[1:]:
        try:
            p, fl, sk = count(path)
        except (OSError, ET.ParseError) as e:
            print('summary: cannot read %s: %s' % (path, e))
            failed += 1
            continue
        env = env_of(path, envs)
        tests[env] = tests.get(env, 0) + p + fl + sk
        passed, failed, skipped = passed + p, failed + fl, skipped + sk
    print(table(steps, tests, wall))
    if wall is not None:
        print('total: the wall clock of the whole run (the lanes ran at '
              'once; its steps add up to %d s)' % sum(s for _, s, _ in steps))
    print('%d passed, %d failed, %d skipped' % (passed, failed, skipped))
    ok = passed and not failed and all(st == 0 for _, _, st in steps)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
