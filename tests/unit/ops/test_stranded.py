"""The imageshare_sharing label: who set it, whether that run is gone."""

import json
import socket
import unittest

from osc_imageshare.batch import liveness
from osc_imageshare.ops import stranded

DEAD = '%s:%d:1' % (socket.gethostname(), 2 ** 22 + 7)


def labelled(**data):
    return {'id': 'x', stranded.LABEL: json.dumps(data)}


class TestStranded(unittest.TestCase):

    def test_value_is_compact_json_naming_this_run(self):
        text = stranded.value(['b'], checked=True, started='T')
        self.assertNotIn(' ', text)
        self.assertEqual({'run': liveness.whoami(), 'started': 'T',
                          'targets': ['b'], 'checked': True,
                          'op': 'share'}, json.loads(text))

    def test_own_label_is_live_not_stranded(self):
        image = {stranded.LABEL: stranded.value(['b'])}
        self.assertIsNone(stranded.stranded(image))
        self.assertEqual(['b'], stranded.live(image)['targets'])

    def test_dead_run_on_this_host_is_stranded(self):
        image = labelled(run=DEAD, started=liveness.stamp(), targets=['b'],
                         checked=False, op='revoke')
        self.assertEqual({'run': DEAD, 'started': image and json.loads(
            image[stranded.LABEL])['started'], 'targets': ['b'],
            'checked': False, 'op': 'revoke'}, stranded.stranded(image))
        self.assertIsNone(stranded.live(image))

    def test_run_elsewhere_is_live_while_recent(self):
        fresh = labelled(run='elsewhere:1:1', started=liveness.stamp())
        old = labelled(run='elsewhere:1:1', started='2020-01-01T00:00:00Z')
        self.assertIsNone(stranded.stranded(fresh))
        self.assertEqual('elsewhere:1:1', stranded.stranded(old)['run'])

    def test_no_label_and_garbage(self):
        self.assertIsNone(stranded.read({'id': 'x'}))
        self.assertEqual({'run': '', 'started': None, 'targets': [],
                          'checked': False, 'op': 'share'},
                         stranded.stranded({stranded.LABEL: 'not json'}))
