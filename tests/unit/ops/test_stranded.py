"""The imageshare_sharing label: who set it, whether that run is gone."""

import json
import socket
import unittest

from osc_imageshare.batch import liveness
from osc_imageshare.ops import messages
from osc_imageshare.ops import stranded

DEAD = '%s:%d:1' % (socket.gethostname(), 2 ** 22 + 7)
B = 'b2' * 16


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
        image = {stranded.LABEL: stranded.value([B])}
        self.assertIsNone(stranded.stranded(image))
        self.assertEqual([B], stranded.live(image)['targets'])

    def test_dead_run_on_this_host_is_stranded(self):
        image = labelled(run=DEAD, started=liveness.stamp(), targets=[B],
                         checked=False, op='revoke')
        self.assertEqual({'run': DEAD, 'started': image and json.loads(
            image[stranded.LABEL])['started'], 'targets': [B],
            'checked': False, 'op': 'revoke', 'unrecognised': None},
            stranded.stranded(image))
        self.assertIsNone(stranded.live(image))

    def test_run_elsewhere_is_live_while_recent(self):
        fresh = labelled(run='elsewhere:1:1', started=liveness.stamp())
        old = labelled(run='elsewhere:1:1', started='2020-01-01T00:00:00Z')
        self.assertIsNone(stranded.stranded(fresh))
        self.assertEqual('elsewhere:1:1', stranded.stranded(old)['run'])

    def test_no_label_and_garbage(self):
        self.assertIsNone(stranded.read({'id': 'x'}))
        self.assertEqual({'run': '', 'started': None, 'targets': [],
                          'checked': False, 'op': 'share',
                          'unrecognised': 'not JSON'},
                         stranded.stranded({stranded.LABEL: 'not json'}))

    def test_a_label_is_believed_only_in_this_modules_shape(self):
        # Regression: bob's label put a shell command into the audit's
        # 'finish it' suggestion.
        evil = "x $(touch pwned) '; id #"
        good = dict(run=DEAD, started='2020-01-01T00:00:00Z', targets=[B])
        for bad, why in (
                (dict(good, targets=[evil]), 'its targets are not project '
                 'IDs'),
                (dict(good, targets=[B] * 101), 'its targets are not '
                 'project IDs'),
                (dict(good, run=evil), 'no run of the form host:pid:start'),
                (dict(good, started=evil), 'its start is not a time'),
                (dict(good, op='rm'), 'unknown op or checked'),
                (dict(good, extra=1), 'unknown field extra'),
                ([1], 'not a JSON object')):
            image = {'id': 'x', 'visibility': 'shared',
                     stranded.LABEL: json.dumps(bad)}
            info = stranded.stranded(image)
            self.assertEqual((why, []), (info['unrecognised'],
                                         info['targets']))
            self.assertIsNone(stranded.warning(image))
            said = stranded.unrecognised_warning(image)
            self.assertIn(why, said)
            self.assertEqual(["openstack image unset --property "
                              "imageshare_sharing x"],
                             messages.suggested_commands(said))
        image = {'id': 'x', stranded.LABEL: 'y' * 5000}
        self.assertEqual('too long', stranded.read(image)['unrecognised'])
        self.assertLess(len(stranded.unrecognised_warning(image)), 600)
        image = {'id': 'x', 'visibility': 'shared',
                 stranded.LABEL: json.dumps(good)}
        self.assertIsNone(stranded.unrecognised_warning(image))
        self.assertIn("'openstack image transfer x --to %s'" % B,
                      stranded.warning(image))
