"""Every warning and error sentence that more than one module says.

Each is worded once, here; scripts may match them, so the wording is
stable.  Fields are filled with ``str.format``.
"""

import re
import shlex

# -- the risks of a share (image share status, image transfer)
W_DEPENDS = ("Image {id} stays in project {owner_label}: if that project "
             "deletes or unshares it, or the project is closed, instances "
             "booted from it in other projects can fail to rebuild, evacuate "
             "or migrate.")
W_UNPROTECTED = ("Image {id} is not protected and {count} project(s) have "
                 "accepted it: the owner can delete it by accident; protect "
                 "it with 'openstack image set --protected {id}'.")
W_UNPROTECTED_MEMBER = (
    "Image {id} is not protected and your project {member_label} has "
    "accepted it: the owner can delete it by accident (Glance shows a "
    "member only its own membership: other projects may use it too); ask "
    "project {owner_label} to protect it.")
W_PENDING = ("Project {member_label} has not accepted image {id} (pending "
             "since {since}): the image is hidden from its image list until "
             "it runs 'openstack image share accept {id}'.")
W_REJECTED = ("Project {member_label} has rejected image {id}: Glance hides "
              "it from that project's image lists, but the project can still "
              "accept it, and can still boot it by its ID; ask the project to "
              "accept it (in that project: '{accept}'), or revoke its "
              "membership ('{revoke}').")
# After a run that left a target rejected (--no-accept, or no way to
# accept for it): the same, saying the run did not change it.
W_STAYS_REJECTED = ("Project {member_label} has rejected image {id}, and "
                    "this run {left} it rejected: Glance hides the image from "
                    "that project's image lists, but the project can still "
                    "accept it, and can still boot it by its ID; ask the "
                    "project to accept it (in that project: '{accept}'), or "
                    "revoke its membership ('{revoke}').")
# 'image share revoke' removes the member string as listed; 'image remove
# project' would resolve it as a project name (another project's).
W_NOT_PROJECT = ("Member {member} of image {id} is not an existing project "
                 "(Glance accepts any string, a project name or a typo "
                 "included): nobody can accept it; remove it {remove}.")
W_NOT_KIND = ("Member {member} of image {id} is a {what}, not a project: "
              "nobody can accept it; remove it {remove}.")
W_DOMAIN_DISABLED = (
    "Project {member_label} is enabled, but its domain {domain} is "
    "disabled: none of its users can get a token, so it cannot use image "
    "{id} until the domain is enabled ('openstack domain set --enable "
    "{domain_arg}'); if it is closed for good, remove it {remove}.")
# {remove}: how a member is removed (``removal``).
REMOVE_WITH = "with 'openstack image share revoke {id_arg} {member_arg}'"
REMOVE_NO_URL = ("only in Glance's database: Glance cannot address a member "
                 "ID with a '/', a '..' or a character outside ASCII by URL, "
                 "so no command removes it")
W_NOT_SHARED = ("Image {id} has visibility '{visibility}': Glance neither "
                "lists nor honours members of such an image; any members it "
                "has stay inactive until it is set 'shared' again.")
# A private image: status cannot list its members (Glance hides them),
# so it says what holds whether or not it has any.
W_PRIVATE_HIDES = ("Image {id} is private: no other project can use it. "
                   "Glance does not list the members of a private image: "
                   "those it had when it was made private, if any, get "
                   "their access back if it is set 'shared' again.")
W_UNVERIFIED = ("Project ID {to} could not be verified (you may not look "
                "projects up); Glance accepts any string as a member, so "
                "check it is right.")

# -- the members a private image hides (image transfer, share revoke)
# Whether a private image was ever shared, and so has members, nobody
# can tell: the sentence says what holds either way.
W_HIDDEN = ("Image {id} is private: if it was shared before, it may still "
            "have members from then, whom Glance does not list (nobody can) "
            "and whom making it shared gives their access back; the run "
            "reads them right after sharing and {then}.")
HIDDEN_THEN = {
    'refuse': "stops, setting it private again, if there are any (give "
              "--revoke-earlier-members or --keep-earlier-members)",
    'revoke': "removes them (--revoke-earlier-members)",
    'keep': "keeps them, naming them (--keep-earlier-members)",
}
E_EARLIER = ("Image {id} was private with earlier members, whom setting it "
             "shared gave their access back: {members}; it is private again "
             "and was not shared. Give --revoke-earlier-members to remove "
             "them, or --keep-earlier-members to keep them")
W_KEPT = ("Image {id} was private with earlier members, who have their "
          "access back (--keep-earlier-members): {members}.")
E_PRIVATE_MEMBERS = ("Image {id} is private: Glance neither lists nor "
                     "removes the members of a private image (they are "
                     "hidden, and come back if it is shared again); give "
                     "--share-briefly to set it shared for as long as it "
                     "takes to remove them, then private again")
W_STILL_HIDDEN = ("Image {id} is private again and still hides members, who "
                  "come back if it is shared again: {members}.")

# -- a share under way (the imageshare_sharing label)
W_LEFT = ("Image {id} is left {state} by this run, its label {label} "
          "naming what it was doing: re-run the same command to finish it "
          "(or undo it, if a check fails)")
E_LIVE_RUN = ("Image {id} is being shared by another run ({run}, since "
              "{started}); try again once it is done")
W_STRANDED = ("Image {id} was left mid-transfer by run {run} (started "
              "{started}), which is gone{unchecked}: finish it by re-running "
              "the interrupted command ({rerun}), or undo it with "
              "'openstack image share revoke {id_arg} --all "
              "--share-briefly'.")
STRANDED_RERUN = ("'openstack image transfer {id_arg}{to}' with its other "
                  "options")
STRANDED_RERUN_UNNAMED = "its label names no target: with the same options"
W_UNRECOGNISED_LABEL = (
    "Image {id} carries a label {key} that is not one this plugin writes "
    "({why}), ignored: {text}. If no run of this plugin is under way, remove "
    "it with 'openstack image unset --property {key_arg} {id_arg}'.")
W_STRANDED_UNCHECKED = (" before it checked the members the private image "
                        "hid, who have their access back")
W_STRANDED_REVOKE = ("Image {id} was left shared by run {run} (started "
                     "{started}), which died while revoking the members of "
                     "the private image: they have their access back; finish "
                     "it with 'openstack image share revoke {id_arg} --all "
                     "--share-briefly'.")
E_REVOKE_INTERRUPTED = ("Interrupted by {name} while revoking the members "
                        "of image {id} (removed: {removed}): it is private "
                        "again, hiding the members not removed; run the "
                        "same command again to remove them")

# -- image share set racing another run
E_MEMBERS_CHANGED = ("The members of image {id} changed since this run read "
                     "them ({changes}): another run is changing them; "
                     "nothing was written, run the command again")
E_MEMBER_MOVED = ("Image {id}: another run changed member {member} while "
                  "this one ran: it is now {now}, not {expected}; run the "
                  "command again")

# -- exit summaries of the commands that act on several things
E_PARTIAL = 'Failed to {verb} {failed} of {total} {things}'

# -- a batch says each kind of warning once, naming the images it concerns
IMAGE = '<image>'
# Where the image ID stood while sentences are compared: a character no
# sentence holds (a literal '<image>' in one, as in a command's
# placeholder, stays as it is).
_MARK = '\x00'
W_IMAGES = '{sentence} ({count} images: {listed})'
W_IMAGES_MORE = '{shown} and {more} more; -v lists them'
# Listed in full up to this many, or always with -v or --debug.
SHORT_LIST = 3
_IMAGE_ID = re.compile(
    r'\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b')


def arg(value):
    """A value from the cloud as one word of a command to paste."""
    return shlex.quote('' if value is None else str(value))


def addressable(member):
    """Whether Glance can address ``member`` by URL (to remove it).

    Glance routes on the decoded path: a '/' or a '..' splits it, and a
    character outside ASCII is not matched.
    """
    return '/' not in member and '..' not in member and member.isascii()


def removal(image_id, member):
    """``{remove}``: how ``member`` of ``image_id`` is removed, in words."""
    if not addressable(member):
        return REMOVE_NO_URL
    return REMOVE_WITH.format(id_arg=arg(image_id),
                              member_arg=positional(member))


def positional(value):
    """``arg`` as a command's last argument: after '--' if it begins '-'.

    (``image share revoke <image> -x`` would read ``-x`` as an option.)
    """
    word = arg(value)
    return '-- ' + word if word.startswith('-') else word


_COMMAND = re.compile(r"'openstack ")


def suggested_commands(text):
    """The commands a sentence suggests: each ``'openstack ...'``.

    A command is written between single quotes, each value in it quoted
    by ``arg`` (``shlex.quote``: ``'...'`` runs and ``"'"``); a quote
    opens a quoted run only at the start of a word or right after such a
    run.  Returns the commands' text, to give to ``shlex.split``.
    """
    out = []
    for found in _COMMAND.finditer(text):
        i, quoted, double = found.end(), False, False
        while i < len(text):
            c = text[i]
            if double:
                double = c != '"'
            elif quoted:
                quoted = c != "'"
            elif c == '"':
                double = True
            elif c == "'":
                if text[i - 1] not in ' "':
                    break       # the end of the command
                quoted = True   # a quoted run opens
            i += 1
        out.append(text[found.end() - len('openstack '):i])
    return out


def label(project_id, name):
    """A project in a sentence: ``name (id)`` where the name is known.

    Both are the cloud's data: made ``printable``.
    """
    if name:
        return '%s (%s)' % (visible(name), visible(project_id))
    return visible(project_id)


_NAMED_ESCAPES = {'\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t'}


def printable(text):
    """``text`` as one line of printable characters, reversibly.

    A backslash, a newline, a tab, an escape or any other character
    Python does not call printable is written as Python's ``repr`` writes
    it (``\\\\``, ``\\n``, ``\\t``, ``\\x1b``, ``\\u202e``), without the
    quotes: a name another project chose can neither split a row of
    ``-f value`` into two lines nor drive the terminal.
    """
    text = str(text)
    if text.isprintable() and '\\' not in text:
        return text
    return ''.join(_NAMED_ESCAPES.get(ch) or (
        ch if ch.isprintable() else repr(ch)[1:-1]) for ch in text)


def visible(text):
    """``text``, its unprintable characters escaped as ``printable`` does.

    Its backslashes stay as they are: a sentence, not a value to read back.
    """
    text = str(text)
    if text.isprintable():
        return text
    return ''.join(ch if ch.isprintable() else printable(ch) for ch in text)


def member_list(members, name_of):
    """``beta (id) accepted, id2 pending`` for member dicts of Glance."""
    return ', '.join('%s %s' % (label(m['member_id'], name_of(
        m['member_id'])), m['status']) for m in members)


def _listed(ids, full):
    if full or len(ids) <= SHORT_LIST:
        return ', '.join(ids)
    return W_IMAGES_MORE.format(shown=', '.join(ids[:SHORT_LIST]),
                                more=len(ids) - SHORT_LIST)


def grouped(warnings, full=False):
    """The warnings, each kind once.

    The same sentence about several images becomes one, with ``<image>``
    for the ID, followed by the images it concerns (the first few, or
    with ``full`` every one), where the first of them stood.  A sentence
    about one image, or naming several, is kept as it is (once).
    """
    kinds = {}      # sentence, its image as <image> -> [image IDs]
    for w in warnings:
        ids = set(_IMAGE_ID.findall(w))
        if len(ids) != 1:
            kinds.setdefault(w, [])
            continue
        [image] = ids
        found = kinds.setdefault(_IMAGE_ID.sub(_MARK, w), [])
        if image not in found:
            found.append(image)
    out = []
    for sentence, ids in kinds.items():
        if len(ids) < 2:
            out.append(sentence.replace(_MARK, ids[0]) if ids else sentence)
        else:
            out.append(W_IMAGES.format(
                sentence=sentence.replace(_MARK, IMAGE), count=len(ids),
                listed=_listed(ids, full)))
    return out


# -- the kinds of image another project cannot simply use (osc_imageshare
#    .kinds): image share status warns, image transfer refuses
INSTEAD_VOLUME = (
    "make a volume from the snapshot and upload it as an image ('openstack "
    "volume create --snapshot {snapshot} --size <GiB> <volume>', then "
    "'openstack image create --volume <volume> <image>') and transfer that "
    "image, or move the volume itself ('openstack volume transfer request "
    "create <volume>', accepted in the other project)")
W_KIND_VOLUME_BACKED = (
    "Image {id} is a snapshot of a volume-backed server ({why}): its data "
    "is not in Glance but in Cinder snapshot(s) {snapshots} of project "
    "{owner_label}, which another project cannot read: it can see the "
    "image but not boot from it; instead " + INSTEAD_VOLUME + ".")
E_VOLUME_BACKED = (
    "Image {id} is a snapshot of a volume-backed server ({why}): its data "
    "is Cinder snapshot(s) {snapshots} of project {owner_label}, which the "
    "target cannot read, so {outcome}; nothing was changed. Instead "
    + INSTEAD_VOLUME + "{allow}")
VOLUME_OUTCOME = {
    'share': 'it could see the image but not boot from it',
    'copy': 'a copy would be 0 bytes that boot nowhere',
}
ALLOW_VOLUME_BACKED = (
    "; or give --allow-volume-backed if the target can read those "
    "snapshots itself")
W_ALLOWED_VOLUME_BACKED = (
    "Image {id} is a snapshot of a volume-backed server, shared anyway "
    "(--allow-volume-backed): it boots in another project only if that "
    "project can read Cinder snapshot(s) {snapshots} itself.")
W_KIND_COMPANIONS = (
    "Image {id} boots only with its companion images ({companions}): a "
    "project that can read the image but not them cannot boot it; share or "
    "copy them with it.")
KEY_IN_OWNER = (
    "its key {key} stays in the key manager of project {owner_label}, so a "
    "volume made from it in another project cannot be opened unless that "
    "project's users are granted read access to the secret (Barbican: "
    "'openstack acl user add --user <user-id> --operation-type read "
    "<secret-href>', the href ending in /secrets/{key})")
W_KIND_ENCRYPTED = (
    "Image {id} is the image of an encrypted volume: " + KEY_IN_OWNER + ".")
E_ENCRYPTED = (
    "Image {id} is the image of an encrypted volume: " + KEY_IN_OWNER
    + "; nothing was changed. Grant that access, then give "
      "--allow-encrypted")
W_ALLOWED_ENCRYPTED = (
    "Image {id} is the image of an encrypted volume, given to project "
    "{target} anyway (--allow-encrypted): its key {key} stays in the key "
    "manager of project {owner_label}; a volume made from it there opens "
    "only if that project's users may read the secret.")
W_ENCRYPTED_REGION = (
    "Image {id} is the image of an encrypted volume, copied within project "
    "{target}: a volume made from the copy opens only if the key manager "
    "of the target's region holds its key {key} too.")
