"""Evaluation datasets: the project's own cases and SQuAD, each with the index it runs on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.cases import Case, locate_answers, read_cases, squad_cases, write_squad_corpus
from rag.config import Settings
from rag.embed import Encoder
from rag.errors import ConfigError
from rag.ingest import build_index

SQUAD_DIR = Path("../shared/benchmarks/squad")
SQUAD_V1 = "squad-v1.1-dev-openbook.json"
SQUAD_V2 = "squad-v2.0-dev-part.json"
DATASETS = ("own", "everyday", "squad", "squad2")
# A second own set, written before the reader was tuned on anything: three documents on
# other topics in other formats (pdf, html, hard-wrapped txt).
EVERYDAY_DOCS = Path("eval/everyday/docs")
EVERYDAY_CASES = Path("eval/everyday.jsonl")


@dataclass(frozen=True)
class Dataset:
    """Cases plus the settings of the index they are asked against."""

    name: str
    cases: list[Case]
    settings: Settings

    def located(self, texts: dict[str, str]) -> list[Case]:
        """The cases with gold spans, found in `texts` where the file did not give them."""
        if all(c.spans or not c.answerable for c in self.cases):
            return self.cases
        return locate_answers(self.cases, texts)


def load_dataset(name: str, settings: Settings, encoder: Callable[[], Encoder],
                 case_files: list[Path], work_dir: Path, squad_dir: Path = SQUAD_DIR,
                 progress: bool = False) -> Dataset:
    """The named dataset, its index built (or updated) first."""
    if name == "own":
        build_index(settings, settings.docs_dir, settings.index_dir, encoder, progress=progress)
        return Dataset("own", [c for f in case_files for c in read_cases(f)], settings)
    if name == "everyday":
        everyday = settings.model_copy(update={"docs_dir": EVERYDAY_DOCS,
                                               "index_dir": work_dir / "everyday" / "index"})
        build_index(everyday, EVERYDAY_DOCS, everyday.index_dir, encoder, progress=progress)
        return Dataset("everyday", read_cases(EVERYDAY_CASES), everyday)
    if name not in DATASETS:
        raise ConfigError(f"Unknown dataset {name!r}: choose one of {', '.join(DATASETS)}.")
    v1 = squad_dir / SQUAD_V1
    if not v1.is_file():
        raise ConfigError(f"SQuAD file {v1} not found: pass --squad-dir with the folder that "
                          f"holds {SQUAD_V1} and {SQUAD_V2}.")
    docs = work_dir / "squad" / "docs"
    write_squad_corpus(v1, docs)
    squad = settings.model_copy(update={"docs_dir": docs,
                                        "index_dir": work_dir / "squad" / "index"})
    build_index(squad, docs, squad.index_dir, encoder, progress=progress)
    source = v1 if name == "squad" else squad_dir / SQUAD_V2
    return Dataset(name, squad_cases(source, v1), squad)
