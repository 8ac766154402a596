"""The project's exceptions, and Glance's answers put into plain words.

Every failure of a request to Glance leaves the door (api/glance.py) as
one of these: ``GlanceError`` (and a subclass per status the callers
test) for an HTTP answer, ``TransportError`` for a connection that broke.
Both are ``ImageShareError``s: one root, so that a handler written for
the plugin's failures never lets a Glance one through.  This module is
the one place that turns them into sentences.
"""

import html
import json
import re
import socket

from osc_lib import exceptions


class ImageShareError(exceptions.CommandError):
    """A one-line error the user can act on (exit code 1)."""


class ProjectNotFound(ImageShareError):
    """No project the caller can see has that name or ID."""


class TransportError(ImageShareError):
    """The connection to a Glance broke; the message says how.

    ``identity`` is true when Keystone was what failed (the token the
    request needed, or the Glance's own token check): Glance did not act
    on the request.
    """

    identity = False


class GlanceError(ImageShareError):
    """Glance (or a gateway in front of it) answered an HTTP error.

    ``code`` is the status, ``message`` the text of the answer (Glance's
    own words, on one line), ``method`` and ``url`` the request.  The
    workflows put Glance's refusals in words (``explain``): a handler
    that does so comes before one for the plugin's own sentences.
    """

    code = None

    def __init__(self, message='', code=None, method=None, url=None,
                 headers=None):
        self.message = ' '.join(str(message).split())
        self.code = code or self.code
        self.method, self.url = method, url
        self.headers = dict(headers or {})
        super().__init__(self.message)

    def __str__(self):
        return 'Glance answered HTTP %s%s: %s' % (
            self.code, ' to %s %s' % (self.method, self.url)
            if self.method else '', self.message or 'no details')


class BadRequest(GlanceError):
    code = 400


class Unauthorized(GlanceError):
    code = 401


class Forbidden(GlanceError):
    code = 403


class NotFound(GlanceError):
    code = 404


class Conflict(GlanceError):
    code = 409


class RequestEntityTooLarge(GlanceError):
    code = 413


class ServerError(GlanceError):
    code = 500


class ServiceUnavailable(ServerError):
    code = 503


_BY_CODE = {c.code: c for c in (
    BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    RequestEntityTooLarge, ServiceUnavailable)}


def glance_error(code, text, method=None, url=None, headers=None):
    """The exception for an HTTP answer of ``code`` with body ``text``."""
    cls = _BY_CODE.get(code) or (ServerError if code >= 500
                                 else GlanceError)
    return cls(answer_message(text), code, method, url, headers)


_TAG = re.compile(r'<[^>]*>', re.S)
# Tags that end a line of text as a browser shows it.
_BLOCK = re.compile(
    r'<\s*/?\s*(address|article|blockquote|body|br|center|dd|div|dl|dt|'
    r'footer|form|h[1-6]|head|header|hr|html|li|main|nav|ol|p|pre|'
    r'section|table|td|th|title|tr|ul)\b[^>]*>', re.I)
_HIDDEN = re.compile(r'<(script|style)\b.*?</\1\s*>', re.I | re.S)


def answer_message(text):
    """The words of an error answer, whatever its shape, on one line.

    Glance's JSON (``{"error": {"message": ...}}``), an API gateway's
    ``{"message": ...}``, an HTML page (webob's, a gateway's: its lines as
    a browser shows them, a block element ending one, each once, joined by
    ': ' as glanceclient joins them) or plain text; HTML entities
    (``&#x27;``) read as the characters they stand for; a control
    character (an escape that would drive the terminal) written as
    ``repr`` writes it (``\\x1b``).
    """
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    text = text or ''
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    while isinstance(body, dict):
        body = next((body[k] for k in ('error', 'message', 'detail', 'title')
                     if isinstance(body.get(k), (dict, str))), text)
    if isinstance(body, str) and body is not text:
        return _one_line(body)
    if '<' in text:
        text = _BLOCK.sub('\n', _HIDDEN.sub('', text))
        lines = [' '.join(html.unescape(_TAG.sub('', line)).split())
                 for line in text.splitlines()]
        text = ': '.join(dict.fromkeys(line for line in lines if line))
    return _one_line(text)


def _one_line(text):
    """``text``'s entities read, its blanks one space, nothing unprintable."""
    return ''.join(ch if ch.isprintable() else repr(ch)[1:-1]
                   for ch in ' '.join(html.unescape(text).split()))


def with_outcome(exc, outcome):
    """``exc`` (a GlanceError or TransportError), saying ``outcome`` too.

    For a write whose answer was lost: what reading it back found.
    """
    if isinstance(exc, GlanceError):
        exc.message = '%s; %s' % (exc.message or 'no details', outcome)
        exc.args = (exc.message,)
        return exc
    told = TransportError('%s; %s' % (exc, outcome))
    told.identity = exc.identity
    told.__cause__ = exc.__cause__
    return told


def glance_message(exc):
    """The text Glance put in an error response, on one line."""
    if isinstance(exc, GlanceError):
        return exc.message
    details = getattr(exc, 'details', None) or str(exc)
    return ' '.join(str(details).split())


def describe(exc, side='target'):
    """One line for any failure of a request to a Glance."""
    if isinstance(exc, GlanceError):
        return '%s answered HTTP %s: %s' % (
            'the %s Glance' % side if side else 'Glance',
            exc.code, exc.message)
    if isinstance(exc, ImageShareError):
        return str(exc)
    return cause(exc, side)


def cause(exc, side=None, where=None, identity=None):
    """How a request to a Glance broke, in words.

    ``side`` ('source', 'target', or None for the caller's own Glance)
    and ``where`` (its URL) name the Glance; ``identity`` (Keystone's
    URL) tells when the connection that broke was Keystone's.
    """
    seen = _chain(exc)
    label = _broken_service(' '.join(str(e) for e in seen), side, where,
                            identity)
    kind = broken_kind(exc)
    if kind == 'timeout':
        return 'timed out waiting for %s' % label
    if kind == 'refused':
        return 'connection refused by %s (is it down?)' % label
    if kind == 'reset':
        return 'connection reset by %s' % label
    return 'the connection to %s failed (%s)' % (
        label, ' '.join(str(exc).split()))


def broken_kind(exc):
    """'timeout', 'refused', 'reset' or 'other': how a connection broke."""
    seen = _chain(exc)
    types = tuple(type(e) for e in seen)
    text = ' '.join(str(e) for e in seen)
    if any(issubclass(t, (socket.timeout, TimeoutError)) for t in types) \
            or 'timed out' in text.lower():
        return 'timeout'
    if any(issubclass(t, ConnectionRefusedError) for t in types) or \
            'Connection refused' in text:
        return 'refused'
    if any(issubclass(t, (ConnectionResetError, BrokenPipeError))
           for t in types) or any(w in text for w in (
               'Connection reset', 'Broken pipe', 'Connection aborted',
               'RemoteDisconnected', 'IncompleteRead', 'closed connection',
               'Connection broken')):
        return 'reset'
    return 'other'


def _chain(exc):
    """``exc``, its causes, contexts and arguments that are exceptions."""
    seen, todo = [], [exc]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or any(e is s for s in seen):
            continue
        seen.append(e)
        todo.extend([e.__cause__, e.__context__] + list(e.args))
    return seen


_UNREACHED = re.compile(r'Unable to establish connection to (\S+?):? ')


def keystone_broke(exc, where, identity):
    """Whether the connection that broke (``exc``) was Keystone's."""
    return _keystone_broke(' '.join(str(e) for e in _chain(exc)), where,
                           identity)


def _keystone_broke(text, where, identity):
    m = _UNREACHED.search(text + ' ')
    url = m.group(1) if m else None
    return bool(url and identity and url.startswith(identity.rstrip('/'))
                and not (where and url.startswith(where)))


def glance_label(side=None, where=None):
    """'the Glance', 'the target Glance at URL'..."""
    label = 'the %s Glance' % side if side else 'the Glance'
    return label + (' at %s' % where if where else '')


def _broken_service(text, side, where, identity):
    """'the Glance at URL', or 'Keystone (identity) at URL' if it broke."""
    if _keystone_broke(text, where, identity):
        return 'Keystone (the identity service) at %s' % identity
    return glance_label(side, where)


# Glance policy actions a role may be refused, in words.
POLICY_ACTIONS = {
    'modify_member': 'accept or reject an image',
    'add_member': 'add members to an image',
    'delete_member': 'remove members from an image',
    'modify_image': 'change an image',
    'add_image': 'create images',
    'upload_image': 'upload image data',
    'download_image': 'download image data',
    'delete_image': 'delete images',
}
# The roles Glance's default policies (secure RBAC) require for those.
WRITER_ROLES = ('member', 'admin')


def caller_of(client):
    """``(project, role names)`` of the token a Glance client acts with.

    Read from the client's keystoneauth session (no request: the token is
    already there); ``(None, None)`` where it cannot be told.
    """
    session = getattr(client, 'session', None)
    auth = getattr(client, 'auth', None) or getattr(session, 'auth', None)
    try:
        access = auth.get_access(session)
    except Exception:  # no keystoneauth plugin, or no token yet
        return None, None
    project = access.project_name or access.project_id
    return project, list(access.role_names or [])


def role_refusal(msg, project, roles):
    """Why Glance's policy refused, when the caller's role is the cause."""
    match = re.search(r'not authorized to complete (\w+) action', msg)
    if not match or roles is None or set(roles) & set(WRITER_ROLES):
        return None
    action = match.group(1)
    return ("Your role in project %s is %s; Glance requires the member "
            "role (or admin) to %s (its %s policy): ask for the member role "
            "there, or act with credentials that have it" % (
                project, ', '.join(sorted(roles)) or 'none',
                POLICY_ACTIONS.get(action, 'do that'), action))


def role_refused(exc, client):
    """The role sentence when Glance's policy refused ``client``'s role."""
    if getattr(exc, 'code', None) != 403:
        return None
    return role_refusal(glance_message(exc), *caller_of(client))


def explain(exc, image_id, project=None, action='change', client=None):
    """A sentence for a Glance error met on ``image_id`` (and ``project``).

    ``action`` says what was attempted, in words ('add a member', ...);
    ``client``, the Glance client that met it, tells the caller's roles
    when a policy refused.
    """
    if isinstance(exc, TransportError):     # no answer: nothing refused
        return 'Could not %s on image %s: %s' % (action, image_id, exc)
    code = getattr(exc, 'code', None)
    msg = glance_message(exc)
    if code == 403 and client is not None:
        refusal = role_refusal(msg, *caller_of(client))
        if refusal:
            return refusal
    if code == 413:
        limit = re.search(r'Maximum: (\d+)', msg)
        return ("Image %s already has %s members, this cloud's limit; revoke "
                "unused members first ('openstack image share revoke')"
                % (image_id, limit.group(1) if limit else 'the most'))
    if code == 403 and 'Not allowed to create members' in msg:
        return ("Image %s is not 'shared' (Glance refuses members on "
                "private, public and community images); set it shared first"
                % image_id)
    if code == 403 and 'Only shared images have members' in msg:
        return ("Image %s is not 'shared': Glance neither lists nor changes "
                "its members" % image_id)
    if code == 403 and 'modify_member' in msg:
        return ("Only project %s itself (or an admin) may accept or reject "
                "image %s; act with that project's credentials"
                % (project, image_id))
    if code == 404 and 'member list' in msg:
        return ("Project %s is not a member of image %s" % (project, image_id))
    if code == 404:
        return ("Image %s no longer exists or is not visible to you"
                % image_id)
    # A 5xx or 429 is Glance failing, not refusing; an empty answer
    # (a gateway's) still reads as a sentence.
    verb = 'failed' if code == 429 or (code or 0) >= 500 else 'refused'
    return ("Glance %s to %s on image %s: %s (HTTP %s)"
            % (verb, action, image_id, msg or 'no details', code))
