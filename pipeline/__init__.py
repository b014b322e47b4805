"""The headshot pipeline: plain Python, no Django.

Stages (each a class with its components given to the constructor and its
weights loaded by an explicit ``load()``):

1. ``imaging``      safe decoding and metadata-free encoding
2. ``faces``        face detection, landmarks, identity embeddings
3. ``checks``       per-photo quality verdicts a person can act on
4. ``identity``     enrollment: agreement between photos, the identity vector
5. ``studio``       the studio renderer (the CPU generation backend)
6. ``selection``    scoring, identity gate, ranking
7. ``orchestrator`` the narrow interface the portal calls

Heavy libraries are imported inside the modules that need them; importing
``pipeline`` itself is cheap.
"""
