"""--property values checked against what Glance's image list takes."""

import testtools

from osc_imageshare import errors
from osc_imageshare.ops import selection


class TestProperties(testtools.TestCase):

    def test_booleans_read_in_any_case(self):
        self.assertEqual({'protected': 'true', 'os_hidden': 'false'},
                         selection.parse_properties(
                             ['protected=True', 'os_hidden=FALSE']))
        self.assertIsNone(selection.property_problem(['protected=True']))

    def test_the_same_pair_twice_is_one(self):
        self.assertEqual({'name': 'b1'}, selection.parse_properties(
            ['name=b1', 'name=b1']))

    def test_problems(self):
        for values, problem in (
                (['name=b1', 'name=b2'],
                 "--property name is given twice ('name=b1', 'name=b2'): an "
                 "image has one value per key"),
                (['protected=1'],
                 "--property protected=1: Glance takes true or false for "
                 "'protected'"),
                (['status=Active'],
                 "--property status=Active: Glance takes active, "
                 "deactivated, importing, killed, pending_delete, queued, "
                 "saving or uploading for 'status'"),
                (['member_status=all'],
                 "--property member_status=all: Glance does not read "
                 "'member_status' as a property of the image (a "
                 "membership, not the image)")):
            self.assertEqual(problem, selection.property_problem(values))
            e = self.assertRaises(errors.ImageShareError,
                                  selection.parse_properties, values)
            self.assertEqual(problem, str(e))
