"""osc-imageshare: move Glance images between projects, safely."""
