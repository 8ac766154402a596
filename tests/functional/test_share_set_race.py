"""Two ``image share set --prune`` at once, with different lists.

Each run reads the members again right before it writes (and stops if
another run changed them) and after (a row another run made false says
so): whatever the interleaving, the run that ends last never prints a
row that is not the image's state, unless it says, exit 1, that another
run changed it.
"""

import json
import time

import pytest

from tests.functional.test_share_interrupted import seen
from tests.functional.test_share_interrupted import start

pytestmark = [pytest.mark.concurrency]


def true_rows(proc, out, final):
    """Exit 1 (it said another run changed it), or rows as the image is."""
    if proc.returncode == 1:
        return True
    return {r['Project ID']: r['After'] for r in json.loads(out)
            if r['After']} == final


def test_two_prunes_at_once_no_row_claims_a_false_state(cloud):
    beta, other = cloud.project('beta'), cloud.project('beta', 'other')
    img = cloud.make_image('carol-alpha')['id']
    cloud.json('carol-alpha', 'image', 'share', 'set', img, '--member',
               beta, '--member', other)
    for _ in range(3):
        procs = [start(cloud, 'carol-alpha', 'image', 'share', 'set', img,
                       '--member', member, '--prune', '-f', 'json')
                 for member in (beta, other)]
        ended = {}
        deadline = time.monotonic() + 300
        while len(ended) < 2:
            if time.monotonic() > deadline:     # a hang fails, not holds
                for p in procs:
                    p.kill()
                raise AssertionError('a run never ended: %r' % [
                    p.communicate() for p in procs])
            for i, p in enumerate(procs):
                if i not in ended and p.poll() is not None:
                    ended[i] = time.monotonic()
            time.sleep(0.01)
        outs = [p.communicate(timeout=60) for p in procs]
        final = seen(cloud, img)[2]
        for p, (o, e) in zip(procs, outs):
            assert 'Traceback' not in e, e
            assert p.returncode in (0, 1), (p.returncode, e)
            if p.returncode == 1:
                assert 'another run' in e, e
        # The run that ended last read the members after the other's
        # last write: its rows are the image's state.  Two runs that end
        # within a second of each other cannot be told apart from here
        # (exiting takes a while after the last read): one of them.
        first, last = sorted(ended, key=ended.get)
        close = ended[last] - ended[first] < 1.0
        assert any(true_rows(procs[i], outs[i][0], final)
                   for i in ((first, last) if close else (last,))), (
            outs, final)
        # Restore both members for the next round.
        cloud.json('carol-alpha', 'image', 'share', 'set', img, '--member',
                   beta, '--member', other)
