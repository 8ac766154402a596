"""Copy an image into another project: one verified pass, on any Glance.

The target Glance may take the data three ways (``METHODS``, see
``methods``): a streamed upload, glance-direct, or glance-download (the
target Glance pulls the image itself: no byte goes through the client).

Streamed (``stream``), the data flows from the source Glance straight
into the target Glance, memory bounded, nothing on disk.  The copy is
checked against the source (``verify``): Glance's own size and hash of
the copy, and the client's hash of the stream where Glance's cannot
prove the bytes.  The source is only read.

Nothing is left behind: the copy records who makes it and since when
(``labels``, refreshed by ``heartbeat`` while the data moves); on any
error, mismatch or caught signal (INT, TERM, HUP) the half-made copy is
deleted (in a worker of a parallel batch, the main thread catches the
signal and the worker stops at its next check: see
``osc_imageshare.batch.signals``); a later run deletes the leftovers of
runs that died (SIGKILL, a machine lost) before copying; and runs
copying the same image at the same time end with one copy, the one that
started first (``races``).

This module runs a copy: ``copy_image`` and its ``CopyResult``;
``plan_copy``, ``region_of`` and ``METHODS`` are the
callers' too.
"""

import contextlib
import dataclasses
import logging
import time

from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.imagecopy import heartbeat
from osc_imageshare.imagecopy import importing
from osc_imageshare.imagecopy import labels
from osc_imageshare.imagecopy import limits
from osc_imageshare.imagecopy import methods
from osc_imageshare.imagecopy import progress
from osc_imageshare.imagecopy import races
from osc_imageshare.imagecopy import reuse
from osc_imageshare.imagecopy import stream
from osc_imageshare.imagecopy import verify

LOG = logging.getLogger(__name__)

METHODS = methods.METHODS
plan_copy = methods.plan_copy
region_of = methods.region_of
candidates = methods.candidates
Unavailable = methods.Unavailable
Interrupted = signals.Interrupted
PHASES = {'upload': 'uploading', 'glance-direct': 'staging'}


@dataclasses.dataclass
class CopyResult:
    """A copy made (or found); ``row()`` is its row in copy mode."""

    source: dict
    image: dict
    project_id: str
    seconds: float = 0.0
    changes: str = 'copied'
    method: str = 'upload'

    def row(self):
        size = self.image.get('size') or 0
        rate = (size / self.seconds / stream.CHUNK
                if self.seconds and self.method != 'glance-download'
                else None)
        return (self.source['id'], self.image['id'], self.image.get('name'),
                self.project_id, size, '%s:%s' % (
                    self.image.get('os_hash_algo'),
                    self.image.get('os_hash_value')),
                round(self.seconds, 2), rate and round(rate, 1),
                self.changes, self.method)


def check_copy(glance, target_glance, source, project_id, method,
               keep_id=False, planned=None):
    """Refuse, while planning, what refuses the copy before any write.

    ``--keep-id`` into the source's own Glance or onto an ID an image
    there holds; the target's quotas for the first ``method`` (``planned``:
    see ``limits.check_quotas``).  ``copy_image`` checks again before its
    create: another run may have taken the ID or the quota meanwhile.
    """
    if keep_id:
        limits.check_keep_id(glance, target_glance, source, project_id)
        limits.check_id_free(target_glance, source, project_id)
    limits.check_quotas(target_glance, source, project_id, method, planned)


def copy_image(glance, target_glance, source, project_id, name=None,
               visibility=None, source_cloud=None, progress=None,
               as_admin=False, import_method='auto', keep_signature=False,
               warn=None, keep_id=False, methods=None, listed=None,
               replica=None):
    """Copy ``source`` into ``project_id`` through ``target_glance``.

    ``name`` and ``visibility`` (default: the source's name, private)
    are what the copy is to have: a verified copy already there is
    brought to those given.  ``as_admin``: ``target_glance`` is an
    admin's, which creates the copy owned by ``project_id``.
    ``import_method``: one of ``METHODS`` or 'auto'.  ``warn(sentence)``
    reports what the user should know.  ``progress``: a text stream the
    progress line is written to (None: no progress line).
    ``keep_id``: the copy gets the source's ID (another Glance only).
    ``methods``: the methods ``plan_copy`` chose, tried in that order
    (``import_method`` is then not probed again); ``listed``: the copies
    ``reuse.existing_copy`` listed there (not listed again).
    ``replica``: the labels of a replica (``labels.REPLICA_OF``,
    ``SERIES``, ``SOURCE_CREATED``): the copy carries them.  Only copies
    of the same kind (``labels.of_kind``: the same replica labels, or
    none for a plain copy) are reused, cleaned or raced with.
    Raises ImageShareError (one line, the half-made copy cleaned) on
    failure, Interrupted (SystemExit) on a caught signal.
    """
    warn = warn or LOG.warning
    algo, expected = verify.source_hash(source)
    tag = '%s:%s' % (algo, expected)
    if keep_id:
        limits.check_keep_id(glance, target_glance, source, project_id)
    # One listing of the copies there serves the reuse and the clean-up.
    found = labels.copies(target_glance, source, project_id) \
        if listed is None else listed
    found = labels.of_kind(found, replica, tag)
    existing = verify.find_copy(found, source, project_id, tag, warn)
    if existing:
        existing, changes = reuse.bring_to(target_glance, existing,
                                           project_id, name, visibility)
        return CopyResult(source, existing, project_id, 0.0, changes,
                          'none')
    if keep_id:
        limits.check_id_free(target_glance, source, project_id)
    labels.clean_leftovers(target_glance, source, project_id, warn, found)
    body = _body(source, project_id, tag, name=name, visibility=visibility,
                 source_cloud=source_cloud, as_admin=as_admin,
                 keep_signature=keep_signature, keep_id=keep_id, warn=warn)
    body.update(replica or {})
    job = _Job(glance, target_glance, source, project_id, body, progress,
               warn)
    order = _order(job, import_method, methods)
    limits.check_quotas(target_glance, source, project_id, order[0])
    return _first_that_works(job, order)


def _body(source, project_id, tag, name, visibility, source_cloud, as_admin,
          keep_signature, keep_id, warn):
    """What the copy is created with: the source's properties, labels."""
    props = labels.carried_properties(source, keep_signature)
    dropped = sorted(set(labels.carried_properties(source, True))
                     - set(props))
    if dropped:
        warn("Image %s: signature properties not copied (%s): the target "
             "would verify them against a certificate it may not have; "
             "--keep-signature keeps them" % (source['id'],
                                              ', '.join(dropped)))
    body = dict(props, name=name or source.get('name'),
                visibility=visibility or 'private')
    body.update({labels.SOURCE_ID: source['id'], labels.SOURCE_HASH: tag,
                 labels.COPIER: labels.whoami()})
    if source_cloud:
        body[labels.SOURCE_CLOUD] = source_cloud
    body['tags'] = source.get('tags') or []
    if as_admin:
        body['owner'] = project_id
    if keep_id:
        body['id'] = source['id']
    return body


@dataclasses.dataclass
class _Job:
    """One copy: what every attempt at it needs."""

    glance: object
    target_glance: object
    source: dict
    project_id: str
    body: dict
    progress: object
    warn: object
    #: With --keep-id: ``(image, announced methods)`` a refused method
    #: left queued, for the next method to take over.
    kept: tuple = None

    def failed(self, text):
        return 'Could not copy image %s into project %s: %s' % (
            self.source['id'], self.project_id, text)


def _order(job, import_method, planned):
    """The methods to try: the plan's, else the target's, best first."""
    if planned:
        return list(planned)
    try:
        order, notes = candidates(job.glance, job.target_glance, job.source,
                                  import_method)
    except errors.ImageShareError as e:
        raise errors.ImageShareError(job.failed(e))
    for note in notes:
        LOG.info('Image %s: %s', job.source['id'], note)
    return order


def _first_that_works(job, order):
    """The copy by the first method of ``order`` the target takes."""
    why = []
    for method in order:
        try:
            return _retried(job, method)
        except Unavailable as e:
            why.append('%s: %s' % (method, e))
            if method != order[-1]:
                LOG.info('Image %s: %s; trying %s', job.source['id'], e,
                         order[order.index(method) + 1])
    done = 'nothing was left behind'
    if job.kept:    # the last method refused too
        done = job.target_glance.delete_quietly(job.kept[0]['id'],
                                                job.project_id)
        job.kept = None
        if 'was deleted' in done:
            done += (" (Glance keeps a deleted image's ID: --keep-id cannot "
                     "use it there again until that Glance's database is "
                     "purged)")
    raise errors.ImageShareError(job.failed(
        'the target takes no import method that works here (%s); %s'
        % ('; '.join(why), done)))


class _Transient(errors.ImageShareError):
    """The target answered 5xx: worth one more attempt."""


def _retried(job, method):
    """``_copy_by``, once more after a server error of the target."""
    try:
        return _copy_by(job, method)
    except _Transient as e:
        LOG.info('%s; trying once more', e)
    return _copy_by(job, method, again=False)


def _copy_by(job, method, again=True):
    """One attempt by ``method``: a CopyResult, or the image cleaned.

    ``again``: a server error is tried once more (``_retried``).
    """
    attempt = _Attempt(job, method)
    try:
        with heartbeat.catch_signals():
            return attempt.run()
    except Unavailable as e:
        if attempt.meter:   # its line ends saying so, not at a percentage
            attempt.meter.end(str(e))
        done = attempt.cleanup(hand_over=True)
        if 'could not' in done:
            job.warn('Image %s: %s' % (job.source['id'], done))
        raise
    except (heartbeat.Caught, signals.Stopped, KeyboardInterrupt) as e:
        done = attempt.cleanup()
        raise Interrupted('Interrupted by %s while copying image %s into '
                          'project %s: %s' % (
                              getattr(e, 'name', 'SIGINT'),
                              job.source['id'], job.project_id, done))
    except BaseException as e:
        done = attempt.cleanup(hand_over=again and server_error(e))
        failure = _failure(e, attempt, done)
        if failure is None:
            raise
        raise failure


def _failure(e, attempt, done):
    """The one-line error for ``e`` (None: ``e`` itself, unchanged)."""
    if isinstance(e, errors.ImageShareError) and not isinstance(
            e, errors.GlanceError) and attempt.target is None:
        return None
    if isinstance(e, errors.GlanceError):
        text = errors.describe(e)
        if getattr(e, 'code', None) == 413:
            text += (' (the target limits image size, image_size_cap, '
                     'or storage)')
    elif isinstance(e, (errors.TransportError, errors.ImageShareError)):
        text = str(e)
    else:
        return None
    kind = _Transient if server_error(e) else errors.ImageShareError
    job = attempt.job
    return kind('Could not copy image %s into project %s by %s: %s; %s'
                % (job.source['id'], job.project_id, attempt.method, text,
                   done))


def server_error(e):
    """Whether ``e`` is an answer 5xx of Glance."""
    code = getattr(e, 'code', None)
    return isinstance(code, int) and code >= 500


class _Attempt:
    """One attempt at a copy by one method, and what it leaves to clean."""

    def __init__(self, job, method):
        self.job, self.method = job, method
        self.target = self.beat = self.announced = None
        if job.kept:    # the image a refused try left (_create)
            (self.target, self.announced), job.kept = job.kept, None
        self.meter = progress.Progress(
            job.source.get('size'), job.progress,
            phase=PHASES.get(method, 'importing')) if job.progress else None
        self.started = time.monotonic()

    def run(self):
        """Create the copy, move the data, verify, settle races."""
        job = self.job
        signals.check()
        # Few labels while it is made (they count against the target's
        # image_property_quota): its source and who makes it (when:
        # created_at; alive: updated_at, see heartbeat); the source cloud
        # once it is verified (see labels.finish).
        body = dict(job.body)
        cloud = body.pop(labels.SOURCE_CLOUD, None)
        announced = self._create(body)
        winner = races.winner(job.target_glance, job.source, job.project_id,
                              self.target, before=True)
        if winner:
            return self._lost(winner)
        if self.method == 'glance-direct' and announced is not None \
                and self.method not in announced:
            raise Unavailable('the target does not enable it (it '
                              'announces: %s)' % ', '.join(announced))
        signals.check()
        self.beat = heartbeat.Heartbeat(job.target_glance, self.target['id'],
                                        body[labels.COPIER])
        copy = self._move(body)
        self.beat.stop()
        signals.check()
        seconds = time.monotonic() - self.started
        copy, changes = self._verified(copy)
        winner = races.winner(job.target_glance, job.source, job.project_id,
                              copy)
        if winner:
            return self._lost(winner)
        copy, changes = labels.finish(job.target_glance, copy, changes,
                                      job.warn, cloud)
        return CopyResult(job.source, copy, job.project_id, seconds,
                          changes, self.method)

    def _create(self, body):
        """Create the copy (``self.target``); what the target announces.

        With ``--keep-id``, the image an earlier method left queued (its
        way in refused before any data) is taken over instead: Glance
        keeps a deleted image's ID, so deleting it and creating it again
        would be refused (409) and the ID lost in that Glance for good.
        """
        job = self.job
        if self.target is not None:     # taken over (__init__)
            return self.announced
        try:
            self.target, announced = job.target_glance.create_image(body)
            self.announced = announced
        except (errors.GlanceError, errors.ImageShareError) as e:
            # A create that failed late may have made the image.
            with contextlib.suppress(errors.GlanceError,
                                     errors.ImageShareError):
                races.delete_orphans(job.target_glance, job.source,
                                     job.project_id, kind=body)
            raise (_Transient if server_error(e) else
                   errors.ImageShareError)(
                limits.create_refused(e, job.source, job.project_id, body,
                                      job.target_glance))
        if self.target.get('owner') != job.project_id:
            raise errors.ImageShareError(
                'The target credentials create images in project %s, '
                'not %s' % (self.target.get('owner'), job.project_id))
        return announced

    def _move(self, body):
        """The data into the copy: pulled by the target, or streamed."""
        job = self.job
        if self.method == 'glance-download':
            return importing.pull(job.glance, job.target_glance, job.source,
                                  self.target, body, self.meter)
        algo, expected = verify.source_hash(job.source)
        return stream.send(job.glance, job.target_glance, job.source,
                           self.target, self.method, self.meter, algo,
                           expected)

    def _verified(self, copy):
        """``(copy, changes)``: verified, a converted one given its proof."""
        job = self.job
        algo, expected = verify.source_hash(job.source)
        if self.meter:
            self.meter.phase('verifying')
            self.meter.status('size and %s against the source' % algo)
        changes = verify.verify_copy(job.target_glance, job.source, copy,
                                     self.method, algo, expected)
        if self.meter:
            self.meter.done()
        if changes != 'copied':
            copy = job.target_glance.patch_image(copy['id'], add={
                labels.CONVERTED: '%s->%s' % (job.source.get('disk_format'),
                                              copy.get('disk_format')),
                labels.PROOF: verify.proof(copy)})
        return copy, changes

    def _lost(self, winner):
        job = self.job
        done = job.target_glance.delete_quietly(self.target['id'],
                                                job.project_id)
        LOG.info('Image %s: another run copied it first (%s); %s',
                 job.source['id'], winner['id'], done)
        return CopyResult(job.source, winner, job.project_id,
                          time.monotonic() - self.started,
                          'none (copied by another run at the same time)',
                          'none')

    def cleanup(self, hand_over=False):
        """Stop the beat and the meter, delete the half-made copy.

        ``hand_over``: another try follows (the method was refused, or
        the target's server error is tried once more); with ``--keep-id``,
        a copy still queued (no data in it) is kept for it (``_create``)
        rather than deleted.
        """
        with heartbeat.deaf():
            if self.beat:
                self.beat.stop()
            if self.meter:
                self.meter.done()
            if self.target is None:
                return 'nothing was left behind'
            if hand_over and 'id' in self.job.body and self._queued():
                self.job.kept = (self.target, self.announced)
                return 'image %s kept, queued, for the next try' % (
                    self.target['id'])
            return self.job.target_glance.delete_quietly(
                self.target['id'], self.job.project_id)

    def _queued(self):
        """Whether the copy is still queued: nothing was stored in it."""
        try:
            image = self.job.target_glance.get_image(self.target['id'])
        except (errors.GlanceError, errors.ImageShareError):
            return False
        return image.get('status') == 'queued' and not image.get('size')
