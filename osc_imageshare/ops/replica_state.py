"""What ``image replicate`` reads: the series, and the targets' replicas.

``State`` holds the selected sources grouped into series, the targets,
and one ``Pair`` per (series, target) with the replicas proven there
(``series.proven``).  A target's replicas are read with one paged
listing (hidden ones included) by the label ``labels.REPLICA_OF``, the
caller's project: an image there with replica labels that is not proven
is never counted, kept as a replica, or deleted (a warning names it).
"""

import logging

from osc_imageshare.api import clients
from osc_imageshare import errors
from osc_imageshare.imagecopy import labels
from osc_imageshare.imagecopy import methods
from osc_imageshare.imagecopy import verify
from osc_imageshare.ops import companions
from osc_imageshare.ops import recipients
from osc_imageshare.ops import series

LOG = logging.getLogger(__name__)

W_LOOKALIKE = ("Image {id} in project {project} carries the labels of a "
               "replica of image {source} (series {series}) but is not a "
               "proven one ({why}): not counted, never deleted")
W_DUPLICATE = ("Image {source} has {count} proven replicas in project "
               "{project} ({ids}): {first} counts, the others are left as "
               "they are")


def replica_of(ident, glance):
    """The ``REPLICA_OF`` label of the caller's replicas from ``glance``.

    The project and the source region: the same project replicating from
    two regions into one target keeps two sets of replicas, neither
    mistaking the other's sources for deleted ones.
    """
    region = methods.region_of(glance)
    return '%s@%s' % (ident.project_id, region) if region else \
        ident.project_id


class Pair:
    """One series at one target: its sources, the replicas proven there."""

    def __init__(self, state, key, target, sources):
        self.key, self.target, self.sources = key, target, sources
        self.glance = target.glance or state.glance
        self.admin = target.accept is recipients.Accept.ADMIN
        self.where = target.cloud or target.label
        self.replica_of = state.replica_of
        self.replicas = []          # proven, in start order
        self.debris = []            # unfinished copies listed there
        self.error = None
        self._by_id = None          # source ID -> source (source_time)

    def labels(self, image):
        """The labels a replica of ``image`` in this series carries."""
        return {labels.REPLICA_OF: self.replica_of,
                labels.SERIES: series.label_of(self.key),
                labels.SOURCE_CREATED: image.get('created_at') or ''}

    def by_source(self):
        """``{source ID: replica}``: the first proven replica of each."""
        out = {}
        for replica in self.replicas:
            out.setdefault(replica.get(labels.SOURCE_ID), replica)
        return out

    def ranked(self):
        """``[(image, replica or None)]``, newest first.

        The live sources, and the replicas whose source is not one of
        them (deleted, or not selected).
        """
        found = self.by_source()
        items = [(s, found.get(s['id'])) for s in self.sources]
        live = {s['id'] for s in self.sources}
        items += [(r, r) for sid, r in found.items() if sid not in live]
        return sorted(items, key=lambda i: _when(*i), reverse=True)

    def retention(self, keep):
        """``(wanted, beyond)``: the items to have, the replicas to delete.

        With ``keep``, the newest ``keep`` in all (by their source's
        creation time), and never fewer than every item down to the newest
        selected source: neither it nor a newer replica of a deleted
        source is ever beyond.  The proven replicas of the rest are beyond
        it.  Without ``keep``, nothing is beyond.
        """
        ranked = self.ranked()
        if keep is None:
            return ranked, []
        newest = next(n for n, i in enumerate(ranked)
                      if i[0] is self.sources[0])
        cut = max(keep, newest + 1)
        return ranked[:cut], [r for _, r in ranked[cut:] if r is not None]

    def source_time(self, replica):
        """When ``replica``'s source was made, as Glance says it.

        The source's own ``created_at`` where it is selected here, else
        the replica's label (sealed: its source is gone).
        """
        if self._by_id is None:
            self._by_id = {s['id']: s for s in self.sources}
        source = self._by_id.get(replica.get(labels.SOURCE_ID))
        if source is not None:
            return source.get('created_at') or ''
        return series.source_created(replica)


def _when(image, replica):
    if image is replica:
        return (series.source_created(replica),
                replica.get(labels.SOURCE_ID) or '')
    return series.created(image)


def _unproven(image, source):
    """Why a labelled image is not a proven replica, in words."""
    if source is not None:
        return "its data is not the source's"
    if image.get(labels.REPLICA_PROOF) and verify.proof_key(False) is None:
        return ('its source is gone, and this host has no proof key to '
                'check its seal with: copy %s from the host that made it'
                % verify.proof_key_path())
    return 'its source is gone and it bears no seal of a run of yours'


def listing(glance, target, replica_of):
    """The images labelled replicas of ``replica_of``'s at ``target``.

    One paged listing, hidden ones included; the error line instead if
    it cannot be read.  A ``--to-cloud`` entry's is the first request to
    its Glance: if it cannot be reached, the command stops there.
    """
    there = target.glance or glance

    def read():
        return there.list_images_and_hidden(**{
            'owner': target.project_id, 'limit': there.PAGE,
            labels.REPLICA_OF: replica_of})
    try:
        if target.cloud:
            return clients.check_reachable(there, target.cloud, read=read)
        return read()
    except (errors.GlanceError, errors.TransportError) as e:
        return ('Could not read the replicas in project %s: %s'
                % (target.label, errors.describe(e)))


class State:
    """The sources, series, targets and replicas of one run."""

    def __init__(self, glance, ident, sources, targets, failed):
        self.glance, self.ident = glance, ident
        self.replica_of = replica_of(ident, glance)
        self.sources, self.targets, self.failed = sources, targets, failed
        self.warnings = []
        self.planned = {}       # id(target Glance) -> what copies use
        self.series = {}
        self.pairs = []
        self._looked_up = {}
        self._companions = {}       # companion ID -> the image, or None
        # (companion ID, id(target)) -> its copy's ID there, or the
        # replicate.Entry of the step that makes it; those entries in order.
        self.companion_copies = {}
        self.companion_entries = []

    def companion(self, image_id):
        """A companion (kernel, ramdisk) as the caller reads it, or None."""
        if image_id not in self._companions:
            self._companions[image_id] = companions.readable(self.glance,
                                                             image_id)
        return self._companions[image_id]

    def group(self, series_by=None):
        """Each source into its series (newest first); refusals failed."""
        for image in self.sources:
            try:
                key = series.key_of(image, series_by)
            except errors.ImageShareError as e:
                self.failed[image['id']] = str(e)
                continue
            self.series.setdefault(key, []).append(image)
        for key, images in self.series.items():
            images.sort(key=series.created, reverse=True)
        self.pairs = [Pair(self, key, t, self.series[key])
                      for key in sorted(self.series) for t in self.targets]

    def sort_targets(self, listings):
        """Each pair's replicas, proven, from ``listings`` (``listing``)."""
        for target in self.targets:
            pairs = [p for p in self.pairs if p.target is target]
            listed = listings.get(id(target))
            if isinstance(listed, str):
                for p in pairs:
                    p.error = listed
                continue
            for p in pairs:
                self._sort(p, [i for i in listed or ()
                               if i.get(labels.SERIES)
                               == series.label_of(p.key)])

    def _sort(self, pair, listed):
        """``listed`` (labelled this series) into replicas and the rest."""
        mine = {s['id']: s for s in pair.sources}
        for image in sorted(listed, key=labels.start_order):
            if image.get('status') != 'active' or image.get(labels.COPIER):
                # Not finished (a run made it, or died making it): the
                # copy of its source cleans it up or waits for it.
                pair.debris.append(image)
                continue
            sid = image.get(labels.SOURCE_ID)
            source = mine.get(sid)
            if source is None and self._source(sid) is not None:
                # Its source lives but is not one of this series' selected
                # images (another selection, series or project member's
                # run): neither counted nor deleted here, whatever its
                # labels say; its own series' run ranks it by its source.
                LOG.info('Image %s: a replica of %s, which this run does '
                         'not select in series %s: left alone', image['id'],
                         sid, pair.key)
                continue
            if series.proven(image, source):
                pair.replicas.append(image)
                continue
            self.warnings.append(W_LOOKALIKE.format(
                id=image['id'], project=pair.target.label, source=sid,
                series=pair.key, why=_unproven(image, source)))
        for sid, replica in pair.by_source().items():
            extra = [r['id'] for r in pair.replicas
                     if r.get(labels.SOURCE_ID) == sid]
            if len(extra) > 1:
                self.warnings.append(W_DUPLICATE.format(
                    source=sid, count=len(extra), project=pair.target.label,
                    ids=', '.join(extra), first=replica['id']))

    def _source(self, image_id):
        """A source not selected: the image, or None if it is gone."""
        if not image_id:
            return None
        if image_id not in self._looked_up:
            try:
                self._looked_up[image_id] = self.glance.get_image(image_id)
            except errors.NotFound:
                self._looked_up[image_id] = None
        return self._looked_up[image_id]
