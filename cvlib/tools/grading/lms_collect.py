"""``nbgrader zip_collect`` of an LMS download where a student uploaded the same notebook twice.

An LMS renames a second upload of ``a1_convolution.ipynb``: Moodle keeps both as
``jdoe_1001_assignsubmission_file_a1_convolution.ipynb`` and ``... (1).ipynb`` (a browser's
copies are ``-2``). The course's regular expression maps every variant back to the assignment's
notebook, and nbgrader's own collector then aborts the whole collection, naming no file, with
"Duplicate submission file. No timestamps for comparison" (Moodle's names carry no time).

:class:`LatestUploadCollector` (``c.ZipCollectApp.collector_plugin`` in ``nbgrader_config.py``)
keeps the latest copy: the one with the highest copy number (none is 0, `` (1)`` is 1, ``-2``
is 2), and skips the others with a line that names them. Where the names give upload times
(a ``timestamp`` group in the regular expression), nbgrader compares those instead; two copies
whose numbers tie (`` (2)`` beside ``-2``) stop the collection with a message naming both.
"""

import os
import re

from nbgrader.plugins.zipcollect import FileNameCollectorPlugin

COPY = re.compile(r"(?: \((?P<paren>\d+)\)|-(?P<dash>\d+))?(?P<ext>\.[^./]+)$")


def copy_number(path):
    """0 for ``name.ipynb``, n for ``name (n).ipynb`` or ``name-n.ipynb``."""
    match = COPY.search(os.path.basename(path))
    return int(match["paren"] or match["dash"] or 0) if match else 0


class LatestUploadCollector(FileNameCollectorPlugin):
    """The course's file-name collector, keeping each student's latest copy of a file."""

    def collect(self, submitted_file):
        info = super().collect(submitted_file)
        if not info or info.get("timestamp"):
            return info
        rivals = [
            path
            for path in self._siblings(submitted_file)
            if path != submitted_file and self._same_upload(info, path)
        ]
        mine = copy_number(submitted_file)
        tied = [path for path in rivals if copy_number(path) == mine]
        if tied:
            raise ValueError(
                f"two uploads of {info['file_id']} by {info['student_id']} with the same copy "
                f"number: {submitted_file!r} and {tied[0]!r}; remove one and collect again"
            )
        newer = [path for path in rivals if copy_number(path) > mine]
        if newer:
            self.log.warning(
                "Skipped %s: %s uploaded %s again later (%s)",
                submitted_file,
                info["student_id"],
                info["file_id"],
                max(newer, key=copy_number),
            )
            return None
        return info

    def _siblings(self, path):
        folder = os.path.dirname(path)
        return [os.path.join(folder, name) for name in sorted(os.listdir(folder))]

    def _same_upload(self, info, path):
        other = super().collect(path)
        if not other:
            return False
        return (other["student_id"], other["file_id"]) == (info["student_id"], info["file_id"])
