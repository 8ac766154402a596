"""The one retry policy, for one workflow of each command family.

For each family (transfer in share mode and in copy mode, share status,
accept, revoke, list, wait) a request of its workflow is failed once with
each retry class (429 with and without ``Retry-After``, 500, 502 with an
API gateway's JSON body, 504, a connection reset), on the HTTP-level fake
behind the real door.  The workflow must return what it returns when
nothing fails, with exactly one more request (the failed one, sent again
right after), one wait of the right length (``Retry-After`` honoured,
else the first backoff step, 0.5 s) and one debug line saying so.
"""

import logging

import fixtures

from osc_imageshare.cli import image_transfer
from osc_imageshare.ops import membership
from osc_imageshare.ops import pipeline
from osc_imageshare.ops import share_status
from osc_imageshare.ops import waiting
from tests.unit import base
from tests.unit import fakes
from tests.unit.imagecopy import test_engine
from tests.unit.ops.modes import test_share

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
IMG_URL = '/v2/images/%s' % IMAGE_ID
MEMBERS_URL = IMG_URL + '/members'
BETA_URL = MEMBERS_URL + '/' + BETA
RETRY_AFTER = 7
BACKOFF = 0.5       # the policy's first backoff step, in seconds


def _glance_error(status, title):
    return fakes.answer(status, {'error': {
        'code': status, 'title': title, 'message': title}})


# retry class -> (a function making the failure, the wait it must cause)
CLASSES = {
    '429_retry_after': (lambda: fakes.answer(
        429, {'error': {'code': 429, 'message': 'Slow down'}},
        headers={'Retry-After': str(RETRY_AFTER)}), RETRY_AFTER),
    '429': (lambda: _glance_error(429, 'Too Many Requests'), BACKOFF),
    '500': (lambda: _glance_error(500, 'Internal Server Error'), BACKOFF),
    '502': (lambda: fakes.answer(502, {'message': 'Bad gateway'}),
            BACKOFF),
    '504': (lambda: fakes.answer(
        504, text='<html><body>504 Gateway Time-out</body></html>',
        headers={'Content-Type': 'text/html'}), BACKOFF),
    'reset': (fakes.reset, BACKOFF),
}


class Clock:
    """``share wait``'s own clock and sleep (its polling, not retries)."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


# ------------------------------------------------------------ the families
# Each: (the request it fails, a fresh fake, the workflow run on it
# returning what it gives back, comparable between runs).
def _shared(fail=None, status='accepted'):
    """An image shared with beta, in ``status``."""
    return fakes.FakeGlance([fakes.image()],
                            {IMAGE_ID: [fakes.member(BETA, status)]}, fail)


def _private(fail=None):
    return fakes.FakeGlance([fakes.image(visibility='private')],
                            {IMAGE_ID: []}, fail)


def _share_transfer(g):
    result = pipeline.transfer(g, test_share.Ident(), [IMAGE_ID], 'share',
                               to=['beta'], accept=False)
    return (result.rows, result.failed, result.total, result.errors,
            result.warnings)


def _copy_transfer(g):
    result = pipeline.transfer(g, test_share.Ident(admin=True), [IMAGE_ID],
                               'copy', to=['beta'], name='copy',
                               visibility='private', progress=False)
    # A row's durations and rates differ from run to run: not compared.
    columns = image_transfer.COLUMNS[result.kind]
    rows = [tuple(v for v, col in zip(row, columns)
                  if not _timing(col)) for row in result.rows]
    return rows, result.failed, result.total, result.errors


def _timing(column):
    return any(w in column.lower() for w in ('second', 'mib/s', 'time'))


def _copy_source(fail=None):
    src = test_engine.source()
    return fakes.FakeGlance([src], data={IMAGE_ID: test_engine.DATA},
                            fail=fail)


def _wait(g):
    clock = Clock()
    ident = test_share.Ident(admin=True, names={ALPHA: 'alpha',
                                                BETA: 'beta'})
    return waiting.share_wait(g, ident, IMAGE_ID, [], timeout=60,
                              clock=clock, sleep=clock.sleep)


FAMILIES = {
    'transfer_share': (
        ('PATCH', IMG_URL),
        _private, _share_transfer),
    'transfer_copy': (
        ('GET', IMG_URL + '/file'), _copy_source, _copy_transfer),
    'share_status': (
        ('GET', MEMBERS_URL),
        _shared,
        lambda g: share_status.read(g, fakes.FakeIdentity(), IMAGE_ID)),
    'share_accept': (
        ('PUT', BETA_URL),
        lambda fail=None: _shared(fail, 'pending'),
        lambda g: membership.set_status(
            g, test_share.Ident(project_id=BETA, project_name='beta'),
            IMAGE_ID, 'accepted')),
    'share_revoke': (
        ('DELETE', BETA_URL),
        _shared,
        lambda g: membership.revoke(g, test_share.Ident(), IMAGE_ID,
                                    ['beta'], unshare=True)),
    'share_list': (
        ('GET', '/v2/images'),
        _shared,
        lambda g: membership.list_shares(
            g, test_share.Ident(names={BETA: 'beta'}))),
    'share_wait': (
        ('GET', MEMBERS_URL),
        _shared,
        _wait),
}


class TestRetryCommands(base.TestCase):
    """Generated below: ``test_<family>_<retry class>``."""

    def setUp(self):
        super().setUp()
        # The share label's timestamp, fixed: the two runs' calls compare.
        self.useFixture(fixtures.MockPatch(
            'osc_imageshare.batch.liveness.stamp', return_value=fakes.WHEN))
        self.useFixture(fixtures.MockPatch(
            'osc_imageshare.imagecopy.engine.time.sleep'))
        self.log = self.useFixture(fixtures.FakeLogger(
            name='osc_imageshare.api.retry', level=logging.DEBUG,
            format='%(message)s'))

    def check(self, family, klass):
        key, make, run = FAMILIES[family]
        failure, wait = CLASSES[klass]
        calm = make()
        expected = run(calm)
        self.assertEqual([], calm.sleeps)
        self.assertEqual('', self.log.output)
        g = make(fail={key: [failure()]})
        self.assertEqual(expected, run(g))
        # The failed request is sent once more, at once; nothing else.
        at = [(c[0], c[1].partition('?')[0])
              for c in calm.calls].index(key)
        self.assertEqual(calm.calls[:at + 1] + calm.calls[at:], g.calls)
        self.assertEqual([wait], g.sleeps)
        [line] = self.log.output.splitlines()
        self.assertIn('%s %s' % (key[0], key[1]), line)
        self.assertIn('retry 1 of 3 in %.1f s' % wait, line)


def _make_test(family, klass):
    def test(self):
        self.check(family, klass)
    test.__name__ = 'test_%s_%s' % (family, klass)
    return test


for _family in FAMILIES:
    for _klass in CLASSES:
        _test = _make_test(_family, _klass)
        setattr(TestRetryCommands, _test.__name__, _test)
del _family, _klass, _test
