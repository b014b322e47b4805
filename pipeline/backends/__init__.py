"""6. Generation backends, behind one protocol (``pipeline.backends.base``):

- ``studio``     the studio renderer (CPU, shipped models): the best selfies retouched,
                 relit and framed on the preset's backdrop
- ``diffusion``  SDXL with identity conditioning and ControlNets (GPU workers)

and what they share: ``framing`` (where the preset puts the face), ``upscale``
(Real-ESRGAN), ``segmentation``, ``conditioning`` (control images).
"""
