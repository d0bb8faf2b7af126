"""Search: tokenizer, lexical and vector indexes, fusion, answers with citations, matching."""
