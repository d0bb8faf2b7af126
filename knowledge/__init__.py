"""Content: the bundled 科普 corpus, lexicons, demo data, the loader and ingestion."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CORPUS_DIR = PACKAGE_DIR / "corpus"
LEXICON_DIR = PACKAGE_DIR / "lexicons"
NLU_DIR = PACKAGE_DIR / "nlu"
