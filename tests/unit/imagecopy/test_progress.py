"""The progress line, written to the stream the caller gives."""

import io
import re
from unittest import mock

from osc_imageshare.imagecopy import progress
from tests.unit import base
from tests.unit.imagecopy import test_engine

DATA = test_engine.DATA
source = test_engine.source


class Terminal(io.StringIO):
    """What a terminal would be shown."""

    def isatty(self):
        return True


class TestProgress(base.TestCase):

    def test_prints_percent_rate_eta_once_at_the_end(self):
        out = mock.Mock()
        out.isatty.return_value = True
        p = progress.Progress(100, out)
        p(50)
        p(100)
        p(100)
        p.done()
        p.done()
        texts = [c.args[0] for c in out.write.call_args_list]
        self.assertEqual(3, len(texts))
        self.assertIn(' 50.0%', texts[0])
        self.assertIn('100.0%', texts[1])
        self.assertIn('MiB/s', texts[1])
        self.assertEqual('\n', texts[2])

    def test_each_phase_keeps_its_last_line_since_when(self):
        out = Terminal()
        p = progress.Progress(100, out, 'staging')
        p(100)
        p.phase('importing')
        p.status('image importing')
        p.status('image active')     # within 0.25 s: not rewritten
        p.phase('verifying')
        p.done()
        lines = out.getvalue().split('\n')
        self.assertEqual(3, len(lines))
        self.assertRegex(lines[0], r'^\r\x1b\[Kstaging since '
                         r'\d\d:\d\d:\d\d \(0 s\): 100.0%')
        self.assertRegex(lines[1], r'^\r\x1b\[Kimporting since '
                         r'\d\d:\d\d:\d\d \(0 s\): image importing$')
        self.assertEqual('', lines[2])   # verifying printed nothing

    def test_off_a_terminal_one_plain_line_per_phase(self):
        out = io.StringIO()
        p = progress.Progress(100, out, 'staging')
        p(10)
        p(100)
        p.phase('importing')
        p.status('image importing')
        p.status('image active')     # the last state, however soon
        p.phase('verifying')
        p.status('size and sha512 against the source')
        p.done()
        p.done()
        lines = out.getvalue().split('\n')
        self.assertEqual(4, len(lines), lines)
        self.assertRegex(lines[0], r'^staging since \d\d:\d\d:\d\d '
                         r'\(0 s\): 100.0%  .* MiB/s  ETA +0 s$')
        self.assertRegex(lines[1], r'^importing since \d\d:\d\d:\d\d '
                         r'\(0 s\): image active$')
        self.assertRegex(lines[2], r'^verifying since \d\d:\d\d:\d\d '
                         r'\(0 s\): size and sha512 against the source$')
        self.assertEqual('', lines[3])
        self.assertFalse(re.search(r'[\x00-\x09\x0b-\x1f]',
                                   out.getvalue()))

    def test_a_refused_phase_ends_saying_so_not_at_a_percentage(self):
        for out in (io.StringIO(), Terminal()):
            p = progress.Progress(100, out, 'uploading')
            p(5)
            p.end('refused by the target (403 Forbidden)')
            p.phase('staging')
            p(100)
            p.done()
            lines = out.getvalue().replace('\r\x1b[K', '\n').split('\n')
            shown = [line for line in lines if line]
            self.assertRegex(shown[-2], r'^uploading since \d\d:\d\d:\d\d '
                             r'\(0 s\): refused by the target \(403 '
                             r'Forbidden\)$')
            self.assertRegex(shown[-1], r'^staging since .*100.0%')

    def test_import_state_says_what_glance_reports(self):
        src = {'size': 300, 'disk_format': 'qcow2'}
        self.assertEqual('image importing', progress.import_state(
            {'status': 'importing', 'disk_format': 'qcow2'}, src, None))
        self.assertEqual(
            'image importing, Copied 1 MiB, 280 of 300 bytes, converted '
            'qcow2->raw', progress.import_state(
                {'status': 'importing', 'disk_format': 'raw', 'size': 280},
                src, 'Copied 1 MiB'))


class TestImportProgress(test_engine.CopyCase):

    def test_glance_direct_shows_staging_importing_verifying(self):
        self.target.methods = ['glance-direct']
        real = self.target._store
        tasks = self.target.tasks

        def store(img, got, fmt):
            real(img, got, fmt)
            img.update(status='importing', os_glance_import_task='task-1')
            tasks[img['id']] = [{'id': 'task-0', 'message': 'old'}, {
                'id': 'task-1', 'status': 'processing',
                'message': 'Copied 0 MiB'}]
        polls = []

        def poll(body):
            img = self.target.images['new-1']
            polls.append(img['status'])
            if len(polls) == 2:
                img['status'] = 'active'
                del img['os_glance_import_task']
        self.target._store = store
        self.target.fail[('GET', '/v2/images/new-1')] = poll
        err = Terminal()
        with mock.patch.object(progress.Progress, 'EVERY', 0):
            result = self.copy(import_method='glance-direct', progress=err)
        self.assertEqual('copied', result.changes)
        self.assertEqual(1, self.target.calls.count(
            ('GET', '/v2/images/new-1/tasks')))
        shown = [re.sub(r' since \S+ \(\d+ s\)', '', line)
                 for line in err.getvalue().replace('\x1b[K', '').replace(
                     '\r', '\n').split('\n') if line]
        self.assertEqual([
            'staging:', 'staging: 100.0%',
            'importing: image importing, Copied 0 MiB, %d of %d bytes'
            % (len(DATA), len(DATA)),
            'importing: image active, %d of %d bytes' % (len(DATA),
                                                         len(DATA)),
            'verifying: size and sha512 against the source'],
            [line.split('  ')[0] for line in shown])
        self.assertIn('staging since', err.getvalue())

    def test_no_task_message_where_glance_does_not_give_one(self):
        img = {'id': 'x', 'os_glance_import_task': 't'}
        self.assertIsNone(self.target.import_task_message(img))
        self.assertIsNone(self.target.import_task_message({'id': 'x'}))
