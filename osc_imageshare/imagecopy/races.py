"""Runs copying the same image at the same time end with one copy.

The copy that started first wins (``labels.start_order``); the others
delete theirs and report the winner's.
"""

import logging

from osc_imageshare.batch import signals
from osc_imageshare.imagecopy import labels
from osc_imageshare.imagecopy import verify

LOG = logging.getLogger(__name__)


def winner(target_glance, source, project_id, mine, before=False):
    """Another run's copy that wins over ``mine``, once it is settled.

    The copy that started first wins.  ``before``: ``mine`` has no data
    yet, so any verified copy wins, and a live one that started first
    will.  After: wait for live copies that started first to finish.
    """
    while True:
        others = [i for i in delete_orphans(target_glance, source,
                                            project_id, mine)
                  if labels.same_kind(i, mine)]
        done = [i for i in others if verify.proven(i, source)]
        mine_at = labels.start_order(mine)
        earlier = [i for i in others if i.get('status') != 'active'
                   and labels.start_order(i) < mine_at and labels.is_live(i)]
        if before and done:
            return min(done, key=labels.start_order)
        if before:
            if not earlier:
                return None
            # Let the first run finish; copy only if it does not.
            return await_earlier(target_glance, source, project_id, earlier)
        first = min(done + [mine], key=labels.start_order)
        if not earlier:
            return None if first is mine else first
        signals.sleep(1)


def delete_orphans(target_glance, source, project_id, mine=None,
                   kind=None):
    """The copies of ``source`` but ``mine``, less this process's others.

    This process makes one copy of a kind (``labels.same_kind`` as
    ``mine``, or as ``kind``, the body of a create) of a source into a
    project at a time: an image of that kind it labelled that is not
    ``mine`` is an orphan (a create whose answer was an error, though the
    image was made), which other runs would take for a live copy and
    wait for.  A copy of another kind (a replica beside a companion's
    plain copy of the same image) may be under way in another thread.
    """
    me = labels.whoami()
    kind = mine if mine is not None else kind
    found = []
    for img in labels.labelled(target_glance, source, project_id):
        if mine is not None and img['id'] == mine['id']:
            continue
        if img.get(labels.COPIER) == me and labels.is_debris(img) and (
                kind is None or labels.same_kind(img, kind)):
            LOG.info('Image %s: %s', source['id'],
                     target_glance.delete_quietly(img['id'], project_id))
            continue
        found.append(img)
    return found


def await_earlier(target_glance, source, project_id, earlier):
    """The first of ``earlier`` to be proven, or None once none is live."""
    while True:
        signals.sleep(1)
        now = {i['id']: i for i in labels.labelled(target_glance, source,
                                                   project_id)}
        for img in earlier:
            cur = now.get(img['id'])
            if cur and verify.proven(cur, source):
                return cur
        earlier = [now[i['id']] for i in earlier if i['id'] in now
                   and labels.is_live(now[i['id']])]
        if not earlier:
            return None
