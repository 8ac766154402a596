"""osc-imageshare: move Glance images between projects from the openstack CLI."""
