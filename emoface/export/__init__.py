"""Writers and readers of animation file formats, one module each: Live Link Face CSV
(:mod:`.livelink_csv`), JSON (:mod:`.json_io`), the native npz (:mod:`.npz`), glTF
(:mod:`.gltf`) and USD (:mod:`.usd`). :mod:`emoface.outputs` registers them (and the
rendered ``.mp4``) by file extension.
"""
