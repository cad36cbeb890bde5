"""Datasets and corpora (never the data itself: that stays in ../shared/data).

- :mod:`emoface.data.build` builds the training corpus (``emoface data build``): sources in
  :mod:`emoface.data.sources`, teacher targets (:mod:`~emoface.data.teacher`), cached
  features (:mod:`~emoface.data.features`), the manifest (:mod:`~emoface.data.manifest`);
- :mod:`emoface.data.corpus` reads a built corpus for training;
- :mod:`emoface.data.augment` varies voices at training time;
- :mod:`emoface.data.stats` summarises a corpus (``emoface data stats``);
- :mod:`emoface.data.livelink_stats` measures Live Link captures (calibration).

See docs/corpus.md.
"""
