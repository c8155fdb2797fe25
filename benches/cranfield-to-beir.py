#!/usr/bin/env python3
"""Converts the Cranfield collection to BEIR's layout for `benches/retrieval.sh quality`.

    benches/cranfield-to-beir.py SRC DEST

SRC holds the collection's three files as Glasgow's distribution has them
(http://ir.dcs.gla.ac.uk/resources/test_collections/cran/): `cran.all.1400` (documents:
`.I` id, `.T` title, `.A` authors, `.B` source, `.W` abstract), `cran.qry` (225 queries:
`.I`, `.W`) and `cranqrel` (`query document code`, the query numbered by its position in
`cran.qry`, not by its `.I`). DEST gets `corpus.jsonl`, `queries.jsonl` and `qrels/test.tsv`.

Cleverdon's codes run from 1 (a complete answer) to 4 (minimum interest), -1 for none; they
become graded gains 4 to 1, and -1 is left out.
"""

import json
import sys
from pathlib import Path


def records(text):
    """The `.I` records of a Cranfield file: (id, {field letter: text})."""
    out = []
    field = None
    for line in text.splitlines():
        if line.startswith(".I "):
            out.append((line[3:].strip(), {}))
            field = None
        elif len(line) == 2 and line.startswith(".") and out:
            field = line[1]
            out[-1][1][field] = ""
        elif field is not None:
            fields = out[-1][1]
            fields[field] = (fields[field] + " " + line.strip()).strip()
    return out


def main(src, dest):
    docs = records((src / "cran.all.1400").read_text(encoding="latin-1"))
    queries = records((src / "cran.qry").read_text(encoding="latin-1"))
    (dest / "qrels").mkdir(parents=True, exist_ok=True)
    with open(dest / "corpus.jsonl", "w", encoding="utf-8") as out:
        for doc_id, fields in docs:
            doc = {"_id": str(int(doc_id)), "title": fields.get("T", ""), "text": fields.get("W", "")}
            out.write(json.dumps(doc) + "\n")
    with open(dest / "queries.jsonl", "w", encoding="utf-8") as out:
        for position, (_, fields) in enumerate(queries, start=1):
            out.write(json.dumps({"_id": str(position), "text": fields.get("W", "")}) + "\n")
    judged = 0
    with open(dest / "qrels" / "test.tsv", "w", encoding="utf-8") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        for line in (src / "cranqrel").read_text(encoding="latin-1").splitlines():
            parts = line.split()
            if len(parts) != 3:
                continue
            query, doc, code = parts[0], parts[1], int(parts[2])
            if 1 <= code <= 4:
                out.write(f"{int(query)}\t{int(doc)}\t{5 - code}\n")
                judged += 1
    print(f"{len(docs)} documents, {len(queries)} queries, {judged} judgements -> {dest}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
