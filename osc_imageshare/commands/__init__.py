"""The cliff commands: parse, call one workflow function, render."""


def add_project_domain(parser, projects):
    """``--project-domain``, for the projects named by ``projects``."""
    parser.add_argument(
        '--project-domain', metavar='<project-domain>',
        help='Domain (name or ID) of %s, where a project name exists in '
             'several domains' % projects)


def report(log, warnings=(), errors=()):
    """Warnings, then errors, on stderr through OSC's logging."""
    for warning in warnings:
        log.warning(warning)
    for error in errors:
        log.error(error)
