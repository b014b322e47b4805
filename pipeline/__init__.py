"""The headshot pipeline: plain Python, no Django.

The portal calls it through one door, ``orchestrator.HeadshotPipeline`` (``check_photo``
when a selfie arrives, ``run`` to make a person's headshots). The folders are its stages,
in the order ``run`` takes them:

1. ``imaging``      intake: safe decoding by content, bounded sizes, metadata-free encoding
2. ``faces/``       detection, landmarks, identity embeddings (dlib; insightface), geometry
3. ``checks/``      per-photo verdicts a person can act on, and the attributes kept
4. ``identity``     enrollment: agreement between photos, the identity vector
5. ``prompts``      the preset's prompt filled for the person (``presets``: the preset model)
6. ``backends/``    generation behind one protocol: ``studio`` (CPU) and ``diffusion``
                    (SDXL), with framing, segmentation, conditioning and upscaling
7. ``selection``    scoring, the identity gates, ranking

``config`` holds what the keeper tells the pipeline; ``provenance`` and
``content_credentials`` mark every generated file; ``tools/`` is install tooling (model
manifest, wheels, converters, sample photos), not a stage. Each stage is a class whose
components are given to its constructor and whose weights are loaded by an explicit
``load()``. Heavy libraries are imported inside the modules that need them: importing
``pipeline`` itself is cheap.
"""
