"""Add up pytest's JUnit XML files; print 'N passed, N failed'.

Exits 1 when no test ran at all, or when any failed.
"""

import sys
import xml.etree.ElementTree as ET


def main(paths):
    passed = failed = skipped = 0
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            print('summary: cannot read %s: %s' % (path, e))
            continue
        for suite in root.iter('testsuite'):
            total = int(suite.get('tests', 0))
            bad = int(suite.get('failures', 0)) + int(suite.get('errors', 0))
            skip = int(suite.get('skipped', 0))
            passed += total - bad - skip
            failed += bad
            skipped += skip
    print('%d passed, %d failed, %d skipped' % (passed, failed, skipped))
    return 0 if passed and not failed else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
