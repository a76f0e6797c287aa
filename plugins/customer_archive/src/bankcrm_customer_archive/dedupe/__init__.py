"""Duplicate detection (probabilistic record linkage with splink on DuckDB) and reversible
merge (归并) of customers.

- :mod:`.features` turns customer rows into the comparison columns (simplified characters,
  pinyin, normalised phone, address and e-mail; hashes only, nothing decrypted);
- :mod:`.linkage` holds the model (blocking rules, comparisons, the trained parameters
  shipped in ``model/``) and scores candidate pairs with their reasons;
- :mod:`.detection` reads the actor's scope from PostgreSQL and fills the review queue;
- :mod:`.merging` merges two customers with survivorship rules and un-merges them exactly,
  re-pointing every plugin's rows declared through the ``customer_references`` hook;
- :mod:`.corpus` generates labelled corpora (training, tests, benchmarks); :mod:`.train`
  regenerates the shipped model.
"""
