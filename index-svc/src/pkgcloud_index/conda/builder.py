"""ChannelIndexBuilder: the documents of one channel subdir (and the channel root) from a
list of files, in one go. Pure and deterministic (sorted keys, no clock), so a rebuild from
the registry gives the same bytes as the incremental path, which keeps the same structures
(SubdirIndex, LabelChannelData) current change by change instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from .channeldata import LabelChannelData
from .entries import FileEntry
from .records import CondaFile
from .subdir_index import SubdirIndex


class ChannelIndexBuilder:
    def subdir_documents(self, subdir: str, files: Iterable[CondaFile]) -> dict[str, bytes]:
        """path (relative to the label root) -> bytes, for one subdir; shards under shards/."""
        return _index(subdir, files).documents().as_dict()

    def channeldata(self, files_by_subdir: dict[str, list[CondaFile]]) -> bytes:
        indexes = {subdir: _index(subdir, files) for subdir, files in files_by_subdir.items()}
        cd = LabelChannelData()
        for index in indexes.values():
            for name in index.names():
                cd.touch(name)
        return cd.document(indexes)


def _index(subdir: str, files: Iterable[CondaFile]) -> SubdirIndex:
    index = SubdirIndex(subdir)
    for f in files:
        index.add(FileEntry(f))
    return index


def empty_subdir_documents(subdir: str) -> dict[str, bytes]:
    return ChannelIndexBuilder().subdir_documents(subdir, [])
