"""Names of the co-edited Yjs documents (PROTOCOL.md, "Documents")."""

from __future__ import annotations

from dataclasses import dataclass

from collab.model import is_id


@dataclass(frozen=True)
class SectionDoc:
    plan: str
    section: str

    @property
    def name(self) -> str:
        return f"plan:{self.plan}:section:{self.section}"


@dataclass(frozen=True)
class MeasureDoc:
    plan: str
    measure: str

    @property
    def name(self) -> str:
        return f"plan:{self.plan}:measure:{self.measure}"


@dataclass(frozen=True)
class ItemDoc:
    meeting: str
    item: str

    @property
    def name(self) -> str:
        return f"meeting:{self.meeting}:item:{self.item}"


DocRef = SectionDoc | MeasureDoc | ItemDoc

MAX_DOC_NAME = 120


def parse_doc_name(name: object) -> DocRef | None:
    """The document a name refers to, or None when it is not a valid name."""
    if not isinstance(name, str) or len(name) > MAX_DOC_NAME:
        return None
    parts = name.split(":")
    if len(parts) != 4 or not is_id(parts[1]) or not is_id(parts[3]):
        return None
    match parts[0], parts[2]:
        case "plan", "section":
            return SectionDoc(parts[1], parts[3])
        case "plan", "measure":
            return MeasureDoc(parts[1], parts[3])
        case "meeting", "item":
            return ItemDoc(parts[1], parts[3])
    return None


# The root types each kind of document may have (PROTOCOL.md, "Documents").
SECTION_ROOTS = frozenset({"situation", "resources", "goals", "measures"})
MEASURE_ROOTS = frozenset({"description", "progress"})
ITEM_ROOTS = frozenset({"notes"})


def root_names(ref: DocRef) -> frozenset[str]:
    """The root type names a document may have."""
    if isinstance(ref, SectionDoc):
        return SECTION_ROOTS
    if isinstance(ref, MeasureDoc):
        return MEASURE_ROOTS
    return ITEM_ROOTS
