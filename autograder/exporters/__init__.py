"""Results written in other systems' formats.

This package is where every format the kit writes for someone else's software is heading
(see ARCHITECTURE.md). For now it holds `lms`: a graded class folder turned into a file
that a learning management system imports as it is (Canvas's gradebook, Moodle's "Import
grades from CSV"), or into a small CSV for any spreadsheet.
"""
