"""Glance's refusals put into words that name the real cause."""

from unittest import mock

from osc_imageshare.api import identity
from osc_imageshare import errors
from tests.unit import base
from tests.unit import fakes


def client(project_name='beta', roles=('reader',), project_id=fakes.BETA):
    """A Glance client whose session holds a token with ``roles``."""
    access = mock.Mock(project_name=project_name, project_id=project_id,
                       role_names=list(roles))
    glance = mock.Mock(spec=['session', 'auth'])
    glance.auth = None
    glance.session.auth.get_access.return_value = access
    return glance


def forbidden(action):
    return errors.Forbidden(
        'You are not authorized to complete %s action.' % action)


class TestRoleRefusal(base.TestCase):

    def test_reader_is_told_its_role_and_the_one_required(self):
        glance = client()
        msg = errors.explain(forbidden('modify_member'), fakes.IMAGE_ID,
                             'beta (%s)' % fakes.BETA, 'accept',
                             client=glance)
        self.assertEqual(
            "Your role in project beta is reader; Glance requires the "
            "member role (or admin) to accept or reject an image (its "
            "modify_member policy): ask for the member role there, or act "
            "with credentials that have it", msg)
        glance.session.auth.get_access.assert_called_once_with(
            glance.session)

    def test_each_action_in_words(self):
        for action, words in [('add_image', 'create images'),
                              ('modify_image', 'change an image'),
                              ('add_member', 'add members to an image'),
                              ('frobnicate', 'do that')]:
            msg = errors.explain(forbidden(action), fakes.IMAGE_ID,
                                 client=client('alpha', ['reader', 'x']))
            self.assertEqual(
                "Your role in project alpha is reader, x; Glance requires "
                "the member role (or admin) to %s (its %s policy): ask for "
                "the member role there, or act with credentials that have "
                "it" % (words, action), msg)

    def test_a_member_refused_is_not_told_about_roles(self):
        msg = errors.explain(forbidden('modify_member'), fakes.IMAGE_ID,
                             'beta (%s)' % fakes.BETA,
                             client=client('alpha', ['member', 'reader']))
        self.assertEqual(
            "Only project beta (%s) itself (or an admin) may accept or "
            "reject image %s; act with that project's credentials"
            % (fakes.BETA, fakes.IMAGE_ID), msg)

    def test_roles_unknown_without_a_keystoneauth_session(self):
        self.assertEqual((None, None),
                         errors.caller_of(fakes.FakeGlance()))
        msg = errors.explain(forbidden('add_image'), fakes.IMAGE_ID,
                             client=fakes.FakeGlance())
        self.assertEqual(
            'Glance refused to change on image %s: You are not authorized '
            'to complete add_image action. (HTTP 403)' % fakes.IMAGE_ID, msg)

    def test_a_failing_glance_with_an_empty_answer_is_a_sentence(self):
        # A gateway's 503 without a body: Glance failed, it did not refuse.
        msg = errors.explain(errors.ServiceUnavailable(''), fakes.IMAGE_ID,
                             action='add member %s' % fakes.BETA,
                             client=client())
        self.assertEqual('Glance failed to add member %s on image %s: no '
                         'details (HTTP 503)' % (fakes.BETA, fakes.IMAGE_ID),
                         msg)
        msg = errors.explain(errors.glance_error(429, 'Slow down'),
                             fakes.IMAGE_ID, client=client())
        self.assertEqual('Glance failed to change on image %s: Slow down '
                         '(HTTP 429)' % fakes.IMAGE_ID, msg)

    def test_other_errors_are_unchanged(self):
        msg = errors.explain(errors.NotFound('No image'),
                             fakes.IMAGE_ID, client=client())
        self.assertEqual('Image %s no longer exists or is not visible to '
                         'you' % fakes.IMAGE_ID, msg)


class TestCannotActFor(base.TestCase):

    def ident(self, app_cred=None):
        auth_ref = mock.Mock(project_id=fakes.ALPHA, project_name='alpha',
                             application_credential_id=app_cred)
        return identity.Identity(mock.Mock(), auth_ref)

    def test_no_role_for_a_share_offers_to_cloud_and_no_accept(self):
        self.assertEqual(
            "Cannot accept for project beta: your user has no role there and "
            "is not an admin. Give --to-cloud <cloud> (a clouds.yaml entry "
            "scoped to that project), or --no-accept to leave the "
            "membership pending for that project to accept",
            self.ident().cannot_act_for('beta'))

    def test_no_role_for_a_copy_offers_to_cloud_only(self):
        self.assertEqual(
            "Cannot copy into project beta: your user has no role there and "
            "is not an admin. Give --to-cloud <cloud> (a clouds.yaml entry "
            "scoped to that project)",
            self.ident().cannot_act_for('beta', copy=True))

    def test_application_credential_cannot_switch_projects(self):
        ident = self.ident(app_cred='ac1')
        self.assertFalse(ident.can_rescope())
        self.assertEqual(
            "Cannot copy into project beta: you authenticated with an "
            "application credential, which is bound to project alpha and "
            "cannot switch projects. Give --to-cloud <cloud> (a clouds.yaml "
            "entry scoped to that project)",
            ident.cannot_act_for('beta', copy=True))


class TestOneRoot(base.TestCase):

    def test_a_handler_for_the_plugins_errors_catches_glances_too(self):
        # 'except ImageShareError' (a batch's per-pair handler, the
        # CLI's) never lets a Glance answer or a broken connection through.
        def fail(exc):
            raise exc
        for exc in (errors.NotFound('gone'), errors.ServerError('boom'),
                    errors.TransportError('connection reset')):
            self.assertRaises(errors.ImageShareError, fail, exc)

    def test_a_broken_connection_is_not_called_a_refusal(self):
        self.assertEqual(
            'Could not remove member b on image i: connection reset',
            errors.explain(errors.TransportError('connection reset'), 'i',
                           action='remove member b'))
