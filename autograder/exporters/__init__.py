"""Results written in other systems' formats.

This package is where every format the kit writes for someone else's software or eyes is
heading (see ARCHITECTURE.md). It holds `lms`, a graded class folder turned into a file a
learning management system imports as it is (Canvas's gradebook, Moodle's "Import grades
from CSV") or a small CSV for any spreadsheet; and `report` with `charts`, the class
report page (Jinja2 templates in templates/, matplotlib charts as inline SVG).
"""
